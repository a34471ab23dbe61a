"""Midtrans end to end, locally: `dev` with `PaymentProvider=midtrans` starts the Midtrans
stand-in beside the API. A customer checks out, is sent to the `action_url`, pays on the
stand-in's page, whose signed notification reaches the webhook: the order is `paid`."""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.dev import running_dev
from support.http import call
from support.merchants import demo_login, demo_merchant_id

ADDRESS = {
    "line1": "Jl. Kebon Sirih No. 5",
    "city": "Jakarta",
    "postal_code": "10340",
    "lat": -6.1862,
    "lon": 106.8263,
}


@pytest.fixture(scope="module")
def midtrans_api() -> Iterator[str]:
    """A local runtime of its own, with Midtrans (its stand-in) as the provider."""
    if os.environ.get("API_URL"):
        pytest.skip("needs the local runtime and its Midtrans stand-in")
    log_file = Path(tempfile.mkstemp(prefix="warung-e2e-midtrans-", suffix=".log")[1])
    overrides = ["PaymentProvider=midtrans", "RateLoginAttemptsPerIp=10000/60"]
    with running_dev(log_file, args=["--parameter-overrides", *overrides], startup_s=90) as dev:
        assert "Midtrans       http://127.0.0.1:" in dev.output
        yield f"http://127.0.0.1:{dev.port}"
    log_file.unlink(missing_ok=True)


def post_form(url: str, fields: dict[str, str]) -> Any:
    data = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def get_page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return str(answer.read().decode())


def checkout(api: str, token: str) -> dict[str, Any]:
    owner = demo_login(api, "owner@example.com")
    merchant_id = demo_merchant_id(api, owner)  # open at any hour
    menu = call(api, "GET", f"/v1/products?merchant_id={merchant_id}&limit=100").body["items"]
    pick = next(p for p in menu if p["available"] and (p["stock"] is None or p["stock"] >= 1))
    call(api, "DELETE", "/v1/cart", token=token)
    added = call(api, "PUT", f"/v1/cart/items/{pick['id']}", {"quantity": 1}, token=token)
    assert added.status == 200, added.body
    placed = call(
        api,
        "POST",
        "/v1/orders",
        {"delivery_address": ADDRESS},
        token=token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201, placed.body
    return dict(placed.body)


def wait_for(api: str, token: str, order_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        order = call(api, "GET", f"/v1/orders/{order_id}", token=token).body
        if order["status"] == status or time.monotonic() > deadline:
            return dict(order)
        time.sleep(0.2)


def test_checkout_to_the_midtrans_page_to_paid(midtrans_api: str) -> None:
    customer = demo_login(midtrans_api, "customer@example.com")

    order = checkout(midtrans_api, customer)

    action_url = order["payment"]["action_url"]
    assert action_url.startswith("http://127.0.0.1:")
    assert "/snap/v4/redirection/" in action_url
    assert order["status"] == "pending_payment"
    payment = call(midtrans_api, "GET", f"/v1/payments/{order['payment']['id']}", token=customer)
    assert (payment.body["provider"], payment.body["action_url"]) == ("midtrans", action_url)
    assert payment.body["amount"] == order["total"]
    page = get_page(action_url)
    assert order["id"] in page

    paid = post_form(f"{action_url}/pay", {"payment_type": "qris", "outcome": "settlement"})

    assert paid["delivered"] == 200
    assert paid["notification"]["gross_amount"] == f"{order['total']}.00"
    after = wait_for(midtrans_api, customer, order["id"], "paid")
    assert after["status"] == "paid"
    assert after["payment"]["status"] == "succeeded"


def test_a_rejected_paid_order_is_refunded_through_midtrans(midtrans_api: str) -> None:
    customer = demo_login(midtrans_api, "customer@example.com")
    owner = demo_login(midtrans_api, "owner@example.com")
    order = checkout(midtrans_api, customer)
    action_url = order["payment"]["action_url"]
    post_form(f"{action_url}/pay", {"payment_type": "gopay", "outcome": "settlement"})
    assert wait_for(midtrans_api, customer, order["id"], "paid")["status"] == "paid"

    reply = call(
        midtrans_api,
        "POST",
        f"/v1/orders/{order['id']}/status",
        {"status": "rejected", "reason": "Kompor rusak"},
        token=owner,
    )

    assert reply.status == 200, reply.body
    deadline = time.monotonic() + 45
    while True:
        payment = call(
            midtrans_api, "GET", f"/v1/payments/{order['payment']['id']}", token=customer
        ).body
        if payment["status"] == "refunded" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert payment["status"] == "refunded"
