"""Orders (the record and its stored form, shared by every function that reads one), the
order numbers taken, carts and a customer's count of unpaid orders."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from warung.ordering.lifecycle import HistoryEntry, OrderStatus
from warung.store.accounts import user_partition

MAX_PENDING_ORDERS = 5  # orders one customer may have awaiting payment (PENDING_ORDERS count)
# Units of one stock-tracked product that one customer's unpaid orders may hold together
# (docs/product.md): counted on the same PENDING_ORDERS item, one attribute per product.
MAX_UNPAID_UNITS = 20
HELD_UNITS_PREFIX = "held_"

# The expiry worklist (gsi4, keys only): unpaid orders by the end of their payment window,
# spread over PENDING_SHARDS partitions by a hash of the order id, so that no one partition
# takes every checkout's write and removal (docs/decisions/0027-sharded-expiry-worklist.md:
# 16 keep each under 50% of a partition's write limit up to 4,000 orders/s).
PENDING_SHARDS = 16
# Before the shards the worklist was one gsi3 partition (all attributes projected). Orders
# placed then still carry it until they leave pending_payment (15 minutes at most); the
# expiry function reads it too for one release (decision 0027), then it goes.
LEGACY_PENDING_PARTITION = "PENDING"


def order_key(order_id: str) -> dict[str, str]:
    """An order."""
    return {"pk": f"ORDER#{order_id}", "sk": "ORDER"}


def order_number_key(number: str) -> dict[str, str]:
    """An order number taken (``WRG-7K4Q-2M9X``): its uniqueness item, which names the order
    that has it (checkout puts it in the order's transaction; the merchant's ``?number=``
    reads it)."""
    return {"pk": f"ORDERNO#{number}", "sk": "ORDERNO"}


def customer_orders_partition(customer_id: str) -> str:
    """gsi1: a customer's orders, newest first (ids are time-ordered)."""
    return f"CUSTOMER#{customer_id}"


def merchant_orders_partition(merchant_id: str) -> str:
    """gsi2: a merchant's orders, newest first."""
    return f"MORDERS#{merchant_id}"


def order_index(order_id: str, customer_id: str, merchant_id: str) -> dict[str, str]:
    """An order's places in its customer's and its merchant's lists."""
    return {
        "gsi1pk": customer_orders_partition(customer_id),
        "gsi1sk": order_id,
        "gsi2pk": merchant_orders_partition(merchant_id),
        "gsi2sk": order_id,
    }


