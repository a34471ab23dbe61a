"""The cart, checkout and order use cases: each route calls exactly one of these.

Prices are the server's: a cart holds product ids and quantities only, and quote and
checkout price it from the products as they are now (``pricing.price_order``). Checkout is
one ``TransactWriteItems`` whose conditions re-check what it read (stock, price, the
merchant taking orders, promo limits, the unpaid-order limit, the cart unchanged), so two
customers can never buy the same last item. Every status change goes through
``warung.ordering.status.change_status`` with the order's version as its condition.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from orders import repository
from orders.repository import Catalog
from orders.rules import cart, pricing, promo_shards
from orders.rules.cart import CartView
from warung import clock, ratelimit
from warung.audit import ActorType, audited
from warung.auth import Caller
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.dynamo import Transaction
from warung.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidTransition,
    NotFound,
    OrderNumberTaken,
    PromoShardFull,
    RateLimited,
    ValidationFailed,
)
from warung.ids import new_id, rfc3339, utc_now
from warung.jobs import RefundPayment
from warung.observability import MetricUnit, logger, metrics
from warung.ordering import cod
from warung.ordering import lifecycle as order_lifecycle
from warung.ordering.lifecycle import CASH_ON_DELIVERY, OrderStatus
from warung.ordering.notifications import enqueue_all, merchant_owners, placed_jobs, status_jobs
from warung.ordering.numbers import new_order_number, parse_order_number
from warung.ordering.status import (
    change_status,
    release_promo,
    release_stock,
    settle_cash_on_delivery,
)
from warung.settings import get_settings
from warung.store.orders import (
    MAX_PENDING_ORDERS,
    MAX_UNPAID_UNITS,
    Cart,
    Order,
    OrderLine,
    pending_partitions,
    units_by_product,
)
from warung.store.payments import CASH, SIMULATOR, Payment
from warung.store.promos import Promo, promo_item

MAX_EXAMINED_PER_PAGE = 500
# Draws of an order number per checkout: with 30^8 numbers, a second draw is already rare.
MAX_NUMBER_DRAWS = 3
# Which of a promo code's usage counters a checkout tries first (tests pass a seeded one).
_RANDOM = secrets.SystemRandom()


# ---------------------------------------------------------------- cart


def view_cart(user_id: str) -> CartView:
    """The caller's cart with today's prices."""
    return _priced(repository.get_cart(user_id))


def _priced(current: Cart) -> CartView:
    if current.empty:
        return cart.view(current, {})
    catalog = repository.catalog_for(current.product_ids, str(current.merchant_id), None, "")
    return cart.view(current, catalog.products)


def set_cart_item(user_id: str, product_id: str, quantity: int) -> CartView:
    """Put ``quantity`` of a product in the cart (replacing the quantity it had).

    Three round trips: the product and the cart; the cart's products and their merchant
    (which says whether the product is on sale at all, and prices the answer); the write.
    """
    product, current = repository.product_and_cart(product_id, user_id)
    if product is None or product.archived:
        raise NotFound("No such product.")
    wanted = list(dict.fromkeys([*current.product_ids, product_id]))
    catalog = repository.catalog_for(wanted, product.merchant_id, None, "")
    cart.sold(catalog.products.get(product_id), catalog.merchant)
    updated = cart.put_line(current, product, quantity)
    repository.save_cart(user_id, updated, rfc3339(utc_now()))
    return cart.view(updated, catalog.products)


def remove_cart_item(user_id: str, product_id: str) -> None:
    """Take a product out of the cart (nothing happens if it was not there)."""
    smaller = cart.without(repository.get_cart(user_id), product_id)
    if smaller is not None:
        repository.save_cart(user_id, smaller, rfc3339(utc_now()))


def empty_cart(user_id: str) -> None:
    """Remove everything from the cart."""
    repository.save_cart(user_id, Cart(None, ()), rfc3339(utc_now()))


# ---------------------------------------------------------------- quote and checkout


@dataclass(frozen=True)
class Priced:
    """A cart priced for one address: what checkout would charge now."""

    cart: Cart
    catalog: Catalog
    lines: list[OrderLine]
    breakdown: pricing.Breakdown


# Unknown promo codes a customer may try per hour on quote and checkout (docs/product.md,
# "Promo codes"): enough for typos, too few to find codes by guessing.
PROMO_MISSES = ratelimit.Rule("promo_misses", limit=10, window_seconds=3600)


def _price(
    user_id: str,
    current: Cart,
    address: Mapping[str, Any],
    code: str | None,
    *,
    promo_counters: bool = False,
) -> Priced:
    """Price ``current`` as checkout would; every reason it could not be ordered is an error.
    ``promo_counters``: read the code's usage counters too (checkout chooses among them)."""
    cart.require_items(current)
    promo_code = pricing.normalise_promo_code(code) if code else None
    now_s = clock.epoch_s()
    catalog = repository.catalog_for(
        current.product_ids,
        str(current.merchant_id),
        promo_code,
        user_id,
        (PROMO_MISSES, now_s),
        promo_counters=promo_counters,
    )
    if promo_code:
        _limit_promo_probing(user_id, catalog, now_s)
    now = utc_now()
    merchant = cart.check_taking_orders(catalog.merchant, now)
    lines = cart.order_lines(current, catalog.products)
    promo = cart.check_promo_use(promo_code, catalog.promo, catalog.promo_used_by_customer)
    breakdown = pricing.price_order(
        [pricing.Line(x.product_id, x.name, x.unit_price, x.quantity) for x in lines],
        merchant.terms,
        address["lat"],
        address["lon"],
        promo,
        now,
    )
    return Priced(current, catalog, lines, breakdown)


