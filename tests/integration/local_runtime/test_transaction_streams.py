"""A cancelled transaction writes nothing, to the stream neither (as in DynamoDB)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from warung_local.emulation import Emulation, aws_client


def stream_keys(streams: Any, iterator: str) -> tuple[list[str], str]:
    response = streams.get_records(ShardIterator=iterator)
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in response["Records"]]
    return keys, response["NextShardIterator"]


def test_cancelled_transaction_leaves_no_stream_record_and_the_stream_goes_on(
    emulation: Emulation,
) -> None:
    dynamodb = aws_client("dynamodb", emulation.endpoint_url)
    streams = aws_client("dynamodbstreams", emulation.endpoint_url)
    table = dynamodb.create_table(
        TableName="tx-stream",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    arn = table["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]

    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "tx-stream", "Item": {"pk": {"S": "phantom"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "tx-stream",
                        "Key": {"pk": {"S": "missing"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    dynamodb.put_item(TableName="tx-stream", Item={"pk": {"S": "real"}})

    keys, _ = stream_keys(streams, iterator)
    assert keys == ["real"]


def test_cancelled_transaction_puts_every_item_back_as_it_was(emulation: Emulation) -> None:
    # given items a transaction will put over, update, delete and create
    dynamodb = aws_client("dynamodb", emulation.endpoint_url)
    dynamodb.create_table(
        TableName="tx-rollback",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for sk, stock in (("a", "5"), ("b", "7"), ("c", "9")):
        dynamodb.put_item(
            TableName="tx-rollback",
            Item={"pk": {"S": "p"}, "sk": {"S": sk}, "stock": {"N": stock}},
        )

    # when the last action's condition fails
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "tx-rollback", "Item": {"pk": {"S": "p"}, "sk": {"S": "a"}}}},
                {
                    "Update": {
                        "TableName": "tx-rollback",
                        "Key": {"pk": {"S": "p"}, "sk": {"S": "b"}},
                        "UpdateExpression": "SET stock = stock - :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Delete": {
                        "TableName": "tx-rollback",
                        "Key": {"pk": {"S": "p"}, "sk": {"S": "c"}},
                    }
                },
                {
                    "Put": {
                        "TableName": "tx-rollback",
                        "Item": {"pk": {"S": "p"}, "sk": {"S": "new"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "tx-rollback",
                        "Key": {"pk": {"S": "p"}, "sk": {"S": "missing"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    # then the table is exactly as before
    items = dynamodb.query(
        TableName="tx-rollback",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        ConsistentRead=True,
    )["Items"]
    assert [(i["sk"]["S"], i.get("stock", {}).get("N")) for i in items] == [
        ("a", "5"),
        ("b", "7"),
        ("c", "9"),
    ]
