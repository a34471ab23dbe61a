"""The payments context's opener (its own Lambda, invoked by checkout): opens the provider's
transaction of one order and answers its ``action_url``
(docs/decisions/0021-payment-opener-invoked-by-checkout.md).

Checkout sends the order id only. The order and its payment are read here, and the
provider is asked for exactly the stored payment's amount, with the order id as its
idempotency key, so that the provider never holds two transactions for one order however
often it is asked (checkout, then ``GET /v1/payments/{id}``). Only the payments context
reads the provider's key; the orders function may invoke this and nothing more.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import service
from warung.observability import entry_point


def open_page(event: dict[str, Any], _context: LambdaContext) -> dict[str, str | None]:
    """``{"order_id": …}`` in, ``{"action_url": … or None}`` out."""
    order_id = event.get("order_id") if isinstance(event, dict) else None
    if not isinstance(order_id, str) or not order_id:
        return {"action_url": None}
    return {"action_url": service.open_order_payment(order_id)}


handler = entry_point(open_page, correlation_id_path="correlation_id")
