"""The order and payment as stored: one stored form for every function that reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from warung.ordering.lifecycle import HistoryEntry, OrderStatus
from warung.store.orders import order_index, order_key, pending_index
from warung.store.payments import payment_key

MAX_PENDING_ORDERS = 5
# The payment provider of the local and dev stages (warung.ordering.payments).
SIMULATOR = "simulator"
EVENT_RETENTION_SECONDS = 30 * 24 * 3600


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
