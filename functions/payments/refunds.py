"""The payments context's refund consumer (its own Lambda on its own SQS queue): the
``payment.refund`` jobs of a real provider's payments, which the outbox relay sends here
rather than to the generic worker, because only the payments context holds the provider's
key (docs/decisions/0020-midtrans-snap.md).

Each job asks the provider for the refund; the provider confirms with a notification,
which the webhook verifies and confirms like any other. A method the provider cannot
refund (a bank transfer) makes the payment ``refund_manual``: audited, counted
(``RefundsManual``, alarmed) for an operator. A provider that does not answer fails the
message: SQS tries again later, then the dead-letter queue keeps it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import service
from warung.jobs import RefundPayment
from warung.observability import entry_point, logger

processor = BatchProcessor(event_type=EventType.SQS)


def refund(record: SQSRecord) -> None:
    """One ``payment.refund`` job."""
    message: dict[str, Any] = json.loads(record.body)
    if message.get("job_type") != RefundPayment.job_type:
        logger.warning("not a refund job: dropped", extra={"job_type": message.get("job_type")})
        return
    logger.set_correlation_id(str(message.get("correlation_id") or ""))
    service.refund_with_provider(
        RefundPayment.model_validate(message["payload"]), str(message.get("job_id") or "")
    )


def refund_batch(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS batch in, partial batch failures out."""
    return process_partial_response(
        event=event, record_handler=refund, processor=processor, context=context
    )


handler = entry_point(refund_batch)
