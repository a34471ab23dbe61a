"""SQS's message move tasks as the emulation answers them (moto 5.2.5 has none): a task
moves the source's messages to the destination, one runs per source queue, and the list is
the queue's tasks newest first, with a handle only while a task runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from warung_local.move_tasks import MessageMoveTasks

DLQ = "arn:aws:sqs:ap-southeast-1:123456789012:jobs-dlq"
JOBS = "arn:aws:sqs:ap-southeast-1:123456789012:jobs"


class ClientError(Exception):
    """What the fake raises for a queue that does not exist."""


class FakeSqs:
    """Two queues of messages, in memory; only the calls the move task makes."""

    class exceptions:
        ClientError = ClientError

    def __init__(self) -> None:
        self.queues: dict[str, list[dict[str, Any]]] = {"jobs-dlq": [], "jobs": []}
        self.receipts = 0

    def get_queue_url(self, QueueName: str, QueueOwnerAWSAccountId: str) -> dict[str, str]:
        if QueueName not in self.queues:
            raise ClientError(QueueName)
        return {"QueueUrl": QueueName}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        return {"Attributes": {"ApproximateNumberOfMessages": str(len(self.queues[QueueUrl]))}}

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int, **_: Any) -> dict[str, Any]:
        taken = [m for m in self.queues[QueueUrl] if "ReceiptHandle" not in m]
        for message in taken[:MaxNumberOfMessages]:
            self.receipts += 1
            message["ReceiptHandle"] = f"r{self.receipts}"
        return {"Messages": [dict(m) for m in taken[:MaxNumberOfMessages]]}

    def send_message(self, QueueUrl: str, MessageBody: str, **extra: Any) -> None:
        self.queues[QueueUrl].append({"Body": MessageBody, **extra})

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.queues[QueueUrl] = [
            m for m in self.queues[QueueUrl] if m.get("ReceiptHandle") != ReceiptHandle
        ]


@pytest.fixture
def sqs() -> FakeSqs:
    fake = FakeSqs()
    fake.queues["jobs-dlq"] = [
        {"Body": "job-1", "MessageAttributes": {"error": {"StringValue": "x"}}},
        {"Body": "job-2"},
    ]
    return fake


@pytest.fixture
def tasks(sqs: FakeSqs) -> Iterator[MessageMoveTasks]:
    service = MessageMoveTasks(lambda region: sqs)
    yield service
    service.release()


def ask(tasks: MessageMoveTasks, operation: str, **request: Any) -> tuple[str, dict[str, Any]]:
    answer = tasks({"HTTP_X_AMZ_TARGET": f"AmazonSQS.{operation}"}, json.dumps(request).encode())
    assert answer is not None
    status, _, body = answer
    return status, json.loads(body)


def test_a_task_moves_every_message_with_its_attributes(
    tasks: MessageMoveTasks, sqs: FakeSqs
) -> None:
    status, started = ask(tasks, "StartMessageMoveTask", SourceArn=DLQ, DestinationArn=JOBS)
    assert status.startswith("200")
    assert tasks.wait_idle()

    assert sqs.queues["jobs-dlq"] == []
    assert [m["Body"] for m in sqs.queues["jobs"]] == ["job-1", "job-2"]
    assert sqs.queues["jobs"][0]["MessageAttributes"] == {"error": {"StringValue": "x"}}
    _, listed = ask(tasks, "ListMessageMoveTasks", SourceArn=DLQ)
    (task,) = listed["Results"]
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 2
    assert task["ApproximateNumberOfMessagesToMove"] == 2
    assert "TaskHandle" not in task  # as in SQS: a handle only while the task runs
    assert started["TaskHandle"]


def test_a_second_task_of_the_same_queue_is_refused_while_one_runs(
    tasks: MessageMoveTasks, sqs: FakeSqs
) -> None:
    tasks.hold()
    _, first = ask(tasks, "StartMessageMoveTask", SourceArn=DLQ, DestinationArn=JOBS)
    status, refused = ask(tasks, "StartMessageMoveTask", SourceArn=DLQ, DestinationArn=JOBS)
    _, listed = ask(tasks, "ListMessageMoveTasks", SourceArn=DLQ, MaxResults=10)

    assert status.startswith("400")
    assert refused["__type"].endswith("#UnsupportedOperation")
    (running,) = listed["Results"]
    assert running["Status"] == "RUNNING"
    assert running["TaskHandle"] == first["TaskHandle"]
    assert running["ApproximateNumberOfMessagesMoved"] == 0
    assert len(sqs.queues["jobs-dlq"]) == 2  # held: nothing moved yet

    tasks.release()
    assert tasks.wait_idle()
    _, again = ask(tasks, "StartMessageMoveTask", SourceArn=DLQ, DestinationArn=JOBS)
    _, listed = ask(tasks, "ListMessageMoveTasks", SourceArn=DLQ, MaxResults=10)
    assert again["TaskHandle"] != first["TaskHandle"]
    assert len(listed["Results"]) == 2  # newest first: the second task, then the first
    assert listed["Results"][1]["ApproximateNumberOfMessagesMoved"] == 2


def test_a_running_task_can_be_cancelled(tasks: MessageMoveTasks, sqs: FakeSqs) -> None:
    tasks.hold()
    _, started = ask(tasks, "StartMessageMoveTask", SourceArn=DLQ, DestinationArn=JOBS)
    status, _ = ask(tasks, "CancelMessageMoveTask", TaskHandle=started["TaskHandle"])
    tasks.release()
    assert tasks.wait_idle()

    _, listed = ask(tasks, "ListMessageMoveTasks", SourceArn=DLQ)
    assert status.startswith("200")
    assert listed["Results"][0]["Status"] == "CANCELLED"
    assert len(sqs.queues["jobs-dlq"]) == 2


@pytest.mark.parametrize(
    ("operation", "request_", "error"),
    [
        ("StartMessageMoveTask", {"DestinationArn": JOBS}, "MissingParameter"),
        ("StartMessageMoveTask", {"SourceArn": DLQ}, "NotEmulated"),
        (
            "StartMessageMoveTask",
            {"SourceArn": DLQ.replace("jobs-dlq", "nope"), "DestinationArn": JOBS},
            "ResourceNotFoundException",
        ),
        (
            "StartMessageMoveTask",
            {"SourceArn": DLQ, "DestinationArn": JOBS, "MaxNumberOfMessagesPerSecond": 501},
            "InvalidParameterValue",
        ),
        ("ListMessageMoveTasks", {"SourceArn": DLQ, "MaxResults": 11}, "InvalidParameterValue"),
        ("CancelMessageMoveTask", {"TaskHandle": "nope"}, "ResourceNotFoundException"),
    ],
)
def test_a_request_sqs_would_refuse_is_refused(
    tasks: MessageMoveTasks, operation: str, request_: dict[str, Any], error: str
) -> None:
    status, body = ask(tasks, operation, **request_)
    assert status.startswith("400")
    assert body["__type"].endswith(f"#{error}")


def test_other_sqs_requests_are_left_to_moto(tasks: MessageMoveTasks) -> None:
    assert tasks({"HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"}, b"{}") is None
    assert tasks({}, b"") is None
