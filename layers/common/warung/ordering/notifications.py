"""The e-mails and merchant webhooks an order's change of status causes, as outbox jobs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from warung.dynamo import Transaction, query_items, to_item
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
from warung.ordering.lifecycle import MerchantWebhook, OrderStatus, effects
from warung.settings import get_settings
from warung.store.merchants import MEMBER_PREFIX, merchant_partition
from warung.store.orders import Order


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
    """The e-mails and merchant webhook a status change causes (docs/product.md,
    Notifications and jobs).

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
                order_number=after.number,
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
                order_number=after.number,
                merchant_name=after.merchant_name,
                status=after.status,
                reason=after.reason,
            )
        )
    if fx.notify_merchant_owner:
        jobs += [_new_order_email(after, email, name) for email, name in owners]
    if fx.merchant_webhook:
        jobs.append(_webhook(after, fx.merchant_webhook))
    return jobs


def placed_jobs(order: Order, *, owners: Iterable[tuple[str, str]] = ()) -> list[JobPayload]:
    """What a cash-on-delivery order sets off when it is placed (docs/product.md, Cash on
    delivery): it reaches the merchant at once, as a paid order does, with the owners' "new
    order" e-mail and the ``order.placed`` webhook; the customer gets its status e-mail."""
    jobs: list[JobPayload] = [
        OrderStatusEmail(
            to=order.customer_email,
            name=order.customer_name,
            order_id=order.order_id,
            order_number=order.number,
            merchant_name=order.merchant_name,
            status=order.status,
            reason=None,
        )
    ]
    jobs += [_new_order_email(order, email, name) for email, name in owners]
    jobs.append(_webhook(order, "order.placed"))
    return jobs


def _new_order_email(order: Order, email: str, name: str) -> MerchantNewOrderEmail:
    return MerchantNewOrderEmail(
        to=email,
        name=name,
        merchant_name=order.merchant_name,
        order_id=order.order_id,
        order_number=order.number,
        items=_lines(order),
        total=order.total,
        delivery_address=_address(order),
        notes=order.delivery_address.get("notes"),
        payment_method="cash_on_delivery"
        if order.payment_method == "cash_on_delivery"
        else "online",
    )


def _webhook(order: Order, event: MerchantWebhook) -> WebhookDelivery:
    return WebhookDelivery(
        merchant_id=order.merchant_id,
        event=event,
        event_id=f"evt_{order.order_id}_{order.status}",
        data={
            "order_id": order.order_id,
            "number": order.number,
            "status": order.status,
            "payment_method": order.payment_method,
            "total": order.total,
            "currency": order.currency,
            "at": order.updated_at,
        },
    )


def refund_email(order: Order, amount: int) -> RefundEmail:
    """The customer's e-mail once a refund has gone through."""
    return RefundEmail(
        to=order.customer_email,
        name=order.customer_name,
        order_id=order.order_id,
        order_number=order.number,
        merchant_name=order.merchant_name,
        amount=amount,
        reason=order.reason,
    )


def enqueue_all(tx: Transaction, jobs: Iterable[JobPayload], correlation_id: str) -> None:
    """Put every job in the outbox, in the same transaction as the change causing it."""
    tx.extend([enqueue(job, correlation_id=correlation_id) for job in jobs])


def merchant_owners(merchant_id: str) -> list[tuple[str, str]]:
    """(e-mail, name) of the merchant's owners: the recipients of its new-order e-mail (a
    paid order's, from payments; a cash-on-delivery order's, from checkout). One Query."""
    request: dict[str, Any] = {
        "TableName": get_settings().table_name,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :member)",
        "FilterExpression": "#role = :owner",
        "ExpressionAttributeNames": {"#role": "role", "#name": "name"},
        "ExpressionAttributeValues": to_item(
            {":pk": merchant_partition(merchant_id), ":member": MEMBER_PREFIX, ":owner": "owner"}
        ),
        "ProjectionExpression": "email, #name",
    }
    return [
        (str(item["email"]), str(item.get("name") or ""))
        for item, _ in query_items(request)
        if item.get("email")
    ]
