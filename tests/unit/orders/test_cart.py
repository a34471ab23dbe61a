"""The cart's rules: one merchant, a bounded number of lines, what may be ordered now."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orders.rules import cart
from warung.errors import (
    CartMerchantMismatch,
    InsufficientStock,
    MerchantClosed,
    NotFound,
    ValidationFailed,
)
from warung.store.orders import Cart
from warung.store.promos import Promo

# Tuesday 2026-11-24 10:00 in Jakarta (UTC+7)
TUESDAY_10_WIB = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def product(pid: str = "p1", merchant: str = "m1", **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "product_id": pid,
        "merchant_id": merchant,
        "name": f"Nasi {pid}",
        "price": 25000,
        "stock": None,
        "available": True,
        "archived": False,
        **changes,
    }
    return cart.ProductNow(**fields)


def merchant(**changes: Any) -> Any:
    fields: dict[str, Any] = {
        "merchant_id": "m1",
        "name": "Warung",
        "status": "active",
        "is_open": True,
        "opening_hours": None,
        "lat": Decimal("-6.1754"),
        "lon": Decimal("106.8272"),
        "base_fee": 8000,
        "per_km_fee": 2500,
        "max_distance_km": Decimal(15),
        "tax_rate": Decimal("0.11"),
        **changes,
    }
    return cart.MerchantNow(**fields)


def empty() -> Any:
    return Cart(None, ())


def test_putting_a_product_replaces_its_quantity_in_place() -> None:
    filled = cart.put_line(cart.put_line(empty(), product("a"), 1), product("b"), 2)

    again = cart.put_line(filled, product("a"), 5)

    assert [(x.product_id, x.quantity) for x in again.lines] == [("a", 5), ("b", 2)]
    assert again.merchant_id == "m1"


def test_a_product_of_another_merchant_is_a_mismatch() -> None:
    filled = cart.put_line(empty(), product("a"), 1)

    with pytest.raises(CartMerchantMismatch):
        cart.put_line(filled, product("x", merchant="m2"), 1)


def test_a_cart_holds_at_most_thirty_different_products() -> None:
    full = empty()
    for n in range(cart.MAX_CART_LINES):
        full = cart.put_line(full, product(f"p{n}"), 1)

    with pytest.raises(ValidationFailed) as refused:
        cart.put_line(full, product("one-more"), 1)
    assert refused.value.errors[0].field == "product_id"
    # changing a quantity in a full cart is still fine
    assert len(cart.put_line(full, product("p0"), 9).lines) == cart.MAX_CART_LINES


def test_removing_what_is_not_there_changes_nothing() -> None:
    filled = cart.put_line(empty(), product("a"), 1)

    assert cart.without(filled, "zzz") is None
    smaller = cart.without(filled, "a")
    assert smaller is not None
    assert smaller.empty


@pytest.mark.parametrize(
    ("found", "owner"),
    [
        (None, merchant()),
        (product(archived=True), merchant()),
        (product(), merchant(status="suspended")),
        (product(), None),
    ],
)
def test_only_a_listed_product_of_an_active_merchant_is_on_sale(found: Any, owner: Any) -> None:
    with pytest.raises(NotFound):
        cart.sold(found, owner)


def test_a_merchant_takes_orders_when_active_switched_open_and_within_hours() -> None:
    hours = {"tue": ["08:00-14:00"]}
    assert cart.check_taking_orders(merchant(opening_hours=hours), TUESDAY_10_WIB).name == "Warung"
    for closed in (
        merchant(status="pending"),
        merchant(is_open=False),
        merchant(opening_hours={"tue": ["11:00-14:00"]}),
        None,
    ):
        with pytest.raises(MerchantClosed):
            cart.check_taking_orders(closed, TUESDAY_10_WIB)


def test_every_short_line_is_named_with_what_is_left() -> None:
    current = cart.put_line(
        cart.put_line(cart.put_line(empty(), product("a"), 2), product("b"), 3), product("c"), 1
    )
    products = {
        "a": product("a", stock=5),
        "b": product("b", stock=1),
        "c": product("c", available=False),
    }

    with pytest.raises(InsufficientStock) as short:
        cart.order_lines(current, products)

    assert [(e.field, e.message) for e in short.value.errors] == [
        ("items.1.quantity", "Only 1 left of this product."),
        ("items.2.quantity", "Only 0 left of this product."),
    ]


def test_order_lines_are_at_todays_prices_and_know_which_stock_they_took() -> None:
    current = cart.put_line(cart.put_line(empty(), product("a"), 2), product("b"), 1)
    products = {"a": product("a", price=30000, stock=4), "b": product("b", price=5000)}

    lines = cart.order_lines(current, products)

    assert [(x.product_id, x.unit_price, x.line_total, x.stock_tracked) for x in lines] == [
        ("a", 30000, 60000, True),
        ("b", 5000, 5000, False),
    ]


def test_an_empty_cart_cannot_be_ordered() -> None:
    with pytest.raises(ValidationFailed) as refused:
        cart.order_lines(empty(), {})
    assert refused.value.errors[0].field == "items"


def test_a_promo_code_must_exist_and_not_be_used_up_by_this_customer() -> None:
    promo = Promo(code="HEMAT", kind="fixed", value=5000, per_user_limit=2)

    assert cart.check_promo_use("HEMAT", promo, used_by_customer=1) is promo
    assert cart.check_promo_use(None, None, used_by_customer=0) is None
    for code, found, used in (("NOPE", None, 0), ("HEMAT", promo, 2)):
        with pytest.raises(ValidationFailed) as refused:
            cart.check_promo_use(code, found, used_by_customer=used)
        assert refused.value.errors[0].field == "promo_code"
