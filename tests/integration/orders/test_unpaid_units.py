"""Unpaid orders hold at most 20 units of one stock-tracked product per customer (docs/product.md,
"Unpaid orders"): counted on the customer's unpaid-order item that checkout reads anyway, and
given back when an order is paid, cancelled or expires."""

from __future__ import annotations

import dataclasses

import pytest
from support.orders_world import NEAR, customer, merchant_with, meta, order_of, pay, stock_of

import orders.repository
import orders.service
from warung.errors import Conflict, UnpaidUnitsLimit


def test_a_checkout_past_twenty_unpaid_units_of_a_product_is_refused_with_422() -> None:
    _, _, product = merchant_with(stock=100)
    buyer = customer()
    order_of(buyer, product, 15)
    order_of(buyer, product, 5)  # 20 held: exactly the limit

    with pytest.raises(UnpaidUnitsLimit) as refused:
        order_of(buyer, product, 1)

    assert refused.value.status == 422
    assert refused.value.code == "unpaid_units_limit"
    assert "more than 20" in refused.value.detail
    assert "20 already awaiting payment" in refused.value.detail
    assert stock_of(product) == 80  # the refused checkout took nothing


def test_a_single_order_of_more_than_twenty_units_is_refused() -> None:
    _, _, product = merchant_with(stock=100)
    buyer = customer()
    with pytest.raises(UnpaidUnitsLimit):
        order_of(buyer, product, 21)
    assert stock_of(product) == 100


def test_paying_or_cancelling_gives_the_units_back() -> None:
    _, _, product = merchant_with(stock=100)
    buyer = customer()
    first = order_of(buyer, product, 12)
    second = order_of(buyer, product, 8)
    pay(first)
    assert order_of(buyer, product, 12).status == "pending_payment"  # 8 + 12 held
    orders.service.cancel(buyer, second.order_id, meta())
    assert order_of(buyer, product, 8).status == "pending_payment"  # 12 + 8 held
    with pytest.raises(UnpaidUnitsLimit):
        order_of(buyer, product, 1)


def test_the_limit_is_per_customer_and_per_product() -> None:
    _, _, product = merchant_with(stock=100)
    _, _, other_product = merchant_with(stock=100)
    buyer, neighbour = customer(), customer()
    order_of(buyer, product, 20)
    assert order_of(neighbour, product, 20).status == "pending_payment"
    assert order_of(buyer, other_product, 20).status == "pending_payment"


def test_untracked_products_hold_nothing_and_are_not_limited() -> None:
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    assert order_of(buyer, product, 30).status == "pending_payment"


def test_the_transaction_holds_the_limit_when_the_read_was_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two checkouts of one customer in flight read the same counters; the second one's
    transaction must still refuse what the first one's took."""
    _, _, product = merchant_with(stock=100)
    buyer = customer()
    stale = orders.repository.customer_state(buyer.user_id)  # nothing held yet
    order_of(buyer, product, 20)
    orders.service.set_cart_item(buyer.user_id, product, 1)
    fresh_cart = orders.repository.customer_state(buyer.user_id).cart
    monkeypatch.setattr(
        orders.repository,
        "customer_state",
        lambda _user_id: dataclasses.replace(stale, cart=fresh_cart),
    )

    with pytest.raises(Conflict) as refused:
        orders.service.checkout(buyer, {"delivery_address": dict(NEAR)}, meta())

    assert "20 units of one product" in refused.value.detail
    assert stock_of(product) == 80
