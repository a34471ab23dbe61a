"""The API side: records every webhook it receives and answers with it and its process id."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

received: list[Any] = []  # the bodies of the webhooks, in order


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    body = json.loads(event["body"] or "null")
    received.append(body)
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"received": body, "receiver_pid": os.getpid()}),
    }
