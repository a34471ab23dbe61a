"""SQS, DynamoDB stream and schedule event sources, driven step by step."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from warung_local.emulation import aws_client
from warung_local.runtime import LocalRuntime
from warung_local.sources import ScheduleDriver, SqsPoller, StreamPoller


def _app(runtime: LocalRuntime, function_id: str) -> Any:
    return runtime.functions[function_id].modules["app"]


def _poll_until(poller: SqsPoller, timeout_s: float = 5.0) -> int:
    # The failed message becomes visible again after the 1 s visibility timeout.
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        received = poller.poll_once()
        if received:
            return received
        time.sleep(0.1)
    return 0


def _drain(sqs: Any, queue_url: str) -> None:
    # PurgeQueue is limited to once a minute per queue; receive and delete instead.
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        if not messages.get("Messages"):
            return
        for message in messages["Messages"]:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_sqs_partial_failure_retry_and_dead_letter(fixture_runtime: LocalRuntime) -> None:
    # given: the jobs queue (visibility 1 s, maxReceiveCount 2) feeding the worker
    sqs = aws_client("sqs", fixture_runtime.endpoint_url)
    template = fixture_runtime.template
    queue_url, dlq_url = template.queue_url("JobsQueue"), template.queue_url("JobsDeadLetterQueue")
    _drain(sqs, queue_url)
    _drain(sqs, dlq_url)
    poller = fixture_runtime.driver("WorkerFunction", SqsPoller)
    assert isinstance(poller, SqsPoller)
    fixture_runtime.invoke("WorkerFunction", {"Records": []})  # loads its module
    worker = _app(fixture_runtime, "WorkerFunction")
    worker.processed.clear()
    worker.attempts.clear()
    for body in ("ok-1", "fail-1", "ok-2"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    # when: one batch is delivered and the worker reports fail-1 as failed
    assert poller.poll_once() == 3

    # then: the good messages were processed and deleted
    assert sorted(worker.processed) == ["ok-1", "ok-2"]
    assert sorted(worker.attempts) == [("fail-1", 1), ("ok-1", 1), ("ok-2", 1)]

    # when: the visibility timeout passes
    assert _poll_until(poller) == 1

    # then: only the failed one came back, with a higher receive count
    assert worker.attempts[3:] == [("fail-1", 2)]
    assert sorted(worker.processed) == ["ok-1", "ok-2"]

    # when: it is received again after its second failure
    time.sleep(1.1)
    assert poller.poll_once() == 0

    # then: moto moved it to the dead-letter queue instead of delivering it a third time
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    )
    assert [m["Body"] for m in dead] == ["fail-1"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_sqs_record_has_the_lambda_shape(fixture_runtime: LocalRuntime) -> None:
    sqs = aws_client("sqs", fixture_runtime.endpoint_url)
    queue_url = fixture_runtime.template.queue_url("JobsQueue")
    _drain(sqs, queue_url)
    poller = fixture_runtime.driver("WorkerFunction", SqsPoller)
    assert isinstance(poller, SqsPoller)
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody="ok-shape",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "email"}},
    )
    message = sqs.receive_message(
        QueueUrl=queue_url, AttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=0
    )["Messages"][0]

    record = poller.record(message)

    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == fixture_runtime.template.get_att("JobsQueue", "Arn")
    assert record["awsRegion"] == "ap-southeast-1"
    assert record["body"] == "ok-shape"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"]["stringValue"] == "email"
    assert record["md5OfBody"] == message["MD5OfBody"]
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_stream_delivers_an_insert_with_its_new_image(fixture_runtime: LocalRuntime) -> None:
    # given: the stream consumer positioned at the latest record
    poller = fixture_runtime.driver("StreamFunction", StreamPoller)
    assert isinstance(poller, StreamPoller)
    poller.poll_once()
    consumer = fixture_runtime.functions["StreamFunction"]
    consumer.invoke({"Records": []})  # make sure its module is loaded
    received = consumer.modules["app"].received
    received.clear()

    # when: an item is written
    dynamodb = aws_client("dynamodb", fixture_runtime.endpoint_url)
    table = fixture_runtime.template.tables["EventsTable"].name
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "order#1"}, "status": {"S": "paid"}})
    delivered = poller.poll_once()

    # then: the function received an INSERT with the new image
    assert delivered == 1
    (record,) = received
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "ap-southeast-1"
    assert record["eventSourceARN"] == fixture_runtime.template.get_att("EventsTable", "StreamArn")
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "order#1"}}
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "order#1"}, "status": {"S": "paid"}}
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)

    # and: a later update arrives as MODIFY with both images, and nothing is delivered twice
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "order#1"}, "status": {"S": "shipped"}})
    assert poller.poll_once() == 1
    assert received[1]["eventName"] == "MODIFY"
    assert received[1]["dynamodb"]["OldImage"]["status"] == {"S": "paid"}
    assert poller.poll_once() == 0


def test_schedule_fires_when_due_with_the_scheduled_event_shape(
    fixture_runtime: LocalRuntime,
) -> None:
    # given: the clock function's schedules, started at a chosen time
    clock = fixture_runtime.functions["ClockFunction"]
    start = dt.datetime(2026, 11, 26, 7, 58, tzinfo=dt.UTC)
    sources = {s.event_name: s for s in fixture_runtime.template.schedules}
    every_five = ScheduleDriver(
        sources["EveryFiveMinutes"], clock, fixture_runtime.template, start=start
    )
    daily = ScheduleDriver(sources["DailyReport"], clock, fixture_runtime.template, start=start)
    clock.invoke({"warm": True})
    received = clock.modules["app"].received
    received.clear()

    # when: time passes to 08:00:30
    assert every_five.fire_due(start + dt.timedelta(minutes=4)) == 0
    assert received == []
    every_five.fire_due(start + dt.timedelta(minutes=5, seconds=1))
    daily.fire_due(dt.datetime(2026, 11, 26, 8, 0, 30, tzinfo=dt.UTC))

    # then: the rate schedule sent an EventBridge scheduled event, the cron one its Input
    scheduled, daily_input = received
    assert scheduled["detail-type"] == "Scheduled Event"
    assert scheduled["source"] == "aws.events"
    assert scheduled["time"] == "2026-11-26T08:03:00Z"
    assert scheduled["resources"][0].startswith("arn:aws:events:ap-southeast-1:123456789012:rule/")
    assert scheduled["detail"] == {}
    assert daily_input == {"job": "daily-report"}
    # and: each fires once per due time
    every_five.fire_due(start + dt.timedelta(minutes=5, seconds=2))
    assert len(received) == 2
    assert every_five.next_fire == start + dt.timedelta(minutes=10)


def test_disabled_schedules_get_no_driver(fixture_runtime: LocalRuntime) -> None:
    names = {d.name for d in fixture_runtime.drivers}

    assert "schedule:ClockFunction.EveryFiveMinutes" in names
    assert "schedule:ClockFunction.Disabled" not in names
