"""Order numbers end to end: the number checkout gives an order, everywhere a person sees the
order (the API's answers, the customer's and the owner's e-mails, the merchant's webhook),
and the merchant's list filtered by it (local runtime only: it reads the e-mails at
/_local/mail and receives the webhook on loopback, which only the local stage admits)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
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

NUMBER = re.compile(
    r"^WRG-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}$"
)
NEAR = {
    "line1": "Jl. M.H. Thamrin No. 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.1950,
    "lon": 106.8230,
}


class Receiver:
    """The merchant's webhook endpoint, on loopback in this process."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/warung"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, timeout_s: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while not self.requests and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.requests

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def _owner_with_product(api: str, admin: str) -> tuple[str, str, str, str]:
    """A new owner's active merchant with one product: (owner e-mail, token, merchant, product)."""
    owner_email, login = verified_login(api)
    owner = str(login["access_token"])
    merchant_id = str(new_merchant(api, owner)["id"])
    activate(api, admin, merchant_id)
    product = call(
        api,
        "POST",
        f"/v1/merchants/{merchant_id}/products",
        {"name": "Sate Ayam", "price": 30000, "category": "food"},
        token=owner,
    )
    assert product.status == 201, product.body
    return owner_email, owner, merchant_id, str(product.body["id"])


def _checkout(api: str, customer: str, product_id: str) -> dict[str, Any]:
    assert call(api, "DELETE", "/v1/cart", token=customer).status == 204
    put = call(api, "PUT", f"/v1/cart/items/{product_id}", {"quantity": 2}, token=customer)
    assert put.status == 200, put.body
    placed = call(
        api,
        "POST",
        "/v1/orders",
        {"delivery_address": NEAR},
        token=customer,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201, placed.body
    return dict(placed.body)


def _signed_by(header: str, body: bytes, secret: str) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, checked as the API guide shows a
    receiver checking it."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


def _merchant_list(api: str, owner: str, merchant_id: str, query: str = "") -> Any:
    return call(api, "GET", f"/v1/merchants/{merchant_id}/orders{query}", token=owner)


def test_every_order_has_a_number_shown_wherever_the_order_is(api_url: str) -> None:
    admin = demo_login(api_url, "admin@example.com")
    _, owner, merchant_id, product = _owner_with_product(api_url, admin)
    customer = str(verified_login(api_url)[1]["access_token"])

    first = _checkout(api_url, customer, product)
    second = _checkout(api_url, customer, product)

    for order in (first, second):
        assert NUMBER.match(order["number"]), order["number"]
    assert first["number"] != second["number"]
    read = call(api_url, "GET", f"/v1/orders/{first['id']}", token=customer).body
    assert read["number"] == first["number"]
    assert (
        call(api_url, "GET", f"/v1/orders/{first['id']}", token=owner).body["number"]
        == (first["number"])
    )
    mine = call(api_url, "GET", "/v1/orders", token=customer).body["items"]
    assert [(o["id"], o["number"]) for o in mine] == [
        (second["id"], second["number"]),
        (first["id"], first["number"]),
    ]
    theirs = _merchant_list(api_url, owner, merchant_id).body["items"]
    assert [(o["id"], o["number"]) for o in theirs] == [
        (second["id"], second["number"]),
        (first["id"], first["number"]),
    ]


def test_a_merchant_finds_an_order_by_the_number_a_customer_reads_out(api_url: str) -> None:
    admin = demo_login(api_url, "admin@example.com")
    _, owner, merchant_id, product = _owner_with_product(api_url, admin)
    _, _, _, elsewhere = _owner_with_product(api_url, admin)
    customer = str(verified_login(api_url)[1]["access_token"])
    wanted = _checkout(api_url, customer, product)
    _checkout(api_url, customer, product)  # another order of the same merchant
    other_merchants = _checkout(api_url, customer, elsewhere)
    number = wanted["number"]

    for typed in (number, number.lower(), number.replace("-", "").lower(), number[4:]):
        found = _merchant_list(api_url, owner, merchant_id, f"?number={typed}")
        assert found.status == 200, found.body
        assert [o["id"] for o in found.body["items"]] == [wanted["id"]]
        assert found.body["items"][0]["number"] == number
        assert found.body["next_cursor"] is None
    with_status = _merchant_list(api_url, owner, merchant_id, f"?number={number}&status=paid")
    assert (with_status.status, with_status.body["items"]) == (200, [])

    # another merchant's order: the same empty answer as a number nobody has, not 403/404
    hidden = _merchant_list(api_url, owner, merchant_id, f"?number={other_merchants['number']}")
    assert (hidden.status, hidden.body) == (200, {"items": [], "next_cursor": None})
    unknown = _merchant_list(api_url, owner, merchant_id, "?number=WRG-2222-2222")
    assert (unknown.status, unknown.body) == (200, {"items": [], "next_cursor": None})

    for bad in ("WRG-0000-0000", "12345", "WRG-7K4Q-2M9XX", wanted["id"]):
        refused = _merchant_list(api_url, owner, merchant_id, f"?number={bad}")
        assert (refused.status, refused.body["code"]) == (422, "validation_error"), refused.body
        assert [e["field"] for e in refused.body["errors"]] == ["number"]
        assert (refused.header("Content-Type") or "").startswith("application/problem+json")


def _point_webhook_at(emulator: str, merchant_id: str, url: str) -> None:
    """Set the merchant's webhook URL to a loopback ``url``. The API refuses such a URL
    (the local stage admits loopback in the worker, which sends, but not in the catalog,
    which vets the URL when it is set), so it is written where the worker reads it."""
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


def test_the_emails_and_the_webhook_of_a_paid_order_carry_its_number(
    api_url: str, emulator_url: str, receiver: Receiver
) -> None:
    admin = demo_login(api_url, "admin@example.com")
    owner_email, owner, merchant_id, product = _owner_with_product(api_url, admin)
    secret = call(api_url, "POST", f"/v1/merchants/{merchant_id}/webhook-secret", token=owner)
    assert secret.status == 200, secret.body
    _point_webhook_at(emulator_url, merchant_id, receiver.url)
    customer_email, login = verified_login(api_url)
    customer = str(login["access_token"])
    order = _checkout(api_url, customer, product)
    number, order_id = order["number"], order["id"]

    simulated = call(
        api_url,
        "POST",
        f"/v1/payments/{order['payment']['id']}/simulate",
        {"outcome": "succeeded"},
        token=customer,
    )
    assert simulated.status == 202, simulated.body

    # the customer's receipt and the owner's "new order" (after their verification e-mails)
    receipt = wait_for_mail(api_url, customer_email, count=2)[-1]
    new_order = wait_for_mail(api_url, owner_email, count=2)[-1]
    assert receipt["subject"].startswith(f"Payment received for your order {number} ")
    assert new_order["subject"].startswith(f"New order {number} for ")
    for message in (receipt, new_order):
        for part in ("subject", "text", "html"):
            assert number in message[part]
            assert order_id not in message[part]

    (request,) = receiver.wait()
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert _signed_by(headers["warung-signature"], request["body"], secret.body["secret"])
    event = json.loads(request["body"])
    assert event["type"] == "order.paid"
    assert (event["data"]["order_id"], event["data"]["number"]) == (order_id, number)
