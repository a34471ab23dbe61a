"""Where carts, orders, stock and promo codes live in the main table (docs/data-model.md).

The only module of the orders function that knows indexes and expressions. The records,
their stored forms and their keys come from ``warung.store`` (the order and payment are
shared with the payments function and the worker; the catalog's product and merchant are
read through the catalog's own mapping and narrowed to what ordering needs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from orders.rules import promo_shards
from orders.rules.cart import MerchantNow, ProductNow
from orders.rules.pricing import promo_limit_reached, promo_not_found
from warung import readcache
from warung.dynamo import (
    Transaction,
    dynamodb_client,
    get_item,
    get_items,
    partition_query,
    query_items,
    to_item,
)
from warung.errors import (
    CodOrderOpen,
    Conflict,
    InsufficientStock,
    MerchantClosed,
    OrderNumberTaken,
    PromoShardFull,
    UnpaidUnitsLimit,
    ValidationFailed,
)
from warung.ordering import cod
from warung.ordering.lifecycle import CASH_ON_DELIVERY
from warung.ratelimit import Rule, counter_key
from warung.settings import get_settings
from warung.store.accounts import user_key
from warung.store.merchants import merchant_from, merchant_key
from warung.store.orders import (
    LEGACY_PENDING_PARTITION,
    MAX_PENDING_ORDERS,
    MAX_UNPAID_UNITS,
    Cart,
    CodStanding,
    Order,
    cart_from,
    cart_item,
    cart_key,
    cod_standing_from,
    cod_standing_key,
    customer_orders_partition,
    held_units_attribute,
    held_units_from,
    merchant_orders_partition,
    order_from,
    order_item,
    order_key,
    order_number_item,
    order_number_key,
    pending_order_id,
    pending_orders_key,
    units_by_product,
)
from warung.store.payments import Payment, payment_item
from warung.store.products import product_from, product_key, stock_item, stock_key
from warung.store.promos import (
    PROMOS_PARTITION,
    Promo,
    promo_counter_key,
    promo_customer_key,
    promo_from,
    promo_key,
    promo_shard_item,
    promo_shard_key,
    promo_use_key,
    promo_uses_key,
)


# Errors are made per request, never shared: an instance raised twice would chain one
# request's traceback onto another's.
def cart_changed() -> Conflict:
    return Conflict("Your cart changed meanwhile; review it and try again.")


def too_many_unpaid() -> Conflict:
    return Conflict(
        f"You already have {MAX_PENDING_ORDERS} orders awaiting payment; pay or cancel one first."
    )


def too_many_units_unpaid(name: str, held: int) -> UnpaidUnitsLimit:
    return UnpaidUnitsLimit(
        f"Your unpaid orders would hold more than {MAX_UNPAID_UNITS} of {name!r} "
        f"({held} already awaiting payment); pay or cancel one first, or order fewer."
    )


def cod_order_open() -> CodOrderOpen:
    return CodOrderOpen(
        "You already have a cash-on-delivery order on its way (or cash on delivery was "
        "taken away meanwhile); wait for it, or pay this one online."
    )


def unpaid_changed() -> Conflict:
    return Conflict(
        f"Your unpaid orders changed meanwhile (at most {MAX_PENDING_ORDERS} orders, and "
        f"{MAX_UNPAID_UNITS} units of one product, may await payment); review them and retry."
    )


def _table() -> str:
    return get_settings().table_name


# ---------------------------------------------------------------- values read


# ---------------------------------------------------------------- carts


def get_cart(user_id: str) -> Cart:
    """The customer's cart (empty if none), read consistently."""
    (item,) = get_items([cart_key(user_id)], table=_table())
    return cart_from(item)


def save_cart(user_id: str, cart: Cart, now: str) -> None:
    """Write the cart (an empty one is deleted)."""
    client = dynamodb_client()
    if cart.empty:
        client.delete_item(TableName=_table(), Key=to_item(cart_key(user_id)))
        return
    client.put_item(TableName=_table(), Item=to_item(cart_item(user_id, cart, now)))


@dataclass(frozen=True)
class CheckoutReads:
    """Everything a customer's checkout starts from (one BatchGetItem)."""

    profile: Mapping[str, Any] | None
    cart: Cart
    pending_orders: int
    held_units: Mapping[str, int]  # units of each tracked product the unpaid orders hold
    cod: CodStanding  # cash on delivery: undelivered orders, failures, lost or not


