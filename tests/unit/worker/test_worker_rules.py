"""The worker's pure rules: backoff, and a handler for every job type producers can enqueue."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from support.cold_start import cold_start

from warung.jobs import JOB_PAYLOADS
from warung.settings import get_settings


def load(function_dir: str) -> ModuleType:
    """A fresh import of a function's ``app`` module, with its package."""
    return cold_start(f"{function_dir}.app")


@pytest.fixture(scope="module")
def worker() -> Iterator[ModuleType]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "JOBS_QUEUE_URL": "https://sqs.ap-southeast-1.amazonaws.com/123456789012/jobs",
            "JOBS_DLQ_URL": "https://sqs.ap-southeast-1.amazonaws.com/123456789012/jobs-dlq",
            "IDEMPOTENCY_TABLE_NAME": "idempotency",
            "MAIL_FROM": "no-reply@warung.example",
            "JOB_MAX_RECEIVES": "5",
            "JOB_RETRY_BASE_SECONDS": "30",
            "AWS_REGION": "ap-southeast-1",
            "AWS_DEFAULT_REGION": "ap-southeast-1",
        }.items():
            env.setenv(name, value)
        get_settings.cache_clear()
        yield load("worker")
    get_settings.cache_clear()


def test_every_job_type_has_a_handler(worker: ModuleType) -> None:
    assert set(worker.REGISTRY) == set(JOB_PAYLOADS)


@pytest.mark.parametrize(
    ("receives", "low", "high"),
    [(1, 24, 30), (2, 48, 60), (3, 96, 120), (4, 192, 240), (6, 720, 900), (12, 720, 900)],
)
def test_backoff_doubles_with_jitter_and_caps_at_15_minutes(
    worker: ModuleType, receives: int, low: int, high: int
) -> None:
    delays = {worker.backoff_seconds(receives, 30) for _ in range(200)}
    assert min(delays) >= low
    assert max(delays) <= high


def test_worker_settings_fail_at_cold_start_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAIL_FROM", raising=False)
    monkeypatch.delenv("JOBS_DLQ_URL", raising=False)
    with pytest.raises(Exception, match="mail_from"):
        load("worker")


def test_relay_forwards_only_inserted_outbox_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBS_QUEUE_URL", "https://sqs.example/jobs")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-1")
    relay = load("outbox_relay")

    def record(event: str, pk: str) -> dict[str, object]:
        return {"eventName": event, "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "JOB"}}}}

    assert relay.is_new_outbox_entry(record("INSERT", "OUTBOX#01J"))
    assert not relay.is_new_outbox_entry(record("MODIFY", "OUTBOX#01J"))
    assert not relay.is_new_outbox_entry(record("REMOVE", "OUTBOX#01J"))  # TTL expiry
    assert not relay.is_new_outbox_entry(record("INSERT", "USER#01J"))


def test_relay_sends_a_real_providers_refunds_to_the_payments_context_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JOBS_QUEUE_URL", "https://sqs.example/jobs")
    monkeypatch.setenv("PAYMENT_REFUNDS_QUEUE_URL", "https://sqs.example/payment-refunds")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-1")
    relay = load("outbox_relay")

    assert relay.queue_of("payment.refund", {"provider": "midtrans"}).endswith("/payment-refunds")
    assert relay.queue_of("payment.refund", {"provider": "simulator"}).endswith("/jobs")
    assert relay.queue_of("email.refund", {"provider": "midtrans"}).endswith("/jobs")
    assert relay.queue_of("webhook.deliver", {}).endswith("/jobs")


# ---------------------------------------------------------------- one-time link e-mails

LINK_KEY = b"the-stack-one-time-link-secret-0123456789"


@pytest.fixture
def sent(worker: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text part of every e-mail the worker sends (SES replaced); links open with a
    fixed key."""
    from warung import links

    texts: list[str] = []
    monkeypatch.setattr(links, "_link_secret", lambda: LINK_KEY)
    monkeypatch.setattr(worker.mail, "sesv2_client", lambda: None)

    def send(_client: object, *, rendered: Any, **_: object) -> str:
        texts.append(rendered.text)
        return "msg-1"

    monkeypatch.setattr(worker.mail, "send", send)
    return texts


def _link_job(worker: ModuleType, url: str | None) -> tuple[Any, Any]:
    from warung.jobs import PasswordResetEmail
    from warung.links import LinkJob, seal_link

    job_id = "01JEXAMPLELINKJOB000000001"
    to = "siti@example.com"
    sealed = seal_link(url, LinkJob(job_id, PasswordResetEmail.job_type, to), key=LINK_KEY)
    payload = PasswordResetEmail(to=to, sealed_link=sealed, expires_in_minutes=60)
    job = worker.Job(
        job_id=job_id,
        job_type=PasswordResetEmail.job_type,
        payload=payload.model_dump(),
        correlation_id="req-1",
        created_at="2026-12-05T00:00:00Z",
    )
    return payload, job


def test_a_retried_link_job_sends_the_same_link(worker: ModuleType, sent: list[str]) -> None:
    url = "https://app.warung.test/reset-password?token=abcdefghijklmnopqrstuvwxyz012345"
    payload, job = _link_job(worker, url)

    worker.send_email(payload, job)
    worker.send_email(payload, job)  # a retry after a failure further on

    assert len(sent) == 2
    assert url in sent[0]
    assert sent[0] == sent[1]


def test_a_no_account_link_job_sends_nothing(worker: ModuleType, sent: list[str]) -> None:
    payload, job = _link_job(worker, None)

    worker.send_email(payload, job)

    assert sent == []


def test_a_link_that_does_not_open_can_never_succeed(worker: ModuleType, sent: list[str]) -> None:
    payload, job = _link_job(worker, "https://app.warung.test/reset-password?token=x")
    moved = job.model_copy(update={"job_id": "01JEXAMPLEOTHERJOB00000001"})

    with pytest.raises(worker.PermanentJobError, match="one-time link"):
        worker.send_email(payload, moved)
    assert sent == []


def test_a_jobs_effect_is_remembered_longer_than_the_dead_letter_queue_keeps_it(
    worker: ModuleType,
) -> None:
    from pathlib import Path

    from warung_local.template import load_template

    template = load_template(Path(__file__).resolve().parents[3] / "template.yaml", {})
    dead_letters = template.document["Resources"]["JobsDeadLetterQueue"]["Properties"]
    retention_s = int(template.resolve(dead_letters["MessageRetentionPeriod"]))
    assert retention_s == 14 * 24 * 3600
    # A job redriven on its last day that had in fact succeeded still finds its record.
    assert worker.idempotency.expires_after_seconds > retention_s
