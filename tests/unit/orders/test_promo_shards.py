"""How many usage counters a promo code gets, each one's slice of the limit, and which
counters a checkout tries in which order (docs/decisions/0029)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from orders.rules.promo_shards import (
    MAX_SHARDS,
    as_counted,
    shard_count,
    shards_to_try,
    slice_of,
)
from warung.store.promos import Promo


def _promo(usage_limit: int | None, shards: int | None, used: int = 0) -> Promo:
    return Promo(
        code="FLASH", kind="fixed", value=5000, usage_limit=usage_limit, shards=shards, used=used
    )


def _keep_order(shards: list[int]) -> None:
    """A shuffle that leaves the counters in shard order."""


@pytest.mark.parametrize(
    ("usage_limit", "shards"),
    [(1, 1), (10, 1), (1000, 1), (1001, 2), (2500, 3), (3001, 4), (1_000_000, 4), (None, 4)],
)
def test_a_code_gets_one_counter_per_thousand_uses_up_to_four(
    usage_limit: int | None, shards: int
) -> None:
    assert shard_count(usage_limit) == shards
    assert shard_count(usage_limit) <= MAX_SHARDS


@pytest.mark.parametrize("usage_limit", [1, 3, 10, 1001, 2501, 4000, 9_999_999])
def test_the_slices_add_up_to_the_limit_and_differ_by_one_at_most(usage_limit: int) -> None:
    shards = shard_count(usage_limit)
    slices = [slice_of(usage_limit, shards, n) for n in range(shards)]
    assert sum(slices) == usage_limit
    assert max(slices) - min(slices) <= 1


def test_only_counters_with_room_are_tried() -> None:
    promo = _promo(4000, 4)  # 1,000 uses per counter

    assert shards_to_try(promo, [997, 1000, 993, 1000], _keep_order) == [0, 2]


def test_the_counters_are_tried_in_the_order_the_shuffle_gives() -> None:
    promo = _promo(4000, 4)

    assert shards_to_try(promo, [0, 0, 0, 0], lambda s: s.reverse()) == [3, 2, 1, 0]
    assert shards_to_try(promo, [0, 0, 0, 0], random.Random(7).shuffle) == shards_to_try(
        promo, [0, 0, 0, 0], random.Random(7).shuffle
    )


def test_a_seeded_shuffle_spreads_the_first_choice_over_every_counter() -> None:
    promo = _promo(None, 4)
    rng = random.Random(2026)

    firsts = Counter(shards_to_try(promo, [0, 0, 0, 0], rng.shuffle)[0] for _ in range(4000))

    assert set(firsts) == {0, 1, 2, 3}
    assert all(900 <= n <= 1100 for n in firsts.values())


def test_a_used_up_code_has_no_counter_to_try() -> None:
    assert shards_to_try(_promo(4000, 4), [1000, 1000, 1000, 1000], _keep_order) == []
    assert shards_to_try(_promo(10, 1), [10], _keep_order) == []


def test_a_code_without_a_limit_tries_every_counter() -> None:
    assert shards_to_try(_promo(None, 4), [5, 10**6, 0, 7], _keep_order) == [0, 1, 2, 3]


def test_a_code_stored_before_sharding_is_its_own_one_counter() -> None:
    assert shards_to_try(_promo(2, None, used=1), [], _keep_order) == [None]
    assert shards_to_try(_promo(2, None, used=2), [], _keep_order) == []
    assert shards_to_try(_promo(None, None, used=10**6), [], _keep_order) == [None]


def test_a_sharded_code_is_what_its_counters_say_now() -> None:
    # The definition (kept a few seconds by a container) says 0 uses and on; the counters,
    # read with every checkout, say 7 + 5 uses and that the code was switched off.
    kept = _promo(100, 2)
    counters = [{"used": 7, "active": True}, {"used": 5, "active": False}]

    now = as_counted(kept, counters)

    assert (now.used, now.active) == (12, False)
    # a counter not written yet counts no use and does not switch the code off
    assert as_counted(kept, [{"used": 3, "active": True}, None]).used == 3
    assert as_counted(kept, [{"used": 3, "active": True}, None]).active is True