def _limit_promo_probing(user_id: str, catalog: Catalog, now_s: int) -> None:
    """Once a customer has tried ``PROMO_MISSES.limit`` unknown codes this hour, every code
    gets 429 until the hour ends, known or not, so the answer tells nothing; before that an
    unknown code is counted (and is the 422 it always was)."""
    lockout = ratelimit.decision(PROMO_MISSES, catalog.promo_misses, now_s)
    if lockout.allowed and catalog.promo_found:
        return
    if lockout.allowed:
        lockout = ratelimit.hit(PROMO_MISSES, user_id, now=now_s)
        if lockout.allowed:
            return  # counted; cart.check_promo_use refuses the unknown code
    raise RateLimited(
        f"Too many unknown promo codes; try again in {ratelimit.wait_text(lockout.retry_after)}.",
        retry_after=lockout.retry_after,
    )


def quote(user_id: str, address: Mapping[str, Any], promo_code: str | None) -> Priced:
    """What checkout would charge now for the cart and this address; nothing is written."""
    return _price(user_id, repository.get_cart(user_id), address, promo_code)


def checkout(
    caller: Caller,
    body: Mapping[str, Any],
    meta: RequestMeta,
    *,
    draw_number: Callable[[], str] = new_order_number,
    shuffle: promo_shards.Shuffle = _RANDOM.shuffle,
) -> tuple[Order, Payment]:
    """Turn the cart into an order awaiting payment, atomically (docs/product.md, Cart, checkout
    and orders); with ``payment_method: cash_on_delivery``, into an order ``placed`` with the
    merchant at once, its payment due on delivery (docs/product.md, Cash on delivery).

    The order's number is drawn at random (``draw_number``) and claimed in the order's own
    transaction; when another order has it, the same writes are tried again with another
    number, at most ``MAX_NUMBER_DRAWS`` times in all. A promo code's use is taken from one
    of its usage counters, tried in the order ``shuffle`` gives those with room (ADR 0029);
    when the one tried is full by then, the same writes are tried with the next, and the
    order records the one that took it. Any other refusal ends the checkout."""
    state = repository.customer_state(caller.user_id)
    if state.profile is None:
        raise NotFound("No such account.")
    cash = body.get("payment_method") == CASH_ON_DELIVERY
    if cash:
        cod.check_customer(revoked=state.cod.revoked)  # before pricing: says all there is
    elif state.pending_orders >= MAX_PENDING_ORDERS:
        raise repository.too_many_unpaid()
    address = dict(body["delivery_address"])
    priced = _price(
        caller.user_id, state.cart, address, body.get("promo_code"), promo_counters=True
    )
    merchant = priced.catalog.merchant
    assert merchant is not None  # cart.check_taking_orders refused a missing merchant
    if cash:
        cod.check_checkout(
            total=priced.breakdown.total,
            limit=get_settings().cod_limit,
            merchant_accepts=merchant.accepts_cash_on_delivery,
            revoked=state.cod.revoked,
            open_orders=state.cod.open,
        )
    else:
        _check_units_unpaid(state, priced)
    counters = _promo_counters(priced, shuffle)
    now = utc_now()
    at = rfc3339(now)
    order_id, payment_id = new_id(), new_id()
    breakdown = priced.breakdown
    provider = CASH if cash else get_settings().payment_provider
    order = Order(
        order_id=order_id,
        number=draw_number(),
        customer_id=caller.user_id,
        merchant_id=merchant.merchant_id,
        status=OrderStatus.PLACED if cash else OrderStatus.PENDING_PAYMENT,
        items=tuple(priced.lines),
        subtotal=breakdown.subtotal,
        discount=breakdown.discount,
        delivery_fee=breakdown.delivery_fee,
        tax=breakdown.tax,
        total=breakdown.total,
        delivery_address={
            k: Decimal(str(v)) if isinstance(v, float) else v
            for k, v in address.items()
            if v is not None
        },
        distance_km=breakdown.distance_km,
        promo_code=breakdown.promo_code,
        payment_id=payment_id,
        payment_status=cod.DUE_ON_DELIVERY if cash else "pending",
        status_history=(
            order_lifecycle.history_entry(
                OrderStatus.PLACED if cash else OrderStatus.PENDING_PAYMENT, now, caller.user_id
            ),
        ),
        created_at=at,
        updated_at=at,
        # a cash-on-delivery order has no payment window: it never expires
        expires_at=at
        if cash
        else rfc3339(now + timedelta(minutes=get_settings().order_payment_minutes)),
        customer_email=str(state.profile.get("email", "")),
        customer_name=str(state.profile.get("name", "")),
        merchant_name=merchant.name,
        correlation_id=meta.request_id,
        holds_units=not cash,
        payment_method=CASH_ON_DELIVERY if cash else "online",
        payment_provider=provider,
    )
    payment = Payment(
        payment_id=payment_id,
        order_id=order_id,
        customer_id=caller.user_id,
        merchant_id=merchant.merchant_id,
        amount=order.total,
        provider=provider,
        status=cod.DUE_ON_DELIVERY if cash else "pending",
        created_at=at,
        updated_at=at,
    )
    order = _place_retrying(caller, order, payment, priced, meta, counters, draw_number)
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OrderValue", unit=MetricUnit.Count, value=order.total)
    if cash:
        metrics.add_metric(name="CodOrdersPlaced", unit=MetricUnit.Count, value=1)
    elif payment.provider != SIMULATOR:
        # After the commit: the order exists whatever the provider does (ADR 0020). The
        # payments context opens the provider's page: only it reads the provider's key (ADR
        # 0021). The simulator has no page, and checkout asks for none.
        from warung.ordering.payment_pages import request_payment_page

        url = request_payment_page(order.order_id, meta.request_id)
        payment = replace(payment, action_url=url) if url else payment
    return order, payment


