"""The order and payment records every function that moves an order shares: the orders
function (checkout, cancel, merchant status changes), the expiry scheduler and the payments
function (the provider's webhook). One stored form, one way to change status.

Their keys are in ``warung.store.orders`` and ``warung.store.payments`` (the table is in
docs/data-model.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from warung.dynamo import Transaction
from warung.errors import ApiError, Conflict
from warung.jobs import (
    EmailLine,
    JobPayload,
    MerchantNewOrderEmail,
    OrderPaidEmail,
    OrderStatusEmail,
    RefundEmail,
    WebhookDelivery,
    enqueue,
)
from warung.order_lifecycle import HistoryEntry, OrderStatus, effects
from warung.settings import get_settings
from warung.store.orders import order_index, order_key, pending_index, pending_orders_key
from warung.store.payments import payment_key
from warung.store.products import product_key
from warung.store.promos import promo_key, promo_use_key

MAX_PENDING_ORDERS = 5
SIMULATOR = "simulator"  # the payment provider of the local and dev stages (warung.payments)
EVENT_RETENTION_SECONDS = 30 * 24 * 3600


def order_changed() -> Conflict:
    """A fresh error per request (an instance raised twice chains tracebacks)."""
    return Conflict("The order changed meanwhile; read it again.")


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class OrderLine:
    """One product of an order, as it was sold (a snapshot: later catalog changes do not
    touch it). ``stock_tracked``: its stock was decremented and is given back if the order
    ends unfulfilled."""

    product_id: str
    name: str
    unit_price: int
    quantity: int
    stock_tracked: bool

    @property
    def line_total(self) -> int:
        """Unit price times quantity, whole rupiah."""
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Order:
    """An order as stored. ``customer_email``/``customer_name``/``merchant_name`` are kept
    for the e-mails the order causes; they are not part of the API's order."""

    order_id: str
    customer_id: str
    merchant_id: str
    status: str
    items: tuple[OrderLine, ...]
    subtotal: int
    discount: int
    delivery_fee: int
    tax: int
    total: int
    delivery_address: Mapping[str, Any]
    distance_km: Decimal
    promo_code: str | None
    payment_id: str
    payment_status: str
    status_history: tuple[HistoryEntry, ...]
    created_at: str
    updated_at: str
    expires_at: str
    customer_email: str
    customer_name: str
    merchant_name: str
    correlation_id: str
    currency: str = "IDR"
    version: int = 1
    reason: str | None = None


@dataclass(frozen=True)
class Payment:
    """A payment of one order through one provider."""

    payment_id: str
    order_id: str
    customer_id: str
    merchant_id: str
    amount: int
    provider: str
    status: str  # pending, succeeded, failed, refund_pending, refunded, cancelled
    created_at: str
    updated_at: str
    currency: str = "IDR"


def _table() -> str:
    return get_settings().table_name


def order_item(order: Order) -> dict[str, Any]:
    """The stored form of an order, with its index keys."""
    item: dict[str, Any] = {
        **order_key(order.order_id),
        "entity": "order",
        "id": order.order_id,
        "customer_id": order.customer_id,
        "merchant_id": order.merchant_id,
        "status": order.status,
        "items": [
            {
                "product_id": line.product_id,
                "name": line.name,
                "unit_price": line.unit_price,
                "quantity": line.quantity,
                "stock_tracked": line.stock_tracked,
            }
            for line in order.items
        ],
        "subtotal": order.subtotal,
        "discount": order.discount,
        "delivery_fee": order.delivery_fee,
        "tax": order.tax,
        "total": order.total,
        "currency": order.currency,
        "delivery_address": dict(order.delivery_address),
        "distance_km": str(order.distance_km),
        "promo_code": order.promo_code,
        "payment_id": order.payment_id,
        "payment_status": order.payment_status,
        "status_history": [dict(entry) for entry in order.status_history],
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "expires_at": order.expires_at,
        "customer_email": order.customer_email,
        "customer_name": order.customer_name,
        "merchant_name": order.merchant_name,
        "correlation_id": order.correlation_id,
        "version": order.version,
        "reason": order.reason,
        **order_index(order.order_id, order.customer_id, order.merchant_id),
    }
    if order.status == OrderStatus.PENDING_PAYMENT:
        item |= pending_index(order.order_id, order.expires_at)
    return {k: v for k, v in item.items() if v is not None}


