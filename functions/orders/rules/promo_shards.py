"""How a promo code's uses are spread over its usage counters (docs/decisions/0029): how
many counters a new code gets, each counter's slice of ``usage_limit``, and which counters a
checkout tries, in which order. Plain values and functions: no DynamoDB.

The slices add up to ``usage_limit`` and each counter's update is conditional on its own
slice, so the code is never used more than its limit. A checkout tries every counter that
had room when it read them, once each, in random order: the last uses are refused only when
every counter was full when read or when tried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from warung.store.promos import Promo

# At most this many counters per code. The model of ADR 0029: 1,000 orders/s, 30% of them
# on one code, 2 write units per transactional update of a counter (under 1 KB), and as
# many again when each use is given back (expiry, cancel): 1,200 units/s, 300 per counter
# with four, 30% of a partition's 1,000 (one counter would take 120%). It may grow; never
# shrink it below a stored code's ``shards`` (checkout reads this many counters).
MAX_SHARDS = 4
# Uses per counter before a code gets another: a code of up to 1,000 uses lasts 3 s or more
# at the flash-sale rate of 300 uses/s on one item, at 60% of its partition, under its limit.
USES_PER_SHARD = 1000

# How long a container keeps a sharded code's definition (its item) at checkout
# (docs/decisions/0034): apart from ``active``, which every counter carries too and checkout
# conditions on, a sharded code's item never changes (its uses are on the counters and the
# customers' items).
DEFINITION_TTL_S = 10.0

Shuffle = Callable[[list[int]], None]


def shard_count(usage_limit: int | None) -> int:
    """How many counters a new code gets: one per ``USES_PER_SHARD`` uses of its limit, at
    least one and at most ``MAX_SHARDS``; a code without a limit gets ``MAX_SHARDS``."""
    if usage_limit is None:
        return MAX_SHARDS
    return max(1, min(MAX_SHARDS, -(-usage_limit // USES_PER_SHARD)))


def slice_of(usage_limit: int, shards: int, shard: int) -> int:
    """Counter ``shard``'s part of ``usage_limit``: equal parts, the first counters taking
    one use more each until the remainder is spent (the parts add up to the limit)."""
    return usage_limit // shards + (1 if shard < usage_limit % shards else 0)


def shards_to_try(promo: Promo, used_by_shard: Sequence[int], shuffle: Shuffle) -> list[int | None]:
    """The counters a checkout with ``promo`` tries, in order: those with room by the counts
    just read (``used_by_shard``, one per counter), shuffled, so that checkouts spread over
    them and each falls back to the others. A code stored before counters were sharded has
    one, its own item (``None``), tried while its count ``promo.used`` is under its limit.
    Empty: the code is used up."""
    if promo.shards is None:
        full = promo.usage_limit is not None and promo.used >= promo.usage_limit
        return [] if full else [None]
    limit = promo.usage_limit
    with_room = [
        shard
        for shard in range(promo.shards)
        if limit is None or used_by_shard[shard] < slice_of(limit, promo.shards, shard)
    ]
    shuffle(with_room)
    return list(with_room)


def as_counted(promo: Promo, counters: Sequence[Mapping[str, Any] | None]) -> Promo:
    """A sharded ``promo`` as its counters (one item or None per counter) say it is now:
    used as many times as they count together, and on only while every counter that
    exists says so (a code is switched on or off with its counters in one transaction)."""
    used = sum(int((c or {}).get("used", 0)) for c in counters)
    active = all(bool(c.get("active", True)) for c in counters if c is not None)
    return replace(promo, used=used, active=active)
