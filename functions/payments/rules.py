"""The payment decisions (docs/product.md, Payments): what a provider's event does to a payment and
its order, and which payments the simulator may still play. Plain values in, a decision
out: no DynamoDB, no HTTP.

What an event does, by its type, the payment's status and the order's status:

- ``payment.succeeded`` on a payment still open (``pending``, or ``failed`` and retried):
  the order is paid if it is still ``pending_payment`` and the amount and currency are the
  payment's; a wrong amount or currency pays nothing and refunds nothing (audited, counted,
  for an operator to settle); an order that ended unpaid (expired, cancelled) got money for
  nothing, which goes back (the payment becomes ``refund_pending`` and the provider is
  asked to refund). On a payment already paid, being refunded or refunded: nothing happens.
- ``payment.failed`` marks an open payment ``failed`` (the order waits until it expires:
  the customer may try again); a failure after a success never un-pays anything.
- ``refund.succeeded`` ends a ``refund_pending`` payment as ``refunded`` and tells the
  customer; a refund nobody asked for changes nothing and is audited for an operator.
- An event about a payment we do not know, or whose order is not the payment's, changes
  nothing: it is recorded and audited, and the provider gets its 200 (a 4xx would only
  make it retry for days).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

from warung.errors import Conflict

PENDING: Final = "pending"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
REFUND_PENDING: Final = "refund_pending"
REFUNDED: Final = "refunded"
REFUND_MANUAL: Final = "refund_manual"
"""The provider cannot refund the method (a bank transfer): an operator refunds by hand."""
CANCELLED: Final = "cancelled"
EXPIRED: Final = "expired"
PAYMENT_STATUSES: Final = (
    PENDING,
    SUCCEEDED,
    FAILED,
    REFUND_PENDING,
    REFUNDED,
    REFUND_MANUAL,
    CANCELLED,
    EXPIRED,
)

OPEN: Final = frozenset({PENDING, FAILED})
"""Payments that may still succeed: waiting, or failed and tried again."""
MONEY_RECEIVED: Final = frozenset({SUCCEEDED, REFUND_PENDING, REFUNDED, REFUND_MANUAL})
"""Payments whose money arrived (and may be on its way back)."""
CLOSED_UNPAID: Final = frozenset({CANCELLED, EXPIRED})
"""Payments of orders that ended unpaid (set by the orders function and its scheduler)."""

ORDER_AWAITING_PAYMENT: Final = "pending_payment"
ORDER_ENDED_UNPAID: Final = frozenset({"expired", "cancelled", "rejected"})
"""Orders that will never be paid: money arriving for them goes back."""


class Outcome(StrEnum):
    """What an event does."""

    PAY = "pay"
    """Order ``pending_payment → paid``, payment ``→ succeeded``, the paid order's jobs."""
    AMOUNT_MISMATCH = "amount_mismatch"
    """Nothing is paid or refunded: the amount or currency is not the payment's."""
    REFUND_LATE_PAYMENT = "refund_late_payment"
    """Money for an order no longer waiting: payment ``→ refund_pending`` and a refund job."""
    FAIL = "fail"
    """Payment ``→ failed``; the order stays as it is."""
    REFUNDED = "refunded"
    """Payment ``refund_pending → refunded`` and the customer's refund e-mail."""
    NO_EFFECT = "no_effect"
    """Already settled by an earlier event (another event id for the same fact)."""
    IGNORED = "ignored"
    """About nothing we know, or inconsistent: recorded, audited, logged; nothing changes."""


@dataclass(frozen=True)
class EventFacts:
    """What a provider's event says."""

    type: str
    payment_id: str
    order_id: str
    amount: int
    currency: str


@dataclass(frozen=True)
class PaymentFacts:
    """The payment as stored."""

    status: str
    order_id: str
    amount: int
    currency: str


@dataclass(frozen=True)
class OrderFacts:
    """The payment's order as stored."""

    status: str
    payment_id: str


@dataclass(frozen=True)
class Decision:
    """An outcome, the payment's status after it (``None``: unchanged) and why, for logs
    and the audit entry."""

    outcome: Outcome
    payment_status: str | None
    reason: str

    @property
    def changes_payment(self) -> bool:
        """True when the payment's status moves."""
        return self.payment_status is not None


def decide(event: EventFacts, payment: PaymentFacts | None, order: OrderFacts | None) -> Decision:
    """What ``event`` does to ``payment`` (``None``: unknown) and its ``order``."""
    if payment is None:
        return Decision(Outcome.IGNORED, None, "unknown payment")
    if event.order_id != payment.order_id:
        return Decision(Outcome.IGNORED, None, "the event's order is not the payment's")
    if order is None:
        return Decision(Outcome.IGNORED, None, "the payment's order does not exist")
    if order.payment_id != event.payment_id:
        return Decision(Outcome.IGNORED, None, "the order is paid through another payment")
    if event.type == "payment.succeeded":
        return _succeeded(event, payment, order)
    if event.type == "payment.failed":
        return _failed(payment)
    if event.type == "refund.succeeded":
        return _refunded(event, payment)
    return Decision(Outcome.IGNORED, None, f"unknown event type {event.type}")


