"""Request and response bodies of the payment routes (the API contract; docs/product.md,
Payments)."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from typing import Literal

from pydantic import Field

from warung.models import ApiModel, RequestModel

PaymentStatus = Literal[
    "pending",
    "succeeded",
    "failed",
    "refund_pending",
    "refunded",
    "refund_manual",
    "cancelled",
    "expired",
]
# Cash on delivery (docs/product.md): due at the door, collected when delivered.
CashPaymentStatus = Literal["due_on_delivery", "collected"]


class PaymentOut(ApiModel):
    """A payment as its customer sees it."""

    id: str
    order_id: str
    status: PaymentStatus | CashPaymentStatus
    amount: int = Field(ge=0, description="Whole rupiah (IDR): the order's total.")
    currency: str = Field(examples=["IDR"])
    provider: str = Field(
        examples=["simulator"], description="`cash` for a cash-on-delivery order's payment."
    )
    action_url: str | None = Field(
        default=None,
        description="Where the customer pays (the provider's page). Opened on this read if "
        "checkout could not open it in time; `null` with the simulator, or while the provider "
        "does not answer.",
    )


class SimulationRequest(RequestModel):
    """What the simulated provider should report."""

    outcome: Literal["succeeded", "failed"]


class SimulationAccepted(ApiModel):
    """Queued: the signed webhook follows shortly."""

    status: Literal["accepted"] = "accepted"


class WebhookReceipt(ApiModel):
    """The event was taken in (or had been before: ``duplicate``)."""

    received: Literal[True] = True
    duplicate: bool = False
