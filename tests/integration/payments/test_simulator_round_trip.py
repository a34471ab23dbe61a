"""The simulator's whole loop without the queue: ``POST /simulate`` puts a job in the outbox,
the worker's handler of that job posts the signed event to the payment webhook (served here
by the payments function's own handler), and the order is paid, once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest
from support.cold_start import cold_start
from support.payments_world import PaymentsWorld

from warung.settings import get_settings


class WebhookServer:
    """``POST /v1/payments/webhook`` on loopback, answered by the payments handler."""

    def __init__(self, world: PaymentsWorld) -> None:
        self.answers: list[tuple[int, Any]] = []
        outer = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, _, answer = world.invoke(
                    "POST", self.path, body=body.decode(), headers=dict(self.headers)
                )
                outer.answers.append((status, answer))
                self.send_response(status)
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
def webhook(world: PaymentsWorld) -> Iterator[WebhookServer]:
    server = WebhookServer(world)
    yield server
    server.close()


@pytest.fixture
def worker(
    payments_stack: Any,
    world: PaymentsWorld,
    webhook: WebhookServer,
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    for name, value in payments_stack.functions["WorkerFunction"].environment.items():
        if name not in {
            "AWS_ENDPOINT_URL",
            "STAGE",
            "PAYMENT_PROVIDER",
            "POWERTOOLS_SERVICE_NAME",
        }:
            monkeypatch.setenv(name, value)
    # as on a stage with the simulator (PaymentProvider=simulator), the only one that gives the
    # worker the payment secret
    secret = payments_stack.secret_arn("PaymentWebhookSecret")
    monkeypatch.setenv("PAYMENT_WEBHOOK_SECRET_ARN", secret)
    monkeypatch.setenv("PAYMENT_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    worker_app: ModuleType = cold_start("worker.app")
    return worker_app


def run_jobs(worker: ModuleType, jobs: list[dict[str, Any]]) -> None:
    """What the worker does with each outbox entry (without SQS and its idempotency)."""
    for entry in jobs:
        job = worker.Job(
            job_id=entry["job_id"],
            job_type=entry["job_type"],
            payload=entry["payload"],
            correlation_id=entry["correlation_id"],
            created_at=entry["created_at"],
        )
        payload = worker.JOB_PAYLOADS[job.job_type].model_validate(job.payload)
        worker.REGISTRY[job.job_type](payload, job)


def simulate(world: PaymentsWorld, payment_id: str, customer_id: str, outcome: str) -> str:
    status, headers, _ = world.invoke(
        "POST",
        f"/v1/payments/{payment_id}/simulate",
        body=json.dumps({"outcome": outcome}),
        token=world.token_for(customer_id),
    )
    assert status == 202
    return headers["X-Request-Id"]


def test_simulated_success_pays_the_order_once_even_when_the_job_runs_twice(
    world: PaymentsWorld, worker: ModuleType, webhook: WebhookServer
) -> None:
    shop = world.shop()
    request_id = simulate(world, shop.payment.payment_id, shop.order.customer_id, "succeeded")
    jobs = world.jobs(request_id)

    run_jobs(worker, jobs)
    run_jobs(worker, jobs)  # a redelivered job sends the same event id

    assert webhook.answers == [
        (200, {"received": True, "duplicate": False}),
        (200, {"received": True, "duplicate": True}),
    ]
    assert world.order(shop)["status"] == "paid"
    assert world.order(shop)["version"] == 2


def test_simulated_failure_leaves_the_order_waiting_and_a_retry_pays(
    world: PaymentsWorld, worker: ModuleType
) -> None:
    shop = world.shop()

    run_jobs(
        worker,
        world.jobs(simulate(world, shop.payment.payment_id, shop.order.customer_id, "failed")),
    )
    assert (world.order(shop)["status"], world.payment(shop)["status"]) == (
        "pending_payment",
        "failed",
    )
    run_jobs(
        worker,
        world.jobs(simulate(world, shop.payment.payment_id, shop.order.customer_id, "succeeded")),
    )

    assert world.order(shop)["status"] == "paid"


def test_late_simulated_success_is_refunded_through_the_simulator(
    world: PaymentsWorld, worker: ModuleType
) -> None:
    shop = world.shop()
    request_id = simulate(world, shop.payment.payment_id, shop.order.customer_id, "succeeded")
    world.expire(shop)  # the payment window closes before the provider's event arrives

    run_jobs(worker, world.jobs(request_id))
    run_jobs(
        worker,
        [j for j in world.jobs(shop.order.correlation_id) if j["job_type"] == "payment.refund"],
    )

    assert world.payment(shop)["status"] == "refunded"
    assert world.order(shop)["status"] == "expired"
    assert "email.refund" in world.job_types(shop.order.correlation_id)
