"""Builders shared by the orders function's integration tests: accounts, an active merchant
with a product, checkouts, payments, and reads of what was stored."""

from __future__ import annotations

import uuid
from typing import Any

import catalog.service.merchants
import catalog.service.products
import orders.service
from support.stacks import new_account
from warung.auth import Caller
from warung.context import RequestMeta
from warung.dynamo import Transaction, dynamodb_client, from_item
from warung.ids import rfc3339, utc_now
from warung.ordering.lifecycle import OrderStatus
from warung.ordering.status import change_status
from warung.settings import get_settings
from warung.store.orders import Order
from warung.store.payments import payment_key
from warung.store.products import product_key, stock_key

STAGE = "ordersit"
MONAS = {"lat": -6.1754, "lon": 106.8272}
NEAR = {
    "line1": "Jl. Thamrin 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.195,
    "lon": 106.823,
}


def meta() -> RequestMeta:
    return RequestMeta(f"req-{uuid.uuid4().hex[:8]}", "203.0.113.9", "orders-it/1.0")


def customer() -> Caller:
    made = new_account("Budi")
    return Caller(made.user_id, "s", frozenset({"customer"}), True, {})


def merchant_with(stock: int | None, price: int = 25000) -> tuple[Caller, str, str]:
    """An owner (as a caller), their active merchant and one product of it."""
    owner = customer()
    body = {
        "name": "Warung Bu Sri",
        "description": "",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. Sabang 10", "city": "Jakarta", "postal_code": "10160"},
        "location": MONAS,
    }
    merchant = catalog.service.merchants.open_merchant(owner.user_id, body, meta())
    catalog.service.merchants.change_status("admin", merchant.merchant_id, "active", meta())
    product = catalog.service.products.add_product(
        owner.user_id,
        merchant.merchant_id,
        {"name": "Nasi Goreng", "price": price, "category": "food", "stock": stock},
        meta(),
    )
    member = Caller(
        owner.user_id, "s", frozenset({"customer"}), True, {merchant.merchant_id: "owner"}
    )
    return member, merchant.merchant_id, product.product_id


def _stored(key: dict[str, str]) -> dict[str, Any] | None:
    raw = (
        dynamodb_client()
        .get_item(
            TableName=get_settings().table_name,
            Key={k: {"S": v} for k, v in key.items()},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return from_item(raw) if raw else None


def product_item(product_id: str) -> dict[str, Any]:
    item = _stored(product_key(product_id))
    assert item is not None
    return item


def units_item(product_id: str) -> dict[str, Any] | None:
    """The product's stock item (``None``: untracked, or its units still on its item)."""
    return _stored(stock_key(product_id))


def stock_of(product_id: str) -> Any:
    """The units left, wherever they are stored."""
    units = units_item(product_id)
    return units["stock"] if units is not None else product_item(product_id).get("stock")


def place(who: Caller, promo_code: str | None = None) -> Order:
    body: dict[str, Any] = {"delivery_address": NEAR}
    if promo_code:
        body["promo_code"] = promo_code
    return orders.service.checkout(who, body, meta())[0]


def order_of(who: Caller, product_id: str, quantity: int = 1) -> Order:
    """``who`` puts ``quantity`` of the product in the cart and checks out."""
    orders.service.set_cart_item(who.user_id, product_id, quantity)
    return place(who)


def pay(order: Order) -> None:
    """What the payments function does when the provider says the payment succeeded."""
    tx = Transaction()
    change_status(
        tx, order, OrderStatus.PAID, by="system", at=rfc3339(utc_now()), payment_status="succeeded"
    )
    tx.update(
        get_settings().table_name,
        payment_key(order.payment_id),
        "SET #s = :s",
        names={"#s": "status"},
        values={":s": "succeeded"},
    )
    tx.commit()
