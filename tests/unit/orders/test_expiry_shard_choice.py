"""The expiry worklist's shard of an order (docs/decisions/0027-sharded-expiry-worklist.md):
a hash of its id, stable, spread evenly, and only on unpaid orders."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal

from warung.ids import new_id
from warung.ordering.lifecycle import HistoryEntry
from warung.store.orders import (
    PENDING_SHARDS,
    Order,
    OrderLine,
    order_item,
    pending_index,
    pending_order_id,
    pending_partitions,
    pending_shard,
)


def _unpaid_order(order_id: str) -> Order:
    return Order(
        order_id=order_id,
        number="WRG-7K4Q-2M9X",
        customer_id="cust",
        merchant_id="merch",
        status="pending_payment",
        items=(OrderLine("prod", "Nasi Goreng", 25000, 2, True),),
        subtotal=50000,
        discount=0,
        delivery_fee=10000,
        tax=5000,
        total=65000,
        delivery_address={"line1": "Jl. Thamrin 1", "city": "Jakarta"},
        distance_km=Decimal("2.4"),
        promo_code=None,
        payment_id="pay",
        payment_status="pending",
        status_history=(HistoryEntry(status="pending_payment", at="t", by="cust"),),
        created_at="2026-12-05T05:00:00.000000Z",
        updated_at="2026-12-05T05:00:00.000000Z",
        expires_at="2026-12-05T05:15:00.000000Z",
        customer_email="budi@example.com",
        customer_name="Budi",
        merchant_name="Warung Bu Sri",
        correlation_id="c",
    )


def test_an_order_always_lands_on_the_same_one_of_the_sixteen_shards() -> None:
    order_id = new_id()
    entry = pending_index(order_id, "2026-12-05T05:15:00.000000Z")
    assert PENDING_SHARDS == 16
    assert entry == {
        "gsi4pk": f"PENDING#{pending_shard(order_id)}",
        "gsi4sk": f"2026-12-05T05:15:00.000000Z#{order_id}",
    }
    assert 0 <= pending_shard(order_id) < 16
    assert pending_index(order_id, "2026-12-05T05:15:00.000000Z") == entry
    assert pending_order_id(entry["gsi4sk"]) == order_id


def test_orders_placed_in_one_instant_spread_evenly_over_every_shard() -> None:
    # ids made in a burst share their time prefix: the hash, not the text, spreads them
    counts = Counter(pending_shard(new_id()) for _ in range(16_000))
    assert sorted(counts) == list(range(16))
    # 1,000 expected on each; a shard 15% above would take 15% more of the write rate
    assert max(counts.values()) < 1_150
    assert min(counts.values()) > 850


def test_only_an_unpaid_order_is_on_the_worklist_and_only_in_the_sharded_index() -> None:
    unpaid = order_item(_unpaid_order(new_id()))
    assert unpaid["gsi4pk"].startswith("PENDING#")
    assert "gsi3pk" not in unpaid  # gsi3 keeps the categories; orders left it
    paid = order_item(replace(_unpaid_order(new_id()), status="paid"))
    assert "gsi4pk" not in paid
    assert "gsi4sk" not in paid


def test_the_expiry_function_reads_every_shard_and_for_one_release_the_old_partition() -> None:
    assert pending_partitions() == [f"PENDING#{n}" for n in range(16)] + ["PENDING"]