def order_from(item: Mapping[str, Any]) -> Order:
    """An order from its stored form."""
    return Order(
        order_id=item["id"],
        customer_id=item["customer_id"],
        merchant_id=item["merchant_id"],
        status=item["status"],
        items=tuple(
            OrderLine(
                product_id=line["product_id"],
                name=line["name"],
                unit_price=int(line["unit_price"]),
                quantity=int(line["quantity"]),
                stock_tracked=bool(line.get("stock_tracked", False)),
            )
            for line in item["items"]
        ),
        subtotal=int(item["subtotal"]),
        discount=int(item["discount"]),
        delivery_fee=int(item["delivery_fee"]),
        tax=int(item["tax"]),
        total=int(item["total"]),
        currency=item.get("currency", "IDR"),
        delivery_address=dict(item["delivery_address"]),
        distance_km=Decimal(str(item["distance_km"])),
        promo_code=item.get("promo_code"),
        payment_id=item["payment_id"],
        payment_status=item["payment_status"],
        status_history=tuple(
            HistoryEntry(status=e["status"], at=e["at"], by=e["by"]) for e in item["status_history"]
        ),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        expires_at=item["expires_at"],
        customer_email=item.get("customer_email", ""),
        customer_name=item.get("customer_name", ""),
        merchant_name=item.get("merchant_name", ""),
        correlation_id=item.get("correlation_id", ""),
        version=int(item.get("version", 1)),
        reason=item.get("reason"),
    )


def payment_item(payment: Payment) -> dict[str, Any]:
    """The stored form of a payment."""
    return {
        **payment_key(payment.payment_id),
        "entity": "payment",
        "id": payment.payment_id,
        "order_id": payment.order_id,
        "customer_id": payment.customer_id,
        "merchant_id": payment.merchant_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "provider": payment.provider,
        "status": payment.status,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
    }