def customer_state(user_id: str) -> CheckoutReads:
    """The account, its cart, its unpaid-order count and the units those orders hold, and its
    cash-on-delivery standing, in one round trip."""
    profile, cart, counter, standing = get_items(
        [
            user_key(user_id),
            cart_key(user_id),
            pending_orders_key(user_id),
            cod_standing_key(user_id),
        ],
        table=_table(),
    )
    return CheckoutReads(
        profile,
        cart_from(cart),
        int((counter or {}).get("count", 0)),
        held_units_from(counter),
        cod_standing_from(standing),
    )


def cod_standing(customer_id: str) -> CodStanding:
    """A customer's cash-on-delivery standing, read consistently."""
    (item,) = get_items([cod_standing_key(customer_id)], table=_table())
    return cod_standing_from(item)


@dataclass(frozen=True)
class Catalog:
    """The products of a cart, their merchant and the promo code, as they are now."""

    products: dict[str, ProductNow]
    merchant: MerchantNow | None
    promo: Promo | None
    promo_found: bool
    promo_used_by_customer: int
    promo_misses: dict[str, Any] | None = None  # the customer's unknown-code counter
    # each usage counter's count, by shard, when read (a sharded code at checkout)
    promo_used_by_shard: tuple[int, ...] = ()


def catalog_for(
    product_ids: list[str],
    merchant_id: str,
    promo_code: str | None,
    user_id: str,
    promo_misses: tuple[Rule, int] | None = None,
    *,
    promo_counters: bool = False,
) -> Catalog:
    """Products, merchant and promo code (with the customer's use count, given its key the
    customer's counter of unknown codes, and with ``promo_counters`` the code's usage
    counters) in one BatchGetItem, read consistently: checkout conditions on what it read
    here. The code's layout is known only once its item is read, so both places of the
    customer's count are read, and the most counters a code can have
    (``promo_shards.MAX_SHARDS``). At checkout, a sharded code's definition read in the
    last ``promo_shards.DEFINITION_TTL_S`` by this container is not read again: whether it is
    on comes from its counters, read each time."""
    keys: list[Mapping[str, Any]] = [product_key(p) for p in product_ids]
    keys += [stock_key(p) for p in product_ids]
    keys.append(merchant_key(merchant_id))
    # At checkout the counters are read too, and they carry ``active``: a sharded code's
    # definition read by this container within its TTL is not read again.
    known = readcache.remembered(f"promo:{promo_code}") if promo_code and promo_counters else None
    promo_at = len(keys)
    if promo_code:
        if known is None:
            keys.append(promo_key(promo_code))
        keys += [promo_use_key(promo_code, user_id), promo_customer_key(promo_code, user_id)]
        if promo_misses is not None:
            rule, now_s = promo_misses
            keys.append(counter_key(rule, user_id, now_s))
    shards_at = len(keys)
    if promo_code and promo_counters:
        keys += [promo_shard_key(promo_code, n) for n in range(promo_shards.MAX_SHARDS)]
    items = get_items(keys, table=_table())
    count = len(product_ids)
    products = {
        item["product_id"]: ProductNow.of(product_from(item, units))
        for item, units in zip(items[:count], items[count : 2 * count], strict=True)
        if item
    }
    merchant_item = items[2 * count]
    uses_at = promo_at + (1 if known is None else 0)
    promo_item = known if known is not None else (items[promo_at] if promo_code else None)
    promo = promo_from(promo_item) if promo_item else None
    if promo is not None and promo.shards is not None and known is None:
        ttl = promo_shards.DEFINITION_TTL_S
        readcache.remember(f"promo:{promo.code}", promo_item or {}, ttl)
    use_item = items[uses_at + (1 if promo and promo.shards is not None else 0)] if promo else None
    used_by_shard: tuple[int, ...] = ()
    if promo is not None and promo.shards is not None and promo_counters:
        counters = items[shards_at : shards_at + promo.shards]
        used_by_shard = tuple(int((c or {}).get("used", 0)) for c in counters)
        promo = promo_shards.as_counted(promo, counters)
    return Catalog(
        products=products,
        merchant=MerchantNow.of(merchant_from(merchant_item)) if merchant_item else None,
        promo=promo,
        promo_found=promo_item is not None,
        promo_used_by_customer=int((use_item or {}).get("uses", 0)),
        promo_misses=items[uses_at + 2] if promo_code and promo_misses else None,
        promo_used_by_shard=used_by_shard,
    )


def product_and_cart(product_id: str, user_id: str) -> tuple[ProductNow | None, Cart]:
    """A product (with its units) and the customer's cart, in one round trip."""
    product, units, cart = get_items(
        [product_key(product_id), stock_key(product_id), cart_key(user_id)], table=_table()
    )
    return (ProductNow.of(product_from(product, units)) if product else None), cart_from(cart)


