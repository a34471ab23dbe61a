"""The emulation makes each request atomic, as DynamoDB serialises writes to an item."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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
