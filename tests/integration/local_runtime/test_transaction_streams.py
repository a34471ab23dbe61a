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
