"""The delivery distance (docs/product.md, Pricing): haversine on a sphere of radius 6371.0 km.

Shared by the catalog (``?near=``: who delivers to a point) and checkout
(``distance_km``, ``delivery_fee``, ``out_of_delivery_range``), so that a merchant listed as
delivering to a point is never refused at checkout for the same point.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points given in degrees, on a sphere
    of radius 6371.0 km (the order's ``distance_km``)."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # min() guards asin against 1.0000000000000002 from rounding at antipodes.
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def delivers_to(
    merchant_lat: float,
    merchant_lon: float,
    max_distance_km: float,
    lat: float,
    lon: float,
) -> bool:
    """True when ``(lat, lon)`` is within the merchant's delivery distance (inclusive, the
    same comparison checkout makes before ``422 out_of_delivery_range``)."""
    return haversine_km(merchant_lat, merchant_lon, lat, lon) <= max_distance_km