def _place_retrying(
    caller: Caller,
    order: Order,
    payment: Payment,
    priced: Priced,
    meta: RequestMeta,
    counters: list[int | None],
    draw_number: Callable[[], str],
) -> Order:
    """Checkout's transaction, tried again with another number while the number alone was in
    the way (at most ``MAX_NUMBER_DRAWS`` numbers), and with the promo code's next counter
    while the one tried was full; the order as placed (its number, its counter)."""
    draw = 1
    while True:
        order = replace(order, promo_shard=counters[0])
        try:
            _place(caller, order, payment, priced, meta)
            return order
        except OrderNumberTaken:
            if draw == MAX_NUMBER_DRAWS:
                raise
            logger.warning(
                "order number taken; drawing another",
                extra={"order_id": order.order_id, "draw": draw},
            )
            draw += 1
            order = replace(order, number=draw_number())
        except PromoShardFull:
            counters = counters[1:]
            if not counters:  # every counter with room when read was full when tried
                raise pricing.promo_limit_reached(per_user=False) from None


def _promo_counters(priced: Priced, shuffle: promo_shards.Shuffle) -> list[int | None]:
    """The usage counters checkout tries for its promo code, in order (``[None]`` without a
    code); a code used up (no counter with room) is refused here, as its transaction would."""
    promo = priced.catalog.promo
    if promo is None or not priced.breakdown.promo_code:
        return [None]
    counters = promo_shards.shards_to_try(promo, priced.catalog.promo_used_by_shard, shuffle)
    if not counters:
        raise pricing.promo_limit_reached(per_user=False)
    return counters


