"""Baseline handler of `make bench`: what every Python function pays at minimum.

It imports boto3 and creates a DynamoDB client at module level, as any handler that
talks to the table does, and nothing else. warung_bench.cold times the import of each
function's handler module against the import of this one.
"""

import boto3

client = boto3.client("dynamodb")


def handler(event: object, context: object) -> dict[str, object]:  # noqa: ARG001
    return {"statusCode": 200, "body": "{}"}
