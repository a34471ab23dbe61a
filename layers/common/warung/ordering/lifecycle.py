"""The order's life cycle (docs/product.md, Cart, checkout and orders): which status
changes exist, who may make each, and what each one sets off. Plain data and functions: no
DynamoDB, no HTTP.

Who may do what:

- customer (the order's own): cancel from ``pending_payment``, ``paid`` or ``placed``;
- member (owner, manager or staff of the order's merchant): ``paid | placed → accepted |
  rejected``, ``accepted → preparing``, ``preparing → out_for_delivery``, ``out_for_delivery
  → delivered``, and for a cash-on-delivery order ``out_for_delivery → failed_delivery``;
- admin: the member changes only, so an operator can unstick an order for a merchant. An
  admin cannot cancel for the customer, mark an order paid or expire it: those move money or
  stock on someone else's behalf and stay with the customer and the system;
- nobody moves an order to ``placed``: a cash-on-delivery order starts there (it has no
  payment to wait for);
- system: ``pending_payment → paid`` (the payment webhook) and ``pending_payment → expired``
  (the scheduler, after 15 minutes).

The caller checks first that the actor is this order's customer or a member of its
merchant; this module only knows the kinds of actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, TypedDict, get_args

from warung.errors import Forbidden, InvalidTransition
from warung.ids import rfc3339

ActorKind = Literal["customer", "member", "admin", "system"]
ACTOR_KINDS: tuple[str, ...] = get_args(ActorKind)
MerchantWebhook = Literal["order.paid", "order.placed", "order.cancelled"]
PaymentMethod = Literal["online", "cash_on_delivery"]
PAYMENT_METHODS: tuple[str, ...] = get_args(PaymentMethod)
CASH_ON_DELIVERY: PaymentMethod = "cash_on_delivery"


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PLACED = "placed"  # cash on delivery: with the merchant at once, paid at the door
    ACCEPTED = "accepted"
    PREPARING = "preparing"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED_DELIVERY = "failed_delivery"  # cash on delivery: nobody to hand it to, or no cash
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


_MERCHANT_SIDE: frozenset[ActorKind] = frozenset({"member", "admin"})

TRANSITIONS: dict[tuple[OrderStatus, OrderStatus], frozenset[ActorKind]] = {
    (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID): frozenset({"system"}),
    (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED): frozenset({"system"}),
    (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED): frozenset({"customer"}),
    (OrderStatus.PAID, OrderStatus.CANCELLED): frozenset({"customer"}),
    (OrderStatus.PAID, OrderStatus.ACCEPTED): _MERCHANT_SIDE,
    (OrderStatus.PAID, OrderStatus.REJECTED): _MERCHANT_SIDE,
    (OrderStatus.PLACED, OrderStatus.CANCELLED): frozenset({"customer"}),
    (OrderStatus.PLACED, OrderStatus.ACCEPTED): _MERCHANT_SIDE,
    (OrderStatus.PLACED, OrderStatus.REJECTED): _MERCHANT_SIDE,
    (OrderStatus.ACCEPTED, OrderStatus.PREPARING): _MERCHANT_SIDE,
    (OrderStatus.PREPARING, OrderStatus.OUT_FOR_DELIVERY): _MERCHANT_SIDE,
    (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED): _MERCHANT_SIDE,
    (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.FAILED_DELIVERY): _MERCHANT_SIDE,
}
"""Every status change that exists, and the kinds of actor that may make it."""

CASH_ON_DELIVERY_ONLY: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    {(OrderStatus.OUT_FOR_DELIVERY, OrderStatus.FAILED_DELIVERY)}
)
"""Changes that exist for cash-on-delivery orders only: an order paid online that cannot be
handed over is the customer's to cancel, with its refund, not a failed cash collection."""

FINAL_STATUSES: frozenset[OrderStatus] = frozenset(
    {
        OrderStatus.DELIVERED,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.FAILED_DELIVERY,
    }
)
"""Statuses with no way out."""