def products_tracking_stock(product_ids: list[str]) -> dict[str, bool]:
    """Which of these products track stock now (their stock can be given back), each with
    where its units are: ``True`` on its stock item, ``False`` still on the product item."""
    keys: list[Mapping[str, Any]] = [product_key(p) for p in product_ids]
    keys += [stock_key(p) for p in product_ids]
    items = get_items(keys, table=_table())
    count = len(product_ids)
    tracked: dict[str, bool] = {}
    for product_id, item, units in zip(product_ids, items[:count], items[count:], strict=True):
        if units is not None:
            tracked[product_id] = True
        elif item is not None and item.get("stock") is not None:
            tracked[product_id] = False
    return tracked


# ---------------------------------------------------------------- checkout writes


def _take_units(
    tx: Transaction,
    product_id: str,
    quantity: int,
    product: ProductNow,
    still: str,
    values: Mapping[str, Any],
    order: Order,
) -> None:
    """A tracked line's units taken from the stock item, the product item only checked
    (still orderable at the price charged): no listing entry is rewritten by a sale. A
    product whose units are still on its item (stored before they had one of their own)
    has them moved to a stock item by this sale, on condition that they are still what
    was read (docs/decisions/0030)."""
    table = _table()

    def short() -> InsufficientStock:
        return InsufficientStock(
            f"Not enough of {product.name!r} left (or it changed); review your cart."
        )

    if product.stock_apart:
        tx.check(
            table,
            product_key(product_id),
            condition=f"{still} AND stock_apart = :yes",
            values=values,
            conflict=short(),
        )
        tx.update(
            table,
            stock_key(product_id),
            "SET stock = stock - :q, version = version + :one, updated_at = :now",
            condition="stock >= :q",
            values={":q": quantity, ":one": 1, ":now": order.created_at},
            conflict=short(),
        )
        return
    seen = product.stock or 0
    tx.update(
        table,
        product_key(product_id),
        # stock 0 stays as a placeholder (warung.store.products): sold out to older code
        "SET stock_apart = :yes, stock = :zero, version = version + :one, updated_at = :now",
        condition=f"{still} AND stock = :seen AND attribute_not_exists(stock_apart)",
        values={**values, ":seen": seen, ":zero": 0, ":one": 1, ":now": order.created_at},
        conflict=short(),
    )
    tx.put(
        table,
        stock_item(product_id, seen - quantity, version=0, updated_at=order.created_at),
        condition="attribute_not_exists(pk)",
        conflict=short(),
    )


def place_order(
    tx: Transaction,
    order: Order,
    payment: Payment,
    products: Mapping[str, ProductNow],
    cart: Cart,
    promo: Promo | None,
) -> Transaction:
    """The writes of a checkout: the order and its payment; each product's stock taken
    (only while it is still orderable at the price charged); the merchant still taking
    orders; the promo code's uses within its limits; the customer's unpaid-order count
    within its limit (a cash-on-delivery order, never unpaid: the customer's undelivered
    cash-on-delivery count, and cash on delivery not taken away); the cart, unchanged since
    it was read, emptied; the order's number claimed (its uniqueness item put only where
    none is, else ``OrderNumberTaken``).

    The number's claim is the last conditional write on purpose: a cancelled transaction
    reports the first failed condition in the order of its writes, so a checkout refused
    for its stock, its merchant, its promo code or its cart says so even when its number
    was taken too, and ``OrderNumberTaken`` means that the number alone was in the way."""
    table = _table()
    tx.put(table, order_item(order), condition="attribute_not_exists(pk)")
    tx.put(table, payment_item(payment), condition="attribute_not_exists(pk)")
    for line in order.items:
        product = products[line.product_id]
        still = "attribute_exists(pk) AND archived = :no AND available = :yes AND price = :price"
        values = {":no": False, ":yes": True, ":price": line.unit_price}
        if line.stock_tracked:
            _take_units(tx, line.product_id, line.quantity, product, still, values, order)
        else:
            tx.check(
                table,
                product_key(line.product_id),
                condition=f"{still} AND attribute_not_exists(stock) "
                "AND attribute_not_exists(stock_apart)",
                values=values,
                conflict=Conflict(f"{product.name!r} changed meanwhile; review your cart."),
            )
    tx.check(
        table,
        merchant_key(order.merchant_id),
        condition="#status = :active AND is_open = :yes",
        names={"#status": "status"},
        values={":active": "active", ":yes": True},
        conflict=MerchantClosed("The merchant is not taking orders now."),
    )
    if promo is not None:
        _use_promo(tx, promo, order.customer_id, order.promo_shard)
    if order.payment_method == CASH_ON_DELIVERY:
        _take_cod_slot(tx, order)
    else:
        _hold_units(tx, order)
    tx.delete(
        table,
        cart_key(order.customer_id),
        condition="updated_at = :seen",
        values={":seen": cart.updated_at},
        conflict=cart_changed(),
    )
    tx.put(
        table,
        order_number_item(order),
        condition="attribute_not_exists(pk)",
        conflict=OrderNumberTaken("No free order number was found; try again."),
    )
    return tx


