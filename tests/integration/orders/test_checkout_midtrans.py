"""Checkout with Midtrans as the provider (against its stand-in): the order is committed
first, then Midtrans's transaction opened for exactly its total, its page stored on the
payment; a Midtrans that answers too late leaves the order waiting, and opening the page
again later makes no second transaction (docs/decisions/0020-midtrans-snap.md)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from support.orders_world import NEAR, customer, merchant_with, meta, place

import orders.service
from midtrans_standin import StandIn
from warung.dynamo import get_item
from warung.ordering.provider_transactions import open_transaction
from warung.secrets import get_secret
from warung.settings import get_settings
from warung.store.orders import order_key
from warung.store.payments import payment_from, payment_key


@pytest.fixture
def midtrans(orders_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    key_arn = orders_stack.secret_arn("PaymentWebhookSecret")  # any secret of the stage
    stand_in = StandIn(lambda: get_secret(key_arn)).start()
    monkeypatch.setenv("PAYMENT_PROVIDER", "midtrans")
    monkeypatch.setenv("PAYMENT_PROVIDER_SECRET_ARN", key_arn)
    monkeypatch.setenv("MIDTRANS_BASE_URL", stand_in.url)
    get_settings.cache_clear()
    yield stand_in
    stand_in.stop()
    get_settings.cache_clear()


def standin(stand_in: StandIn, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stand_in.url + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def stored(key: dict[str, str]) -> dict[str, Any]:
    item = get_item(key, table=get_settings().table_name)
    assert item is not None
    return item


def test_checkout_opens_the_midtrans_page_for_exactly_the_order_total(midtrans: StandIn) -> None:
    buyer = customer()
    _, _, product = merchant_with(stock=5)
    orders.service.set_cart_item(buyer.user_id, product, 2)

    order, payment = orders.service.checkout(buyer, {"delivery_address": NEAR}, meta())

    assert payment.action_url is not None
    assert payment.action_url.startswith(f"{midtrans.url}/snap/v4/redirection/")
    assert stored(payment_key(payment.payment_id))["action_url"] == payment.action_url
    (made,) = standin(midtrans, "GET", "/_standin/transactions")["transactions"]
    assert (made["order_id"], made["gross_amount"]) == (order.order_id, f"{order.total}.00")
    assert (made["expiry"]["duration"], made["expiry"]["unit"]) == (15, "minutes")
    assert made["expiry"]["start_time"].endswith("+0700")


def test_a_midtrans_timeout_leaves_the_order_waiting_and_opening_again_makes_no_second_one(
    midtrans: StandIn,
) -> None:
    buyer = customer()
    _, _, product = merchant_with(stock=5)
    orders.service.set_cart_item(buyer.user_id, product, 1)
    standin(midtrans, "POST", "/_standin/delay", {"create_s": 3.0, "times": 2})

    order = place(buyer)  # no error: the order exists whatever Midtrans does

    assert stored(order_key(order.order_id))["status"] == "pending_payment"
    payment = payment_from(stored(payment_key(order.payment_id)))
    assert payment.action_url is None
    reopened = open_transaction(payment)  # what GET /v1/payments/{id} does
    assert reopened.action_url is not None
    listing = standin(midtrans, "GET", "/_standin/transactions")
    assert listing["creates"] == 1
    assert [t["order_id"] for t in listing["transactions"]] == [order.order_id]
