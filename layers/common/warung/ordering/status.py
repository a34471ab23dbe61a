"""The one way to change an order's status (conditional on its version), and what a change
gives back: stock of tracked products, promo-code uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from warung.dynamo import Transaction
from warung.errors import ApiError, Conflict
from warung.ids import rfc3339
from warung.ordering import cod
from warung.ordering.lifecycle import HistoryEntry, OrderStatus
from warung.settings import get_settings
from warung.store.orders import (
    CodStanding,
    Order,
    cod_standing_key,
    held_units_attribute,
    order_key,
    pending_orders_key,
    units_by_product,
)
from warung.store.products import product_key, stock_key
from warung.store.promos import promo_counter_key, promo_uses_key


def _table() -> str:
    return get_settings().table_name


def order_changed() -> Conflict:
    """A fresh error per request (an instance raised twice chains tracebacks)."""
    return Conflict("The order changed meanwhile; read it again.")


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
    (``lifecycle.check_transition``) and adds its effects (:func:`release_stock`,
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
        # off the expiry worklist: its shard (gsi4), or the one partition of before the
        # shards (gsi3) for an order placed then (decision 0027)
        expression += " REMOVE gsi4pk, gsi4sk, gsi3pk, gsi3sk"
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
        # one unpaid order less, and the units it held given back
        names = {"#count": "count"}
        values = {":minus_one": -1}
        adds = ["#count :minus_one"]
        held = units_by_product(order.items) if order.holds_units else {}
        for i, (product_id, units) in enumerate(sorted(held.items())):
            names[f"#h{i}"] = held_units_attribute(product_id)
            values[f":r{i}"] = -units
            adds.append(f"#h{i} :r{i}")
        tx.update(
            _table(),
            pending_orders_key(order.customer_id),
            "ADD " + ", ".join(adds),
            names=names,
            values=values,
        )
    return after


def release_stock(
    tx: Transaction, order: Order, still_tracked: Mapping[str, bool], *, at: str
) -> None:
    """Give back the stock of the order's tracked lines whose product still tracks stock
    (``still_tracked``: their ids, read just before, each with where its units are: ``True``
    its stock item, ``False`` the product item of before stock had an item of its own; a
    product switched to untracked stock meanwhile has nothing to give back to)."""
    for line in order.items:
        if line.stock_tracked and line.product_id in still_tracked:
            units = product_key(line.product_id)
            if still_tracked[line.product_id]:
                units = stock_key(line.product_id)
            tx.update(
                _table(),
                units,
                "SET stock = stock + :q, version = version + :one, updated_at = :at",
                condition="attribute_exists(stock)",
                values={":q": line.quantity, ":one": 1, ":at": at},
                conflict=Conflict("A product's stock changed meanwhile; retry."),
            )


def release_promo(tx: Transaction, order: Order) -> None:
    """Give back the order's use of its promo code (overall and the customer's own), to the
    counter it was taken from (``order.promo_shard``)."""
    if not order.promo_code:
        return
    tx.update(
        _table(),
        promo_counter_key(order.promo_code, order.promo_shard),
        "ADD used :minus_one",
        condition="attribute_exists(pk)",
        values={":minus_one": -1},
    )
    tx.update(
        _table(),
        promo_uses_key(order.promo_code, order.customer_id, order.promo_shard),
        "ADD uses :minus_one",
        condition="attribute_exists(pk)",
        values={":minus_one": -1},
    )


def settle_cash_on_delivery(
    tx: Transaction, order: Order, target: str, standing: CodStanding, *, now: datetime
) -> bool:
    """A cash-on-delivery order reaching a final status frees the customer's undelivered
    slot; a failed delivery is also kept (with its moment, so that the 90-day window is
    exact), and the second within 90 days takes cash on delivery away (``revoked``, until an
    admin restores it). ``standing``: the customer's, read just before. Whether this change
    took cash on delivery away."""
    if not cod.frees_slot(target):
        return False
    names = {"#open": "open"}
    values: dict[str, Any] = {":minus_one": -1}
    sets: list[str] = []
    revoked = False
    if target == OrderStatus.FAILED_DELIVERY:
        at = rfc3339(now)
        revoked = cod.revokes(standing.failures, now) and not standing.revoked
        sets.append("failures = :failures")
        values[":failures"] = [*cod.failures_kept(standing.failures, now), at]
        if revoked:
            sets += ["revoked = :yes", "revoked_at = :at"]
            values |= {":yes": True, ":at": at}
    expression = ("SET " + ", ".join(sets) + " " if sets else "") + "ADD #open :minus_one"
    tx.update(
        _table(),
        cod_standing_key(order.customer_id),
        expression,
        names=names,
        values=values,
    )
    return revoked
