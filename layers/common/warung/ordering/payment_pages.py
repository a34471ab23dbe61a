"""Checkout's request for the provider's page, answered by the payments context
(docs/decisions/0021-payment-opener-invoked-by-checkout.md).

Only the payments context reads the provider's key, so checkout does not open the provider's
transaction itself: it invokes the payments context's opener function with the order id and
waits a bounded time for its ``action_url``. The opener reads the order and its payment
from the table (never an amount from the caller). Whatever goes wrong here (the opener
slow, failing, or unreachable) only costs the page: the order is committed already, and
``GET /v1/payments/{id}`` opens it later with the same idempotency key.
"""

from __future__ import annotations

import json
from typing import Any, Final

from warung.clients import aws_client
from warung.observability import MetricUnit, logger, metrics
from warung.settings import get_settings

# Seconds checkout waits for the opener: its own Timeout (6 s) and a margin. One attempt:
# a second would only ask again what the payment read asks later anyway.
OPENER_WAIT_S: Final = 7


def request_payment_page(order_id: str, correlation_id: str) -> str | None:
    """The provider's page of ``order_id``'s payment, opened by the payments context; None
    when it could not be opened now (logged and counted, never raised)."""
    function = get_settings().payment_opener_function
    if not function:
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    event = {"order_id": order_id, "correlation_id": correlation_id}
    try:
        answer: dict[str, Any] = aws_client(
            "lambda", read_timeout=OPENER_WAIT_S, max_attempts=1
        ).invoke(FunctionName=function, Payload=json.dumps(event).encode())
        body = json.loads(answer["Payload"].read() or b"null")
    except (BotoCoreError, ClientError, ValueError) as error:
        _unopened(order_id, type(error).__name__)
        return None
    if answer.get("FunctionError") or not isinstance(body, dict):
        _unopened(order_id, str(answer.get("FunctionError") or "no answer"))
        return None
    url = body.get("action_url")
    return url if isinstance(url, str) and url else None


def _unopened(order_id: str, reason: str) -> None:
    metrics.add_metric(name="PaymentOpenerUnavailable", unit=MetricUnit.Count, value=1)
    logger.warning(
        "payment opener did not answer; the payment page is opened later",
        extra={"order_id": order_id, "reason": reason},
    )
