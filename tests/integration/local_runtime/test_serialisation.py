"""The emulation makes each request atomic, as DynamoDB serialises writes to an item."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from warung_local.emulation import Emulation, aws_client

THREADS = 20
STOCK = 10
ROUNDS = 20


def _create_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _buy(client: Any, table: str, key: dict[str, Any], start: threading.Barrier) -> bool:
    """One conditional decrement; whether it sold an item."""
    start.wait()
    try:
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET stock = stock - :one",
            ConditionExpression="stock > :zero",
            ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"}},
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Switch threads far more often than usual, so that unsafe interleavings do happen.

    With the default 5 ms switch interval moto rarely interleaves inside one request;
    with this, an emulation without the request lock oversells in most rounds.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_conditional_decrements_never_oversell(emulation: Emulation) -> None:
    # given: one item with a stock of 10 and 20 buyers racing for it, 20 rounds in a row
    dynamodb = aws_client("dynamodb", emulation.endpoint_url)
    table = f"stock-{uuid.uuid4().hex[:8]}"
    _create_table(dynamodb, table)
    clients = [aws_client("dynamodb", emulation.endpoint_url) for _ in range(THREADS)]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for round_no in range(ROUNDS):
            key = {"pk": {"S": f"item-{round_no}"}}
            dynamodb.put_item(TableName=table, Item={**key, "stock": {"N": str(STOCK)}})
            start = threading.Barrier(THREADS)

            # when: every buyer decrements at once
            sold = list(pool.map(lambda c, k=key, b=start: _buy(c, table, k, b), clients))

            # then: exactly the stock was sold and none is left
            item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
            assert (sold.count(True), item["stock"]["N"]) == (STOCK, "0"), f"round {round_no}"


def test_a_long_poll_does_not_hold_the_emulation(emulation: Emulation) -> None:
    # given: a consumer long-polling an empty queue
    sqs = aws_client("sqs", emulation.endpoint_url)
    queue_url = sqs.create_queue(QueueName=f"long-poll-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(
            aws_client("sqs", emulation.endpoint_url).receive_message,
            QueueUrl=queue_url,
            WaitTimeSeconds=5,
        )
        time.sleep(0.2)

        # when: another caller uses the emulation meanwhile
        started = time.monotonic()
        sqs.send_message(QueueUrl=queue_url, MessageBody="hello")
        other_call_s = time.monotonic() - started

        # then: that call is not stuck behind the poll, and the poll returns the message
        assert other_call_s < 1.0
        assert [m["Body"] for m in waiting.result(timeout=5)["Messages"]] == ["hello"]
