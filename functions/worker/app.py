"""Job worker: runs the jobs of the queue, each once, with backoff and a dead-letter end.

Every SQS record is one job (``{"job_id", "job_type", "payload", "correlation_id", ...}``
from the outbox relay). The registry maps a job type to its payload model and handler.

- **Once**: a job's effect runs under Powertools idempotency keyed on ``job_id``, so a job
  delivered twice sends one e-mail.
- **Retries with backoff**: a failed job becomes visible again after
  ``base * 2^(receive count - 1)`` seconds (with jitter, capped at 15 minutes) instead of the
  queue's fixed visibility timeout; after ``maxReceiveCount`` receives SQS moves it to the
  dead-letter queue. Its failures are kept (``JOBFAIL#<job id>``: first and last time, the
  last error, a masked target), indexed once it is dead-lettered, for the admin's list
  (``GET /v1/admin/dead-letters``); the record goes when the job succeeds (after a redrive).
- **Poison**: a job that can never succeed (unknown type, invalid payload, a webhook URL that
  is no longer allowed) goes to the dead-letter queue at once instead of being retried.
- **Observability**: the log lines of a job carry the correlation id of the request that
  caused it; metrics per job type: processed, failed, retried, dead-lettered.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import single_metric
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warung import clock
from warung.clients import aws_client
from warung.dynamo import dynamodb_client, get_item, to_item
from warung.jobs import (
    JOB_PAYLOADS,
    EmailJob,
    JobPayload,
    OneTimeLinkEmail,
    PaymentSimulation,
    RefundPayment,
    WebhookDelivery,
    masked_target,
)
from warung.observability import MetricUnit, entry_point, logger, mask_email, metrics
from warung.settings import get_settings
from warung.store.jobs import job_failure_index, job_failure_key
from warung.store.merchants import webhook_key

# isort: split
# After Powertools' batch utilities: they load their pydantic parser models (~20 ms) when
# pydantic is imported already, and mail imports pydantic (through warung). mail itself is
# light: it imports Jinja2 only when the first e-mail is rendered.
from worker import mail

MAX_BACKOFF_SECONDS = 15 * 60
FAILURE_RETENTION = timedelta(days=30)  # longer than the dead-letter queue keeps messages
# A job's effect is remembered longer than the dead-letter queue keeps a message (14 days,
# from when it was first sent): a job redriven on its last day, that had in fact succeeded
# before, still finds its record and runs nothing twice (tests/unit/worker checks the
# template's retention against it).
IDEMPOTENCY_TTL = timedelta(days=15)


class WorkerSettings(BaseModel):
    """The worker's own configuration, validated at cold start."""

    model_config = ConfigDict(frozen=True)

    jobs_queue_url: str = Field(min_length=1)
    jobs_dead_letter_queue_url: str = Field(min_length=1)
    idempotency_table_name: str = Field(min_length=1)
    mail_from: str = Field(min_length=3)
    job_max_receives: int = Field(ge=1)
    job_retry_base_seconds: int = Field(ge=0)


def _read_settings() -> WorkerSettings:
    env = os.environ
    return WorkerSettings(
        jobs_queue_url=env.get("JOBS_QUEUE_URL", ""),
        jobs_dead_letter_queue_url=env.get("JOBS_DLQ_URL", ""),
        idempotency_table_name=env.get("IDEMPOTENCY_TABLE_NAME", ""),
        mail_from=env.get("MAIL_FROM", ""),
        job_max_receives=int(env.get("JOB_MAX_RECEIVES", "5")),
        job_retry_base_seconds=int(env.get("JOB_RETRY_BASE_SECONDS", "30")),
    )


settings = _read_settings()
processor = BatchProcessor(event_type=EventType.SQS)
idempotency = IdempotencyConfig(
    event_key_jmespath="job_id", expires_after_seconds=int(IDEMPOTENCY_TTL.total_seconds())
)


class Job(BaseModel):
    """One message of the jobs queue, as the outbox relay writes it."""

    job_id: str = Field(min_length=1)
    job_type: str
    payload: dict[str, Any]
    correlation_id: str
    created_at: str


class PermanentJobError(Exception):
    """The job can never succeed; retrying would only delay the dead letter."""


# ---------------------------------------------------------------- registry

JobHandler = Callable[[Any, Job], None]
REGISTRY: dict[str, JobHandler] = {}


def handles(*models: type[JobPayload]) -> Callable[[JobHandler], JobHandler]:
    """Register ``handler`` for the job types of ``models``."""

    def register(handler: JobHandler) -> JobHandler:
        for model in models:
            REGISTRY[model.job_type] = handler
        return handler

    return register


