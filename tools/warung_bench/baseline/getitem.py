"""Baseline of the first-request section of `make bench`: the bare handler that reads once.

The same module-level work as app.py (boto3 and a DynamoDB client), and a handler that makes
one GetItem of the key its event names: the least that any function answering a request
from the table pays on a cold start. warung_bench.first sets every route family's import
plus first request against this one's import plus its GetItem.
"""

import boto3

client = boto3.client("dynamodb")


def handler(event: dict[str, object], context: object) -> dict[str, object]:  # noqa: ARG001
    found = client.get_item(TableName=event["table"], Key=event["key"]).get("Item")
    return {"statusCode": 200 if found else 404, "body": "{}"}
