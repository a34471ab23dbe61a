"""Outbox jobs (relayed to the jobs queue by the table's stream) and dead jobs' last errors."""

from __future__ import annotations

OUTBOX_PREFIX = "OUTBOX#"  # the relay's stream filter matches inserts under this prefix


def outbox_key(job_id: str) -> dict[str, str]:
    """A job written in a business transaction, relayed once committed."""
    return {"pk": f"{OUTBOX_PREFIX}{job_id}", "sk": "JOB"}


def job_failure_key(job_id: str) -> dict[str, str]:
    """The last error of a job the worker gave up on (kept for the admin's list)."""
    return {"pk": f"JOBFAIL#{job_id}", "sk": "JOB"}
