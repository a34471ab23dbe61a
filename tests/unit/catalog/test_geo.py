"""Distances, geohash cells and delivery areas (``?near=``, ``distance_km``)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# The catalog's own module, loaded without leaving functions/catalog on the import path.
from catalog.rules import geo
from warung.ordering.distance import EARTH_RADIUS_KM, delivers_to, haversine_km

cell_bounds = geo.cell_bounds
covering_cells = geo.covering_cells
decode = geo.decode
encode = geo.encode
parse_point = geo.parse_point

MONAS = (-6.1754, 106.8272)
BUNDARAN_HI = (-6.1950, 106.8230)
JAKARTA = (-6.2088, 106.8456)
BANDUNG = (-6.9175, 107.6191)
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180  # 111.19 km along a meridian


# --- haversine ---------------------------------------------------------------------------


def test_monas_to_bundaran_hi_is_about_two_kilometres() -> None:
    assert haversine_km(*MONAS, *BUNDARAN_HI) == pytest.approx(2.2, abs=0.1)


def test_jakarta_to_bandung_straight_line_is_about_117_km() -> None:
    assert haversine_km(*JAKARTA, *BANDUNG) == pytest.approx(117, abs=2)


def test_one_degree_along_a_meridian_is_radius_times_pi_over_180() -> None:
    assert haversine_km(0, 106, 1, 106) == pytest.approx(KM_PER_DEGREE, rel=1e-12)
    assert haversine_km(-6, 106, -6, 106) == 0.0


def test_one_degree_of_longitude_shrinks_with_latitude() -> None:
    # Short arcs along a parallel are close to R cos(lat) per radian.
    at_equator = haversine_km(0, 100, 0, 101)
    at_sixty = haversine_km(60, 100, 60, 101)
    assert at_equator == pytest.approx(KM_PER_DEGREE, rel=1e-12)
    assert at_sixty == pytest.approx(KM_PER_DEGREE / 2, rel=1e-3)


def test_haversine_is_symmetric_and_half_the_circumference_at_antipodes() -> None:
    assert haversine_km(*MONAS, *BANDUNG) == haversine_km(*BANDUNG, *MONAS)
    assert haversine_km(6, 106.8, -6, -73.2) == pytest.approx(math.pi * EARTH_RADIUS_KM)


# --- delivers_to and parse_point ---------------------------------------------------------


def test_delivery_range_is_inclusive_and_matches_the_distance() -> None:
    distance = haversine_km(*MONAS, *BUNDARAN_HI)
    assert delivers_to(*MONAS, distance, *BUNDARAN_HI)
    assert not delivers_to(*MONAS, distance - 1e-9, *BUNDARAN_HI)
    assert delivers_to(*JAKARTA, 15, *MONAS)
    assert not delivers_to(*JAKARTA, 15, *BANDUNG)


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("-6.1754,106.8272", (-6.1754, 106.8272)),
        (" -6.1754 , 106.8272 ", (-6.1754, 106.8272)),
        ("+6,95", (6.0, 95.0)),
        ("-90,-180", (-90.0, -180.0)),
        ("90,180", (90.0, 180.0)),
        (".5,-.25", (0.5, -0.25)),
    ],
)
def test_parse_point_reads_lat_comma_lon(text: str, point: tuple[float, float]) -> None:
    assert parse_point(text) == point


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "lat,lon"),
        ("-6.1754", "lat,lon"),
        ("-6.1754;106.8272", "lat,lon"),
        ("-6.1754,106.8272,3", "lat,lon"),
        ("nan,106", "lat,lon"),
        ("inf,106", "lat,lon"),
        ("1e1,106", "lat,lon"),
        ("1_0,106", "lat,lon"),
        ("abc,def", "lat,lon"),
        ("90.0001,106", "latitude"),
        ("-91,106", "latitude"),
        ("-6,180.5", "longitude"),
        ("-6,-181", "longitude"),
    ],
)
def test_parse_point_rejects_bad_input_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_point(text)


# --- geohash -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "precision", "cell"),
    [
        # Published reference values of the geohash algorithm.
        (57.64911, 10.40744, 11, "u4pruydqqvj"),
        (42.6, -5.6, 5, "ezs42"),
        (0.0, 0.0, 1, "s"),
        (-90.0, -180.0, 4, "0000"),
        (90.0, 180.0, 4, "zzzz"),
        # Monas, Jakarta: computed here and cross-checked by decoding below.
        (-6.1754, 106.8272, 5, "qqguy"),
        (-6.1754, 106.8272, 4, "qqgu"),
    ],
)
def test_encode_gives_the_standard_geohash(
    lat: float, lon: float, precision: int, cell: str
) -> None:
    assert encode(lat, lon, precision) == cell


def test_monas_cell_contains_monas_and_has_the_documented_size() -> None:
    lat_lo, lat_hi, lon_lo, lon_hi = cell_bounds("qqguy")
    assert lat_lo <= MONAS[0] < lat_hi
    assert lon_lo <= MONAS[1] < lon_hi
    assert (lat_hi - lat_lo, lon_hi - lon_lo) == (180 / 2**12, 360 / 2**13)
    assert decode("qqguy") == pytest.approx(((lat_lo + lat_hi) / 2, (lon_lo + lon_hi) / 2))

    lat_lo, lat_hi, lon_lo, lon_hi = cell_bounds("qqgu")
    width_km = haversine_km(lat_lo, lon_lo, lat_lo, lon_hi)
    height_km = haversine_km(lat_lo, lon_lo, lat_hi, lon_lo)
    assert width_km == pytest.approx(38.9, abs=0.1)  # 39.1 km at the equator, x cos 6 deg
    assert height_km == pytest.approx(19.5, abs=0.1)


@given(
    lat=st.floats(-90, 90, allow_nan=False),
    lon=st.floats(-180, 180, allow_nan=False),
    precision=st.integers(1, 9),
)
def test_decoding_a_cell_gives_back_a_box_around_the_point(
    lat: float, lon: float, precision: int
) -> None:
    cell = encode(lat, lon, precision)
    lat_lo, lat_hi, lon_lo, lon_hi = cell_bounds(cell)
    assert lat_lo <= lat <= lat_hi
    assert lon_lo <= lon <= lon_hi
    assert encode(*decode(cell), precision) == cell
    assert encode(lat, lon, precision + 1).startswith(cell)


def test_encode_and_decode_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="precision"):
        encode(0, 0, 0)
    with pytest.raises(ValueError, match="out of range"):
        encode(91, 0, 4)
    with pytest.raises(ValueError, match="geohash character"):
        decode("qqga")  # 'a' is not in the alphabet


# --- covering cells ----------------------------------------------------------------------

indonesian_lat = st.floats(-11, 6, allow_nan=False)
indonesian_lon = st.floats(95, 141, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    lat=indonesian_lat,
    lon=indonesian_lon,
    radius_km=st.floats(1, 20),
    bearing=st.floats(0, 2 * math.pi),
    # Favour the rim, where a missed cell would show.
    fraction=st.one_of(st.just(1.0), st.floats(0.95, 1), st.floats(0, 1)),
)
def test_every_point_of_a_delivery_circle_lies_in_a_covering_cell(
    lat: float, lon: float, radius_km: float, bearing: float, fraction: float
) -> None:
    # Given a point at most radius_km from the centre
    point_lat, point_lon = _destination(lat, lon, bearing, radius_km * fraction)
    assert haversine_km(lat, lon, point_lat, point_lon) <= radius_km + 1e-9
    # Then its cell is one the merchant is indexed under
    assert encode(point_lat, point_lon, 4) in covering_cells(lat, lon, radius_km)


@settings(max_examples=150, deadline=None)
@given(
    lat=st.floats(-90, 90, allow_nan=False),
    lon=st.floats(-180, 180, allow_nan=False),
    radius_km=st.floats(0.1, 50),
    bearing=st.floats(0, 2 * math.pi),
    fraction=st.one_of(st.just(1.0), st.floats(0, 1)),
    precision=st.sampled_from([3, 4, 5]),
)
def test_covering_holds_anywhere_on_earth(
    lat: float, lon: float, radius_km: float, bearing: float, fraction: float, precision: int
) -> None:
    # Not needed in Indonesia, but never wrong near the poles or the antimeridian either.
    point_lat, point_lon = _destination(lat, lon, bearing, radius_km * fraction)
    assert encode(point_lat, point_lon, precision) in covering_cells(lat, lon, radius_km, precision)


@settings(max_examples=200, deadline=None)
@given(lat=indonesian_lat, lon=indonesian_lon, radius_km=st.floats(0, 50))
def test_covering_cells_are_exactly_the_cells_the_circle_touches(
    lat: float, lon: float, radius_km: float
) -> None:
    cells = covering_cells(lat, lon, radius_km)
    assert encode(lat, lon, 4) in cells
    # Every cell kept has a corner, an edge point or the centre within the radius...
    for cell in cells:
        assert _sampled_distance_to_cell(lat, lon, cell) <= radius_km + 0.11
    # ...and every neighbour left out is farther than the radius.
    for cell in _ring(cells) - cells:
        assert _sampled_distance_to_cell(lat, lon, cell) > radius_km


@settings(max_examples=300, deadline=None)
@given(lat=indonesian_lat, lon=indonesian_lon)
def test_a_15_km_circle_needs_few_cells(lat: float, lon: float) -> None:
    assert 1 <= len(covering_cells(lat, lon, 15)) <= 6


def test_a_50_km_circle_stays_well_inside_one_transaction() -> None:
    assert 16 <= len(covering_cells(*MONAS, 50)) <= 24


def test_a_point_just_across_a_cell_edge_is_covered() -> None:
    # Given a merchant 100 m south of the northern edge of its cell
    lat_lo, lat_hi, lon_lo, lon_hi = cell_bounds("qqgu")
    centre_lon = (lon_lo + lon_hi) / 2
    merchant = (lat_hi - 0.1 / KM_PER_DEGREE, centre_lon)
    cells = covering_cells(*merchant, 1)
    # Then the cell north of the edge is covered, and the southern neighbour is not
    assert encode(lat_hi + 1e-9, centre_lon, 4) in cells
    assert encode(lat_lo - 1e-9, centre_lon, 4) not in cells
    assert cells == {"qqgu", encode(lat_hi + 1e-9, centre_lon, 4)}


def test_covering_wraps_the_antimeridian_and_the_poles() -> None:
    across = covering_cells(0.01, 179.99, 5)
    assert encode(0.01, -179.99, 4) in across
    assert encode(0.01, 179.99, 4) in across
    polar = covering_cells(89.95, 10, 20)
    assert encode(89.95, -170, 4) in polar  # across the pole, 11 km away
    assert haversine_km(89.95, 10, 89.95, -170) < 20


def test_covering_refuses_a_negative_or_huge_radius() -> None:
    with pytest.raises(ValueError, match="radius"):
        covering_cells(*MONAS, -1)
    with pytest.raises(ValueError, match="radius"):
        covering_cells(*MONAS, geo.MAX_COVER_RADIUS_KM + 1)


# --- helpers -----------------------------------------------------------------------------


def _destination(lat: float, lon: float, bearing: float, distance_km: float) -> tuple[float, float]:
    """The point ``distance_km`` from ``(lat, lon)`` along ``bearing`` (radians) on the
    sphere, shrunk a hair so rounding cannot push it outside the circle."""
    delta = distance_km * (1 - 1e-12) / EARTH_RADIUS_KM
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(bearing)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(bearing) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lambda2) + 540) % 360 - 180


def _sampled_distance_to_cell(lat: float, lon: float, cell: str) -> float:
    """Distance from the point to the nearest of 4 x 200 points on the cell's border, or 0
    when the point is inside it (an independent, brute-force estimate)."""
    lat_lo, lat_hi, lon_lo, lon_hi = cell_bounds(cell)
    if lat_lo <= lat <= lat_hi and lon_lo <= lon <= lon_hi:
        return 0.0
    steps = 200
    border: list[tuple[float, float]] = []
    for i in range(steps + 1):
        t = i / steps
        border += [
            (lat_lo + t * (lat_hi - lat_lo), lon_lo),
            (lat_lo + t * (lat_hi - lat_lo), lon_hi),
            (lat_lo, lon_lo + t * (lon_hi - lon_lo)),
            (lat_hi, lon_lo + t * (lon_hi - lon_lo)),
        ]
    return min(haversine_km(lat, lon, b_lat, b_lon) for b_lat, b_lon in border)


def _ring(cells: set[str]) -> set[str]:
    """The cells of the same precision adjacent to any of ``cells``."""
    neighbours: set[str] = set()
    for cell in cells:
        lat_lo, lat_hi, lon_lo, lon_hi = cell_bounds(cell)
        height, width = lat_hi - lat_lo, lon_hi - lon_lo
        centre_lat, centre_lon = (lat_lo + lat_hi) / 2, (lon_lo + lon_hi) / 2
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                neighbours.add(encode(centre_lat + dy * height, centre_lon + dx * width, len(cell)))
    return neighbours
