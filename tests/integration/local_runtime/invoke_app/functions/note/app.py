"""Stores its event's note in the notes table and reads it back; fails when asked to."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "fail" in event:
        raise ValueError(event["fail"])
    table = boto3.resource("dynamodb").Table(os.environ["NOTES_TABLE"])
    table.put_item(Item={"pk": event["note"]})
    stored = table.get_item(Key={"pk": event["note"]}, ConsistentRead=True)["Item"]
    return {
        "stored": stored["pk"],
        "greeting": os.environ["GREETING"],
        "function_name": context.function_name,
    }
