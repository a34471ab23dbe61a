"""Response bodies of the dead-letter routes (the API contract: docs/openapi.json)."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from typing import Literal

from pydantic import Field

from warung.models import ApiModel


class DeadLetter(ApiModel):
    """A job the worker gave up on. Never its payload: ``target`` says whom it was for,
    masked (an e-mail job's address as ``us***@example.com``, a webhook's host only)."""

    job_id: str
    type: str = Field(description="The job type, e.g. `webhook.deliver`, `email.order_paid`.")
    attempts: int = Field(ge=1, description="Failed runs, across redrives.")
    first_failed_at: str
    last_failed_at: str
    last_error: str
    correlation_id: str = Field(description="The request that caused the job (its logs).")
    target: str | None = Field(
        description="Whom it was for, masked; null for jobs without one (payments)."
    )


class DeadLetterPage(ApiModel):
    """Dead-lettered jobs, newest first, and the dead-letter queue's depth."""

    items: list[DeadLetter]
    next_cursor: str | None
    depth: int = Field(
        ge=0, description="Messages in the dead-letter queue (SQS's approximate count)."
    )


class RedriveStarted(ApiModel):
    """A redrive of the dead-letter queue into the jobs queue, started."""

    task_id: str = Field(description="For `GET /v1/admin/dead-letters/redrive/{task_id}`.")
    messages: int = Field(ge=0, description="Messages the redrive is to move.")


class RedriveProgress(ApiModel):
    """Where a redrive stands (SQS's message move task)."""

    task_id: str
    status: Literal["RUNNING", "COMPLETED", "CANCELLING", "CANCELLED", "FAILED"]
    moved: int = Field(ge=0)
    total: int = Field(ge=0)
    failure_reason: str | None = None