def _check_units_unpaid(state: repository.CheckoutReads, priced: Priced) -> None:
    """An order awaiting payment may not make the unpaid orders hold too much of a product."""
    for product_id, units in units_by_product(priced.lines).items():
        held = state.held_units.get(product_id, 0)
        if held + units > MAX_UNPAID_UNITS:
            name = next(x.name for x in priced.lines if x.product_id == product_id)
            raise repository.too_many_units_unpaid(name, held)


def _place(
    caller: Caller, order: Order, payment: Payment, priced: Priced, meta: RequestMeta
) -> None:
    """One try at checkout's transaction, with its audit entry."""
    tx = repository.place_order(
        Transaction(),
        order,
        payment,
        priced.catalog.products,
        priced.cart,
        priced.catalog.promo if priced.breakdown.promo_code else None,
    )
    changes = {
        "number": order.number,
        "merchant_id": order.merchant_id,
        "total": order.total,
        "items": len(order.items),
        "payment_method": order.payment_method,
    }
    if order.payment_method == CASH_ON_DELIVERY:
        # placed: with the merchant at once, as a paid order is
        owners = merchant_owners(order.merchant_id)
        enqueue_all(tx, placed_jobs(order, owners=owners), meta.request_id)
    resource = f"order:{order.order_id}"
    tx.extend([audited(caller.user_id, "order.created", resource, meta, **changes)])
    tx.commit()


# ---------------------------------------------------------------- reading orders


def order_for(caller: Caller, order_id: str) -> Order:
    """The order if the caller is its customer, a member of its merchant or an admin."""
    order = repository.get_order(order_id)
    if order is None or not _may_see(caller, order):
        raise NotFound("No such order.")
    return order


def _may_see(caller: Caller, order: Order) -> bool:
    return (
        caller.user_id == order.customer_id
        or caller.is_admin
        or caller.role_in(order.merchant_id) is not None
    )


def _page(
    rows: Iterator[tuple[Order, dict[str, Any]]], status: str | None, limit: int
) -> tuple[list[Order], dict[str, Any] | None]:
    page: list[Order] = []
    for examined, (order, key) in enumerate(rows, start=1):
        if status is None or order.status == status:
            page.append(order)
            if len(page) == limit:
                return page, key
        if examined >= MAX_EXAMINED_PER_PAGE:
            return page, key
    return page, None


def customer_orders(
    caller: Caller, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[Order], str | None]:
    """The caller's own orders, newest first."""
    scope = list_scope("GET /v1/orders", caller.user_id, status=status or "")
    rows = repository.orders_of(customer_id=caller.user_id, start=decode_cursor(cursor, scope))
    page, last = _page(rows, status, limit)
    return page, encode_cursor(last, scope)


def merchant_orders(
    caller: Caller,
    merchant_id: str,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
    number: str | None = None,
) -> tuple[list[Order], str | None]:
    """A merchant's orders, newest first (the guard has checked membership).

    With ``number`` (as people type it: any case, dashes or not), the one order of this
    merchant with that number, or none: another merchant's order with it is not shown, as
    if no order had it. Such a list has one page; a cursor given with it is foreign."""
    wanted = None if number is None else _number_asked(number)
    filters = {"status": status or ""} | ({"number": wanted} if wanted else {})
    scope = list_scope(f"GET /v1/merchants/{merchant_id}/orders", caller.user_id, **filters)
    start = decode_cursor(cursor, scope)
    if wanted is not None:
        found = repository.order_numbered(wanted, merchant_id)
        return ([found] if found and status in (None, found.status) else []), None
    rows = repository.orders_of(merchant_id=merchant_id, start=start)
    page, last = _page(rows, status, limit)
    return page, encode_cursor(last, scope)


