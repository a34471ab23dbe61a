"""Cash on delivery end to end over HTTP (docs/product.md, "Cash on delivery"): an order from
checkout to `delivered` with its cash `collected`, the owner's "new order" e-mail and the
`order.placed` webhook; a second undelivered order refused; two failed deliveries taking cash
on delivery away, and an admin giving it back (local runtime only: it reads the e-mails at
/_local/mail and receives the webhook on loopback, which only the local stage admits)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from support.accounts import verified_login
from support.http import call, wait_for_mail
from support.merchants import activate, demo_login, new_merchant

from warung.dynamo import to_item
from warung.store.merchants import webhook_key

pytestmark = pytest.mark.usefixtures("local_only")

NEAR = {
    "line1": "Jl. M.H. Thamrin No. 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.1950,
    "lon": 106.8230,
}
TO_THE_DOOR = ("accepted", "preparing", "out_for_delivery")


class Receiver:
    """The merchant's webhook endpoint, on loopback in this process."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.bodies.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cod"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, event: str, timeout_s: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [b for b in self.bodies if b.get("type") == event]
            if found:
                return found
            time.sleep(0.2)
        return []

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def _point_webhook_at(emulator: str, merchant_id: str, url: str) -> None:
    """The merchant's webhook at a loopback ``url``, written where the worker reads it (the
    API refuses loopback URLs; the local worker admits them)."""
    import boto3  # a test's arrangement, not a request path

    client = boto3.client(
        "dynamodb",
        endpoint_url=emulator,
        region_name="ap-southeast-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.update_item(
        TableName="warung-local-main",  # the local stage's main table
        Key=to_item(webhook_key(merchant_id)),
        UpdateExpression="SET #url = :url",
        ExpressionAttributeNames={"#url": "url"},
        ExpressionAttributeValues={":url": {"S": url}},
    )


def _merchant(api: str, admin: str) -> tuple[str, str, str, str]:
    """A new owner's active merchant with one product: (owner e-mail, token, merchant, product)."""
    owner_email, login = verified_login(api)
    owner = str(login["access_token"])
    merchant_id = str(new_merchant(api, owner)["id"])
    activate(api, admin, merchant_id)
    product = call(
        api,
        "POST",
        f"/v1/merchants/{merchant_id}/products",
        {"name": "Ayam Geprek", "price": 25000, "category": "food", "stock": 10},
        token=owner,
    )
    assert product.status == 201, product.body
    return owner_email, owner, merchant_id, str(product.body["id"])


def _cod_checkout(api: str, customer: str, product_id: str) -> Any:
    put = call(api, "PUT", f"/v1/cart/items/{product_id}", {"quantity": 1}, token=customer)
    assert put.status == 200, put.body
    return call(
        api,
        "POST",
        "/v1/orders",
        {"delivery_address": NEAR, "payment_method": "cash_on_delivery"},
        token=customer,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def _move(api: str, owner: str, order_id: str, *statuses: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for status in statuses:
        moved = call(api, "POST", f"/v1/orders/{order_id}/status", {"status": status}, token=owner)
        assert (moved.status, moved.body["status"]) == (200, status), moved.body
        body = dict(moved.body)
    return body


def test_a_cod_order_goes_from_checkout_to_collected_and_reaches_the_merchant_at_once(
    api_url: str, emulator_url: str, receiver: Receiver
) -> None:
    admin = demo_login(api_url, "admin@example.com")
    owner_email, owner, merchant_id, product = _merchant(api_url, admin)
    secret = call(api_url, "POST", f"/v1/merchants/{merchant_id}/webhook-secret", token=owner)
    assert secret.status == 200, secret.body
    _point_webhook_at(emulator_url, merchant_id, receiver.url)
    customer = str(verified_login(api_url)[1]["access_token"])

    placed = _cod_checkout(api_url, customer, product)

    assert placed.status == 201, placed.body
    order = placed.body
    assert (order["status"], order["payment_method"]) == ("placed", "cash_on_delivery")
    assert order["payment"]["status"] == "due_on_delivery"
    # with the merchant at once: the owner's "new order" e-mail and the order.placed webhook
    new_order = wait_for_mail(api_url, owner_email, count=2)[-1]
    assert new_order["subject"].startswith(f"New order {order['number']} for ")
    assert "new cash-on-delivery order: collect Rp" in new_order["text"]
    [hook] = receiver.wait_for("order.placed")
    assert hook["data"]["order_id"] == order["id"]
    assert hook["data"]["payment_method"] == "cash_on_delivery"
    payment = call(api_url, "GET", f"/v1/payments/{order['payment']['id']}", token=customer)
    assert payment.body["status"] == "due_on_delivery"

    delivered = _move(api_url, owner, order["id"], *TO_THE_DOOR, "delivered")

    assert delivered["payment"]["status"] == "collected"
    payment = call(api_url, "GET", f"/v1/payments/{order['payment']['id']}", token=customer)
    assert payment.body["status"] == "collected"
    history = [h["status"] for h in delivered["status_history"]]
    assert history == ["placed", *TO_THE_DOOR, "delivered"]


def test_a_second_undelivered_cod_order_is_refused(api_url: str) -> None:
    admin = demo_login(api_url, "admin@example.com")
    _, _, _, product = _merchant(api_url, admin)
    customer = str(verified_login(api_url)[1]["access_token"])
    assert _cod_checkout(api_url, customer, product).status == 201

    second = _cod_checkout(api_url, customer, product)

    assert (second.status, second.body["code"]) == (409, "cod_order_open"), second.body


def test_two_failed_deliveries_take_cod_away_until_an_admin_restores_it(api_url: str) -> None:
    admin = demo_login(api_url, "admin@example.com")
    _, owner, _, product = _merchant(api_url, admin)
    customer = str(verified_login(api_url)[1]["access_token"])
    stock = call(api_url, "GET", f"/v1/products/{product}").body["stock"]
    for _ in range(2):
        order = _cod_checkout(api_url, customer, product).body
        failed = _move(api_url, owner, order["id"], *TO_THE_DOOR, "failed_delivery")
        assert failed["payment"]["status"] == "failed"
    assert call(api_url, "GET", f"/v1/products/{product}").body["stock"] == stock

    refused = _cod_checkout(api_url, customer, product)

    assert (refused.status, refused.body["code"]) == (403, "cod_not_available"), refused.body
    user_id = call(api_url, "GET", "/v1/me", token=customer).body["id"]
    restored = call(
        api_url, "PATCH", f"/v1/admin/users/{user_id}", {"cash_on_delivery": True}, token=admin
    )
    assert restored.status == 200, restored.body
    assert _cod_checkout(api_url, customer, product).status == 201
