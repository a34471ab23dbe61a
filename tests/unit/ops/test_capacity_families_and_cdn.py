"""`make simulate`'s model of hash-sharded key families (one load per family, each shard at
total/N plus an allowance) and of the reads behind the cache in front (decision 0008's
formula)."""

from __future__ import annotations

import math

import pytest
from warung_sim.day import cache_key, cache_may_keep
from warung_sim.model import (
    IMBALANCE_SD,
    behind_cache,
    distinct_in_ttl,
    key_loads,
    query_shape,
    shard_load,
    sharded_families,
    shards_for_half,
    unique_shares,
)
from warung_sim.recorder import KeyAccess

from warung.audit import SHARDS, day_key
from warung.store.orders import PENDING_SHARDS, pending_partition
from warung.store.payments import PAYDAY_SHARDS


def access(
    pk: str,
    units: float,
    *,
    kind: str = "write",
    period: str = "12:00",
    where: str = "main",
    request: int = -1,
) -> KeyAccess:
    table, _, index = where.partition(".")
    return KeyAccess(
        "OrdersFunction", "Op", table, index, pk, "", kind, units, True, period, request=request
    )


# 10 lunch orders whose 10 worklist entries fell unevenly on 5 of the 16 shards (3, 1, 2, 1,
# 3): what a small day looks like.
UNEVEN = {0: 3, 5: 1, 7: 2, 10: 1, 13: 3}


def uneven_worklist() -> list[KeyAccess]:
    return [
        access(pending_partition(shard), 1.0, where="main.gsi4")
        for shard, n in UNEVEN.items()
        for _ in range(n)
    ]


def test_the_families_are_the_codes_shard_counts() -> None:
    by_name = {f.name: f for f in sharded_families({"KILAT18": 4})}
    assert by_name["PENDING#<n>"].shards == PENDING_SHARDS == 16
    assert by_name["PAYDAY#<day>#<n>"].shards == PAYDAY_SHARDS
    assert by_name["DAY#<day>#<nn>"].shards == SHARDS
    assert by_name["PROMO#KILAT18#<n>"].shards == 4


def test_a_small_days_busiest_shard_is_not_scaled_on_its_own() -> None:
    # without the families the shard that got 3 of the 10 orders is 30% of the target
    raw = {k.pk: k for k in key_loads(uneven_worklist(), {"12:00": 10}, target=1000)}
    assert raw["PENDING#0"].write_per_s == pytest.approx(300)
    # with them: one load, the family's 10 units over 10 orders = 1,000 units/s in all,
    # each shard 1,000/16 plus 3 sd of the binomial of one second's 1,000 writes over 16
    [load] = key_loads(uneven_worklist(), {"12:00": 10}, target=1000, families=sharded_families())
    assert (load.where, load.pk, load.shards, load.scaling) == (
        "main.gsi4",
        "PENDING#<0..15>",
        16,
        "sharded",
    )
    assert load.total_write_per_s == pytest.approx(1000)
    sd = math.sqrt(1000 * (1 / 16) * (15 / 16))
    assert load.write_per_s == pytest.approx(1000 / 16 + IMBALANCE_SD * sd)
    assert load.write_per_s == pytest.approx(85.4, abs=0.1)
    assert not load.flagged


def test_a_family_counts_at_the_busiest_hour_of_its_sum() -> None:
    # given shard 1 busy at lunch and shard 2 busy at dinner, 4 units each, 10 orders each
    trace = [access(day_key("2026-12-07", 1), 4.0, where="audit", period="12:00")]
    trace += [access(day_key("2026-12-07", 2), 4.0, where="audit", period="19:00")]
    trace += [access(day_key("2026-12-07", 3), 4.0, where="audit", period="19:00")]
    [load] = key_loads(trace, {"12:00": 10, "19:00": 10}, 1000, families=sharded_families())
    # then the family's busiest hour is dinner's 8 units over 10 orders, not 4 + 4 + 4
    assert load.pk == f"DAY#2026-12-07#<0..{SHARDS - 1}>"
    assert load.total_write_per_s == pytest.approx(800)
    assert load.write_per_s == pytest.approx(shard_load(800, 4.0, SHARDS))


