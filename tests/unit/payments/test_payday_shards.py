"""The day's payments list (gsi1) sharded by a hash of the payment id (decision 0028)."""

from __future__ import annotations

from collections import Counter

from warung.ids import new_id
from warung.store.payments import day_index, payday_shard, payments_of_day_partitions


def test_a_payment_is_listed_on_one_of_its_days_sixteen_shards_always_the_same() -> None:
    payment_id = new_id()
    entry = day_index(payment_id, "2026-12-05T05:00:00.000000Z", "2026-12-05")
    assert entry == {
        "gsi1pk": f"PAYDAY#2026-12-05#{payday_shard(payment_id)}",
        "gsi1sk": f"2026-12-05T05:00:00.000000Z#{payment_id}",
    }
    assert day_index(payment_id, "2026-12-05T05:00:00.000000Z", "2026-12-05") == entry


def test_a_burst_of_payments_spreads_over_every_shard() -> None:
    counts = Counter(payday_shard(new_id()) for _ in range(16_000))
    assert sorted(counts) == list(range(16))
    assert max(counts.values()) < 1_150


def test_the_reconciliation_reads_every_shard_and_the_list_of_before_the_shards() -> None:
    assert payments_of_day_partitions("2026-12-05") == [
        *(f"PAYDAY#2026-12-05#{n}" for n in range(16)),
        "PAYDAY#2026-12-05",
    ]
