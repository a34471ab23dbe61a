"""Midtrans end to end, locally: `dev` with `PaymentProvider=midtrans` starts the Midtrans
stand-in beside the API. A customer checks out, is sent to the `action_url`, pays on the
stand-in's page, whose signed notification reaches the webhook: the order is `paid`.

Money that needs a person, too: a paid order's refund that Midtrans cannot make (a bank
transfer virtual account) reaches `refund_manual` and is on the admin's list; the daily
reconciliation's report of a day reads back through the admin's route."""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from support.dev import Dev, running_dev
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
def midtrans_dev() -> Iterator[Dev]:
    """A local runtime of its own, with Midtrans (its stand-in) as the provider."""
    if os.environ.get("API_URL"):
        pytest.skip("needs the local runtime and its Midtrans stand-in")
    log_file = Path(tempfile.mkstemp(prefix="warung-e2e-midtrans-", suffix=".log")[1])
    overrides = ["PaymentProvider=midtrans", "RateLoginAttemptsPerIp=10000/60"]
    with running_dev(log_file, args=["--parameter-overrides", *overrides], startup_s=90) as dev:
        assert "Midtrans       http://127.0.0.1:" in dev.output
        yield dev
    log_file.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def midtrans_api(midtrans_dev: Dev) -> str:
    return f"http://127.0.0.1:{midtrans_dev.port}"


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


def payment_of(api: str, token: str, payment_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 45
    while True:
        payment = call(api, "GET", f"/v1/payments/{payment_id}", token=token).body
        if payment["status"] == status or time.monotonic() > deadline:
            return dict(payment)
        time.sleep(0.3)


def bank_transfer_order(api: str, customer: str) -> dict[str, Any]:
    order = checkout(api, customer)
    post_form(
        f"{order['payment']['action_url']}/pay",
        {"payment_type": "bank_transfer", "outcome": "settlement"},
    )
    assert wait_for(api, customer, order["id"], "paid")["status"] == "paid"
    return order


def test_a_bank_transfer_refund_reaches_refund_manual_and_the_admins_list(
    midtrans_api: str,
) -> None:
    customer = demo_login(midtrans_api, "customer@example.com")
    owner = demo_login(midtrans_api, "owner@example.com")
    admin = demo_login(midtrans_api, "admin@example.com")
    order = bank_transfer_order(midtrans_api, customer)

    rejected = call(
        midtrans_api,
        "POST",
        f"/v1/orders/{order['id']}/status",
        {"status": "rejected", "reason": "Bahan habis"},
        token=owner,
    )

    assert rejected.status == 200, rejected.body
    payment = payment_of(midtrans_api, customer, order["payment"]["id"], "refund_manual")
    assert payment["status"] == "refund_manual"
    listed = call(
        midtrans_api, "GET", "/v1/admin/payments?status=refund_manual&limit=100", token=admin
    )
    assert listed.status == 200, listed.body
    mine = [p for p in listed.body["items"] if p["id"] == order["payment"]["id"]]
    assert [(p["order_id"], p["amount"], p["provider"]) for p in mine] == [
        (order["id"], order["total"], "midtrans")
    ]
    refused = call(midtrans_api, "GET", "/v1/admin/payments?status=refund_manual", token=customer)
    assert refused.status == 403


def test_the_reconciliation_report_of_a_day_reads_back_for_the_admin(
    midtrans_dev: Dev, midtrans_api: str
) -> None:
    customer = demo_login(midtrans_api, "customer@example.com")
    admin = demo_login(midtrans_api, "admin@example.com")
    bank_transfer_order(midtrans_api, customer)  # a payment of today, paid on both sides
    # the schedule's event of tomorrow: it reconciles today (Jakarta)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lambda_client = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="ap-southeast-1"
    ).client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{midtrans_dev.emulator_port}",
        config=Config(read_timeout=120, retries={"max_attempts": 1}),
    )

    ran = lambda_client.invoke(
        FunctionName="warung-local-payment-reconciliation",
        Payload=json.dumps({"source": "aws.events", "time": tomorrow}).encode(),
    )

    assert "FunctionError" not in ran
    summary = json.loads(ran["Payload"].read())
    report = call(midtrans_api, "GET", f"/v1/admin/reconciliation/{summary['day']}", token=admin)
    assert report.status == 200, report.body
    assert report.body["provider"] == "midtrans"
    assert report.body["checked"] >= 1
    assert (
        report.body["day"],
        report.body["checked"],
        report.body["unchecked"],
        len(report.body["mismatches"]),
    ) == (summary["day"], summary["checked"], summary["unchecked"], summary["mismatches"])
    none = call(midtrans_api, "GET", "/v1/admin/reconciliation/2020-01-01", token=admin)
    assert (none.status, none.body["code"]) == (404, "not_found")
