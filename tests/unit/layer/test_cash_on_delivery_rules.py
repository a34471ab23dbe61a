"""The rules of cash on delivery (docs/product.md, "Cash on delivery"), on plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warung.errors import ApiError
from warung.ordering import cod

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def reason(**overrides: object) -> tuple[int, str] | None:
    given: dict[str, object] = {
        "total": 100_000,
        "limit": 300_000,
        "merchant_accepts": True,
        "revoked": False,
        "open_orders": 0,
    } | overrides
    try:
        cod.check_checkout(**given)  # type: ignore[arg-type]
    except ApiError as error:
        return error.http_status, error.code
    return None


def test_a_customer_in_good_standing_may_pay_in_cash_up_to_the_ceiling() -> None:
    assert reason() is None
    assert reason(total=300_000) is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"total": 300_001}, (422, "cod_limit_exceeded")),
        ({"merchant_accepts": False}, (422, "cod_not_accepted")),
        ({"open_orders": 1}, (409, "cod_order_open")),
        ({"revoked": True}, (403, "cod_not_available")),
        # a customer who lost it hears that first, whatever else is wrong
        ({"revoked": True, "total": 900_000, "open_orders": 1}, (403, "cod_not_available")),
    ],
)
def test_each_reason_to_refuse_cash_on_delivery_has_its_code(
    overrides: dict[str, object], expected: tuple[int, str]
) -> None:
    assert reason(**overrides) == expected


def test_the_ceiling_is_written_as_people_write_rupiah() -> None:
    with pytest.raises(ApiError, match=r"Rp 300\.000 \(this one is Rp 312\.500\)"):
        cod.check_checkout(
            total=312_500, limit=300_000, merchant_accepts=True, revoked=False, open_orders=0
        )


def test_the_second_failure_within_90_days_revokes() -> None:
    assert cod.revokes([], NOW) is False
    assert cod.revokes([at(89)], NOW) is True
    assert cod.revokes([at(90)], NOW) is False  # exactly 90 days ago: out of the window
    assert cod.revokes([at(200), at(95)], NOW) is False


def test_only_failures_within_the_window_are_kept() -> None:
    assert cod.failures_kept([at(10), at(120), at(1)], NOW) == [at(10), at(1)]


@pytest.mark.parametrize(
    ("target", "payment"),
    [
        ("delivered", "collected"),
        ("cancelled", "cancelled"),
        ("rejected", "cancelled"),
        ("failed_delivery", "failed"),
        ("accepted", None),
        ("out_for_delivery", None),
    ],
)
def test_the_payment_follows_the_order_and_is_never_refunded(
    target: str, payment: str | None
) -> None:
    assert cod.payment_status_after(target) == payment


@pytest.mark.parametrize(
    ("target", "frees"),
    [
        ("delivered", True),
        ("failed_delivery", True),
        ("cancelled", True),
        ("rejected", True),
        ("accepted", False),
        ("out_for_delivery", False),
    ],
)
def test_an_order_stops_holding_the_slot_when_it_ends(target: str, frees: bool) -> None:
    assert cod.frees_slot(target) is frees