def pending_shard(order_id: str) -> int:
    """The expiry worklist shard of an order: its id's SHA-256 modulo the shard count (ids
    are time-ordered, so their hash, not their text, spreads them)."""
    digest = hashlib.sha256(order_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % PENDING_SHARDS


def pending_partition(shard: int) -> str:
    """gsi4: one shard of the expiry worklist."""
    return f"PENDING#{shard}"


def pending_partitions() -> list[str]:
    """Every worklist partition the expiry function reads: the shards (gsi4), then the one
    of before the shards (gsi3 ``PENDING``; decision 0027: for one release)."""
    shards = [pending_partition(shard) for shard in range(PENDING_SHARDS)]
    return [*shards, LEGACY_PENDING_PARTITION]


def pending_index(order_id: str, expires_at: str) -> dict[str, str]:
    """An unpaid order's entry in the expiry worklist (removed once it leaves the state)."""
    return {
        "gsi4pk": pending_partition(pending_shard(order_id)),
        "gsi4sk": pending_sort_key(order_id, expires_at),
    }


def pending_sort_key(order_id: str, expires_at: str) -> str:
    """An entry's place in its worklist partition: by the end of its window."""
    return f"{expires_at}#{order_id}"


def pending_order_id(sort_key: str) -> str:
    """The order of a worklist entry, from its sort key (the index holds keys only)."""
    return sort_key.rsplit("#", 1)[1]


def cart_key(user_id: str) -> dict[str, str]:
    """A customer's cart: product ids and quantities, never prices."""
    return {"pk": user_partition(user_id), "sk": "CART"}


def pending_orders_key(customer_id: str) -> dict[str, str]:
    """A customer's count of orders awaiting payment, and the units of each tracked product
    they hold (:func:`held_units_attribute`)."""
    return {"pk": user_partition(customer_id), "sk": "PENDING_ORDERS"}


def cod_standing_key(customer_id: str) -> dict[str, str]:
    """A customer's cash-on-delivery standing: undelivered orders (``open``), failed
    deliveries, lost or restored (:class:`CodStanding`)."""
    return {"pk": user_partition(customer_id), "sk": "COD"}


@dataclass(frozen=True)
class CodStanding:
    """A customer's cash on delivery: ``open`` undelivered orders (at most one), the moments
    (RFC 3339) of the failed deliveries that may still count, and whether it was taken away
    (``revoked``, until an admin restores it)."""

    open: int = 0
    failures: tuple[str, ...] = ()
    revoked: bool = False


def cod_standing_from(item: Mapping[str, Any] | None) -> CodStanding:
    """The standing from its stored item (none yet: a customer in good standing)."""
    if not item:
        return CodStanding()
    return CodStanding(
        open=int(item.get("open", 0)),
        failures=tuple(str(f) for f in item.get("failures", [])),
        revoked=bool(item.get("revoked", False)),
    )


def held_units_attribute(product_id: str) -> str:
    """The attribute of the PENDING_ORDERS item counting the units of ``product_id`` that the
    customer's unpaid orders hold."""
    return f"{HELD_UNITS_PREFIX}{product_id}"


def held_units_from(item: Mapping[str, Any] | None) -> dict[str, int]:
    """Units held by unpaid orders, by product id, from the PENDING_ORDERS item."""
    return {
        name.removeprefix(HELD_UNITS_PREFIX): int(value)
        for name, value in (item or {}).items()
        if name.startswith(HELD_UNITS_PREFIX)
    }


def units_by_product(lines: Iterable[OrderLine]) -> dict[str, int]:
    """The units of each stock-tracked product in ``lines`` (what an unpaid order holds)."""
    units: dict[str, int] = {}
    for line in lines:
        if line.stock_tracked:
            units[line.product_id] = units.get(line.product_id, 0) + line.quantity
    return units


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
    for the e-mails the order causes; they are not part of the API's order.

    ``number`` is the order number people read (``warung.ordering.numbers``), given at
    checkout; ``None`` only for an order stored before order numbers existed."""

    order_id: str
    number: str | None
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
    # placed since unpaid orders count the units they hold: gives them back when it leaves
    # pending_payment (older orders never counted theirs)
    holds_units: bool = False
    payment_method: str = "online"  # or cash_on_delivery (warung.ordering.lifecycle)
    # the usage counter of a sharded promo code this order took its use from, given back to
    # it on release (None: no code, or a code stored before counters were sharded)
    promo_shard: int | None = None
    # who takes the money: the stage's provider at checkout (``simulator``, ``midtrans``), or
    # ``cash`` (the order's payment keeps the same value)
    payment_provider: str = ""


def order_item(order: Order) -> dict[str, Any]:
    """The stored form of an order, with its index keys."""
    item: dict[str, Any] = {
        **order_key(order.order_id),
        "entity": "order",
        "id": order.order_id,
        "number": order.number,
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
        "holds_units": order.holds_units or None,
        "payment_method": order.payment_method,
        "promo_shard": order.promo_shard,
        "payment_provider": order.payment_provider or None,
        **order_index(order.order_id, order.customer_id, order.merchant_id),
    }
    if order.status == OrderStatus.PENDING_PAYMENT:
        item |= pending_index(order.order_id, order.expires_at)
    return {k: v for k, v in item.items() if v is not None}


def order_from(item: Mapping[str, Any]) -> Order:
    """An order from its stored form."""
    return Order(
        order_id=item["id"],
        number=item.get("number"),
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
        holds_units=bool(item.get("holds_units", False)),
        payment_method=item.get("payment_method", "online"),
        promo_shard=int(item["promo_shard"]) if item.get("promo_shard") is not None else None,
        payment_provider=item.get("payment_provider") or _provider_before_it_was_kept(item),
    )


def _provider_before_it_was_kept(item: Mapping[str, Any]) -> str:
    """An order stored before it kept its payment's provider: cash on delivery was paid in
    cash, and every online order before a real provider existed went to the simulator."""
    return "cash" if item.get("payment_method") == "cash_on_delivery" else "simulator"


def order_number_item(order: Order) -> dict[str, Any]:
    """The uniqueness item of the order's number: the number is taken, by this order (of
    this merchant, so that a merchant's lookup by number needs no second read to refuse
    another merchant's order)."""
    if order.number is None:
        raise ValueError("an order without a number has no number item")
    return {
        **order_number_key(order.number),
        "entity": "order_number",
        "order_id": order.order_id,
        "merchant_id": order.merchant_id,
        "created_at": order.created_at,
    }


@dataclass(frozen=True)
class CartLine:
    """A product in a cart: only the id and the quantity; prices are read when shown."""

    product_id: str
    quantity: int


@dataclass(frozen=True)
class Cart:
    """A customer's cart: one merchant's products."""

    merchant_id: str | None
    lines: tuple[CartLine, ...]
    updated_at: str | None = None

    @property
    def empty(self) -> bool:
        """No lines."""
        return not self.lines

    @property
    def product_ids(self) -> list[str]:
        """The products in it, in the order they were added."""
        return [line.product_id for line in self.lines]


def cart_item(user_id: str, cart: Cart, now: str) -> dict[str, Any]:
    """The stored form of a (non-empty) cart."""
    return {
        **cart_key(user_id),
        "entity": "cart",
        "merchant_id": cart.merchant_id,
        "items": [{"product_id": x.product_id, "quantity": x.quantity} for x in cart.lines],
        "updated_at": now,
    }


def cart_from(item: Mapping[str, Any] | None) -> Cart:
    """A stored cart, or the empty cart when there is none."""
    if not item:
        return Cart(None, ())
    lines = tuple(CartLine(line["product_id"], int(line["quantity"])) for line in item["items"])
    return Cart(item.get("merchant_id") if lines else None, lines, item.get("updated_at"))
