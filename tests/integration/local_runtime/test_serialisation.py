"""The emulation makes each request atomic, as DynamoDB serialises writes to an item."""

from __future__ import annotations

import threading
import uuid
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


def test_concurrent_conditional_decrements_never_oversell(emulation: Emulation) -> None:
    # given: one item with a stock of 10, and 20 buyers racing for it, 20 rounds in a row
    dynamodb = aws_client("dynamodb", emulation.endpoint_url)
    table = f"stock-{uuid.uuid4().hex[:8]}"
    _create_table(dynamodb, table)
    clients = [aws_client("dynamodb", emulation.endpoint_url) for _ in range(THREADS)]

    for round_no in range(ROUNDS):
        key = {"pk": {"S": f"item-{round_no}"}}
        dynamodb.put_item(TableName=table, Item={**key, "stock": {"N": str(STOCK)}})
        successes: list[int] = []
        start = threading.Barrier(THREADS)

        def buy(client: Any) -> None:
            start.wait()
            try:
                client.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET stock = stock - :one",
                    ConditionExpression="stock > :zero",
                    ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"}},
                )
                successes.append(1)
            except client.exceptions.ConditionalCheckFailedException:
                pass

        # when: every buyer decrements at once
        threads = [threading.Thread(target=buy, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # then: exactly the stock was sold and none is left
        final = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["stock"][
            "N"
        ]
        assert (len(successes), final) == (STOCK, "0"), f"round {round_no}"
