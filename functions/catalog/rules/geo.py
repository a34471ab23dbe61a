"""Delivery areas as geohash cells (the distance itself, haversine, and the exact "does it
deliver there" check are ``warung.ordering.distance``, shared with checkout).

A merchant delivers inside a circle (its location, ``max_distance_km``). At write time the
merchant is indexed under every geohash cell of precision 4 that the circle touches
(:func:`covering_cells`); ``GET /v1/merchants?near=lat,lon`` is then one Query on the cell of
the point (``encode(lat, lon, 4)``) followed by the exact check
``warung.ordering.distance.delivers_to``.

Cell sizes (a cell spans ``360 / 2**lon_bits`` degrees of longitude and
``180 / 2**lat_bits`` of latitude; the bits alternate, longitude first):

=========  ===========  ===================  =====================================
precision  bits lon/lat  degrees lon x lat     km at the equator (lon x lat)
=========  ===========  ===================  =====================================
3          8 / 7         1.406 x 1.406         156.4 x 156.4
4          10 / 10       0.3516 x 0.1758       39.1 x 19.5
5          13 / 12       0.0439 x 0.0439       4.9 x 4.9
=========  ===========  ===================  =====================================

Indonesia lies within 11 degrees of the equator, where a degree of longitude is at least
0.98 of its equatorial length: a precision-4 cell there is about 38.4-39.1 x 19.5 km. A
15 km delivery circle (30 km across) spans one or two columns and two or three rows of such
cells, and the corner cells it does not reach are left out: it yields 2 to 6 cells, most
often 4 (over random centres in Indonesia: 4 in about 42 %, 6 in 21 %). A 50 km circle yields
16 to 24. Both stay far below the 100 actions of one DynamoDB transaction.
"""

from __future__ import annotations

import math
import re

from warung.ordering.distance import EARTH_RADIUS_KM, haversine_km

BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_BASE32_INDEX = {ch: i for i, ch in enumerate(BASE32)}

MAX_PRECISION = 12
NEAR_PRECISION = 4
# Delivery circles are at most 50 km (no rule caps them lower); a larger radius is allowed but
# the cell count grows with its square, so it is refused rather than silently costly.
MAX_COVER_RADIUS_KM = 200.0
# Float noise in the distance arithmetic must never drop a cell a point may fall in:
# a cell a hair (1 mm) farther than the radius is kept.
_EDGE_TOLERANCE_KM = 1e-6

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_POINT = re.compile(rf"^\s*({_NUMBER})\s*,\s*({_NUMBER})\s*$")


def parse_point(text: str) -> tuple[float, float]:
    """Parse ``"lat,lon"`` (decimal degrees, as in ``?near=-6.1754,106.8272``).

    Raises ``ValueError`` with a message fit for a client when the text is not two decimal
    numbers separated by a comma, or when latitude is outside -90..90 or longitude outside
    -180..180.
    """
    match = _POINT.match(text)
    if match is None:
        raise ValueError("near must be 'lat,lon' in decimal degrees, e.g. -6.1754,106.8272")
    lat, lon = float(match.group(1)), float(match.group(2))
    if not -90.0 <= lat <= 90.0:
        raise ValueError("near: latitude must be between -90 and 90")
    if not -180.0 <= lon <= 180.0:
        raise ValueError("near: longitude must be between -180 and 180")
    return lat, lon


def _bits(precision: int) -> tuple[int, int]:
    """(longitude bits, latitude bits) of a geohash of ``precision`` characters."""
    total = 5 * precision
    return (total + 1) // 2, total // 2


def _check_precision(precision: int) -> None:
    if not 1 <= precision <= MAX_PRECISION:
        raise ValueError(f"geohash precision must be between 1 and {MAX_PRECISION}")


def cell_size_deg(precision: int) -> tuple[float, float]:
    """(latitude height, longitude width) in degrees of a cell of ``precision``."""
    _check_precision(precision)
    lon_bits, lat_bits = _bits(precision)
    return 180.0 / 2**lat_bits, 360.0 / 2**lon_bits


def encode(lat: float, lon: float, precision: int) -> str:
    """Standard geohash of a point (base32 ``0123456789bcdefghjkmnpqrstuvwxyz``).

    A point exactly on a cell boundary belongs to the upper (north or east) cell, as in the
    reference algorithm; latitude 90 and longitude 180 belong to the last cell.
    """
    _check_precision(precision)
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError("point out of range: latitude -90..90, longitude -180..180")
    lat_lo, lat_hi = -90.0, 90.0
    lon_lo, lon_hi = -180.0, 180.0
    chars: list[str] = []
    value = 0
    bit_count = 0
    even = True  # even bits refine longitude
    while len(chars) < precision:
        if even:
            mid = (lon_lo + lon_hi) / 2
            if lon >= mid:
                value = value * 2 + 1
                lon_lo = mid
            else:
                value *= 2
                lon_hi = mid
        else:
            mid = (lat_lo + lat_hi) / 2
            if lat >= mid:
                value = value * 2 + 1
                lat_lo = mid
            else:
                value *= 2
                lat_hi = mid
        even = not even
        bit_count += 1
        if bit_count == 5:
            chars.append(BASE32[value])
            value = 0
            bit_count = 0
    return "".join(chars)


