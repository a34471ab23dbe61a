"""Outbox jobs (relayed to the jobs queue by the table's stream) and dead jobs' last errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OUTBOX_PREFIX = "OUTBOX#"  # the relay's stream filter matches inserts under this prefix
# Every dead-lettered job in one gsi1 partition, newest first. One partition is enough:
# its writes are bounded by the worker's concurrency (5 invocations of 10 messages), far
# below a partition's 1,000 writes a second, even when every job fails at once
# (docs/decisions/0018-dead-letter-redrive.md).
JOB_FAILURES_PARTITION = "JOBFAILS"


def outbox_key(job_id: str) -> dict[str, str]:
    """A job written in a business transaction, relayed once committed."""
    return {"pk": f"{OUTBOX_PREFIX}{job_id}", "sk": "JOB"}


def job_failure_key(job_id: str) -> dict[str, str]:
    """The failures of a job the worker could not run (kept for the admin's list)."""
    return {"pk": f"JOBFAIL#{job_id}", "sk": "JOB"}


def job_failure_index(last_failed_at: str, job_id: str) -> dict[str, str]:
    """Index attributes of a dead-lettered job (sparse: a job still being retried has none)."""
    return {"gsi1pk": JOB_FAILURES_PARTITION, "gsi1sk": f"{last_failed_at}#{job_id}"}


@dataclass(frozen=True)
class JobFailure:
    """A job the worker gave up on: what it was, how often and how it failed, and whom it
    was for (``target``: a masked address or a webhook's host, never the payload)."""

    job_id: str
    job_type: str
    attempts: int
    first_failed_at: str
    last_failed_at: str
    last_error: str
    correlation_id: str
    target: str | None


def job_failure_from(item: Mapping[str, Any]) -> JobFailure:
    """The stored failure as a record."""
    return JobFailure(
        job_id=str(item["pk"]).removeprefix("JOBFAIL#"),
        job_type=str(item.get("job_type", "")),
        attempts=int(item.get("attempts", item.get("receives", 1))),
        first_failed_at=str(item.get("first_failed_at") or item.get("last_failed_at", "")),
        last_failed_at=str(item.get("last_failed_at", "")),
        last_error=str(item.get("last_error", "")),
        correlation_id=str(item.get("correlation_id", "")),
        target=str(item["target"]) if item.get("target") else None,
    )
