"""Where payments, their orders, provider events and merchant owners live in the main table
(docs/data-model.md). The only module of the payments function that knows expressions (its
records, stored forms and keys come from ``warung.store``).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from typing import Any

from warung.dynamo import (
    Transaction,
    get_item,
    get_items,
    partition_query,
    query_items,
)
from warung.errors import Conflict
from warung.settings import get_settings
from warung.store.orders import Order, order_from, order_key
from warung.store.payments import (
    EVENT_RETENTION_SECONDS,
    Payment,
    event_key,
    payment_from,
    payment_key,
    payments_of_day_partitions,
    reconciliation_key,
    status_index,
)


class DuplicateEvent(Conflict):
    """The provider's event was recorded before: it has had its effect."""


class ChangedMeanwhile(Conflict):
    """The payment or its order moved since they were read; read them again and decide
    again."""


# Errors are made per request, never shared: an instance raised twice would chain one
# request's traceback onto another's.
def duplicate_event() -> DuplicateEvent:
    return DuplicateEvent("This event was received before.")


def payment_changed() -> ChangedMeanwhile:
    return ChangedMeanwhile("The payment changed meanwhile; read it again.")


def order_changed() -> ChangedMeanwhile:
    return ChangedMeanwhile("The order changed meanwhile; read it again.")


def _table() -> str:
    return get_settings().table_name


# ---------------------------------------------------------------- reads


def get_payment(payment_id: str) -> Payment | None:
    """The payment, read consistently."""
    item = get_item(payment_key(payment_id), table=_table())
    return payment_from(item) if item else None


def get_order(order_id: str) -> Order | None:
    """The order, read consistently."""
    item = get_item(order_key(order_id), table=_table())
    return order_from(item) if item else None


def event_payment_order(
    provider: str, event_id: str, payment_id: str, order_id: str
) -> tuple[bool, Payment | None, Order | None]:
    """In one BatchGetItem (consistent): whether the event was seen before, the payment,
    and the order the event names. The order returned is the payment's own: when the event
    names another one, the payment's order is read separately (the decision then ignores
    the event)."""
    seen, payment_item, order_item = get_items(
        [event_key(provider, event_id), payment_key(payment_id), order_key(order_id)],
        table=_table(),
    )
    payment = payment_from(payment_item) if payment_item else None
    order = order_from(order_item) if order_item else None
    if payment is not None and payment.order_id != order_id:
        order = get_order(payment.order_id)
    return seen is not None, payment, order


# ---------------------------------------------------------------- writes


def record_event(
    tx: Transaction,
    provider: str,
    event_id: str,
    *,
    fields: Mapping[str, Any],
    now_epoch: int,
) -> Transaction:
    """Record the event, once: a second put of the same id cancels the transaction with
    :func:`duplicate_event`. Put it first, so that this is the reason reported when a
    duplicate also trips the other conditions."""
    return tx.put(
        _table(),
        {
            **event_key(provider, event_id),
            "entity": "payment_event",
            **fields,
            "expires_at_epoch": now_epoch + EVENT_RETENTION_SECONDS,
        },
        condition="attribute_not_exists(pk)",
        conflict=duplicate_event(),
    )


def set_payment_status(tx: Transaction, payment: Payment, status: str, *, at: str) -> Transaction:
    """Move the payment to ``status`` if it is still in the status it was read with; its
    status index (``refund_manual`` only) is set on the way in and removed on the way out."""
    listed = status_index(payment.payment_id, status, at)
    sets = ["#status = :status", "updated_at = :at", *(f"{k} = :{k}" for k in listed)]
    expression = "SET " + ", ".join(sets)
    if not listed and status_index(payment.payment_id, payment.status, payment.updated_at):
        expression += " REMOVE gsi2pk, gsi2sk"
    return tx.update(
        _table(),
        payment_key(payment.payment_id),
        expression,
        condition="#status = :seen",
        names={"#status": "status"},
        values={
            ":status": status,
            ":at": at,
            ":seen": payment.status,
            **{f":{k}": v for k, v in listed.items()},
        },
        conflict=payment_changed(),
    )


def mirror_payment_status(tx: Transaction, order: Order, status: str, *, at: str) -> Transaction:
    """Show the payment's new status on its order (``payment: {id, status}``) without
    changing the order's status; the version moves, so a change based on an older read
    fails and is retried rather than writing the old payment status back."""
    return tx.update(
        _table(),
        order_key(order.order_id),
        "SET payment_status = :status, updated_at = :at, version = version + :one",
        condition="attribute_exists(pk)",
        values={":status": status, ":at": at, ":one": 1},
        conflict=Conflict("The order is gone."),
    )


def check_payment_open(tx: Transaction, payment: Payment, open_statuses: set[str]) -> Transaction:
    """Commit only while the payment is still in one of ``open_statuses``."""
    placeholders = {f":s{i}": status for i, status in enumerate(sorted(open_statuses))}
    return tx.check(
        _table(),
        payment_key(payment.payment_id),
        f"#status IN ({', '.join(placeholders)})",
        names={"#status": "status"},
        values=placeholders,
        conflict=Conflict("The payment is no longer pending; it cannot be simulated."),
    )


# ---------------------------------------------------------------- reconciliation


def payments_of_day(day: str) -> Iterator[Payment]:
    """Every payment made on ``day`` (Jakarta date), oldest first: a Query of each of the
    day's gsi1 shards, merged by creation time."""
    shards = [
        query_items(partition_query(partition, index="gsi1"))
        for partition in payments_of_day_partitions(day)
    ]
    for item, _ in heapq.merge(*shards, key=lambda found: str(found[0]["gsi1sk"])):
        yield payment_from(item)


def put_reconciliation_report(day: str, report: Mapping[str, Any]) -> None:
    """The day's report (a run again replaces it)."""
    Transaction().put(
        _table(), {**reconciliation_key(day), "entity": "reconciliation", **report}
    ).commit()