def _hold_units(tx: Transaction, order: Order) -> None:
    """One unpaid order more, and its units of each tracked product held, within the limits
    (the counter's item was read at the start of checkout; this holds them against races)."""
    adds = ["#count :one"]
    conditions = ["(attribute_not_exists(#count) OR #count < :max)"]
    names = {"#count": "count"}
    values: dict[str, Any] = {":one": 1, ":max": MAX_PENDING_ORDERS}
    for i, (product_id, units) in enumerate(sorted(units_by_product(order.items).items())):
        names[f"#h{i}"] = held_units_attribute(product_id)
        values |= {f":q{i}": units, f":room{i}": MAX_UNPAID_UNITS - units}
        adds.append(f"#h{i} :q{i}")
        conditions.append(f"(attribute_not_exists(#h{i}) OR #h{i} <= :room{i})")
    tx.update(
        _table(),
        pending_orders_key(order.customer_id),
        "ADD " + ", ".join(adds),
        condition=" AND ".join(conditions),
        names=names,
        values=values,
        conflict=too_many_unpaid() if len(adds) == 1 else unpaid_changed(),
    )


def _take_cod_slot(tx: Transaction, order: Order) -> None:
    """One undelivered cash-on-delivery order more, while there is none and the customer
    still may pay in cash (read at the start of checkout; this holds against races, as the
    unpaid-order count does)."""
    tx.update(
        _table(),
        cod_standing_key(order.customer_id),
        "ADD #open :one",
        condition="(attribute_not_exists(#open) OR #open < :max) "
        "AND (attribute_not_exists(revoked) OR revoked = :no)",
        names={"#open": "open"},
        values={":one": 1, ":max": cod.MAX_OPEN_ORDERS, ":no": False},
        conflict=cod_order_open(),
    )


def _use_promo(tx: Transaction, promo: Promo, customer_id: str, shard: int | None) -> None:
    """One use of the code taken from its counter ``shard`` (``None``: the code's own item, a
    code stored before counters were sharded) within that counter's slice of the limit
    (``PromoShardFull``: checkout tries another), and one of the customer's own uses within
    the per-customer limit."""
    table = _table()
    condition = "active = :yes"
    values: dict[str, Any] = {":one": 1, ":yes": True}
    if promo.usage_limit is not None:
        condition += " AND (attribute_not_exists(used) OR used < :limit)"
        values[":limit"] = (
            promo.usage_limit
            if shard is None or promo.shards is None
            else promo_shards.slice_of(promo.usage_limit, promo.shards, shard)
        )
    tx.update(
        table,
        promo_counter_key(promo.code, shard),
        "ADD used :one",
        condition=condition,
        values=values,
        conflict=promo_shard_full(),
    )
    use_values: dict[str, Any] = {":one": 1}
    use_condition = None
    if promo.per_user_limit is not None:
        use_condition = "attribute_not_exists(uses) OR uses < :limit"
        use_values[":limit"] = promo.per_user_limit
    tx.update(
        table,
        promo_uses_key(promo.code, customer_id, shard),
        "ADD uses :one",
        condition=use_condition,
        values=use_values,
        conflict=promo_limit_reached(per_user=True),
    )


def promo_shard_full() -> PromoShardFull:
    """A counter of the code is full: the same words as the code's usage-limit error."""
    reached = promo_limit_reached(per_user=False)
    return PromoShardFull(reached.detail, errors=reached.errors)


# ---------------------------------------------------------------- orders


def get_order(order_id: str) -> Order | None:
    """One order, read consistently."""
    (item,) = get_items([order_key(order_id)], table=_table())
    return order_from(item) if item else None


def order_numbered(number: str, merchant_id: str) -> Order | None:
    """The merchant's order with this number (``WRG-7K4Q-2M9X``), or ``None`` when no
    order has it or another merchant's does: the number's uniqueness item names the order
    and its merchant, and only then is the order read."""
    taken = get_item(order_number_key(number), table=_table())
    if taken is None or taken.get("merchant_id") != merchant_id:
        return None
    return get_order(str(taken["order_id"]))


