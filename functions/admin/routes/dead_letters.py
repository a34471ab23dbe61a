"""Dead letters: the jobs the worker gave up on, and their redrive (admins only)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from admin.models.dead_letters import (
    DeadLetter,
    DeadLetterPage,
    RedriveProgress,
    RedriveStarted,
)
from admin.service import dead_letters as service
from warung.api import ADMIN_ONLY, WarungRouter, request_meta
from warung.auth import admin, current_caller
from warung.models import Cursor, Limit
from warung.store.jobs import JobFailure

router = WarungRouter()  # type: ignore[no-untyped-call]
TAGS = ["admin"]
TaskId = Annotated[str, Path(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9_-]+$")]


def view(failure: JobFailure) -> DeadLetter:
    return DeadLetter(
        job_id=failure.job_id,
        type=failure.job_type,
        attempts=max(1, failure.attempts),
        first_failed_at=failure.first_failed_at,
        last_failed_at=failure.last_failed_at,
        last_error=failure.last_error,
        correlation_id=failure.correlation_id,
        target=failure.target,
    )


@router.get(
    "/v1/admin/dead-letters",
    tags=TAGS,
    operation_id="listDeadLetters",
    summary="Jobs the worker gave up on, newest first, and the dead-letter queue's depth",
    **admin,
    responses={**ADMIN_ONLY},
)
def list_dead_letters(limit: Limit = 20, cursor: Cursor = None) -> DeadLetterPage:
    page = service.list_dead_letters(
        limit=limit, cursor=cursor, admin_id=current_caller(router).user_id
    )
    return DeadLetterPage(
        items=[view(f) for f in page.failures], next_cursor=page.next_cursor, depth=page.depth
    )


@router.post(
    "/v1/admin/dead-letters/redrive",
    status_code=202,
    tags=TAGS,
    operation_id="redriveDeadLetters",
    summary="Move every dead letter back to the jobs queue (SQS's message move task)",
    description=(
        "The worker runs each job again, once: a job that had in fact succeeded runs "
        "nothing twice. Follow it with `GET /v1/admin/dead-letters/redrive/{task_id}`."
    ),
    **admin,
    responses={
        202: {
            "description": "Started.",
            "content": {"application/json": {"model": RedriveStarted}},
        },
        **ADMIN_ONLY,
        409: {"description": "A redrive is running already."},
    },
)
def redrive() -> Response[str]:
    started = service.start_redrive(current_caller(router).user_id, request_meta(router))
    body = RedriveStarted(task_id=started.task_id, messages=started.total)
    return Response(202, "application/json", body.model_dump_json())


@router.get(
    "/v1/admin/dead-letters/redrive/<task_id>",
    tags=TAGS,
    operation_id="getDeadLetterRedrive",
    summary="Where a redrive stands: status, messages moved, messages in all",
    **admin,
    responses={**ADMIN_ONLY, 404: {"description": "No such redrive."}},
)
def redrive_progress(task_id: TaskId) -> RedriveProgress:
    progress = service.redrive_progress(task_id)
    return RedriveProgress(
        task_id=progress.task_id,
        status=progress.status,  # type: ignore[arg-type]
        moved=progress.moved,
        total=progress.total,
        failure_reason=progress.failure_reason,
    )
