"""Audit archive: copies each new audit entry from the audit table's stream to a bucket that
S3 Object Lock keeps from changes and deletion (COMPLIANCE on prod), so that the record of
who did what outlives anyone able to edit the table.

One object per entry, at a key made of the entry's day, time and id
(``audit/<yyyy>/<mm>/<dd>/<time>_<id>.jsonl``, one JSON line): a retried batch writes the
same keys again with the same content, so a retry never makes a second copy under another
name (Object Lock keeps each write as a version). The address a request came from is
archived only as the keyed hash the table holds (``ip_hash``): ``source_ip`` and
``user_agent`` are dropped if an entry has them.
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
from warung.observability import MetricUnit, entry_point, metrics

# Never archived: the raw address and browser of a request (the table's keyed hash is).
DROPPED_FIELDS = frozenset({"source_ip", "user_agent"})
# The table's own keys: the day and the sort key are in the object's key already.
KEY_FIELDS = frozenset({"pk", "sk", "actor_pk", "resource_pk"})


class ArchiveSettings(BaseModel):
    """Where entries go; validated at cold start."""

    bucket: str = Field(min_length=1)


settings = ArchiveSettings(bucket=os.environ.get("AUDIT_ARCHIVE_BUCKET", ""))
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def s3_client() -> Any:
    """The S3 client (shared per execution environment, see ``warung.clients``)."""
    return aws_client("s3")


def archived_form(item: dict[str, Any]) -> dict[str, Any]:
    """The entry as archived: its fields without the table's keys and the raw request data."""
    return {k: v for k, v in item.items() if k not in DROPPED_FIELDS | KEY_FIELDS}


def object_key(item: dict[str, Any]) -> str:
    """``audit/<yyyy>/<mm>/<dd>/<RFC 3339 time>_<entry id>.jsonl``, from the entry's sort key
    (``<time>#<id>``, whatever its partition): the same for every try."""
    sort_key = str(item["sk"])
    return f"audit/{sort_key[:10].replace('-', '/')}/{sort_key.replace('#', '_')}.jsonl"


def archive(record: DynamoDBRecord) -> None:
    """Write one new audit entry to the archive bucket."""
    raw = record.raw_event
    image = raw.get("dynamodb", {}).get("NewImage")
    if raw.get("eventName") != "INSERT" or not image:
        return  # entries are only ever put; anything else is not an entry
    item = from_item(image)
    body = json.dumps(archived_form(item), separators=(",", ":"), sort_keys=True, default=str)
    s3_client().put_object(
        Bucket=settings.bucket,
        Key=object_key(item),
        Body=(body + "\n").encode("utf-8"),
        ContentType="application/x-ndjson",
    )
    metrics.add_metric(name="AuditEntriesArchived", unit=MetricUnit.Count, value=1)


def archive_batch(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Stream batch in, partial batch failures out: Lambda retries from the first failure."""
    return process_partial_response(
        event=event, record_handler=archive, processor=processor, context=context
    )


handler = entry_point(archive_batch)
