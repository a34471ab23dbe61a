"""The worker's payment jobs: the simulator posts a correctly signed provider event to the
payment webhook URL, a refund asks the payment's provider; a refusal is retried, a URL the
SSRF guard refuses (a merchant's webhook's too) or a provider without an adapter is
dead-lettered at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any, Literal

import pytest
from support.cold_start import cold_start

from warung import clients, secrets
from warung.dynamo import dynamodb_client, to_item
from warung.ids import new_id
from warung.jobs import PaymentSimulation, RefundPayment, WebhookDelivery
from warung.secrets import get_secret
from warung.settings import get_settings
from warung.webhooks import verify_signature


class Receiver:
    """The payment webhook's stand-in on loopback (admitted by the local allowlist)."""

    def __init__(self) -> None:
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/payments/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def worker(app_stack: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The worker's module in its template environment, its webhook URL at the receiver."""
    for name, value in app_stack.env("WorkerFunction").items():
        monkeypatch.setenv(name, value)
    # as on a stage with the simulator (PaymentProvider=simulator), the only one that gives the
    # worker the payment secret
    secret = app_stack.template.secret_arn("PaymentWebhookSecret")
    monkeypatch.setenv("PAYMENT_WEBHOOK_SECRET_ARN", secret)
    monkeypatch.setenv("PAYMENT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.setenv("AWS_ENDPOINT_URL", app_stack.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", app_stack.template.region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", app_stack.template.region)
    get_settings.cache_clear()
    clients.aws_client.cache_clear()
    secrets._cache.clear()
    worker_app: ModuleType = cold_start("worker.app")
    return worker_app


def a_job(worker: ModuleType, payload: Any) -> Any:
    return worker.Job(
        job_id="job-1",
        job_type=payload.job_type,
        payload=payload.model_dump(mode="json"),
        correlation_id="req-pay-1",
        created_at="2026-11-26T08:15:00Z",
    )


Outcome = Literal["succeeded", "failed"]


def simulation(outcome: Outcome = "succeeded") -> PaymentSimulation:
    return PaymentSimulation(
        payment_id="pay_01", order_id="ord_01", amount=64_500, currency="IDR", outcome=outcome
    )


def refund(provider: str = "simulator") -> RefundPayment:
    return RefundPayment(
        provider=provider, payment_id="pay_01", order_id="ord_01", amount=64_500, currency="IDR"
    )


def verified_event(receiver: Receiver) -> dict[str, Any]:
    """The one request received, its signature checked with the stage's webhook secret."""
    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    verify_signature(
        headers["warung-signature"],
        request["body"],
        get_secret(get_settings().payment_webhook_secret_arn),
        now=int(time.time()),
    )
    event: dict[str, Any] = json.loads(request["body"])
    return event


@pytest.mark.parametrize(
    ("outcome", "event_type"), [("succeeded", "payment.succeeded"), ("failed", "payment.failed")]
)
def test_simulation_posts_a_correctly_signed_provider_event(
    worker: ModuleType, receiver: Receiver, outcome: Outcome, event_type: str
) -> None:
    payload = simulation(outcome)

    worker.REGISTRY[payload.job_type](payload, a_job(worker, payload))

    event = verified_event(receiver)
    assert event["type"] == event_type
    assert event["data"] == {
        "payment_id": "pay_01",
        "order_id": "ord_01",
        "amount": 64_500,
        "currency": "IDR",
    }
    assert event["id"] == f"evt_sim_pay_01_{outcome}"  # a retry repeats the id: applied once


def test_refund_asks_the_provider_which_confirms_with_a_signed_event(
    worker: ModuleType, receiver: Receiver
) -> None:
    payload = refund()

    worker.REGISTRY[payload.job_type](payload, a_job(worker, payload))

    event = verified_event(receiver)
    assert (event["type"], event["data"]["amount"]) == ("refund.succeeded", 64_500)


@pytest.mark.parametrize("payload", [simulation(), refund()], ids=["simulate", "refund"])
def test_webhook_refusing_raises_so_the_job_is_retried(
    worker: ModuleType, receiver: Receiver, payload: Any
) -> None:
    receiver.status = 503

    with pytest.raises(RuntimeError, match="503"):
        worker.REGISTRY[payload.job_type](payload, a_job(worker, payload))
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("payload", [simulation(), refund()], ids=["simulate", "refund"])
def test_webhook_url_the_guard_refuses_is_dead_lettered_at_once(
    worker: ModuleType, receiver: Receiver, payload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "false")
    get_settings.cache_clear()

    with pytest.raises(worker.PermanentJobError):
        worker.REGISTRY[payload.job_type](payload, a_job(worker, payload))
    assert receiver.requests == []


def test_merchant_webhook_url_the_guard_refuses_is_dead_lettered_at_once(
    worker: ModuleType, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant_id = new_id()
    dynamodb_client().put_item(
        TableName=get_settings().table_name,
        Item=to_item(
            {"pk": f"MERCHANT#{merchant_id}", "sk": "WEBHOOK", "url": receiver.url, "secret": "s"}
        ),
    )
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "false")
    get_settings.cache_clear()
    payload = WebhookDelivery(
        merchant_id=merchant_id, event="order.paid", event_id=new_id("evt_"), data={}
    )

    with pytest.raises(worker.PermanentJobError):
        worker.REGISTRY[payload.job_type](payload, a_job(worker, payload))
    assert receiver.requests == []


def test_refund_through_a_provider_without_an_adapter_is_dead_lettered(
    worker: ModuleType, receiver: Receiver
) -> None:
    payload = refund(provider="midtrans")

    with pytest.raises(worker.PermanentJobError, match="midtrans"):
        worker.REGISTRY[payload.job_type](payload, a_job(worker, payload))
    assert receiver.requests == []


def test_without_the_simulator_the_worker_holds_no_secret_and_dead_letters_payment_jobs(
    worker: ModuleType, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prod: the worker's template environment names no secret (PaymentProvider=midtrans)."""
    monkeypatch.setenv("PAYMENT_WEBHOOK_SECRET_ARN", "")
    get_settings.cache_clear()
    payload = refund()

    with pytest.raises(worker.PermanentJobError, match="no payment secret"):
        worker.REGISTRY[payload.job_type](payload, a_job(worker, payload))
    assert receiver.requests == []