def _number_asked(number: str) -> str:
    try:
        return parse_order_number(number)
    except ValueError as error:
        raise ValidationFailed(str(error), errors=[FieldError("number", str(error))]) from None


# ---------------------------------------------------------------- changing status


def cancel(caller: Caller, order_id: str, meta: RequestMeta) -> Order:
    """The customer cancels an unpaid or paid order: stock back, a paid one refunded."""
    order = order_for(caller, order_id)
    if caller.user_id != order.customer_id:
        raise Forbidden("Only the customer who placed the order can cancel it.")
    order_lifecycle.check_transition(
        order.status, OrderStatus.CANCELLED, "customer", order.payment_method
    )
    return _move(order, OrderStatus.CANCELLED, caller.user_id, meta, None)


def change_order_status(
    caller: Caller, order_id: str, target: str, reason: str | None, meta: RequestMeta
) -> Order:
    """A member of the order's merchant (or an admin) moves it along."""
    order = order_for(caller, order_id)
    kind: order_lifecycle.ActorKind
    if caller.role_in(order.merchant_id) is not None:
        kind = "member"
    elif caller.is_admin:
        kind = "admin"
    else:
        raise Forbidden("Only the merchant's members move an order along.")
    if target not in order_lifecycle.allowed_targets(order.status, kind, order.payment_method):
        raise InvalidTransition(f"An order cannot go from {order.status} to {target} here.")
    actor_type: ActorType = "admin" if kind == "admin" else "user"
    return _move(order, target, caller.user_id, meta, reason, actor_type=actor_type)


def _move(
    order: Order,
    target: str,
    by: str,
    meta: RequestMeta,
    reason: str | None,
    at: datetime | None = None,
    actor_type: ActorType = "user",
) -> Order:
    effects = order_lifecycle.effects(order.status, target)
    tracked = (
        repository.products_tracking_stock(
            [line.product_id for line in order.items if line.stock_tracked]
        )
        if effects.releases_stock and any(line.stock_tracked for line in order.items)
        else {}
    )
    cash = order.payment_method == CASH_ON_DELIVERY
    standing = repository.cod_standing(order.customer_id) if cash else None
    tx = Transaction()
    now = at or utc_now()
    moment = rfc3339(now)
    payment_status = _payment_status_after(order, target, effects)
    after = change_status(
        tx,
        order,
        target,
        by=by,
        at=moment,
        payment_status=payment_status,
        reason=reason,
    )
    if effects.releases_stock:
        release_stock(tx, order, tracked, at=moment)
        release_promo(tx, order)
    if payment_status:
        _set_payment_status(tx, order, payment_status)
    revoked = False
    if standing is not None:
        revoked = settle_cash_on_delivery(tx, order, target, standing, now=now)
    jobs = status_jobs(order, after)
    if effects.refunds:
        jobs.append(
            RefundPayment(
                # the stage's provider: the one its paid orders were paid through
                provider=get_settings().payment_provider,
                payment_id=order.payment_id,
                order_id=order.order_id,
                amount=order.total,
                currency=order.currency,
            )
        )
    enqueue_all(tx, jobs, order.correlation_id or meta.request_id)
    changes: dict[str, Any] = {"status": {"from": order.status, "to": target}}
    if reason:
        changes["reason"] = reason
    if cash and payment_status:
        changes["payment_status"] = payment_status
    if revoked:
        changes["cash_on_delivery_revoked"] = True
    tx.extend(
        [
            audited(
                by,
                f"order.{target}",
                f"order:{order.order_id}",
                meta,
                actor_type=actor_type,
                **changes,
            )
        ]
    )
    tx.commit()
    if target == OrderStatus.FAILED_DELIVERY:
        metrics.add_metric(name="CodDeliveriesFailed", unit=MetricUnit.Count, value=1)
    return after


def _payment_status_after(
    order: Order, target: str, effects: order_lifecycle.Effects
) -> str | None:
    """The payment's status after the move (``None``: unchanged)."""
    if order.payment_method == CASH_ON_DELIVERY:
        return cod.payment_status_after(target)  # no money was taken: nothing to refund
    if effects.refunds:
        return "refund_pending"
    if target == OrderStatus.EXPIRED:
        return "expired"
    return "cancelled" if target == OrderStatus.CANCELLED else None


