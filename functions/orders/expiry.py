"""Order expiry (every minute, an EventBridge schedule): unpaid orders whose payment window
has ended become ``expired`` and give their stock and promo uses back (docs/product.md: a
``pending_payment`` order expires after 15 minutes).

The worklist is an index, never a Scan: an unpaid order carries ``gsi4`` keys
``PENDING#<shard>`` / ``<expires_at>#<id>`` that its first status change removes, so one
Query per shard reads exactly the orders due (16 shards, docs/decisions/0027). Each expiry
is its own transaction, conditional on the order's version: an order paid in the same
instant is left alone (the payment won). "Now" is the schedule event's own ``time``, so a
test drives the clock by sending a later event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders import service
from warung.context import RequestMeta
from warung.ids import utc_now
from warung.observability import MetricUnit, entry_point, logger, metrics


def _now(event: dict[str, Any]) -> datetime:
    stamp = event.get("time")
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            logger.warning("schedule event time %r is not a timestamp; using the clock", stamp)
    return utc_now()


@entry_point
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Expire what is due; report how many."""
    meta = RequestMeta(str(event.get("id") or context.aws_request_id), None, "order-expiry")
    expired = service.expire_due(_now(event), meta)
    if expired:
        metrics.add_metric(name="OrdersExpired", unit=MetricUnit.Count, value=expired)
        logger.info("expired unpaid orders", extra={"expired": expired})
    return {"expired": expired}