@dataclass(frozen=True)
class Effects:
    """What a status change sets off, for the service to write in the same transaction
    (stock, refund) or into the outbox (e-mails, merchant webhook)."""

    releases_stock: bool
    refunds: bool
    notify_customer: bool
    notify_merchant_owner: bool
    merchant_webhook: MerchantWebhook | None


class HistoryEntry(TypedDict):
    """One element of an order's ``status_history``."""

    status: str
    at: str
    by: str


def check_transition(
    current: OrderStatus | str,
    target: OrderStatus | str,
    actor_kind: ActorKind,
    payment_method: str = "online",
) -> None:
    """Allow ``current → target`` by this kind of actor, or raise.

    ``InvalidTransition`` (409) when no such change exists from ``current`` (including
    unknown statuses and staying in place); ``Forbidden`` (403) when it exists but belongs
    to another kind of actor, such as a customer accepting their own order.
    """
    transition = _parse(current, target)
    if transition is None or not _exists(transition, payment_method):
        raise InvalidTransition(f"An order cannot go from {current} to {target}.")
    if actor_kind not in TRANSITIONS[transition]:
        raise Forbidden(f"A {actor_kind} may not move an order from {current} to {target}.")


def allowed_targets(
    current: OrderStatus | str, actor_kind: ActorKind, payment_method: str = "online"
) -> list[OrderStatus]:
    """The statuses this kind of actor may move an order in ``current`` to, in life order."""
    return [
        to
        for (frm, to), actors in TRANSITIONS.items()
        if frm == current and actor_kind in actors and _exists((frm, to), payment_method)
    ]


def _exists(transition: tuple[OrderStatus, OrderStatus], payment_method: str) -> bool:
    if transition not in TRANSITIONS:
        return False
    return payment_method == CASH_ON_DELIVERY or transition not in CASH_ON_DELIVERY_ONLY


def effects(current: OrderStatus | str, target: OrderStatus | str) -> Effects:
    """What ``current → target`` sets off (the change must exist: see check_transition).

    - stock is released when an order ends unfulfilled (cancelled, rejected, expired, failed
      delivery);
    - money goes back when a paid order is cancelled or rejected (a cash-on-delivery order,
      ``placed``, took no money: nothing goes back);
    - the customer gets an e-mail on every change; the merchant owner too when it is paid;
    - the merchant's webhook hears ``order.paid``, and ``order.cancelled`` for an order it was
      told about (paid or placed, then cancelled or rejected); an unpaid order that is
      cancelled never reached the merchant. (A placed order reaches it at checkout:
      ``notifications.placed_jobs``.)
    """
    transition = _parse(current, target)
    if transition is None or transition not in TRANSITIONS:
        raise InvalidTransition(f"An order cannot go from {current} to {target}.")
    frm, to = transition
    webhook: MerchantWebhook | None = None
    if to is OrderStatus.PAID:
        webhook = "order.paid"
    elif frm in {OrderStatus.PAID, OrderStatus.PLACED} and to in {
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
    }:
        webhook = "order.cancelled"
    return Effects(
        releases_stock=to
        in {
            OrderStatus.CANCELLED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
            OrderStatus.FAILED_DELIVERY,
        },
        refunds=frm is OrderStatus.PAID and to in {OrderStatus.CANCELLED, OrderStatus.REJECTED},
        notify_customer=True,
        notify_merchant_owner=to is OrderStatus.PAID,
        merchant_webhook=webhook,
    )


def history_entry(status: OrderStatus | str, at: datetime, by: str) -> HistoryEntry:
    """A ``status_history`` element: the status, when (RFC 3339 UTC) and by whom (a user
    id, or ``"system"``)."""
    return {"status": str(OrderStatus(status)), "at": rfc3339(at), "by": by}


def _parse(
    current: OrderStatus | str, target: OrderStatus | str
) -> tuple[OrderStatus, OrderStatus] | None:
    try:
        return OrderStatus(current), OrderStatus(target)
    except ValueError:
        return None
