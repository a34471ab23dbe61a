"""FilterCriteria, the SQS batching window and a stream's OnFailure destination, step by step."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any

import pytest

from warung_local.emulation import aws_client
from warung_local.runtime import LocalRuntime
from warung_local.sources import SqsPoller, StreamPoller


def _batches(runtime: LocalRuntime, function_id: str) -> list[list[dict[str, Any]]]:
    function = runtime.functions[function_id]
    if "app" not in function.modules:
        function.load()
    batches: list[list[dict[str, Any]]] = function.modules["app"].batches
    batches.clear()
    return batches


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    drained: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return drained
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        drained.extend(messages)


@pytest.fixture
def sqs(fixture_runtime: LocalRuntime) -> Any:
    return aws_client("sqs", fixture_runtime.endpoint_url)


@pytest.fixture
def dynamodb(fixture_runtime: LocalRuntime) -> Any:
    return aws_client("dynamodb", fixture_runtime.endpoint_url)


def _queue_counts(sqs: Any, queue_url: str) -> tuple[str, str]:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    return (
        attributes["ApproximateNumberOfMessages"],
        attributes["ApproximateNumberOfMessagesNotVisible"],
    )


def test_sqs_filter_delivers_matching_messages_and_deletes_the_others(
    fixture_runtime: LocalRuntime, sqs: Any
) -> None:
    # given: the orders queue, filtered to JSON orders with a positive total or "urgent:" text
    queue_url = fixture_runtime.template.queue_url("OrdersQueue")
    _drain(sqs, queue_url)
    poller = fixture_runtime.driver("OrdersFunction", SqsPoller)
    assert isinstance(poller, SqsPoller)
    batches = _batches(fixture_runtime, "OrdersFunction")
    bodies = [
        json.dumps({"kind": "order", "total": 12}),
        json.dumps({"kind": "order", "total": 0}),
        json.dumps({"kind": "refund", "total": 5}),
        "urgent: restock",
        "routine: restock",
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    filtered_before = poller.filtered_out

    # when: one batch is collected (without waiting out the window)
    assert poller.poll_once(wait=False) == 5

    # then: one invocation with only the matching messages, bodies unchanged
    assert [[r["body"] for r in batch] for batch in batches] == [[bodies[0], "urgent: restock"]]
    # and: every message is gone from the queue: the filtered ones were deleted, not left
    # to come back after the visibility timeout (and end in a dead-letter queue)
    assert _queue_counts(sqs, queue_url) == ("0", "0")
    assert poller.filtered_out - filtered_before == 3


def test_sqs_no_invocation_when_nothing_matches(fixture_runtime: LocalRuntime, sqs: Any) -> None:
    queue_url = fixture_runtime.template.queue_url("OrdersQueue")
    _drain(sqs, queue_url)
    poller = fixture_runtime.driver("OrdersFunction", SqsPoller)
    assert isinstance(poller, SqsPoller)
    batches = _batches(fixture_runtime, "OrdersFunction")
    sqs.send_message(QueueUrl=queue_url, MessageBody="routine: nothing to see")

    assert poller.poll_once(wait=False) == 1

    assert batches == []
    assert _queue_counts(sqs, queue_url) == ("0", "0")


def test_sqs_batching_window_collects_until_the_batch_is_full(
    fixture_runtime: LocalRuntime, sqs: Any
) -> None:
    # given: the orders source (1 s window) with a BatchSize of 2, one message queued
    queue_url = fixture_runtime.template.queue_url("OrdersQueue")
    _drain(sqs, queue_url)
    driver = fixture_runtime.driver("OrdersFunction", SqsPoller)
    assert isinstance(driver, SqsPoller)
    source = dataclasses.replace(driver.source, batch_size=2)
    poller = SqsPoller(source, driver.function, sqs, queue_url, driver.queue_arn, driver.region)
    batches = _batches(fixture_runtime, "OrdersFunction")
    sqs.send_message(QueueUrl=queue_url, MessageBody="urgent: first")
    later = threading.Timer(
        0.3, lambda: sqs.send_message(QueueUrl=queue_url, MessageBody="urgent: second")
    )

    # when: the second message arrives while the window is open
    later.start()
    started = time.monotonic()
    received = poller.poll_once()
    elapsed = time.monotonic() - started
    later.join()

    # then: both went in one invocation, as soon as the batch was full
    assert received == 2
    assert [[r["body"] for r in b] for b in batches] == [["urgent: first", "urgent: second"]]
    assert 0.25 <= elapsed < 1.0

    # and: without waiting, a lone message is delivered at once
    sqs.send_message(QueueUrl=queue_url, MessageBody="urgent: alone")
    started = time.monotonic()
    assert poller.poll_once(wait=False) == 1
    assert time.monotonic() - started < 0.5
    assert [r["body"] for r in batches[-1]] == ["urgent: alone"]


def test_stream_filter_delivers_only_new_orders(
    fixture_runtime: LocalRuntime, dynamodb: Any
) -> None:
    # given: the new-orders consumer of the events stream, at the latest record
    poller = fixture_runtime.driver("NewOrdersFunction", StreamPoller)
    assert isinstance(poller, StreamPoller)
    poller.poll_once()
    batches = _batches(fixture_runtime, "NewOrdersFunction")
    table = fixture_runtime.template.tables["EventsTable"].name

    # when: an order is created then updated, and a user is created
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "order#77"}, "status": {"S": "new"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "order#77"}, "status": {"S": "paid"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "user#5"}, "name": {"S": "Sari"}})
    filtered_before = poller.filtered_out
    delivered = poller.poll_once()

    # then: only the INSERT of the order reached the function, in one invocation
    assert delivered == 1
    ((record,),) = batches
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "order#77"}}
    assert poller.filtered_out - filtered_before == 2

    # and: the skipped records are not read again; nothing matching means no invocation
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "user#6"}, "name": {"S": "Budi"}})
    assert poller.poll_once() == 0
    assert len(batches) == 1


def _failure_records(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in _drain(sqs, queue_url)]


def _fresh_ledger_poller(runtime: LocalRuntime) -> StreamPoller:
    poller = runtime.driver("LedgerFunction", StreamPoller)
    assert isinstance(poller, StreamPoller)
    poller.backoff_base_s = 0.05  # keep the test quick; the retry count is what matters
    poller.poll_once()  # skip whatever an earlier test left on the stream
    return poller


def test_stream_failure_goes_to_the_on_failure_queue_and_the_shard_moves_on(
    fixture_runtime: LocalRuntime, sqs: Any, dynamodb: Any
) -> None:
    # given: the ledger consumer (MaximumRetryAttempts 1) whose function fails on "bad" items
    failures_url = fixture_runtime.template.queue_url("LedgerFailuresQueue")
    poller = _fresh_ledger_poller(fixture_runtime)
    _drain(sqs, failures_url)
    batches = _batches(fixture_runtime, "LedgerFunction")
    table = fixture_runtime.template.tables["LedgerTable"].name

    # when: a bad item is written and the stream polled
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "bad#1"}})
    assert poller.poll_once() == 1

    # then: the function was invoked twice (the first try and one retry)
    assert [[r["dynamodb"]["Keys"]["pk"]["S"] for r in b] for b in batches] == [["bad#1"]] * 2
    sequence = batches[0][0]["dynamodb"]["SequenceNumber"]
    # and: an invocation record shaped as Lambda's landed in the on-failure queue
    (failure,) = _failure_records(sqs, failures_url)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert failure["requestContext"]["functionArn"] == (
        fixture_runtime.functions["LedgerFunction"].spec.arn
    )
    assert failure["requestContext"]["requestId"]
    assert failure["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert failure["version"] == "1.0"
    assert failure["timestamp"].endswith("Z")
    info = failure["DDBStreamBatchInfo"]
    assert info["shardId"] in poller._iterators
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence
    assert info["batchSize"] == 1
    assert info["streamArn"] == fixture_runtime.template.get_att("LedgerTable", "StreamArn")
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert info["approximateArrivalOfLastRecord"] == info["approximateArrivalOfFirstRecord"]

    # when: a good item follows
    batches.clear()
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "good#1"}})

    # then: it is delivered; the bad record is not tried again
    assert poller.poll_once() == 1
    assert [[r["dynamodb"]["Keys"]["pk"]["S"] for r in b] for b in batches] == [["good#1"]]
    assert _failure_records(sqs, failures_url) == []


def test_stream_bisects_a_failing_batch_down_to_the_bad_record(
    fixture_runtime: LocalRuntime, sqs: Any, dynamodb: Any
) -> None:
    # given: three records in one batch, the middle one bad (BisectBatchOnFunctionError)
    failures_url = fixture_runtime.template.queue_url("LedgerFailuresQueue")
    poller = _fresh_ledger_poller(fixture_runtime)
    _drain(sqs, failures_url)
    batches = _batches(fixture_runtime, "LedgerFunction")
    table = fixture_runtime.template.tables["LedgerTable"].name
    for pk in ("good#a", "bad#b", "good#c"):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": pk}})

    # when: the batch is delivered
    assert poller.poll_once() == 3

    # then: it was split (splits do not use up retries) until the bad record was alone
    keys = [[r["dynamodb"]["Keys"]["pk"]["S"] for r in b] for b in batches]
    assert keys == [
        ["good#a", "bad#b", "good#c"],
        ["good#a"],
        ["bad#b", "good#c"],
        ["bad#b"],
        ["bad#b"],  # its one retry
        ["good#c"],
    ]
    # and: only the bad record was reported to the on-failure queue
    (failure,) = _failure_records(sqs, failures_url)
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert (
        failure["DDBStreamBatchInfo"]["startSequenceNumber"]
        == (batches[3][0]["dynamodb"]["SequenceNumber"])
    )


def test_stopping_the_stream_driver_interrupts_its_backoff(
    fixture_runtime: LocalRuntime, dynamodb: Any
) -> None:
    # given: a ledger driver running in the background with the longest local backoff
    driver = fixture_runtime.driver("LedgerFunction", StreamPoller)
    assert isinstance(driver, StreamPoller)
    poller = StreamPoller(
        driver.source, driver.function, driver.streams, driver.stream_arn, driver.region
    )
    poller.backoff_base_s = poller.MAX_BACKOFF_S
    batches = _batches(fixture_runtime, "LedgerFunction")
    table = fixture_runtime.template.tables["LedgerTable"].name
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "bad#slow"}})
    poller.start()
    deadline = time.monotonic() + 3
    while not batches and time.monotonic() < deadline:
        time.sleep(0.02)
    assert batches, "the driver never invoked the function"

    # when: it is stopped while waiting to retry
    started = time.monotonic()
    poller.stop()

    # then: it stops at once rather than after the backoff
    assert time.monotonic() - started < 0.5
    assert len(batches) == 1
