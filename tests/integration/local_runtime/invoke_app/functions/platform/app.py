"""A healthy version: the health check answers 200 {"status": "ok"}."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps({"status": "ok"})}
