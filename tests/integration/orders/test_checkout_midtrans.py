"""Checkout with Midtrans as the provider (against its stand-in): the order is committed
first, then the payments context's opener (invoked through Lambda, as in AWS) opens
Midtrans's transaction for exactly its total and stores its page on the payment; a Midtrans
that answers too late leaves the order waiting, and opening the page again later makes no
second transaction (docs/decisions/0020-midtrans-snap.md, 0021). The orders function holds
no provider key: it only invokes the opener."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from support.opener import ServedOpener, payment_opener_served
from support.orders_world import NEAR, customer, merchant_with, meta, place

import orders.service
from midtrans_standin import StandIn
from warung.clients import aws_client
from warung.dynamo import get_item
from warung.ordering.provider_transactions import open_transaction
from warung.secrets import get_secret
from warung.settings import get_settings
from warung.store.orders import order_key
from warung.store.payments import payment_from, payment_key


@pytest.fixture
def midtrans(orders_stack: Any) -> Iterator[StandIn]:
    key_arn = orders_stack.secret_arn("PaymentWebhookSecret")  # any secret of the stage
    stand_in = StandIn(lambda: get_secret(key_arn)).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def opener(
    app_stack: Any, orders_stack: Any, midtrans: StandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServedOpener]:
    """This stage on Midtrans: the opener holds the provider's key and hosts; the orders
    function (this process) knows the opener's name and nothing of the key."""
    provider = {
        "PAYMENT_PROVIDER": "midtrans",
        "PAYMENT_PROVIDER_SECRET_ARN": orders_stack.secret_arn("PaymentWebhookSecret"),
        "MIDTRANS_BASE_URL": midtrans.url,
    }
    with payment_opener_served(app_stack, orders_stack, provider) as served:
        monkeypatch.setenv("PAYMENT_PROVIDER", "midtrans")
        monkeypatch.setenv("PAYMENT_OPENER_FUNCTION", served.arn)
        monkeypatch.delenv("PAYMENT_PROVIDER_SECRET_ARN", raising=False)
        monkeypatch.delenv("MIDTRANS_BASE_URL", raising=False)
        get_settings.cache_clear()
        yield served
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


def test_checkout_opens_the_midtrans_page_for_exactly_the_order_total(
    midtrans: StandIn, opener: ServedOpener
) -> None:
    assert "PAYMENT_PROVIDER_SECRET_ARN" not in os.environ  # the orders function's
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
    assert len(opener.invocations) == 1


def test_a_midtrans_timeout_leaves_the_order_waiting_and_opening_again_makes_no_second_one(
    midtrans: StandIn, opener: ServedOpener, orders_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    buyer = customer()
    _, _, product = merchant_with(stock=5)
    orders.service.set_cart_item(buyer.user_id, product, 1)
    standin(midtrans, "POST", "/_standin/delay", {"create_s": 3.0, "times": 2})

    order = place(buyer)  # no error: the order exists whatever Midtrans does

    assert stored(order_key(order.order_id))["status"] == "pending_payment"
    payment = payment_from(stored(payment_key(order.payment_id)))
    assert payment.action_url is None
    # what GET /v1/payments/{id} does, in the payments function (which holds the key)
    monkeypatch.setenv(
        "PAYMENT_PROVIDER_SECRET_ARN", orders_stack.secret_arn("PaymentWebhookSecret")
    )
    monkeypatch.setenv("MIDTRANS_BASE_URL", midtrans.url)
    get_settings.cache_clear()
    reopened = open_transaction(payment)
    assert reopened.action_url is not None
    listing = standin(midtrans, "GET", "/_standin/transactions")
    assert listing["creates"] == 1
    assert [t["order_id"] for t in listing["transactions"]] == [order.order_id]


def invoke_opener(function: str, event: dict[str, Any]) -> Any:
    answer = aws_client("lambda").invoke(FunctionName=function, Payload=json.dumps(event).encode())
    assert "FunctionError" not in answer
    return json.loads(answer["Payload"].read())


def test_the_opener_charges_the_stored_total_whatever_its_caller_says(
    midtrans: StandIn, opener: ServedOpener
) -> None:
    buyer = customer()
    _, _, product = merchant_with(stock=5)
    orders.service.set_cart_item(buyer.user_id, product, 3)
    standin(midtrans, "POST", "/_standin/delay", {"create_s": 3.0, "times": 3})
    order = place(buyer)  # checkout's own try timed out: no transaction yet

    answer = invoke_opener(opener.arn, {"order_id": order.order_id, "amount": 1, "gross_amount": 1})

    assert answer["action_url"] == payment_from(stored(payment_key(order.payment_id))).action_url
    (made,) = standin(midtrans, "GET", "/_standin/transactions")["transactions"]
    assert (made["order_id"], made["gross_amount"]) == (order.order_id, f"{order.total}.00")


def test_the_opener_opens_nothing_for_an_unknown_order_or_a_bad_event(
    midtrans: StandIn, opener: ServedOpener
) -> None:
    assert invoke_opener(opener.arn, {"order_id": "no-such-order"}) == {"action_url": None}
    assert invoke_opener(opener.arn, {"amount": 25000}) == {"action_url": None}
    assert standin(midtrans, "GET", "/_standin/transactions")["transactions"] == []


def test_an_opener_that_cannot_be_reached_leaves_the_order_waiting(
    midtrans: StandIn, opener: ServedOpener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMENT_OPENER_FUNCTION", opener.arn.replace("payment-opener", "gone"))
    get_settings.cache_clear()
    buyer = customer()
    _, _, product = merchant_with(stock=5)
    orders.service.set_cart_item(buyer.user_id, product, 1)

    order, payment = orders.service.checkout(buyer, {"delivery_address": NEAR}, meta())

    assert payment.action_url is None
    assert stored(order_key(order.order_id))["status"] == "pending_payment"
    assert "action_url" not in stored(payment_key(payment.payment_id))


def test_a_simulator_checkout_invokes_nothing(
    opener: ServedOpener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMENT_PROVIDER", "simulator")  # the opener's name still given
    get_settings.cache_clear()
    buyer = customer()
    _, _, product = merchant_with(stock=5)
    orders.service.set_cart_item(buyer.user_id, product, 1)

    _, payment = orders.service.checkout(buyer, {"delivery_address": NEAR}, meta())

    assert (payment.provider, payment.action_url) == ("simulator", None)
    assert opener.invocations == []
