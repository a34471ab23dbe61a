"""Cash on delivery (docs/product.md, "Cash on delivery"): who may pay at the door, and
what each change of a cash-on-delivery order does to its payment. Pure: no DynamoDB, no
HTTP.

A customer's standing (``warung.store.orders.CodStanding``) counts their undelivered
cash-on-delivery orders (at most one) and keeps the moments of their failed deliveries: the
second failure within 90 days takes cash on delivery away until an admin gives it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from warung.errors import CodLimitExceeded, CodNotAccepted, CodNotAvailable, CodOrderOpen
from warung.ordering.lifecycle import FINAL_STATUSES, OrderStatus

MAX_OPEN_ORDERS = 1  # undelivered cash-on-delivery orders one customer may have
FAILURE_WINDOW = timedelta(days=90)
MAX_FAILURES = 2  # failed deliveries within the window that take cash on delivery away

DUE_ON_DELIVERY = "due_on_delivery"  # the payment of a placed order until it is delivered
COLLECTED = "collected"  # the cash was handed over at delivery

_PAYMENT_AFTER: dict[str, str] = {
    OrderStatus.DELIVERED: COLLECTED,
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.REJECTED: "cancelled",
    OrderStatus.FAILED_DELIVERY: "failed",
}


def check_customer(*, revoked: bool) -> None:
    """Refuse cash on delivery to a customer who lost it (403 ``cod_not_available``)."""
    if revoked:
        raise CodNotAvailable(
            "Cash on delivery is not available on your account after failed deliveries; "
            "pay online, or ask support to restore it."
        )


def check_checkout(
    *,
    total: int,
    limit: int,
    merchant_accepts: bool,
    revoked: bool,
    open_orders: int,
) -> None:
    """Allow a cash-on-delivery checkout of ``total`` rupiah, or raise the reason it is
    refused: the customer lost cash on delivery (403), the merchant does not take it (422),
    the order is above the ceiling (422), another one is still undelivered (409)."""
    check_customer(revoked=revoked)
    if not merchant_accepts:
        raise CodNotAccepted("This merchant does not take cash on delivery; pay online.")
    if total > limit:
        raise CodLimitExceeded(
            f"Cash on delivery is for orders up to Rp {limit:,} (this one is Rp {total:,}); "
            "pay online.".replace(",", ".")
        )
    if open_orders >= MAX_OPEN_ORDERS:
        raise CodOrderOpen(
            "You already have a cash-on-delivery order on its way; "
            "wait for it, or pay this one online."
        )


def payment_status_after(target: OrderStatus | str) -> str | None:
    """The payment's status once a cash-on-delivery order moves to ``target`` (``None``: it
    stays ``due_on_delivery``). Nothing was taken, so nothing is ever refunded."""
    return _PAYMENT_AFTER.get(str(target))


def frees_slot(target: OrderStatus | str) -> bool:
    """The order stops counting as undelivered: it has reached a final status."""
    return target in FINAL_STATUSES


def failures_kept(failures: Iterable[str], now: datetime) -> list[str]:
    """The failures that still count at ``now`` (within the window), oldest first."""
    since = now - FAILURE_WINDOW
    return sorted(f for f in failures if datetime.fromisoformat(f) > since)


def revokes(failures_before: Iterable[str], now: datetime) -> bool:
    """Whether one more failed delivery at ``now`` takes cash on delivery away."""
    return len(failures_kept(failures_before, now)) + 1 >= MAX_FAILURES
