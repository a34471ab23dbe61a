"""Jobs reach their effect once, survive a crash after commit, retry and end as dead letters."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from support.pipeline import Pipeline

from warung.dynamo import Transaction, dynamodb_client, from_item, to_item
from warung.ids import new_id, rfc3339, utc_now
from warung.jobs import VerificationEmail, WebhookDelivery, enqueue
from warung.links import LinkJob, seal_link
from warung.ordering.lifecycle import history_entry
from warung.ordering.notifications import enqueue_all, status_jobs
from warung.ordering.numbers import new_order_number
from warung.settings import get_settings
from warung.store.orders import Order, OrderLine
from warung.webhooks import verify_signature


@pytest.fixture(autouse=True)
def link_key(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process seals one-time links as the auth function does, with the stack's key."""
    worker = pipeline.runtime.template.functions["WorkerFunction"]
    monkeypatch.setenv("LINK_SECRET_ARN", worker.environment["LINK_SECRET_ARN"])
    get_settings.cache_clear()


def verification_job(email: str, url: str | None, job_id: str) -> VerificationEmail:
    """A verification e-mail job whose link (``None``: no account) is sealed for ``job_id``."""
    sealed = seal_link(url, LinkJob(job_id, VerificationEmail.job_type, email))
    return VerificationEmail(to=email, sealed_link=sealed, expires_in_hours=24)


def sign_up(email: str, request_id: str) -> str:
    """A producer: a business write and its e-mail job in one transaction. Returns the user id."""
    user_id = new_id()
    settings = get_settings()
    job_id = new_id()
    job = verification_job(email, f"https://app.example.com/verify?token={new_id()}", job_id)
    (
        Transaction()
        .put(
            settings.table_name,
            {"pk": f"USER#{user_id}", "sk": "PROFILE", "email": email},
            condition="attribute_not_exists(pk)",
        )
        .extend([enqueue(job, correlation_id=request_id, job_id=job_id)])
        .commit()
    )
    return user_id


