"""SQS's message move tasks (dead-letter queue redrive), answered by the emulation.

moto 5.2.5 has no `StartMessageMoveTask`, `ListMessageMoveTasks` or `CancelMessageMoveTask`
(it raises NotImplementedError). Every emulation answers them itself, with the smallest
faithful behaviour (docs/decisions/0018):

- `StartMessageMoveTask {SourceArn, DestinationArn, MaxNumberOfMessagesPerSecond?}` counts
  the source's visible messages (`ApproximateNumberOfMessagesToMove`) and moves them, in a
  background thread, through the emulation's own SQS API: receive from the source, send the
  body and message attributes to the destination, delete from the source. The destination
  is required locally (SQS's "back to each message's original queue" is not emulated).
  Answers `{"TaskHandle"}`: an opaque base64 string, as SQS's is.
- One RUNNING task per source queue: a second start is refused, as SQS refuses it.
- `ListMessageMoveTasks {SourceArn, MaxResults?}`: that queue's tasks, newest first (at most
  10, one by default), `Status` RUNNING / COMPLETED / CANCELLED / FAILED, the counts moved
  and to move, `StartedTimestamp` (epoch ms). As in SQS, `TaskHandle` is given for a
  RUNNING task only.
- `CancelMessageMoveTask {TaskHandle}`: stops a RUNNING task after the message it moves.

Tests may hold every task before its first move (`hold()` / `release()`) to see a task
RUNNING for as long as they need. The tasks live as long as the emulation.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warung_local.emulation import LocalAnswer, WSGIEnviron

log = logging.getLogger("warung_local.move_tasks")

TARGET_PREFIX = "AmazonSQS."
OPERATIONS = ("StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask")
_CONTENT_TYPE = ("Content-Type", "application/x-amz-json-1.0")
_BATCH = 10


@dataclass
class MoveTask:
    """One message move task and its progress."""

    handle: str
    source_arn: str
    destination_arn: str
    to_move: int
    started_ms: int
    rate: int | None = None
    moved: int = 0
    status: str = "RUNNING"
    failure: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def as_json(self) -> dict[str, Any]:
        """The task as `ListMessageMoveTasks` reports it (a handle only while RUNNING)."""
        result: dict[str, Any] = {
            "Status": self.status,
            "SourceArn": self.source_arn,
            "DestinationArn": self.destination_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_ms,
        }
        if self.status == "RUNNING":
            result["TaskHandle"] = self.handle
        if self.rate is not None:
            result["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure:
            result["FailureReason"] = self.failure
        return result


class MessageMoveTasks:
    """Answers SQS's move-task requests to the emulation (a `LocalService`)."""

    def __init__(self, sqs_client: Callable[[str], Any]) -> None:
        self._make_client = sqs_client  # region -> the emulation's own SQS API
        self._clients: dict[str, Any] = {}
        self._tasks: list[MoveTask] = []  # oldest first
        self._lock = threading.Lock()
        self._go = threading.Event()
        self._go.set()

    def __call__(self, environ: WSGIEnviron, body: bytes) -> LocalAnswer | None:
        """The answer to a move-task request; None for any other request."""
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        operation = target.removeprefix(TARGET_PREFIX)
        if not target.startswith(TARGET_PREFIX) or operation not in OPERATIONS:
            return None
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error("InvalidParameterValue", "the request body is not JSON")
        if operation == "StartMessageMoveTask":
            return self._start(request)
        if operation == "ListMessageMoveTasks":
            return self._list(request)
        return self._cancel(request)

    # ------------------------------------------------------------ operations

    def _start(self, request: dict[str, Any]) -> LocalAnswer:
        source, destination = request.get("SourceArn"), request.get("DestinationArn")
        rate = request.get("MaxNumberOfMessagesPerSecond")
        if not source:
            return _error("MissingParameter", "SourceArn is required")
        if not destination:
            return _error(
                "NotEmulated",
                "DestinationArn is required locally: redrive to each message's original "
                "queue is not emulated (docs/local-runtime.md)",
            )
        if rate is not None and not (isinstance(rate, int) and 1 <= rate <= 500):
            return _error("InvalidParameterValue", "MaxNumberOfMessagesPerSecond is 1 to 500")
        source_url, destination_url = self._queue_url(source), self._queue_url(destination)
        if source_url is None or destination_url is None:
            return _error(
                "ResourceNotFoundException", "The resource that you specified does not exist."
            )
        with self._lock:
            if any(t.source_arn == source and t.status == "RUNNING" for t in self._tasks):
                return _error(
                    "UnsupportedOperation",
                    "There is already a task running. Only one active task is allowed for "
                    "a source queue arn at a given time.",
                )
            to_move = int(
                self._sqs(source).get_queue_attributes(
                    QueueUrl=source_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]["ApproximateNumberOfMessages"]
            )
            handle = base64.b64encode(
                json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source}).encode()
            ).decode()
            task = MoveTask(handle, source, destination, to_move, int(time.time() * 1000), rate)
            self._tasks.append(task)
        threading.Thread(
            target=self._run,
            args=(task, source_url, destination_url),
            name="sqs-move-task",
            daemon=True,
        ).start()
        return _ok({"TaskHandle": handle})

    def _list(self, request: dict[str, Any]) -> LocalAnswer:
        source = request.get("SourceArn")
        if not source:
            return _error("MissingParameter", "SourceArn is required")
        limit = request.get("MaxResults", 1)
        if not isinstance(limit, int) or not 1 <= limit <= 10:
            return _error("InvalidParameterValue", "MaxResults is 1 to 10")
        if self._queue_url(source) is None:
            return _error(
                "ResourceNotFoundException", "The resource that you specified does not exist."
            )
        with self._lock:
            newest_first = [t.as_json() for t in reversed(self._tasks) if t.source_arn == source]
        return _ok({"Results": newest_first[:limit]})

    def _cancel(self, request: dict[str, Any]) -> LocalAnswer:
        handle = request.get("TaskHandle")
        with self._lock:
            task = next((t for t in self._tasks if t.handle == handle), None)
            if task is None or task.status != "RUNNING":
                return _error("ResourceNotFoundException", "No running task has that handle.")
            task.cancel.set()
            moved = task.moved
        return _ok({"ApproximateNumberOfMessagesMoved": moved})

    # ------------------------------------------------------------ the mover

    def _run(self, task: MoveTask, source_url: str, destination_url: str) -> None:
        try:
            self._go.wait()
            self._move(task, source_url, destination_url)
            status = "CANCELLED" if task.cancel.is_set() else "COMPLETED"
        except Exception as error:  # a task that fails says why, as SQS's do
            log.exception("move task failed")
            task.failure, status = f"{type(error).__name__}: {error}", "FAILED"
        with self._lock:
            task.status = status

    def _move(self, task: MoveTask, source_url: str, destination_url: str) -> None:
        sqs = self._sqs(task.source_arn)
        while task.moved < task.to_move and not task.cancel.is_set():
            wanted = min(_BATCH, task.to_move - task.moved, task.rate or _BATCH)
            messages = sqs.receive_message(
                QueueUrl=source_url,
                MaxNumberOfMessages=wanted,
                MessageAttributeNames=["All"],
                VisibilityTimeout=30,
            ).get("Messages", [])
            if not messages:
                return  # the rest was consumed, deleted or expired meanwhile
            for message in messages:
                sent: dict[str, Any] = {"QueueUrl": destination_url, "MessageBody": message["Body"]}
                if message.get("MessageAttributes"):
                    sent["MessageAttributes"] = message["MessageAttributes"]
                sqs.send_message(**sent)
                sqs.delete_message(QueueUrl=source_url, ReceiptHandle=message["ReceiptHandle"])
                with self._lock:
                    task.moved += 1
            if task.rate:
                time.sleep(len(messages) / task.rate)

    # ------------------------------------------------------------ for tests

    def hold(self) -> None:
        """Tasks started from now on stay RUNNING, unmoved, until `release()`."""
        self._go.clear()

    def release(self) -> None:
        """Let held tasks move their messages."""
        self._go.set()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the tasks started inside the block; release them on leaving it."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Wait until no task runs; False if one still runs after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if all(t.status != "RUNNING" for t in self._tasks):
                    return True
            time.sleep(0.02)
        return False

    def _sqs(self, arn: str) -> Any:
        """The emulation's SQS API in the region of the queue ``arn``."""
        region = arn.split(":")[3]
        if region not in self._clients:
            self._clients[region] = self._make_client(region)
        return self._clients[region]

    def _queue_url(self, arn: str) -> str | None:
        parts = arn.split(":")
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "sqs"]:
            return None
        sqs = self._sqs(arn)
        try:
            url: str = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])[
                "QueueUrl"
            ]
        except sqs.exceptions.ClientError:
            return None
        return url


def _ok(answer: dict[str, Any]) -> LocalAnswer:
    return "200 OK", [_CONTENT_TYPE], json.dumps(answer).encode()


def _error(code: str, message: str) -> LocalAnswer:
    """A JSON-protocol client error, as botocore parses it (`__type`, `message`)."""
    return (
        "400 Bad Request",
        [_CONTENT_TYPE],
        json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message}).encode(),
    )
