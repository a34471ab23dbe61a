"""A merchant's webhook that keeps failing, end to end over HTTP on the local runtime: the
job ends in the admin's dead-letter list with its error; the admin redrives it once the
merchant's server answers again; the server gets exactly one delivery; the list is empty;
the redrive is in the audit log (local runtime only: the receiver is on loopback, which
only the local stage's worker admits, and the audit table is read in the emulation)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
from support.accounts import verified_login
from support.http import Reply, call
from support.merchants import activate, demo_login, new_merchant

from warung.dynamo import from_item, to_item
from warung.store.merchants import webhook_key

pytestmark = pytest.mark.usefixtures("local_only")

DEAD_LETTERS = "/v1/admin/dead-letters"
NEAR = {
    "line1": "Jl. M.H. Thamrin No. 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.1950,
    "lon": 106.8230,
}
T = TypeVar("T")


class Receiver:
    """The merchant's webhook endpoint on loopback; it answers ``status`` (changeable)."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.deliveries: list[int] = []  # the status each delivery was answered with
        outer = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.deliveries.append(outer.status)
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/warung"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(500)
    yield running
    running.close()


def eventually(probe: Callable[[], T | None], timeout_s: float = 60.0) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout_s:.0f} s")


def emulated(emulator: str, service: str) -> Any:
    import boto3  # a test's arrangement and check, not a request path

    return boto3.client(
        service,
        endpoint_url=emulator,
        region_name="ap-southeast-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def paid_order_of_a_merchant_with_webhook(api: str, emulator: str, url: str) -> None:
    """A customer pays an order of a new merchant whose webhook is ``url``: the
    ``order.paid`` delivery is queued."""
    admin = demo_login(api, "admin@example.com")
    owner = str(verified_login(api)[1]["access_token"])
    merchant_id = str(new_merchant(api, owner)["id"])
    activate(api, admin, merchant_id)
    secret = call(api, "POST", f"/v1/merchants/{merchant_id}/webhook-secret", token=owner)
    assert secret.status == 200, secret.body
    # The API refuses a loopback URL (the catalog vets it); the local worker admits one.
    emulated(emulator, "dynamodb").update_item(
        TableName="warung-local-main",
        Key=to_item(webhook_key(merchant_id)),
        UpdateExpression="SET #url = :url",
        ExpressionAttributeNames={"#url": "url"},
        ExpressionAttributeValues={":url": {"S": url}},
    )
    product = call(
        api,
        "POST",
        f"/v1/merchants/{merchant_id}/products",
        {"name": "Sate Ayam", "price": 30000, "category": "food"},
        token=owner,
    )
    assert product.status == 201, product.body
    customer = str(verified_login(api)[1]["access_token"])
    added = call(
        api, "PUT", f"/v1/cart/items/{product.body['id']}", {"quantity": 1}, token=customer
    )
    assert added.status == 200, added.body
    placed = call(
        api,
        "POST",
        "/v1/orders",
        {"delivery_address": NEAR},
        token=customer,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201, placed.body
    payment_id = placed.body["payment"]["id"]
    paid = call(
        api, "POST", f"/v1/payments/{payment_id}/simulate", {"outcome": "succeeded"}, token=customer
    )
    assert paid.status == 202, paid.body


def test_a_dead_lettered_webhook_is_redriven_and_delivered_once(
    api_url: str, emulator_url: str, receiver: Receiver
) -> None:
    admin = demo_login(api_url, "admin@example.com")

    def ours() -> dict[str, Any] | None:
        page = call(api_url, "GET", f"{DEAD_LETTERS}?limit=100", token=admin)
        assert page.status == 200, page.body
        return next((i for i in page.body["items"] if i["target"] == "127.0.0.1"), None)

    paid_order_of_a_merchant_with_webhook(api_url, emulator_url, receiver.url)

    # five tries (the backoff fast-forwarded), then the dead-letter queue
    dead = eventually(ours)
    assert receiver.deliveries == [500] * 5
    assert dead["type"] == "webhook.deliver"
    assert dead["attempts"] == 5
    assert "receiver answered 500" in dead["last_error"]
    assert call(api_url, "GET", DEAD_LETTERS, token=admin).body["depth"] >= 1

    receiver.status = 200  # the merchant fixed their server
    started = call(api_url, "POST", f"{DEAD_LETTERS}/redrive", token=admin)
    assert started.status == 202, started.body
    assert started.body["messages"] >= 1
    task = started.body["task_id"]

    def finished() -> Reply | None:
        progress = call(api_url, "GET", f"{DEAD_LETTERS}/redrive/{task}", token=admin)
        assert progress.status == 200, progress.body
        return progress if progress.body["status"] == "COMPLETED" else None

    done = eventually(finished)
    assert done.body["moved"] == done.body["total"] == started.body["messages"]
    eventually(lambda: receiver.deliveries[5:])
    time.sleep(2)  # room for a second delivery, which must not come
    assert receiver.deliveries == [500] * 5 + [200]

    def emptied() -> dict[str, Any] | None:
        listed = call(api_url, "GET", DEAD_LETTERS, token=admin).body
        return listed if listed["items"] == [] else None

    after = eventually(emptied, timeout_s=10)
    assert after["depth"] == 0

    me = call(api_url, "GET", "/v1/me", token=admin).body
    entries = emulated(emulator_url, "dynamodb").query(
        TableName="warung-local-audit",
        IndexName="by_resource",
        KeyConditionExpression="resource_pk = :resource",
        ExpressionAttributeValues={":resource": {"S": f"RES#dead-letters:{task}"}},
    )["Items"]
    (entry,) = [from_item(item) for item in entries]
    assert (entry["action"], entry["actor_id"]) == ("admin.dead_letters.redrive", me["id"])
    assert entry["changes"] == {"messages": started.body["messages"]}
