"""Dead letters for the admin: the list, and the redrive of the dead-letter queue into the
jobs queue with SQS's message move task (docs/runbook.md, "Dead letters")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admin.repository import dead_letters as repository
from admin.rules import dead_letters as rules
from warung.audit import audited
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.dynamo import Transaction
from warung.errors import NotFound
from warung.store.jobs import JobFailure

ROUTE = "GET /v1/admin/dead-letters"


@dataclass(frozen=True)
class DeadLetters:
    """One page of dead-lettered jobs and the queue's depth."""

    failures: list[JobFailure]
    next_cursor: str | None
    depth: int


@dataclass(frozen=True)
class Redrive:
    """A redrive: its id, where it stands and how many messages it moves."""

    task_id: str
    status: str
    moved: int
    total: int
    failure_reason: str | None = None


def list_dead_letters(*, limit: int, cursor: str | None, admin_id: str) -> DeadLetters:
    """Dead-lettered jobs, newest first, a page at a time, with the queue's depth."""
    scope = list_scope(ROUTE, admin_id)
    failures, last = repository.list_failures(limit=limit, start_key=decode_cursor(cursor, scope))
    return DeadLetters(failures, encode_cursor(last, scope), repository.dead_letter_depth())


def start_redrive(admin_id: str, meta: RequestMeta) -> Redrive:
    """Move every dead letter back to the jobs queue; 409 while a redrive runs. Audited:
    who started it, when, and how many messages it was to move."""
    if rules.running(repository.move_tasks()) is not None:
        raise repository.RedriveRunning("A redrive of the dead-letter queue is running.")
    total = repository.dead_letter_depth()
    task_id = rules.task_id_of(repository.start_move_task())
    resource = f"dead-letters:{task_id}"
    Transaction().extend(
        [audited(admin_id, "admin.dead_letters.redrive", resource, meta, messages=total)]
    ).commit()
    return Redrive(task_id, rules.RUNNING, 0, total)


def redrive_progress(task_id: str) -> Redrive:
    """Where the redrive ``task_id`` stands (404 for an id no redrive has)."""
    handle = rules.handle_of(task_id)
    task: Any = rules.task_named(repository.move_tasks(), handle) if handle else None
    if task is None:
        raise NotFound("No such redrive.")
    return Redrive(
        task_id,
        str(task["Status"]),
        int(task.get("ApproximateNumberOfMessagesMoved", 0)),
        int(task.get("ApproximateNumberOfMessagesToMove", 0)),
        task.get("FailureReason"),
    )
