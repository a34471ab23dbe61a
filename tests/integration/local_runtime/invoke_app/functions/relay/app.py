"""Invokes the function its event names through the Lambda API and reports the answer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # One attempt, 20 s at most: a deadlocked invocation fails its test instead of hanging.
    client = boto3.client("lambda", config=Config(read_timeout=20, retries={"max_attempts": 1}))
    answer = client.invoke(
        FunctionName=event["target"], Payload=json.dumps(event["payload"]).encode()
    )
    return {
        "function_error": answer.get("FunctionError"),
        "payload": json.loads(answer["Payload"].read()),
    }