def amount_matches(event: EventFacts, payment: PaymentFacts) -> bool:
    """The event moved exactly the payment's amount, in its currency."""
    return event.amount == payment.amount and event.currency == payment.currency


def _succeeded(event: EventFacts, payment: PaymentFacts, order: OrderFacts) -> Decision:
    if payment.status in MONEY_RECEIVED:
        return Decision(Outcome.NO_EFFECT, None, f"the payment is already {payment.status}")
    if payment.status not in OPEN | CLOSED_UNPAID:
        return Decision(Outcome.IGNORED, None, f"unknown payment status {payment.status}")
    if not amount_matches(event, payment):
        return Decision(Outcome.AMOUNT_MISMATCH, None, "amount or currency differs")
    if payment.status in OPEN and order.status == ORDER_AWAITING_PAYMENT:
        return Decision(Outcome.PAY, SUCCEEDED, "paid in time")
    if order.status in ORDER_ENDED_UNPAID or payment.status in CLOSED_UNPAID:
        # A closed payment belongs to an order that ended unpaid, whatever it says now.
        return Decision(Outcome.REFUND_LATE_PAYMENT, REFUND_PENDING, f"the order is {order.status}")
    return Decision(
        Outcome.IGNORED, None, f"the order is {order.status} while the payment is {payment.status}"
    )


def _failed(payment: PaymentFacts) -> Decision:
    if payment.status == PENDING:
        return Decision(Outcome.FAIL, FAILED, "the provider refused the payment")
    if payment.status in MONEY_RECEIVED:
        return Decision(
            Outcome.NO_EFFECT,
            None,
            f"a failure after a success: stays {payment.status}",
        )
    return Decision(Outcome.NO_EFFECT, None, f"the payment is already {payment.status}")


def _refunded(event: EventFacts, payment: PaymentFacts) -> Decision:
    if payment.status == REFUNDED:
        return Decision(Outcome.NO_EFFECT, None, "the payment is already refunded")
    if payment.status != REFUND_PENDING:
        return Decision(
            Outcome.IGNORED, None, f"a refund nobody asked for (the payment is {payment.status})"
        )
    if not amount_matches(event, payment):
        return Decision(Outcome.AMOUNT_MISMATCH, None, "refunded amount or currency differs")
    return Decision(Outcome.REFUNDED, REFUNDED, "refund confirmed")


# ---------------------------------------------------------------- a provider's record

_EVENT_OF_STATUS: Final[
    dict[str, Literal["payment.succeeded", "payment.failed", "refund.succeeded"]]
] = {
    "paid": "payment.succeeded",
    "failed": "payment.failed",
    "refunded": "refund.succeeded",
}


def event_type_of(
    status_kind: str,
) -> Literal["payment.succeeded", "payment.failed", "refund.succeeded"] | None:
    """The event a provider's confirmed record amounts to (``warung.ordering.payments.
    ProviderStatus.kind``); None while it is pending, or for what Warung does not act on
    by itself (a partial refund: an operator's matter)."""
    return _EVENT_OF_STATUS.get(status_kind)


# ---------------------------------------------------------------- daily reconciliation

PAID_HERE_NOT_THERE: Final = "paid_here_not_there"
PAID_THERE_NOT_HERE: Final = "paid_there_not_here"
DIFFERENT_AMOUNTS: Final = "different_amounts"


def mismatch(
    here_status: str, here_amount: int, there_kind: str, there_amount: int | None
) -> str | None:
    """What the provider's record of a payment says against ours, or None if they agree.

    Paid here: money received (``succeeded``, ``refund_pending``, ``refund_manual``) or
    ``refunded``; paid there: ``paid``, ``refunded`` or ``partially_refunded``. A payment
    both sides call paid must have one amount."""
    paid_here = here_status in MONEY_RECEIVED
    paid_there = there_kind in ("paid", "refunded", "partially_refunded")
    if paid_here and not paid_there:
        return PAID_HERE_NOT_THERE
    if paid_there and not paid_here:
        return PAID_THERE_NOT_HERE
    if paid_here and there_amount != here_amount:
        return DIFFERENT_AMOUNTS
    return None


# ---------------------------------------------------------------- the simulator


def check_simulatable(status: str, provider: str, simulator_name: str) -> None:
    """The simulator may play the provider for an open payment of its own, else 409."""
    if provider != simulator_name:
        raise Conflict(f"This payment goes through {provider}; it cannot be simulated.")
    if status not in OPEN:
        raise Conflict(f"The payment is {status}; only a pending or failed payment can be paid.")
