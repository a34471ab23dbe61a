"""Midtrans's stand-in beside the payments function in integration tests: this stage on
Midtrans, its hosts the stand-in's, and what a customer and Midtrans do."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

from midtrans_standin import StandIn, signature_key
from support.payments_world import PaymentsWorld, Shop
from warung.secrets import get_secret
from warung.settings import get_settings


def midtrans_stage(world: PaymentsWorld, payments_stack: Any) -> Iterator[StandIn]:
    """This stage on Midtrans, its hosts the stand-in's, its server key a stage secret."""
    key_arn = payments_stack.secret_arn("PaymentWebhookSecret")
    world.monkeypatch.setenv("PAYMENT_PROVIDER", "midtrans")
    world.monkeypatch.setenv("PAYMENT_PROVIDER_SECRET_ARN", key_arn)
    stand_in = StandIn(lambda: get_secret(key_arn)).start()
    world.monkeypatch.setenv("MIDTRANS_BASE_URL", stand_in.url)
    get_settings.cache_clear()
    yield stand_in
    stand_in.stop()
    get_settings.cache_clear()


def call(stand_in: StandIn, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        stand_in.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def open_page(world: PaymentsWorld, shop: Shop) -> dict[str, Any]:
    token = world.token_for(shop.order.customer_id)
    status, _, body = world.invoke("GET", f"/v1/payments/{shop.payment.payment_id}", token=token)
    assert status == 200, body
    return dict(body)


def pay(stand_in: StandIn, action_url: str, payment_type: str = "qris") -> dict[str, Any]:
    """The customer pays on the stand-in's page: the notification Midtrans sends."""
    token = action_url.rsplit("/", 1)[-1]
    paid = call(
        stand_in,
        "POST",
        f"/snap/v4/redirection/{token}/pay",
        {"payment_type": payment_type, "outcome": "settlement"},
    )
    return dict(paid["notification"])


def notify(world: PaymentsWorld, body: dict[str, Any] | bytes) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _, answer = world.invoke(
        "POST", "/v1/payments/webhook", body=raw, headers={"Content-Type": "application/json"}
    )
    return status, answer


def signed(world: PaymentsWorld, fields: dict[str, Any]) -> dict[str, Any]:
    key = get_secret(get_settings().payment_provider_secret_arn)
    sig = signature_key(fields["order_id"], fields["status_code"], fields["gross_amount"], key)
    return {**fields, "signature_key": sig}