class LogLines(logging.Handler):
    """The JSON log lines of one service, formatted as the function writes them."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.logger = logging.getLogger(service)
        self.setFormatter(self.logger.handlers[0].formatter)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def __enter__(self) -> LogLines:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)


def test_job_of_a_function_that_crashed_right_after_commit_is_delivered(
    pipeline: Pipeline,
) -> None:
    email = f"crash-{new_id().lower()}@example.com"

    def handler_that_dies_after_commit() -> None:
        sign_up(email, request_id="req-crash-1")
        raise RuntimeError("the function died right after its commit")

    with pytest.raises(RuntimeError):
        handler_that_dies_after_commit()
    with LogLines("worker") as worker_log:
        pipeline.drain()

    mails = pipeline.mail(email)
    assert len(mails) == 1
    assert mails[0]["to"] == [email]
    assert mails[0]["subject"] == "Confirm your e-mail address for Warung"
    assert "https://app.example.com/verify?token=" in mails[0]["text"]
    # The job's log lines carry the correlation id of the request that caused it.
    worker_lines = [line for line in worker_log.lines if line["message"] == "email sent"]
    assert len(worker_lines) == 1
    assert worker_lines[0]["correlation_id"] == "req-crash-1"
    assert email not in json.dumps(worker_lines)  # the address is masked in logs


def test_rolled_back_change_enqueues_nothing(pipeline: Pipeline) -> None:
    email = f"rollback-{new_id().lower()}@example.com"
    settings = get_settings()
    job = verification_job(email, "https://a.example/v", new_id())
    with pytest.raises(Exception, match="changed"):
        (
            Transaction()
            .check(settings.table_name, {"pk": "NOPE", "sk": "NOPE"}, "attribute_exists(pk)")
            .extend([enqueue(job, correlation_id="req-rollback")])
            .commit()
        )
    pipeline.drain()
    assert pipeline.mail(email) == []


def test_job_delivered_twice_sends_one_email(pipeline: Pipeline) -> None:
    email = f"twice-{new_id().lower()}@example.com"
    job_id = new_id()
    body = {
        "job_id": job_id,
        "job_type": "email.verification",
        "payload": verification_job(email, "https://a.example/v", job_id).model_dump(),
        "correlation_id": "req-twice",
        "created_at": "2026-11-26T08:15:00Z",
    }
    pipeline.send_job(body)
    pipeline.send_job(body)
    pipeline.drain()
    assert len(pipeline.mail(email)) == 1


def test_a_no_account_link_job_is_done_without_an_email(pipeline: Pipeline) -> None:
    email = f"nobody-{new_id().lower()}@example.com"
    job_id = new_id()
    job = verification_job(email, None, job_id)

    Transaction().extend([enqueue(job, correlation_id="req-nobody", job_id=job_id)]).commit()
    pipeline.drain()

    assert pipeline.mail(email) == []
    assert pipeline.dead_letters_of("req-nobody") == []


def test_a_sealed_link_moved_to_another_job_is_dead_lettered_unopened(
    pipeline: Pipeline,
) -> None:
    email = f"moved-{new_id().lower()}@example.com"
    sealed_for = verification_job(email, "https://a.example/v?token=moved", new_id())
    body = {
        "job_id": new_id(),  # not the job the link was sealed for
        "job_type": "email.verification",
        "payload": sealed_for.model_dump(),
        "correlation_id": "req-moved",
        "created_at": "2026-11-26T08:15:00Z",
    }

    pipeline.send_job(body)
    pipeline.drain()

    assert pipeline.mail(email) == []
    (dead,) = pipeline.dead_letters_of("req-moved")
    assert "one-time link" in dead["MessageAttributes"]["error"]["StringValue"]
    assert "token=moved" not in json.dumps(dead)


class Receiver:
    """A merchant's webhook endpoint on loopback (admitted by the local stage's allowlist)."""

    def __init__(self, status: int, location: str | None = None) -> None:
        self.status = status
        self.location = location
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
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
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    status = getattr(request, "param", 200)
    running = Receiver(status, location="/elsewhere" if 300 <= status < 400 else None)
    yield running
    running.close()


def configure_webhook(merchant_id: str, url: str, secret: str) -> None:
    dynamodb_client().put_item(
        TableName=get_settings().table_name,
        Item=to_item(
            {"pk": f"MERCHANT#{merchant_id}", "sk": "WEBHOOK", "url": url, "secret": secret}
        ),
    )


def enqueue_webhook(merchant_id: str, request_id: str) -> str:
    event_id = new_id("evt_")
    payload = WebhookDelivery(
        merchant_id=merchant_id,
        event="order.paid",
        event_id=event_id,
        data={"order_id": "o-1", "total": 125_500},
    )
    Transaction().extend([enqueue(payload, correlation_id=request_id)]).commit()
    return event_id


def test_webhook_is_posted_signed_with_the_merchant_secret(
    pipeline: Pipeline, receiver: Receiver
) -> None:
    merchant_id = new_id()
    configure_webhook(merchant_id, receiver.url, "whsec_test_secret")
    event_id = enqueue_webhook(merchant_id, "req-hook-1")
    pipeline.drain()

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    timestamp = int(headers["warung-signature"].split(",")[0].removeprefix("t="))
    verify_signature(
        headers["warung-signature"], request["body"], "whsec_test_secret", now=timestamp
    )
    assert headers["warung-event"] == "order.paid"
    assert headers["warung-delivery"]
    body = json.loads(request["body"])
    assert (body["id"], body["type"], body["data"]["total"]) == (event_id, "order.paid", 125_500)


def test_webhook_job_of_a_merchant_without_a_webhook_is_done_without_a_post(
    pipeline: Pipeline, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    with_hook, without_hook = new_id(), new_id()
    configure_webhook(with_hook, receiver.url, "whsec_other_merchant")
    enqueue_webhook(without_hook, "req-hook-none")
    capsys.readouterr()
    pipeline.drain()

    assert receiver.requests == []  # not another merchant's URL either
    assert pipeline.visibility_requests == []  # not retried
    assert pipeline.dead_letters_of("req-hook-none") == []
    assert job_metrics(capsys.readouterr().out, "webhook.deliver") == {"JobsProcessed": 1}


def job_metrics(output: str, job_type: str) -> dict[str, int]:
    """Counts of the worker's per-type job metrics in the EMF lines it printed."""
    counts: dict[str, int] = {}
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        point = json.loads(line)
        if point.get("job_type") != job_type:
            continue
        for metric in point["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            name = metric["Name"]
            values = point[name] if isinstance(point[name], list) else [point[name]]
            counts[name] = counts.get(name, 0) + int(sum(values))
    return counts


@pytest.mark.parametrize("receiver", [500], indirect=True)
def test_failing_webhook_is_retried_then_dead_lettered_with_its_last_error(
    pipeline: Pipeline, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    merchant_id = new_id()
    configure_webhook(merchant_id, receiver.url, "whsec_x")
    enqueue_webhook(merchant_id, "req-hook-fail")
    capsys.readouterr()
    pipeline.drain(rounds=20)

    # Growing delays (30 s base, doubling, 20% jitter), then visible at once so that SQS
    # moves it to the dead-letter queue on the next receive.
    delays = pipeline.visibility_requests
    assert len(delays) == 5
    for delay, (low, high) in zip(
        delays, [(24, 30), (48, 60), (96, 120), (192, 240), (0, 0)], strict=True
    ):
        assert low <= delay <= high, delays
    assert job_metrics(capsys.readouterr().out, "webhook.deliver") == {
        "JobsFailed": 5,
        "JobsRetried": 4,
        "JobsDeadLettered": 1,
    }
    assert len(receiver.requests) == 5  # maxReceiveCount: five tries, then the dead-letter queue
    dead = pipeline.dead_letters_of("req-hook-fail")
    assert len(dead) == 1
    job_id = json.loads(dead[0]["Body"])["job_id"]
    failure = from_item(
        dynamodb_client().get_item(
            TableName=get_settings().table_name,
            Key=to_item({"pk": f"JOBFAIL#{job_id}", "sk": "JOB"}),
        )["Item"]
    )
    assert "500" in failure["last_error"]
    assert failure["receives"] == 5


def test_job_that_can_never_succeed_is_dead_lettered_at_once(pipeline: Pipeline) -> None:
    pipeline.send_job(
        {
            "job_id": new_id(),
            "job_type": "email.unknown_kind",
            "payload": {},
            "correlation_id": "req-poison",
            "created_at": "2026-11-26T08:15:00Z",
        }
    )
    assert pipeline.work() == 1
    dead = pipeline.dead_letters_of("req-poison")
    assert len(dead) == 1
    assert "unknown job type" in dead[0]["MessageAttributes"]["error"]["StringValue"]
    assert pipeline.work() == 0  # not retried


@pytest.mark.parametrize("receiver", [302], indirect=True)
def test_webhook_redirect_is_not_followed(pipeline: Pipeline, receiver: Receiver) -> None:
    merchant_id = new_id()
    configure_webhook(merchant_id, receiver.url, "whsec_redirect")
    enqueue_webhook(merchant_id, "req-hook-302")
    pipeline.relay()
    pipeline.work()

    assert [r["path"] for r in receiver.requests] == ["/hooks/warung"]  # never /elsewhere
    assert len(pipeline.visibility_requests) == 1  # a redirect is a failed delivery: retried


# ---------------------------------------------------------------- an order's jobs


def paid_order(merchant_id: str, customer_email: str) -> tuple[Order, Order]:
    """An order (with its number) before and after its payment succeeded."""
    now = utc_now()
    before = Order(
        order_id=new_id(),
        number=new_order_number(),
        customer_id=new_id(),
        merchant_id=merchant_id,
        status="pending_payment",
        items=(OrderLine("prd_1", "Nasi goreng", 25_000, 2, stock_tracked=False),),
        subtotal=50_000,
        discount=0,
        delivery_fee=9_000,
        tax=5_500,
        total=64_500,
        delivery_address={"line1": "Jl. Sabang 10", "city": "Jakarta", "postal_code": "10160"},
        distance_km=Decimal("1.2"),
        promo_code=None,
        payment_id=new_id(),
        payment_status="pending",
        status_history=(history_entry("pending_payment", now, "customer"),),
        created_at=rfc3339(now),
        updated_at=rfc3339(now),
        expires_at=rfc3339(now),
        customer_email=customer_email,
        customer_name="Budi",
        merchant_name="Warung Bu Sri",
        correlation_id="req-checkout-numbered",
    )
    after = replace(before, status="paid", payment_status="succeeded", version=2)
    return before, after


def test_a_paid_orders_mails_and_webhook_name_it_by_its_number(
    pipeline: Pipeline, receiver: Receiver
) -> None:
    merchant_id = new_id()
    configure_webhook(merchant_id, receiver.url, "whsec_numbered")
    customer_email, owner_email = f"budi-{new_id()}@example.test", f"sri-{new_id()}@example.test"
    before, after = paid_order(merchant_id, customer_email)
    assert after.number is not None
    tx = Transaction()
    enqueue_all(tx, status_jobs(before, after, owners=[(owner_email, "Sri")]), "req-numbered")
    tx.commit()

    pipeline.drain()

    (receipt,) = pipeline.mail(customer_email)
    (new_order,) = pipeline.mail(owner_email)
    assert (
        receipt["subject"] == f"Payment received for your order {after.number} from Warung Bu Sri"
    )
    assert new_order["subject"] == f"New order {after.number} for Warung Bu Sri: Rp64.500"
    for message in (receipt, new_order):
        for part in ("subject", "text", "html"):
            assert after.number in message[part]
            assert after.order_id not in message[part]
    (request,) = receiver.requests
    body = json.loads(request["body"])
    assert body["type"] == "order.paid"
    assert (body["data"]["order_id"], body["data"]["number"]) == (after.order_id, after.number)
