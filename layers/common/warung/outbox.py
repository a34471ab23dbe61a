"""The transactional outbox: a job recorded in the same transaction as its cause.

``outbox_write(job)`` returns a write for :class:`warung.dynamo.Transaction`. Once the
transaction commits, the main table's stream carries the new entry to the job queue, so a
function that dies right after its commit still gets its e-mail sent. The entries expire
by TTL after a week; the stream has long delivered them by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from warung.dynamo import to_item
from warung.ids import new_id, rfc3339, utc_now
from warung.settings import get_settings
from warung.store.jobs import OUTBOX_PREFIX, outbox_key

RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class OutboxJob:
    """A job to run after commit. ``job_id`` doubles as the idempotency key of its effect."""

    job_type: str
    payload: Mapping[str, Any]
    correlation_id: str
    job_id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)

    def as_item(self) -> dict[str, Any]:
        """The stored form in the main table."""
        return {
            **outbox_key(self.job_id),
            "entity": "outbox",
            "job_id": self.job_id,
            "job_type": self.job_type,
            "payload": dict(self.payload),
            "correlation_id": self.correlation_id,
            "created_at": rfc3339(self.created_at),
            "expires_at_epoch": int((self.created_at + RETENTION).timestamp()),
        }


def outbox_write(job: OutboxJob, table: str | None = None) -> tuple[dict[str, Any], None]:
    """The ``TransactWriteItems`` element that enqueues ``job`` (once: the put is conditional)."""
    put = {
        "Put": {
            "TableName": table or get_settings().table_name,
            "Item": to_item(job.as_item()),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    return put, None


def is_outbox_item(keys: Mapping[str, Any]) -> bool:
    """True for the stream record of an outbox entry (keys in DynamoDB JSON)."""
    pk = keys.get("pk", {})
    return isinstance(pk, Mapping) and str(pk.get("S", "")).startswith(OUTBOX_PREFIX)