def test_single_valued_keys_are_left_alone() -> None:
    trace = [
        access("PENDING", 3.0, where="main.gsi3"),  # the one worklist of before the shards
        access("PROMO#KILAT18", 2.0),  # a code stored before counters were sharded
        access(pending_partition(PENDING_SHARDS), 1.0, where="main.gsi4"),  # not a shard
        access("ACTOR#01J9ZZZZZZZZZZZZZZZZZZZZZZ#2026-12-07#03", 1.0, where="audit.by_actor"),
        access("PROMO#KILAT18#2", 2.0),  # no code said to be sharded: its own key
    ]
    loads = key_loads(trace, {"12:00": 10}, 1000, families=sharded_families())
    assert {(k.where, k.pk, k.shards) for k in loads} == {
        ("main.gsi3", "PENDING", 0),
        ("main", "PROMO#KILAT18", 0),
        ("main.gsi4", "PENDING#16", 0),
        ("audit.by_actor", "ACTOR#01J9ZZZZZZZZZZZZZZZZZZZZZZ#2026-12-07#03", 0),
        ("main", "PROMO#KILAT18#2", 0),
    }
    assert {k.pk: k.write_per_s for k in loads}["PENDING"] == pytest.approx(300)


def test_a_sharded_promo_codes_counters_are_a_family() -> None:
    trace = [access(f"PROMO#KILAT18#{n}", 2.0) for n in (0, 0, 0, 3)]
    trace.append(access("PROMO#KILAT18", 1.0, kind="read"))  # the code's item stays its own
    loads = key_loads(trace, {"12:00": 10}, 1000, families=sharded_families({"KILAT18": 4}))
    by_pk = {k.pk: k for k in loads}
    assert by_pk["PROMO#KILAT18#<0..3>"].total_write_per_s == pytest.approx(800)
    assert by_pk["PROMO#KILAT18#<0..3>"].write_per_s == pytest.approx(shard_load(800, 2.0, 4))
    assert by_pk["PROMO#KILAT18"].shards == 0


def test_shards_for_half_include_the_allowance() -> None:
    # 32,000 units/s would be 500 a shard over 64, but one second's imbalance tops that
    needed = shards_for_half(32_000, 1.0)
    assert needed > 64
    assert shard_load(32_000, 1.0, needed) <= 500 < shard_load(32_000, 1.0, needed - 1)


def test_the_cache_formula_gives_decision_0008s_table() -> None:
    # SEARCH#nasi: 50 units a search, 100 searches/s, 60 distinct queries in 30 s
    assert behind_cache(50, 100, 60, signed_in_share=0, caches=1) == pytest.approx(100)
    assert behind_cache(50, 100, 60, signed_in_share=0, caches=4) == pytest.approx(400)
    # 20% sent with a token: 20 of them always read; 48 distinct among the other 80
    assert behind_cache(50, 100, 48, signed_in_share=0.2, caches=4) == pytest.approx(1320)
    # every search a different query: the cache saves nothing
    assert behind_cache(50, 100, 3000, signed_in_share=0, caches=4) == pytest.approx(5000)
    # every request signed in: what the origin reads without a cache
    assert behind_cache(50, 100, 1, signed_in_share=1.0) == pytest.approx(5000)


def test_distinct_queries_are_those_seen_plus_the_tail() -> None:
    assert distinct_in_ttl(2, 0.0, 800, 30) == 2
    assert distinct_in_ttl(2, 0.25, 800, 30) == pytest.approx(2 + 6000)
    assert distinct_in_ttl(10, 1.0, 800, 30) == pytest.approx(24_000)
    assert distinct_in_ttl(50, 0.0, 1, 30) == 30  # never more than the requests


def test_the_tail_is_measured_per_query_shape() -> None:
    cache_keys = {
        0: "GET /v1/merchants?city=jakarta",
        1: "GET /v1/merchants?city=jakarta",
        2: "GET /v1/merchants?city=medan",
        3: "GET /v1/merchants?near=-6.2000%2C106.8000",
        4: "GET /v1/merchants?near=-6.2100%2C106.8000",
    }
    assert query_shape(cache_keys[2]) == "GET /v1/merchants?city="
    assert unique_shares(cache_keys) == {
        "GET /v1/merchants?city=": pytest.approx(1 / 3),
        "GET /v1/merchants?near=": 1.0,
    }