def payment_from(item: Mapping[str, Any]) -> Payment:
    """A payment from its stored form."""
    return Payment(
        payment_id=item["id"],
        order_id=item["order_id"],
        customer_id=item["customer_id"],
        merchant_id=item["merchant_id"],
        amount=int(item["amount"]),
        currency=item.get("currency", "IDR"),
        provider=item["provider"],
        status=item["status"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
    )


# ---------------------------------------------------------------- status changes


def change_status(
    tx: Transaction,
    order: Order,
    target: str,
    *,
    by: str,
    at: str,
    payment_status: str | None = None,
    reason: str | None = None,
    conflict: ApiError | None = None,
) -> Order:
    """Write ``order``'s move to ``target`` (history appended, version bumped, off the unpaid
    worklist once it leaves ``pending_payment``) if nobody changed it since it was read;
    the order as it will be. The caller has checked the transition
    (``order_lifecycle.check_transition``) and adds its effects (:func:`release_stock`,
    :func:`release_promo`, :func:`status_jobs`).

    Two racing changes cannot both win: the write is conditional on the version read.
    """
    entry = HistoryEntry(status=target, at=at, by=by)
    after = replace(
        order,
        status=target,
        status_history=(*order.status_history, entry),
        updated_at=at,
        version=order.version + 1,
        payment_status=payment_status or order.payment_status,
        reason=reason if reason is not None else order.reason,
    )
    sets = [
        "#status = :status",
        "status_history = list_append(status_history, :entry)",
        "updated_at = :at",
        "version = version + :one",
        "payment_status = :payment_status",
    ]
    values: dict[str, Any] = {
        ":status": target,
        ":entry": [dict(entry)],
        ":at": at,
        ":one": 1,
        ":payment_status": after.payment_status,
        ":seen": order.version,
        ":from": order.status,
    }
    if reason is not None:
        sets.append("reason = :reason")
        values[":reason"] = reason
    expression = "SET " + ", ".join(sets)
    if order.status == OrderStatus.PENDING_PAYMENT:
        expression += " REMOVE gsi3pk, gsi3sk"
    tx.update(
        _table(),
        order_key(order.order_id),
        expression,
        condition="version = :seen AND #status = :from",
        names={"#status": "status"},
        values=values,
        conflict=conflict or order_changed(),
    )
    if order.status == OrderStatus.PENDING_PAYMENT:
        tx.update(
            _table(),
            pending_orders_key(order.customer_id),
            "ADD #count :minus_one",
            names={"#count": "count"},
            values={":minus_one": -1},
        )
    return after


def release_stock(tx: Transaction, order: Order, still_tracked: Iterable[str], *, at: str) -> None:
    """Give back the stock of the order's tracked lines whose product still tracks stock
    (``still_tracked``: their ids, read just before; a product switched to untracked stock
    meanwhile has nothing to give back to)."""
    tracked = set(still_tracked)
    for line in order.items:
        if line.stock_tracked and line.product_id in tracked:
            tx.update(
                _table(),
                product_key(line.product_id),
                "SET stock = stock + :q, version = version + :one, updated_at = :at",
                condition="attribute_exists(stock)",
                values={":q": line.quantity, ":one": 1, ":at": at},
                conflict=Conflict("A product's stock changed meanwhile; retry."),
            )


def release_promo(tx: Transaction, order: Order) -> None:
    """Give back the order's use of its promo code (overall and the customer's own)."""
    if not order.promo_code:
        return
    tx.update(
        _table(),
        promo_key(order.promo_code),
        "ADD used :minus_one",
        condition="attribute_exists(pk)",
        values={":minus_one": -1},
    )
    tx.update(
        _table(),
        promo_use_key(order.promo_code, order.customer_id),
        "ADD uses :minus_one",
        condition="attribute_exists(pk)",
        values={":minus_one": -1},
    )


def _lines(order: Order) -> list[EmailLine]:
    return [
        EmailLine(name=line.name, quantity=line.quantity, line_total=line.line_total)
        for line in order.items
    ]


def _address(order: Order) -> str:
    address = order.delivery_address
    return ", ".join(str(address[k]) for k in ("line1", "city", "postal_code") if address.get(k))


def status_jobs(
    before: Order,
    after: Order,
    *,
    owners: Iterable[tuple[str, str]] = (),
) -> list[JobPayload]:
    """The e-mails and merchant webhook a status change causes (SPEC §4 Notifications).

    ``owners``: (e-mail, name) of the merchant's owners, needed when the order is paid.
    """
    fx = effects(before.status, after.status)
    jobs: list[JobPayload] = []
    if after.status == OrderStatus.PAID:
        jobs.append(
            OrderPaidEmail(
                to=after.customer_email,
                name=after.customer_name,
                order_id=after.order_id,
                merchant_name=after.merchant_name,
                items=_lines(after),
                subtotal=after.subtotal,
                discount=after.discount,
                delivery_fee=after.delivery_fee,
                tax=after.tax,
                total=after.total,
            )
        )
    elif fx.notify_customer:
        jobs.append(
            OrderStatusEmail(
                to=after.customer_email,
                name=after.customer_name,
                order_id=after.order_id,
                merchant_name=after.merchant_name,
                status=after.status,
                reason=after.reason,
            )
        )
    if fx.notify_merchant_owner:
        for email, name in owners:
            jobs.append(
                MerchantNewOrderEmail(
                    to=email,
                    name=name,
                    merchant_name=after.merchant_name,
                    order_id=after.order_id,
                    items=_lines(after),
                    total=after.total,
                    delivery_address=_address(after),
                    notes=after.delivery_address.get("notes"),
                )
            )
    if fx.merchant_webhook:
        jobs.append(
            WebhookDelivery(
                merchant_id=after.merchant_id,
                event=fx.merchant_webhook,
                event_id=f"evt_{after.order_id}_{after.status}",
                data={
                    "order_id": after.order_id,
                    "status": after.status,
                    "total": after.total,
                    "currency": after.currency,
                    "at": after.updated_at,
                },
            )
        )
    return jobs


def refund_email(order: Order, amount: int) -> RefundEmail:
    """The customer's e-mail once a refund has gone through."""
    return RefundEmail(
        to=order.customer_email,
        name=order.customer_name,
        order_id=order.order_id,
        merchant_name=order.merchant_name,
        amount=amount,
        reason=order.reason,
    )


def enqueue_all(tx: Transaction, jobs: Iterable[JobPayload], correlation_id: str) -> None:
    """Put every job in the outbox, in the same transaction as the change causing it."""
    tx.extend([enqueue(job, correlation_id=correlation_id) for job in jobs])
