"""The dead-letter list (the worker's ``JOBFAIL#`` records, by index) and the dead-letter
queue itself: its depth and SQS's message move tasks (the redrive)."""

from __future__ import annotations

from typing import Any

from warung.clients import aws_client
from warung.dynamo import partition_query, query_items
from warung.errors import Conflict
from warung.settings import get_settings
from warung.store.jobs import JOB_FAILURES_PARTITION, JobFailure, job_failure_from

MOVE_TASKS_LISTED = 10  # as many as SQS lists


class RedriveRunning(Conflict):
    """SQS runs one move task per source queue; another one is running."""

    code, title = "redrive_running", "A redrive is running"


def list_failures(
    *, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[JobFailure], dict[str, Any] | None]:
    """Up to ``limit`` dead-lettered jobs, newest first (one ``Query``, never a Scan), and
    the key that resumes after the last of them (``None`` when the list ended)."""
    request = partition_query(
        JOB_FAILURES_PARTITION, index="gsi1", newest_first=True, page_size=limit, start=start_key
    )
    failures: list[JobFailure] = []
    for item, key in query_items(request):
        failures.append(job_failure_from(item))
        if len(failures) == limit:
            return failures, key
    return failures, None


def dead_letter_depth() -> int:
    """Messages waiting in the dead-letter queue (SQS's approximate count)."""
    answer = _sqs().get_queue_attributes(
        QueueUrl=get_settings().jobs_dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(answer["Attributes"]["ApproximateNumberOfMessages"])


def move_tasks() -> list[dict[str, Any]]:
    """The dead-letter queue's latest move tasks, newest first."""
    answer = _sqs().list_message_move_tasks(
        SourceArn=get_settings().jobs_dlq_arn, MaxResults=MOVE_TASKS_LISTED
    )
    results: list[dict[str, Any]] = answer.get("Results", [])
    return results


def start_move_task() -> str:
    """Start moving every message of the dead-letter queue to the jobs queue; its handle."""
    settings = get_settings()
    sqs = _sqs()
    try:
        answer = sqs.start_message_move_task(
            SourceArn=settings.jobs_dlq_arn, DestinationArn=settings.jobs_queue_arn
        )
    except sqs.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if "UnsupportedOperation" in code:  # SQS: a task of this queue is running already
            raise RedriveRunning("A redrive of the dead-letter queue is running.") from error
        raise
    return str(answer["TaskHandle"])


def _sqs() -> Any:
    return aws_client("sqs")