@handles(*(model for model in JOB_PAYLOADS.values() if issubclass(model, EmailJob)))
def send_email(payload: EmailJob, job: Job) -> None:
    """Render the e-mail of ``payload`` and send it through SES."""
    link = None
    if isinstance(payload, OneTimeLinkEmail):
        link = one_time_link(payload, job)
        if link is None:
            # Asked for an address with no account (or none that may have this link): the
            # request did the same work as for an account, and nobody is mailed.
            logger.info("no account uses this address; nothing sent")
            return
    rendered = mail.render(payload, link=link)
    message_id = mail.send(
        mail.sesv2_client(),
        sender=settings.mail_from,
        job=payload,
        rendered=rendered,
        idempotency_token=job.job_id,
    )
    logger.info("email sent", extra={"to": mask_email(payload.to), "ses_message_id": message_id})


def one_time_link(payload: OneTimeLinkEmail, job: Job) -> str | None:
    """The job's one-time link, opened (``None``: no account); kept in memory only."""
    from warung.links import LinkJob, UnopenableLink, open_link

    try:
        return open_link(payload.sealed_link, LinkJob(job.job_id, job.job_type, payload.to))
    except UnopenableLink as error:  # tampered, or sealed under a replaced secret
        raise PermanentJobError(f"one-time link: {error}") from error


@handles(WebhookDelivery)
def deliver_webhook(payload: WebhookDelivery, job: Job) -> None:
    """POST the event, signed with the merchant's current secret, to its current URL."""
    target = merchant_webhook(payload.merchant_id)
    if target is None:
        logger.info("merchant has no webhook", extra={"merchant_id": payload.merchant_id})
        return
    url, secret = target
    from warung import webhooks  # only webhook jobs need the HTTP client and the SSRF guard

    body = json.dumps(
        {
            "id": payload.event_id,
            "type": payload.event,
            "created_at": job.created_at,
            "data": payload.data,
        },
        separators=(",", ":"),
    ).encode()
    headers = {
        webhooks.SIGNATURE_HEADER: webhooks.signature_header(secret, body, clock.epoch_s()),
        "Warung-Delivery": job.job_id,
        "Warung-Event": payload.event,
    }
    with permanent_when_url_refused():
        delivery = webhooks.deliver(
            url, body, headers, allow_loopback=get_settings().webhook_allow_loopback
        )
    if not 200 <= delivery.status < 300:
        raise RuntimeError(f"receiver answered {delivery.status}")
    logger.info(
        "webhook delivered",
        extra={
            "merchant_id": payload.merchant_id,
            "status": delivery.status,
            "ms": delivery.elapsed_ms,
        },
    )


@handles(PaymentSimulation)
def simulate_payment(payload: PaymentSimulation, _job: Job) -> None:
    """Play the payment provider: send this stage's webhook the signed event of the outcome.

    A non-2xx answer raises, so the job is retried with backoff (the event id is the same on
    every try, so the webhook applies it once).
    """
    from warung.ordering.payments import SimulatorProvider

    config = get_settings()
    provider = SimulatorProvider(
        payment_secret(),
        config.payment_webhook_url,
        allow_loopback=config.webhook_allow_loopback,
    )
    with permanent_when_url_refused():
        provider.simulate(
            payment_id=payload.payment_id,
            order_id=payload.order_id,
            amount=payload.amount,
            currency=payload.currency,
            outcome=payload.outcome,
        )
    logger.info(
        "payment simulated", extra={"payment_id": payload.payment_id, "outcome": payload.outcome}
    )


@handles(RefundPayment)
def refund_payment(payload: RefundPayment, _job: Job) -> None:
    """Ask the payment's provider for the refund; it confirms later with a webhook."""
    from warung.ordering.payments import SIMULATOR, provider_named

    config = get_settings()
    if payload.provider != SIMULATOR:
        # A real provider's refunds run with the payments context's permissions (its secret),
        # never the generic worker's: retrying here cannot help.
        raise PermanentJobError(f"refunds through {payload.provider} are not the worker's")
    try:
        provider = provider_named(
            payload.provider,
            # only the simulator signs with it; a real provider's refunds are not the worker's
            secret=payment_secret() if payload.provider == SIMULATOR else "",
            webhook_url=config.payment_webhook_url,
            allow_loopback=config.webhook_allow_loopback,
        )
    except ValueError as error:  # no adapter for that provider: retrying cannot help
        raise PermanentJobError(str(error)) from error
    with permanent_when_url_refused():
        provider.refund(
            payment_id=payload.payment_id,
            order_id=payload.order_id,
            amount=payload.amount,
            currency=payload.currency,
        )
    logger.info(
        "refund requested", extra={"payment_id": payload.payment_id, "provider": payload.provider}
    )


