"""Checkout once per ``Idempotency-Key`` (Powertools idempotency on the IdempotencyTable).

The record is keyed on the caller and the key, and remembers a hash of the body: the same
key with the same body returns the first response (the same order); with another body it is
``422 idempotency_key_reuse``; while the first request still runs, ``409``. A checkout that
fails (sold out, closed...) leaves no record, so the client may retry with the same key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from warung.dynamo import dynamodb_client
from warung.errors import Conflict, IdempotencyKeyReuse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.typing import LambdaContext

RECORD_SECONDS = 24 * 3600


def _run(*, request: dict[str, Any], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    del request  # the idempotency key and the body hash come from it
    return work()


@cache
def config() -> IdempotencyConfig:
    """The idempotency settings; Powertools' idempotency (and, through its DynamoDB layer,
    boto3) is imported on the first checkout, not at cold start: most requests to this
    function are cart and order reads."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="[user_id, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=RECORD_SECONDS,
    )


@cache
def _runner() -> Callable[..., dict[str, Any]]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE_NAME"], boto3_client=dynamodb_client()
    )
    runner: Callable[..., dict[str, Any]] = idempotent_function(
        data_keyword_argument="request", config=config(), persistence_store=persistence
    )(_run)
    return runner


def once(
    user_id: str,
    key: str,
    body: dict[str, Any],
    work: Callable[[], dict[str, Any]],
    context: LambdaContext | None = None,
) -> dict[str, Any]:
    """``work()``'s result, computed at most once per (user, key) within a day."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if context is not None:
        config().register_lambda_context(context)
    try:
        return _runner()(request={"user_id": user_id, "key": key, "body": body}, work=work)
    except IdempotencyValidationError:
        raise IdempotencyKeyReuse(
            "This Idempotency-Key was used with another request body; use a new key."
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly."
        ) from None
