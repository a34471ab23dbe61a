"""What an order costs (docs/product.md, Pricing): subtotal, promo discount, delivery fee, tax."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders.rules import pricing
from warung.errors import FieldError, OutOfDeliveryRange, ValidationFailed
from warung.ordering.distance import EARTH_RADIUS_KM, haversine_km
from warung.store.promos import Promo

Breakdown = pricing.Breakdown
Line = pricing.Line
MerchantTerms = pricing.MerchantTerms
check_promo_definition = pricing.check_promo_definition
delivery_fee = pricing.delivery_fee
discount_for = pricing.discount_for
price_order = pricing.price_order
promo_applies = pricing.promo_applies
promo_limit_reached = pricing.promo_limit_reached
promo_not_found = pricing.promo_not_found
tax_on = pricing.tax_on

MONAS = (-6.1754, 106.8272)
BUNDARAN_HI = (-6.1950, 106.8230)
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
NOW = datetime(2026, 11, 26, 8, 15, tzinfo=UTC)


def terms(**changes: Any) -> Any:
    """The documented merchant defaults, at Monas."""
    values: dict[str, Any] = {
        "lat": Decimal("-6.1754"),
        "lon": Decimal("106.8272"),
        "base_fee": 8000,
        "per_km_fee": 2500,
        "max_distance_km": Decimal(15),
        "tax_rate": Decimal("0.11"),
    }
    return MerchantTerms(**{**values, **changes})


def percent(value: int, **changes: Any) -> Any:
    return Promo(code="HEMAT", kind="percent", value=value, **changes)


def fixed(value: int, **changes: Any) -> Any:
    return Promo(code="POTONG", kind="fixed", value=value, **changes)


def south_of_monas(km: float) -> tuple[float, float]:
    """A point ``km`` south of Monas along its meridian (give or take float noise)."""
    return MONAS[0] - km / KM_PER_DEGREE, MONAS[1]


def one_line(unit_price: int, quantity: int = 1) -> list[Any]:
    return [Line("prd_1", "Nasi Goreng", unit_price, quantity)]


def promo_error(raised: pytest.ExceptionInfo[ValidationFailed]) -> str:
    """The one message the client sees on field ``promo_code``."""
    assert raised.value.http_status == 422
    assert raised.value.code == "validation_error"
    [error] = raised.value.errors
    assert error.field == "promo_code"
    return str(error.message)


# --- the worked example ------------------------------------------------------------------


def test_worked_example_monas_to_bundaran_hi_to_the_rupiah() -> None:
    # Given a merchant at Monas with the default terms, delivering to Bundaran HI
    distance = haversine_km(*MONAS, *BUNDARAN_HI)
    assert distance == pytest.approx(2.228328648, abs=1e-9)  # 2.23 km: 1 km over the free 2
    lines = [
        Line("prd_nasi", "Nasi Goreng Spesial", 27_500, 2),  # 55,000
        Line("prd_teh", "Es Teh Manis", 6_000, 3),  # 18,000
        Line("prd_krupuk", "Kerupuk Udang", 2_550, 1),  # 2,550
    ]
    promo = percent(10, max_discount=7_000)  # 10% of 75,550 is 7,555: capped at 7,000

    # When the order is priced
    breakdown = price_order(lines, terms(), *BUNDARAN_HI, promo, NOW)

    # Then every figure is known to the rupiah
    assert breakdown == Breakdown(
        subtotal=75_550,
        discount=7_000,
        delivery_fee=8_000 + 2_500 * 1,  # 10,500
        tax=7_541,  # 68,550 x 0.11 = 7,540.5, half up
        total=75_550 - 7_000 + 10_500 + 7_541,  # 86,591
        distance_km=Decimal("2.23"),
        promo_code="HEMAT",
    )
    assert breakdown.total == 86_591


def test_line_total_is_unit_price_times_quantity_and_subtotal_their_sum() -> None:
    lines = [Line("a", "A", 12_345, 3), Line("b", "B", 100, 50)]
    assert [line.line_total for line in lines] == [37_035, 5_000]
    assert price_order(lines, terms(), *MONAS, None, NOW).subtotal == 42_035


def test_an_order_without_promo_has_no_discount_and_no_code() -> None:
    breakdown = price_order(one_line(50_000), terms(), *MONAS, None, NOW)
    assert (breakdown.discount, breakdown.promo_code) == (0, None)
    assert breakdown.total == 50_000 + 8_000 + 5_500


def test_an_empty_cart_cannot_be_priced() -> None:
    with pytest.raises(ValidationFailed) as raised:
        price_order([], terms(), *MONAS, None, NOW)
    assert raised.value.errors == [FieldError("items", "The cart is empty.")]


@pytest.mark.parametrize(
    ("unit_price", "quantity"), [(-1, 1), (100, 0), (100, -2)], ids=["price", "zero", "neg"]
)
def test_a_line_with_a_negative_price_or_no_quantity_is_a_bug(
    unit_price: int, quantity: int
) -> None:
    with pytest.raises(ValueError, match="prd_1"):
        Line("prd_1", "Nasi", unit_price, quantity)


def test_a_float_tax_rate_is_refused() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        terms(tax_rate=0.11)
    with pytest.raises(ValueError, match="tax_rate"):
        terms(tax_rate=Decimal("1.1"))
    with pytest.raises(ValueError, match="fees"):
        terms(per_km_fee=-1)


# --- tax -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("taxable", "rate", "tax"),
    [
        (5, Decimal("0.1"), 1),  # 0.5 exactly: half up
        (25, Decimal("0.1"), 3),  # 2.5: half up, where half-even would give 2
        (24, Decimal("0.1"), 2),  # 2.4: down
        (26, Decimal("0.1"), 3),  # 2.6: up
        (50, Decimal("0.11"), 6),  # 5.5
        (350, Decimal("0.11"), 39),  # 38.5, where half-even would give 38
        (68_549, Decimal("0.11"), 7_540),  # 7,540.39
        (100_000, Decimal("0.11"), 11_000),
        (999_999, Decimal(0), 0),
        (0, Decimal("0.11"), 0),
        (1, Decimal(1), 1),
    ],
)
def test_tax_is_rounded_half_up_to_a_whole_rupiah(taxable: int, rate: Decimal, tax: int) -> None:
    assert tax_on(taxable, rate) == tax


def test_tax_is_on_the_subtotal_after_discount() -> None:
    # Given 10,050 rupiah of goods and 50 off: 10,000 x 0.11 = 1,100 (not 1,105.5)
    breakdown = price_order(one_line(10_050), terms(), *MONAS, fixed(50), NOW)
    assert (breakdown.discount, breakdown.tax) == (50, 1_100)


def test_tax_free_merchant_charges_no_tax() -> None:
    breakdown = price_order(one_line(12_345), terms(tax_rate=Decimal(0)), *MONAS, None, NOW)
    assert breakdown.tax == 0
    assert breakdown.total == 12_345 + 8_000


# --- discount ------------------------------------------------------------------------------


def test_percent_discount_is_floored_and_capped() -> None:
    # 15% of 33,333 is 4,999.95: floored to 4,999
    assert discount_for(percent(15), 33_333) == 4_999
    # and capped at max_discount when set
    assert discount_for(percent(15, max_discount=4_000), 33_333) == 4_000
    # a cap above the discount changes nothing
    assert discount_for(percent(15, max_discount=10_000), 33_333) == 4_999


def test_hundred_percent_discount_is_the_whole_subtotal() -> None:
    assert discount_for(percent(100), 27_500) == 27_500


def test_fixed_discount_never_exceeds_the_subtotal() -> None:
    assert discount_for(fixed(10_000), 25_000) == 10_000
    assert discount_for(fixed(30_000), 25_000) == 25_000
    # Then the order is charged delivery and no tax on goods
    breakdown = price_order(one_line(25_000), terms(), *MONAS, fixed(30_000), NOW)
    assert (breakdown.discount, breakdown.tax, breakdown.total) == (25_000, 0, 8_000)


def test_promo_applies_from_its_minimum_subtotal_inclusive() -> None:
    promo = fixed(5_000, min_subtotal=50_000)
    assert promo_applies(promo, 50_000, NOW) == 5_000
    with pytest.raises(ValidationFailed) as raised:
        promo_applies(promo, 49_999, NOW)
    assert promo_error(raised) == (
        "This promo code needs a subtotal of at least 50000 rupiah; the subtotal is 49999."
    )


def test_promo_applies_from_starts_at_inclusive() -> None:
    promo = percent(10, starts_at=NOW)
    assert promo_applies(promo, 10_000, NOW) == 1_000
    with pytest.raises(ValidationFailed) as raised:
        promo_applies(promo, 10_000, NOW - timedelta(microseconds=1))
    assert promo_error(raised) == "This promo code is valid from 2026-11-26T08:15:00Z."


def test_promo_expires_at_ends_at_exclusive() -> None:
    promo = percent(10, ends_at=NOW)
    assert promo_applies(promo, 10_000, NOW - timedelta(microseconds=1)) == 1_000
    with pytest.raises(ValidationFailed) as raised:
        promo_applies(promo, 10_000, NOW)
    assert promo_error(raised) == "This promo code expired at 2026-11-26T08:15:00Z."


def test_promo_window_is_compared_as_instants_whatever_the_zone() -> None:
    jakarta = timezone(timedelta(hours=7))
    promo = percent(10, starts_at=datetime(2026, 11, 26, 15, 15, tzinfo=jakarta))  # = NOW
    assert promo_applies(promo, 10_000, NOW) == 1_000


def test_inactive_promo_does_not_apply() -> None:
    with pytest.raises(ValidationFailed) as raised:
        promo_applies(percent(10, active=False), 10_000, NOW)
    assert promo_error(raised) == "This promo code is no longer active."


def test_inactive_is_reported_before_the_window_and_the_minimum() -> None:
    promo = percent(10, active=False, ends_at=NOW, min_subtotal=10**9)
    with pytest.raises(ValidationFailed) as raised:
        promo_applies(promo, 10_000, NOW)
    assert "no longer active" in promo_error(raised)


def test_quote_with_an_inapplicable_promo_is_refused_not_silently_ignored() -> None:
    with pytest.raises(ValidationFailed) as raised:
        price_order(one_line(10_000), terms(), *MONAS, fixed(1_000, min_subtotal=20_000), NOW)
    assert "at least 20000" in promo_error(raised)


def test_unknown_and_used_up_codes_have_their_own_messages() -> None:
    with pytest.raises(ValidationFailed) as raised:
        raise promo_not_found(" hemat10 ")
    assert promo_error(raised) == "Unknown promo code 'HEMAT10'."
    with pytest.raises(ValidationFailed) as raised:
        raise promo_limit_reached(per_user=False)
    assert promo_error(raised) == "This promo code has reached its usage limit."
    with pytest.raises(ValidationFailed) as raised:
        raise promo_limit_reached(per_user=True)
    assert "already used" in promo_error(raised)


# --- distance and delivery fee -------------------------------------------------------------


@pytest.mark.parametrize(
    ("distance_km", "extra_km"),
    [
        (0.0, 0),
        (1.5, 0),
        (2.0, 0),  # exactly 2 km: base fee only
        (math.nextafter(2.0, 3.0), 1),  # the next float above 2 km pays a kilometre
        (2.004, 1),  # shows as 2.0 km but is over 2: the ceiling uses the exact distance
        (2.5, 1),
        (3.0, 1),
        (3.01, 2),
        (14.99, 13),
        (15.0, 13),
    ],
)
def test_delivery_fee_charges_each_started_km_beyond_two(distance_km: float, extra_km: int) -> None:
    assert delivery_fee(8_000, 2_500, distance_km) == 8_000 + 2_500 * extra_km


def test_delivery_within_two_km_costs_the_base_fee() -> None:
    destination = south_of_monas(1.999)
    breakdown = price_order(one_line(10_000), terms(), *destination, None, NOW)
    assert breakdown.distance_km == Decimal("2.00")
    assert breakdown.delivery_fee == 8_000


def test_delivery_just_over_two_km_pays_one_km() -> None:
    destination = south_of_monas(2.001)
    breakdown = price_order(one_line(10_000), terms(), *destination, None, NOW)
    assert breakdown.distance_km == Decimal("2.00")
    assert breakdown.delivery_fee == 8_000 + 2_500


def test_delivery_to_the_merchant_itself_is_zero_km() -> None:
    breakdown = price_order(one_line(10_000), terms(), *MONAS, None, NOW)
    assert (breakdown.distance_km, breakdown.delivery_fee) == (Decimal("0.00"), 8_000)


def test_distance_is_reported_like_the_catalog_reports_it() -> None:
    for km in (0.004, 0.005, 1.2345, 2.228, 7.777, 14.995):
        destination = south_of_monas(km)
        exact = haversine_km(*MONAS, *destination)
        breakdown = price_order(one_line(10_000), terms(), *destination, None, NOW)
        assert float(breakdown.distance_km) == round(exact, 2)
        assert str(breakdown.distance_km) == f"{round(exact, 2):.2f}"


@given(km=st.floats(0, 100))
def test_rounded_distance_equals_pythons_round_to_two_decimals(km: float) -> None:
    assert float(pricing.rounded_distance(km)) == round(km, 2)


def test_out_of_range_boundary_is_inclusive() -> None:
    # Given a merchant whose range is exactly the distance to the address
    exact = haversine_km(*MONAS, *BUNDARAN_HI)
    at_limit = terms(max_distance_km=Decimal(exact))  # Decimal(float) is exact
    # Then it delivers there, and one step less does not
    assert price_order(one_line(10_000), at_limit, *BUNDARAN_HI, None, NOW).distance_km == (
        Decimal("2.23")
    )
    just_short = terms(max_distance_km=Decimal(math.nextafter(exact, 0.0)))
    with pytest.raises(OutOfDeliveryRange) as raised:
        price_order(one_line(10_000), just_short, *BUNDARAN_HI, None, NOW)
    assert raised.value.http_status == 422
    assert raised.value.code == "out_of_delivery_range"


def test_address_beyond_max_distance_is_out_of_delivery_range() -> None:
    with pytest.raises(OutOfDeliveryRange, match=r"15\.01 km away; .* up to 15 km"):
        price_order(one_line(10_000), terms(), *south_of_monas(15.01), None, NOW)
    # and 14.99 km is still delivered, at 13 started km over the free 2
    breakdown = price_order(one_line(10_000), terms(), *south_of_monas(14.99), None, NOW)
    assert breakdown.delivery_fee == 8_000 + 2_500 * 13


def test_range_is_checked_before_the_promo() -> None:
    # An address out of range is the first thing to fix: the promo error would not help.
    with pytest.raises(OutOfDeliveryRange):
        price_order(one_line(10_000), terms(), *south_of_monas(20), percent(10, active=False), NOW)


# --- the whole breakdown, for any cart -----------------------------------------------------

lines_strategy = st.lists(
    st.builds(
        Line,
        product_id=st.just("prd"),
        name=st.just("Item"),
        unit_price=st.integers(100, 100_000_000),
        quantity=st.integers(1, 50),
    ),
    min_size=1,
    max_size=6,
)
terms_strategy = st.builds(
    MerchantTerms,
    lat=st.just(MONAS[0]),
    lon=st.just(MONAS[1]),
    base_fee=st.integers(0, 50_000),
    per_km_fee=st.integers(0, 10_000),
    max_distance_km=st.just(Decimal(50)),
    tax_rate=st.decimals(0, 1, places=4),
)
promo_strategy = st.one_of(
    st.none(),
    st.builds(
        Promo,
        code=st.just("ANY"),
        kind=st.just("percent"),
        value=st.integers(1, 100),
        max_discount=st.one_of(st.none(), st.integers(1, 10**9)),
    ),
    st.builds(Promo, code=st.just("ANY"), kind=st.just("fixed"), value=st.integers(1, 10**10)),
)


@settings(max_examples=300, deadline=None)
@given(
    lines=lines_strategy,
    merchant=terms_strategy,
    promo=promo_strategy,
    km=st.floats(0, 49.9),
)
def test_total_adds_up_in_whole_non_negative_rupiah(
    lines: list[Any], merchant: Any, promo: Any, km: float
) -> None:
    breakdown = price_order(lines, merchant, *south_of_monas(km), promo, NOW)
    amounts = (
        breakdown.subtotal,
        breakdown.discount,
        breakdown.delivery_fee,
        breakdown.tax,
        breakdown.total,
    )
    assert all(type(amount) is int for amount in amounts)
    assert all(amount >= 0 for amount in amounts)
    assert breakdown.discount <= breakdown.subtotal
    assert breakdown.total == (
        breakdown.subtotal - breakdown.discount + breakdown.delivery_fee + breakdown.tax
    )
    assert breakdown.subtotal == sum(line.unit_price * line.quantity for line in lines)
    assert breakdown.delivery_fee >= merchant.base_fee
    if promo is not None and promo.max_discount is not None:
        assert breakdown.discount <= promo.max_discount


# --- promo definitions (admin) -------------------------------------------------------------


def test_promo_definition_is_normalised_to_upper_case_in_utc() -> None:
    jakarta = timezone(timedelta(hours=7))
    promo = check_promo_definition(
        code="  hemat-10_a ",
        kind="percent",
        value=10,
        min_subtotal=50_000,
        max_discount=20_000,
        starts_at=datetime(2026, 12, 1, 7, 0, tzinfo=jakarta),
        ends_at=datetime(2026, 12, 31, tzinfo=UTC),
        usage_limit=1_000,
        per_user_limit=1,
    )
    assert promo == Promo(
        code="HEMAT-10_A",
        kind="percent",
        value=10,
        min_subtotal=50_000,
        max_discount=20_000,
        starts_at=datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
        ends_at=datetime(2026, 12, 31, tzinfo=UTC),
        active=True,
        usage_limit=1_000,
        per_user_limit=1,
    )
    assert promo.starts_at is not None
    assert promo.starts_at.tzinfo is UTC


@pytest.mark.parametrize(
    "definition",
    [
        {"code": "abc", "kind": "percent", "value": 1},
        {"code": "A" * 32, "kind": "percent", "value": 100},
        {"code": "FLAT5K", "kind": "fixed", "value": 1, "min_subtotal": 0},
        {"code": "WIB", "kind": "fixed", "value": 5_000},
        {"code": "ONE_USE", "kind": "fixed", "value": 5, "usage_limit": 1, "per_user_limit": 1},
    ],
)
def test_valid_promo_definitions_are_accepted(definition: dict[str, Any]) -> None:
    assert check_promo_definition(**definition).code == definition["code"].upper()


START = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("definition", "fields"),
    [
        ({"code": "AB"}, ["code"]),
        ({"code": "A" * 33}, ["code"]),
        ({"code": "HEMAT 10"}, ["code"]),
        ({"code": "HÉMAT"}, ["code"]),
        ({"code": "HEMAT\n10"}, ["code"]),
        ({"value": 0}, ["value"]),
        ({"value": 101}, ["value"]),
        ({"kind": "fixed", "value": 0}, ["value"]),
        ({"kind": "fixed", "max_discount": 5_000}, ["max_discount"]),
        ({"kind": "bogo"}, ["type"]),
        ({"min_subtotal": -1}, ["min_subtotal"]),
        ({"max_discount": 0}, ["max_discount"]),
        ({"starts_at": START, "ends_at": START}, ["ends_at"]),
        ({"starts_at": START, "ends_at": START - timedelta(seconds=1)}, ["ends_at"]),
        ({"starts_at": datetime(2026, 12, 1)}, ["starts_at"]),
        ({"ends_at": datetime(2026, 12, 1)}, ["ends_at"]),
        ({"usage_limit": 0}, ["usage_limit"]),
        ({"per_user_limit": 0}, ["per_user_limit"]),
        (
            {"code": "x", "value": 0, "min_subtotal": -5, "usage_limit": 0},
            ["code", "value", "min_subtotal", "usage_limit"],
        ),
    ],
)
def test_invalid_promo_definitions_name_each_bad_field(
    definition: dict[str, Any], fields: list[str]
) -> None:
    base: dict[str, Any] = {"code": "HEMAT10", "kind": "percent", "value": 10}
    with pytest.raises(ValidationFailed) as raised:
        check_promo_definition(**{**base, **definition})
    assert raised.value.http_status == 422
    assert [error.field for error in raised.value.errors] == fields