def payment_secret() -> str:
    """The simulator's webhook secret (Secrets Manager, cached). Only stages with the payment
    simulator give it to the worker (never prod): without it no retry can help."""
    from warung.secrets import get_secret

    arn = get_settings().payment_webhook_secret_arn
    if not arn:
        raise PermanentJobError("the worker holds no payment secret on this stage (no simulator)")
    return get_secret(arn)


@contextmanager
def permanent_when_url_refused() -> Iterator[None]:
    """A delivery the SSRF guard refuses will be refused on every try: dead-letter it."""
    from warung import webhooks

    try:
        yield
    except webhooks.DeliveryError as error:
        if not error.retryable:
            raise PermanentJobError(str(error)) from error
        raise


def merchant_webhook(merchant_id: str) -> tuple[str, str] | None:
    """The merchant's webhook URL and signing secret, read (consistently) when sending."""
    item = get_item(webhook_key(merchant_id)) or {}
    if not item.get("url") or not item.get("secret"):
        return None
    return str(item["url"]), str(item["secret"])


# ---------------------------------------------------------------- processing


def _run(job: dict[str, Any]) -> dict[str, str]:
    parsed = Job.model_validate(job)
    payload = JOB_PAYLOADS[parsed.job_type].model_validate(parsed.payload)
    REGISTRY[parsed.job_type](payload, parsed)
    return {"job_id": parsed.job_id, "status": "done"}


@cache
def run_once() -> Callable[..., dict[str, str]]:
    """The job runner: a second delivery of the same ``job_id`` returns the first result.

    Built on first use, with the shared DynamoDB client, so that the client is created once.
    """
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=dynamodb_client()
    )
    runner: Callable[..., dict[str, str]] = idempotent_function(
        data_keyword_argument="job", config=idempotency, persistence_store=persistence
    )(_run)
    return runner


def process(record: SQSRecord) -> None:
    """One record: parse, run once, and on failure decide between retry and dead letter."""
    job = parse(record)
    logger.set_correlation_id(job.correlation_id)
    logger.append_keys(job_id=job.job_id, job_type=job.job_type)
    receives = int(record.attributes.approximate_receive_count or 1)
    try:
        if job.job_type not in REGISTRY:
            raise PermanentJobError(f"unknown job type {job.job_type!r}")
        try:
            JOB_PAYLOADS[job.job_type].model_validate(job.payload)
        except ValidationError as error:
            raise PermanentJobError(f"invalid payload: {error.error_count()} errors") from error
        run_once()(job=job.model_dump())
    except PermanentJobError as error:
        remember_failure(job, error, receives, dead=True)
        dead_letter(record, job, str(error))
        logger.error("job cannot succeed; dead-lettered", extra={"error": str(error)})
        count("JobsDeadLettered", job.job_type)
        return  # handled: the message leaves the queue
    except Exception as error:
        last = receives >= settings.job_max_receives
        remember_failure(job, error, receives, dead=last)
        count("JobsFailed", job.job_type)
        if last:
            # Visible at once, so that SQS moves it to the dead-letter queue on the next
            # receive instead of after the queue's full visibility timeout.
            retry_after(record, 0)
            count("JobsDeadLettered", job.job_type)
            logger.exception("job failed for the last time", extra={"receives": receives})
        else:
            delay = backoff_seconds(receives, settings.job_retry_base_seconds)
            retry_after(record, delay)
            count("JobsRetried", job.job_type)
            logger.warning(
                "job failed; will retry",
                extra={"receives": receives, "retry_in_s": delay, "error": str(error)},
            )
        raise
    finally:
        logger.remove_keys(["job_id", "job_type"])
    count("JobsProcessed", job.job_type)
    forget_failure(job)


def parse(record: SQSRecord) -> Job:
    """The job of a record; a body that is not a job goes to the dead-letter queue."""
    try:
        return Job.model_validate_json(record.body)
    except ValidationError:
        dead_letter(record, None, "not a job message")
        count("JobsDeadLettered", "unknown")
        logger.error("message is not a job; dead-lettered", extra={"message_id": record.message_id})
        raise PoisonMessage() from None


