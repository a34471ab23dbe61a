"""Payments end to end, for what needs no order: the provider's webhook refuses what it
cannot prove, and a payment that is not yours (or does not exist) is 404. The paying story
itself follows checkout."""

from __future__ import annotations

import time

import pytest
from support.accounts import verified_login
from support.http import call

EVENT = {
    "id": "evt_e2e_forged",
    "type": "payment.succeeded",
    "data": {"payment_id": "pay_nope", "order_id": "ord_nope", "amount": 64500, "currency": "IDR"},
}


@pytest.fixture
def customer_token(api_url: str, local_only: None) -> str:
    _, login = verified_login(api_url)
    return str(login["access_token"])


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "garbage",
        f"t={int(time.time())},v1={'0' * 64}",
        f"t={int(time.time()) - 3600},v1={'0' * 64}",
    ],
    ids=["missing", "malformed", "wrong", "stale"],
)
def test_webhook_without_a_valid_signature_is_400(api_url: str, signature: str | None) -> None:
    headers = {"Warung-Signature": signature} if signature else {}

    reply = call(api_url, "POST", "/v1/payments/webhook", EVENT, headers=headers)

    assert reply.status == 400, reply.body
    assert reply.body["code"] == "invalid_signature"
    assert reply.header("Content-Type") == "application/problem+json"
    assert reply.header("X-Request-Id")


def test_anonymous_payment_read_is_401(api_url: str) -> None:
    reply = call(api_url, "GET", "/v1/payments/pay_nope")
    assert reply.status == 401, reply.body


def test_unknown_payment_is_404(api_url: str, customer_token: str) -> None:
    reply = call(api_url, "GET", "/v1/payments/pay_nope", token=customer_token)

    assert reply.status == 404, reply.body
    assert reply.body["code"] == "not_found"
    assert reply.header("Cache-Control") == "no-store"


def test_simulating_an_unknown_payment_is_404(api_url: str, customer_token: str) -> None:
    reply = call(
        api_url,
        "POST",
        "/v1/payments/pay_nope/simulate",
        {"outcome": "succeeded"},
        token=customer_token,
    )

    assert reply.status == 404, reply.body
    assert reply.body["code"] == "not_found"