def _set_payment_status(tx: Transaction, order: Order, status: str) -> None:
    from warung.store.payments import payment_key

    allowed = ["succeeded"] if status == "refund_pending" else ["pending", "failed"]
    if order.payment_method == CASH_ON_DELIVERY:
        allowed = [cod.DUE_ON_DELIVERY]
    tx.update(
        get_settings().table_name,
        payment_key(order.payment_id),
        "SET #status = :status, updated_at = :now",
        condition="#status IN (" + ", ".join(f":s{i}" for i in range(len(allowed))) + ")",
        names={"#status": "status"},
        values={
            ":status": status,
            ":now": rfc3339(utc_now()),
            **{f":s{i}": s for i, s in enumerate(allowed)},
        },
        conflict=Conflict("The payment changed meanwhile; read the order again."),
    )


EXPIRY_THREADS = 4  # worklist partitions read and expired at once by one run


def expire_due(now: datetime, meta: RequestMeta, *, budget: int = 200) -> int:
    """Expire the unpaid orders whose window ended before ``now``: stock and promo uses
    back. Returns how many were expired; an order paid meanwhile is left alone.

    The worklist is sharded (decision 0027): its partitions are worked on a small pool of
    threads, at most ``budget`` orders from each per run."""
    # imported here: the orders function shares this module and never expires anything
    from concurrent.futures import ThreadPoolExecutor

    stamp = rfc3339(now)

    def expire_partition(partition: str) -> int:
        expired = 0
        for order in repository.unpaid_due(partition, stamp):
            if expired >= budget:
                break
            try:
                _move(order, OrderStatus.EXPIRED, "system", meta, None, at=now, actor_type="system")
            except Conflict:
                continue  # paid or cancelled meanwhile: its own change won
            expired += 1
        return expired

    with ThreadPoolExecutor(max_workers=EXPIRY_THREADS) as pool:
        return sum(pool.map(expire_partition, pending_partitions()))


# ---------------------------------------------------------------- promo codes


def create_promo(admin_id: str, data: Mapping[str, Any], meta: RequestMeta) -> Promo:
    """A new promo code (codes are upper-case and unique)."""
    promo = pricing.check_promo_definition(
        code=data["code"],
        kind=data["type"],
        value=data["value"],
        min_subtotal=data.get("min_subtotal", 0),
        max_discount=data.get("max_discount"),
        starts_at=data.get("starts_at"),
        ends_at=data.get("ends_at"),
        usage_limit=data.get("usage_limit"),
        per_user_limit=data.get("per_user_limit"),
    )
    now = rfc3339(utc_now())
    promo = replace(
        promo,
        created_at=now,
        updated_at=now,
        shards=promo_shards.shard_count(promo.usage_limit),
    )
    item = promo_item(promo)
    tx = repository.add_promo(Transaction(), promo, item)
    fields = {k: v for k, v in item.items() if k in data or k in ("code", "type")}
    tx.extend(
        [
            audited(
                admin_id, "promo.created", f"promo:{promo.code}", meta, actor_type="admin", **fields
            )
        ]
    ).commit()
    return promo


def set_promo_active(admin_id: str, code: str, active: bool, meta: RequestMeta) -> Promo:
    """Switch a promo code on or off."""
    normal = pricing.normalise_promo_code(code)
    before = repository.get_promo(normal)
    if before is None:
        raise NotFound("No such promo code.")
    tx = repository.set_promo_active(Transaction(), before, active, rfc3339(utc_now()))
    tx.extend(
        [
            audited(
                admin_id,
                "promo.updated",
                f"promo:{normal}",
                meta,
                actor_type="admin",
                active=active,
            )
        ]
    ).commit()
    promo = repository.get_promo(normal)
    if promo is None:
        raise NotFound("No such promo code.")
    return promo


def list_promos(admin_id: str, *, limit: int, cursor: str | None) -> tuple[list[Promo], str | None]:
    """Promo codes, newest first."""
    scope = list_scope("GET /v1/admin/promo-codes", admin_id)
    page: list[Promo] = []
    last: dict[str, Any] | None = None
    for promo, key in repository.promos(decode_cursor(cursor, scope)):
        page.append(promo)
        if len(page) == limit:
            last = key
            break
    return repository.with_usage(page), encode_cursor(last, scope)
