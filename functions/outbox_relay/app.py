"""Outbox relay: moves committed outbox entries from the main table's stream to the jobs queue.

A business change and its job are written in one transaction (``warung.outbox``). Only
committed writes reach the stream, so a job exists exactly when its cause does, even if the
function that wrote it died right after the commit. This function forwards each new outbox
entry to SQS, where the worker runs it with retries, backoff and a dead-letter queue
(docs/decisions/0006-transactional-outbox.md).
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from warung.clients import aws_client
from warung.dynamo import from_item
from warung.observability import MetricUnit, entry_point, logger, metrics
from warung.store.jobs import OUTBOX_PREFIX


class RelaySettings(BaseModel):
    """Where committed jobs go; validated at cold start."""

    jobs_queue_url: str = Field(min_length=1)
    # A real provider's refund jobs go to the payments context's own consumer.
    payment_refunds_queue_url: str = ""


settings = RelaySettings(
    jobs_queue_url=os.environ.get("JOBS_QUEUE_URL", ""),
    payment_refunds_queue_url=os.environ.get("PAYMENT_REFUNDS_QUEUE_URL", ""),
)


def queue_of(job_type: str, payload: Any) -> str:
    """Where a job goes: a real provider's refund to the payments context's queue (only it
    holds the provider's key), everything else to the worker's."""
    provider = payload.get("provider") if isinstance(payload, dict) else None
    if job_type == "payment.refund" and provider not in (None, "simulator"):
        return settings.payment_refunds_queue_url or settings.jobs_queue_url
    return settings.jobs_queue_url


processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def sqs_client() -> Any:
    """The SQS client (shared per execution environment, see ``warung.clients``)."""
    return aws_client("sqs")


def is_new_outbox_entry(raw: dict[str, Any]) -> bool:
    """Only inserts of outbox entries are jobs (the event source filter drops the rest too)."""
    pk = raw.get("dynamodb", {}).get("Keys", {}).get("pk", {}).get("S", "")
    return raw.get("eventName") == "INSERT" and str(pk).startswith(OUTBOX_PREFIX)


def relay(record: DynamoDBRecord) -> None:
    """Send one committed outbox entry to the jobs queue."""
    if not is_new_outbox_entry(record.raw_event):
        return
    entry = from_item(record.raw_event["dynamodb"]["NewImage"])
    message = {
        "job_id": entry["job_id"],
        "job_type": entry["job_type"],
        "payload": entry["payload"],
        "correlation_id": entry["correlation_id"],
        "created_at": entry["created_at"],
    }
    logger.set_correlation_id(entry["correlation_id"])
    sqs_client().send_message(
        QueueUrl=queue_of(entry["job_type"], entry["payload"]),
        MessageBody=json.dumps(message, separators=(",", ":"), default=str),
        MessageAttributes={
            "job_type": {"DataType": "String", "StringValue": entry["job_type"]},
            "correlation_id": {"DataType": "String", "StringValue": entry["correlation_id"]},
        },
    )
    metrics.add_metric(name="JobsRelayed", unit=MetricUnit.Count, value=1)
    logger.info("job relayed", extra={"job_id": entry["job_id"], "job_type": entry["job_type"]})


def relay_batch(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Stream batch in, partial batch failures out: Lambda retries from the first failure."""
    return process_partial_response(
        event=event, record_handler=relay, processor=processor, context=context
    )


handler = entry_point(relay_batch)