def test_a_key_read_once_for_a_shared_query_is_still_cached() -> None:
    # given a day of city lists: jakarta's 9 times, medan's once (at 10 orders)
    cache_keys = dict.fromkeys(range(9), "GET /v1/merchants?city=jakarta")
    cache_keys[9] = "GET /v1/merchants?city=medan"
    trace = [access("MCITY#jakarta", 10.0, kind="read", request=n) for n in range(9)]
    trace.append(access("MCITY#medan", 10.0, kind="read", request=9))
    loads = {
        k.pk: k
        for k in key_loads(trace, {"12:00": 10}, 1000, cache_keys=cache_keys, signed_in_share=0)
    }
    # then medan's one query string is one distinct query, not a tail: 1,000 units/s at
    # the origin, 10 x 4 caches x (1 + 1/10 of the requests as a tail) / 30 behind the cache
    medan = loads["MCITY#medan"]
    assert medan.read_per_s == pytest.approx(1000)
    assert medan.behind_cache_read_per_s == pytest.approx(10 * 4 * (1 + 0.1 * 100 * 30) / 30)
    assert medan.behind_cache_share < 0.5 < loads["MCITY#jakarta"].share


def test_a_searched_key_behind_the_cache() -> None:
    # 10 searches in the lunch hour of 10 orders, 50 units each: two queries, 6 and 4 times
    queries = ["GET /v1/products?q=nasi"] * 6 + ["GET /v1/products?q=nasi+gor"] * 4
    trace = [access("SEARCH#nasi", 50.0, kind="read", request=n) for n in range(10)]
    trace.append(access("SEARCH#nasi", 50.0, kind="read"))  # a signed-in one: not cacheable
    cache_keys = dict(enumerate(queries))
    [load] = key_loads(trace, {"12:00": 10}, 1000, cache_keys=cache_keys, signed_in_share=0)
    # origin: 550 units over 10 orders = 55,000 units/s; 50,000 of them from 1,000
    # cacheable searches/s of two distinct queries: 50 x 4 caches x 2 / 30 behind the cache
    assert load.read_per_s == pytest.approx(55_000)
    assert load.behind_cache_read_per_s == pytest.approx(5_000 + 50 * 4 * 2 / 30)
    assert load.flagged  # without the cache
    assert load.behind_cache_share > 0.5  # the signed-in reads alone are 167%
    # with the default 20% of the cacheable ones sent with a token
    [load] = key_loads(trace, {"12:00": 10}, 1000, cache_keys=cache_keys)
    assert load.behind_cache_read_per_s == pytest.approx(5_000 + 50 * (200 + 4 * 2 / 30))


def test_a_key_whose_every_query_differs_gets_nothing_from_the_cache() -> None:
    # near=<the customer's point>: every request its own cache key
    trace = [access("GEO#qqgu", 8.0, kind="read", request=n) for n in range(10)]
    cache_keys = {n: f"GET /v1/merchants?near=-6.2{n},106.8" for n in range(10)}
    [load] = key_loads(trace, {"12:00": 10}, 1000, cache_keys=cache_keys)
    assert load.behind_cache_read_per_s == pytest.approx(load.read_per_s) == 8000


def test_keys_no_cacheable_answer_read_have_no_cache_column() -> None:
    trace = [access("USER#01J9ZZZZZZZZZZZZZZZZZZZZZZ", 1.0, kind="read", request=3)]
    [load] = key_loads(trace, {"12:00": 10}, 1000, cache_keys={})
    assert load.behind_cache_read_per_s is None
    assert load.behind_cache_share == load.share


def test_only_public_answers_are_kept_by_the_cache() -> None:
    assert cache_may_keep({"headers": {"Cache-Control": "public, max-age=30"}})
    assert cache_may_keep({"multiValueHeaders": {"cache-control": ["public, max-age=30"]}})
    assert not cache_may_keep({"headers": {"Cache-Control": "no-store"}})
    assert not cache_may_keep({"headers": {}})
    assert cache_key("GET", "/v1/products", (("q", "nasi goreng"),), None) == (
        "GET /v1/products?q=nasi+goreng"
    )
