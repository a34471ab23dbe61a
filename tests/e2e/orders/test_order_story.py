"""The whole story with the demo data: a customer fills a cart at the demo owner's merchant,
quotes, checks out, pays through the simulator, and the owner takes the order to the door;
and a paid order cancelled is refunded (local runtime only: demo accounts, simulator)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from support.accounts import verified_login
from support.http import call, wait_for_mail
from support.merchants import active_merchant, demo_login, demo_merchant_id

pytestmark = pytest.mark.usefixtures("local_only")

ADDRESS = {
    "line1": "Jl. Kebon Sirih No. 5",
    "city": "Jakarta",
    "postal_code": "10340",
    "lat": -6.1862,
    "lon": 106.8263,
    "notes": "Pagar <b>hijau</b>",
}


def _wait_for_status(api: str, token: str, order_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        order = call(api, "GET", f"/v1/orders/{order_id}", token=token).body
        if order["status"] == status or time.monotonic() > deadline:
            return dict(order)
        time.sleep(0.2)


def _mail_naming(api: str, to: str, number: str) -> dict[str, Any]:
    """The first e-mail to ``to`` whose subject names the order ``number``, once it came
    (the demo accounts have e-mails of earlier tests too; the worker sends in the background)."""
    deadline = time.monotonic() + 20
    while True:
        about = [m for m in wait_for_mail(api, to) if number in m["subject"]]
        if about or time.monotonic() > deadline:
            assert about, f"no e-mail to {to} names {number}"
            return dict(about[0])
        time.sleep(0.2)


def _subjects(api: str, to: str, count: int) -> list[str]:
    return [m["subject"] for m in wait_for_mail(api, to, count=count)]


def test_demo_customer_orders_pays_and_receives(api_url: str) -> None:
    customer = demo_login(api_url, "customer@example.com")
    owner = demo_login(api_url, "owner@example.com")
    # open at any hour: the suite passes whenever it runs (make test-clock)
    merchant_id = demo_merchant_id(api_url, owner)
    menu = call(api_url, "GET", f"/v1/products?merchant_id={merchant_id}&limit=100").body["items"]
    picks = [p for p in menu if p["available"] and (p["stock"] is None or p["stock"] >= 2)][:2]
    assert len(picks) == 2, menu
    call(api_url, "DELETE", "/v1/cart", token=customer)
    for product, quantity in zip(picks, (2, 1), strict=True):
        reply = call(
            api_url,
            "PUT",
            f"/v1/cart/items/{product['id']}",
            {"quantity": quantity},
            token=customer,
        )
        assert reply.status == 200, reply.body

    quote = call(api_url, "POST", "/v1/cart/quote", {"delivery_address": ADDRESS}, token=customer)
    assert quote.status == 200, quote.body
    breakdown = quote.body
    subtotal = picks[0]["price"] * 2 + picks[1]["price"]
    assert breakdown["subtotal"] == subtotal
    assert breakdown["total"] == (
        breakdown["subtotal"] - breakdown["discount"] + breakdown["delivery_fee"] + breakdown["tax"]
    )

    placed = call(
        api_url,
        "POST",
        "/v1/orders",
        {"delivery_address": ADDRESS},
        token=customer,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201, placed.body
    order = placed.body
    assert order["status"] == "pending_payment"
    assert {k: order[k] for k in ("subtotal", "discount", "delivery_fee", "tax", "total")} == {
        k: breakdown[k] for k in ("subtotal", "discount", "delivery_fee", "tax", "total")
    }
    payment_id = order["payment"]["id"]
    payment = call(api_url, "GET", f"/v1/payments/{payment_id}", token=customer).body
    assert (payment["status"], payment["amount"], payment["currency"]) == (
        "pending",
        order["total"],
        "IDR",
    )

    # the simulator sends the provider's signed webhook; the order is paid within seconds
    simulated = call(
        api_url,
        "POST",
        f"/v1/payments/{payment_id}/simulate",
        {"outcome": "succeeded"},
        token=customer,
    )
    assert simulated.status == 202, simulated.body
    paid = _wait_for_status(api_url, customer, order["id"], "paid")
    assert paid["status"] == "paid", paid
    assert paid["payment"]["status"] == "succeeded"
    # the e-mails name the order by its number
    receipt = _mail_naming(api_url, "customer@example.com", order["number"])
    assert receipt["subject"].startswith("Payment received for your order")
    new_order = _mail_naming(api_url, "owner@example.com", order["number"])
    assert "<b>hijau</b>" not in new_order["html"]  # the customer's note is escaped

    # the owner takes it to the door
    for status in ("accepted", "preparing", "out_for_delivery", "delivered"):
        moved = call(
            api_url,
            "POST",
            f"/v1/orders/{order['id']}/status",
            {"status": status},
            token=owner,
        )
        assert (moved.status, moved.body["status"]) == (200, status), moved.body
    final = call(api_url, "GET", f"/v1/orders/{order['id']}", token=customer).body
    history = final["status_history"]
    assert [h["status"] for h in history] == [
        "pending_payment",
        "paid",
        "accepted",
        "preparing",
        "out_for_delivery",
        "delivered",
    ]
    assert history[1]["by"] == "system"
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    listed = call(
        api_url, "GET", f"/v1/merchants/{merchant_id}/orders?status=delivered", token=owner
    )
    assert order["id"] in [o["id"] for o in listed.body["items"]]


def test_a_paid_order_cancelled_is_refunded_and_its_stock_returns(
    api_url: str,
) -> None:
    admin = demo_login(api_url, "admin@example.com")
    owner, merchant_id = active_merchant(api_url, admin)
    created = call(
        api_url,
        "POST",
        f"/v1/merchants/{merchant_id}/products",
        {"name": "Soto Ayam", "price": 20000, "category": "food", "stock": 4},
        token=owner,
    ).body
    email, login = verified_login(api_url)
    customer = login["access_token"]
    call(api_url, "PUT", f"/v1/cart/items/{created['id']}", {"quantity": 3}, token=customer)
    order = call(
        api_url,
        "POST",
        "/v1/orders",
        {"delivery_address": ADDRESS},
        token=customer,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    ).body
    payment_id = order["payment"]["id"]
    call(
        api_url,
        "POST",
        f"/v1/payments/{payment_id}/simulate",
        {"outcome": "succeeded"},
        token=customer,
    )
    assert _wait_for_status(api_url, customer, order["id"], "paid")["status"] == "paid"

    # a failure reported after the success never un-pays the order
    failed = call(
        api_url,
        "POST",
        f"/v1/payments/{payment_id}/simulate",
        {"outcome": "failed"},
        token=customer,
    )
    assert failed.status == 409
    assert (
        call(api_url, "GET", f"/v1/orders/{order['id']}", token=customer).body["status"] == "paid"
    )

    cancelled = call(api_url, "POST", f"/v1/orders/{order['id']}/cancel", token=customer)
    assert (cancelled.status, cancelled.body["status"]) == (200, "cancelled"), cancelled.body
    assert call(api_url, "GET", f"/v1/products/{created['id']}").body["stock"] == 4
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        payment = call(api_url, "GET", f"/v1/payments/{payment_id}", token=customer).body
        if payment["status"] == "refunded":
            break
        time.sleep(0.2)
    assert payment["status"] == "refunded"
    subjects = [m["subject"].lower() for m in wait_for_mail(api_url, email, count=4)]
    assert any("refund" in s for s in subjects), subjects
