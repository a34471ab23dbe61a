"""What the dead-letter routes decide without AWS: the task id of a redrive, and which of
the dead-letter queue's move tasks a task id names."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

RUNNING = "RUNNING"


def task_id_of(handle: str) -> str:
    """SQS's task handle, made safe in a URL path: it is base64 (``+``, ``/``, ``=``), so
    the id is the handle in URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(handle.encode()).decode().rstrip("=")


def handle_of(task_id: str) -> str | None:
    """The task handle inside ``task_id``; ``None`` for an id that is not one of ours."""
    try:
        return base64.urlsafe_b64decode(task_id + "=" * (-len(task_id) % 4)).decode()
    except (binascii.Error, ValueError):
        return None


def running(tasks: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The task that runs now, if any (SQS runs one per source queue at a time)."""
    return next((task for task in tasks if task.get("Status") == RUNNING), None)


def task_named(tasks: Sequence[Mapping[str, Any]], handle: str) -> Mapping[str, Any] | None:
    """The task of ``handle`` among the queue's tasks, newest first.

    SQS gives a task's handle only while it runs. A handle no running task has belongs to a
    finished task: the newest finished one, since the routes start a task only when none
    runs (a later redrive, finished too, would hide it: its progress is then that one's).
    """
    for task in tasks:
        if task.get("TaskHandle") == handle:
            return task
    return next((task for task in tasks if task.get("Status") != RUNNING), None)
