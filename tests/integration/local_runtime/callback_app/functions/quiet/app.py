"""An SQS consumer that calls nothing: its event source stays in the runtime's process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

batches: list[list[str]] = []


def handler(event: dict[str, Any], context: LambdaContext) -> None:
    batches.append([record["body"] for record in event["Records"]])