def get_payment_status(payment_id: str) -> str | None:
    """The payment's current status."""
    from warung.store.payments import payment_key

    (item,) = get_items([payment_key(payment_id)], table=_table())
    return str(item["status"]) if item else None


def orders_of(
    *, customer_id: str | None = None, merchant_id: str | None = None, start: Any = None
) -> Iterator[tuple[Order, dict[str, Any]]]:
    """A customer's (gsi1) or a merchant's (gsi2) orders, newest first."""
    index, partition = (
        ("gsi1", customer_orders_partition(customer_id))
        if customer_id
        else ("gsi2", merchant_orders_partition(str(merchant_id)))
    )
    request = partition_query(partition, index=index, newest_first=True, page_size=50, start=start)
    for item, key in query_items(request):
        yield order_from(item), key


def unpaid_due(partition: str, now: str, *, page_size: int = 100) -> Iterator[Order]:
    """Unpaid orders of one expiry worklist partition (``pending_partitions``) whose payment
    window ended before ``now``, oldest first: the entries' keys a page at a time, then
    their orders, read consistently (the worklist index projects keys only)."""
    # a shard of gsi4, or the one gsi3 partition of before the shards (decision 0027)
    index = "gsi3" if partition == LEGACY_PENDING_PARTITION else "gsi4"
    request = partition_query(partition, index=index, sort_before=now, page_size=page_size)
    due: list[str] = []
    for entry, _ in query_items(request):
        due.append(pending_order_id(entry[f"{index}sk"]))
        if len(due) == page_size:
            yield from _orders(due)
            due = []
    yield from _orders(due)


def _orders(order_ids: list[str]) -> Iterator[Order]:
    """The orders still stored, in the order of ``order_ids`` (read consistently)."""
    for item in get_items([order_key(order_id) for order_id in order_ids], table=_table()):
        if item is not None:
            yield order_from(item)


# ---------------------------------------------------------------- promo codes


def add_promo(tx: Transaction, promo: Promo, item: Mapping[str, Any]) -> Transaction:
    """Create a promo code (``item``: its stored form) and, sharded, its usage counters; an
    existing code is a 409."""
    tx.put(
        _table(),
        item,
        condition="attribute_not_exists(pk)",
        conflict=Conflict("A promo code with this code exists."),
    )
    for shard in range(promo.shards or 0):
        tx.put(_table(), promo_shard_item(promo, shard), condition="attribute_not_exists(pk)")
    return tx


def set_promo_active(tx: Transaction, promo: Promo, active: bool, now: str) -> Transaction:
    """Switch a promo code on or off, and each of its usage counters (checkout conditions on
    the counter it writes)."""
    from warung.errors import NotFound

    tx.update(
        _table(),
        promo_key(promo.code),
        "SET active = :active, updated_at = :now",
        condition="attribute_exists(pk)",
        values={":active": active, ":now": now},
        conflict=NotFound("No such promo code."),
    )
    for shard in range(promo.shards or 0):
        tx.update(
            _table(),
            promo_shard_key(promo.code, shard),
            "SET active = :active",
            condition="attribute_exists(pk)",
            values={":active": active},
        )
    return tx


def get_promo(code: str) -> Promo | None:
    """A promo code with its uses so far, read consistently."""
    (item,) = get_items([promo_key(code)], table=_table())
    return with_usage([promo_from(item)])[0] if item else None


def with_usage(promos: list[Promo]) -> list[Promo]:
    """The codes with ``used`` as the sum of their usage counters (one BatchGetItem for all
    the sharded ones; a code stored before counters were sharded counts on its own item)."""
    keys: list[Mapping[str, Any]] = [
        promo_shard_key(p.code, n) for p in promos for n in range(p.shards or 0)
    ]
    counts = iter(get_items(keys, table=_table()))
    return [
        p
        if p.shards is None
        else replace(p, used=sum(int((next(counts) or {}).get("used", 0)) for _ in range(p.shards)))
        for p in promos
    ]


def promos(start: Any) -> Iterator[tuple[Promo, dict[str, Any]]]:
    """Every promo code, newest first, each with its position (for the cursor); ``used`` as
    stored on the code's item (:func:`with_usage` sums a sharded code's counters)."""
    request = partition_query(
        PROMOS_PARTITION, index="gsi1", newest_first=True, page_size=100, start=start
    )
    for item, key in query_items(request):
        yield promo_from(item), key


def no_promo(code: str) -> ValidationFailed:
    """The error for an unknown promo code."""
    return promo_not_found(code)