def cell_bounds(cell: str) -> tuple[float, float, float, float]:
    """``(lat_min, lat_max, lon_min, lon_max)`` of a geohash cell; ``ValueError`` if the text
    is not a geohash."""
    _check_precision(len(cell))
    lat_lo, lat_hi = -90.0, 90.0
    lon_lo, lon_hi = -180.0, 180.0
    even = True
    for ch in cell:
        index = _BASE32_INDEX.get(ch)
        if index is None:
            raise ValueError(f"not a geohash character: {ch!r}")
        for shift in range(4, -1, -1):
            bit = (index >> shift) & 1
            if even:
                mid = (lon_lo + lon_hi) / 2
                lon_lo, lon_hi = (mid, lon_hi) if bit else (lon_lo, mid)
            else:
                mid = (lat_lo + lat_hi) / 2
                lat_lo, lat_hi = (mid, lat_hi) if bit else (lat_lo, mid)
            even = not even
    return lat_lo, lat_hi, lon_lo, lon_hi


def decode(cell: str) -> tuple[float, float]:
    """Centre ``(lat, lon)`` of a geohash cell."""
    lat_lo, lat_hi, lon_lo, lon_hi = cell_bounds(cell)
    return (lat_lo + lat_hi) / 2, (lon_lo + lon_hi) / 2


def _distance_to_cell_km(
    lat: float, lon: float, lat_lo: float, lat_hi: float, lon_lo: float, lon_hi: float
) -> float:
    """Exact great-circle distance from a point to the nearest point of a lat/lon rectangle
    (0 inside it). Longitudes of the rectangle are in -180..180 and ``lon_lo < lon_hi``."""
    if lon_lo <= lon <= lon_hi:
        # Same meridian range: the nearest point is straight north or south.
        return EARTH_RADIUS_KM * math.radians(max(lat_lo - lat, 0.0, lat - lat_hi))
    # Distance grows with the longitude difference at fixed latitudes, so the nearest point
    # lies on the nearer edge meridian (measured the short way round the globe).
    gap_lo = (lon - lon_lo) % 360.0
    gap_lo = min(gap_lo, 360.0 - gap_lo)
    gap_hi = (lon - lon_hi) % 360.0
    gap_hi = min(gap_hi, 360.0 - gap_hi)
    edge_lon = lon_lo if gap_lo <= gap_hi else lon_hi
    dlambda = math.radians(min(gap_lo, gap_hi))
    # On that meridian, cos(distance) = sin(phi) sin(phi') + cos(phi) cos(phi') cos(dlambda)
    # = C cos(phi' - phi*) with phi* = atan2(sin phi, cos phi cos dlambda). Over the edge's
    # latitude range that is largest at phi* if it lies inside, otherwise at an end (beyond
    # 90 degrees of longitude phi* is not a latitude and only the ends count).
    phi = math.radians(lat)
    best = math.degrees(math.atan2(math.sin(phi), math.cos(phi) * math.cos(dlambda)))
    candidates = (min(max(best, lat_lo), lat_hi), lat_lo, lat_hi)
    return min(haversine_km(lat, lon, c, edge_lon) for c in candidates)


def covering_cells(
    lat: float, lon: float, radius_km: float, precision: int = NEAR_PRECISION
) -> set[str]:
    """Every geohash cell of ``precision`` that intersects the circle of ``radius_km`` around
    ``(lat, lon)``: the cells a merchant is indexed under so that a Query on the cell of any
    point it delivers to finds it.

    Exact up to a millimetre of tolerance (a cell is kept when its nearest point is within
    the radius), so it holds at cell edges, across the antimeridian and around the poles.
    ``ValueError`` for a radius below 0 or above ``MAX_COVER_RADIUS_KM``.
    """
    _check_precision(precision)
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError("point out of range: latitude -90..90, longitude -180..180")
    if not 0.0 <= radius_km <= MAX_COVER_RADIUS_KM:
        raise ValueError(f"radius must be between 0 and {MAX_COVER_RADIUS_KM:g} km")
    height, width = cell_size_deg(precision)
    lon_bits, lat_bits = _bits(precision)
    rows, columns = 2**lat_bits, 2**lon_bits

    # Candidate rows: every latitude within the radius (a margin of one cell covers rounding).
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    row_lo = max(0, math.floor((lat - dlat + 90.0) / height) - 1)
    row_hi = min(rows - 1, math.floor((lat + dlat + 90.0) / height) + 1)

    # Candidate columns: the circle's longitude half-width at its widest latitude; a circle
    # reaching a pole covers every longitude.
    widest = max(abs(lat - dlat), abs(lat + dlat))
    if widest >= 90.0:
        candidate_columns: range | list[int] = range(columns)
    else:
        ratio = math.sin(radius_km / EARTH_RADIUS_KM) / math.cos(math.radians(widest))
        if ratio >= 1.0:
            candidate_columns = range(columns)
        else:
            dlon = math.degrees(math.asin(ratio))
            col_lo = math.floor((lon - dlon + 180.0) / width) - 1
            col_hi = math.floor((lon + dlon + 180.0) / width) + 1
            if col_hi - col_lo + 1 >= columns:
                candidate_columns = range(columns)
            else:
                # Wrap across the antimeridian.
                candidate_columns = sorted({c % columns for c in range(col_lo, col_hi + 1)})

    cells: set[str] = set()
    limit = radius_km + _EDGE_TOLERANCE_KM
    for row in range(row_lo, row_hi + 1):
        lat_lo = -90.0 + row * height
        lat_hi = lat_lo + height
        for column in candidate_columns:
            lon_lo = -180.0 + column * width
            lon_hi = lon_lo + width
            if _distance_to_cell_km(lat, lon, lat_lo, lat_hi, lon_lo, lon_hi) <= limit:
                # The centre of a cell encodes to that cell, away from any boundary rounding.
                cells.add(encode((lat_lo + lat_hi) / 2, (lon_lo + lon_hi) / 2, precision))
    return cells