class PoisonMessage(Exception):
    """A message that was moved to the dead-letter queue; it must not be retried."""


def backoff_seconds(receives: int, base: int) -> int:
    """Exponential backoff with jitter: base, 2·base, 4·base, ... capped at 15 minutes."""
    delay = min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, receives - 1))
    return int(delay * random.uniform(0.8, 1.0))  # noqa: S311 - jitter, not security


def retry_after(record: SQSRecord, seconds: int) -> None:
    """Make the message visible again after ``seconds`` rather than the queue default."""
    sqs_client().change_message_visibility(
        QueueUrl=settings.jobs_queue_url,
        ReceiptHandle=record.receipt_handle,
        VisibilityTimeout=seconds,
    )


def dead_letter(record: SQSRecord, job: Job | None, reason: str) -> None:
    """Send the message straight to the dead-letter queue with the reason attached."""
    attributes = {"error": {"DataType": "String", "StringValue": reason[:1000]}}
    if job is not None:
        attributes["job_type"] = {"DataType": "String", "StringValue": job.job_type}
    sqs_client().send_message(
        QueueUrl=settings.jobs_dead_letter_queue_url,
        MessageBody=record.body,
        MessageAttributes=attributes,
    )


def remember_failure(job: Job, error: BaseException, receives: int, *, dead: bool) -> None:
    """Keep a job's failures for the admin's dead-letter list: the first time is kept, the
    last error and time replaced, the attempts counted; a dead-lettered job is indexed."""
    now = clock.now()
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    values: dict[str, Any] = {
        ":type": job.job_type,
        ":correlation": job.correlation_id,
        ":error": f"{type(error).__name__}: {error}"[:1000],
        ":receives": receives,
        ":at": at,
        ":one": 1,
        ":expires": int((now + FAILURE_RETENTION).timestamp()),
    }
    sets = [
        "job_type = :type",
        "correlation_id = :correlation",
        "last_error = :error",
        "receives = :receives",
        "last_failed_at = :at",
        "first_failed_at = if_not_exists(first_failed_at, :at)",
        "expires_at_epoch = :expires",
    ]
    target = failure_target(job)
    if target:
        values[":target"] = target
        sets.append("target = :target")
    if dead:
        index = job_failure_index(at, job.job_id)
        values |= {":gpk": index["gsi1pk"], ":gsk": index["gsi1sk"]}
        sets += ["gsi1pk = :gpk", "gsi1sk = :gsk"]
    update = f"SET {', '.join(sets)} ADD attempts :one"
    dynamodb_client().update_item(
        TableName=get_settings().table_name,
        Key=to_item(job_failure_key(job.job_id)),
        UpdateExpression=update,
        ExpressionAttributeValues=to_item(values),
    )


def forget_failure(job: Job) -> None:
    """A job that succeeded (a redriven one, say) leaves the dead-letter list. The job is
    done whatever happens here: a failed delete leaves a stale row (it expires), never a
    retry."""
    try:
        dynamodb_client().delete_item(
            TableName=get_settings().table_name, Key=to_item(job_failure_key(job.job_id))
        )
    except Exception:  # the effect happened; only the admin's list is stale
        logger.exception("could not forget the job's failures", extra={"job_id": job.job_id})


def failure_target(job: Job) -> str | None:
    """Whom the job was for, masked (never the payload itself)."""
    url = None
    if job.job_type == WebhookDelivery.job_type and job.payload.get("merchant_id"):
        target = merchant_webhook(str(job.payload["merchant_id"]))
        url = target[0] if target else None
    return masked_target(job.job_type, job.payload, url)


def count(name: str, job_type: str) -> None:
    """One metric point per job type, and one across every type (what the alarms and the
    dashboard read: CloudWatch cannot add up dimensions in an alarm)."""
    for dimensions in ({"service": "worker", "job_type": job_type}, {"service": "worker"}):
        with single_metric(
            name=name,
            unit=MetricUnit.Count,
            value=1,
            namespace=metrics.namespace,
            default_dimensions=dimensions,
        ):
            pass


def sqs_client() -> Any:
    """The SQS client (shared per execution environment, see ``warung.clients``)."""
    return aws_client("sqs", max_attempts=3)


def process_batch(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS batch in, partial batch failures out."""
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=_process_or_skip, processor=processor, context=context
    )


def _process_or_skip(record: SQSRecord) -> None:
    try:
        process(record)
    except PoisonMessage:
        return  # already in the dead-letter queue; delete it here


handler = entry_point(process_batch)
