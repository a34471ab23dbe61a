"""`make simulate` on a tiny population: the trace of a simulated day names the keys every
order writes or reads (the flash sale's promo code, a search prefix) as the single-valued
hot keys, the expiry worklist's shards as one hash-sharded family, the anonymous searches
behind the cache, and the model scales them to the target."""

from __future__ import annotations

import io
from typing import Any

import pytest
from warung_sim.day import FLASH_CODE, DayPlan
from warung_sim.model import key_loads, sharded_families
from warung_sim.population import Population
from warung_sim.report import print_report
from warung_sim.simulate import Trace, run_day


@pytest.fixture(scope="module")
def trace() -> Trace:
    # Every lunch-hour checkout uses the flash sale's code, so the tiny day certainly has some.
    plan = DayPlan(orders=17, flash_share=1.0, paid_share=0.9, cancel_share=0.0)
    return run_day(Population(merchants=5, customers=40, menu_min=10, menu_max=12), plan)


def loads_of(trace: Trace) -> dict[tuple[str, str], Any]:
    loads = key_loads(trace.recorder.accesses, trace.day.orders_by_period, target=1000)
    return {(k.where, k.pk): k for k in loads}


def test_the_day_places_orders_through_the_api(trace: Trace) -> None:
    assert sum(trace.day.orders_by_period.values()) >= 10
    routes = {r.route for r in trace.day.requests}
    assert {"POST /v1/orders", "GET /v1/products", "POST /v1/payments/webhook"} <= routes
    assert any(
        r.route == "POST /v1/orders/{order_id}/status" and r.status == 200
        for r in trace.day.requests
    )


def test_every_checkout_writes_the_expiry_worklist_shards(trace: Trace) -> None:
    worklist = [k for (where, pk), k in loads_of(trace).items() if pk.startswith("PENDING#")]
    # Each unpaid order's entry is put and later removed, on the shard its id hashes to.
    assert worklist
    assert all(k.where == "main.gsi4" for k in worklist)
    assert {"OrdersFunction", "PaymentsFunction"} <= set().union(*(k.functions for k in worklist))
    # As one family, each shard takes the total over 16 (plus its allowance): its writes are
    # under half a partition (its reads are the expiry job's, on a schedule: capacity.md).
    [family] = [k for (where, pk), k in family_loads_of(trace).items() if pk == "PENDING#<0..15>"]
    assert (family.where, family.scaling, family.shards) == ("main.gsi4", "sharded", 16)
    assert family.total_write_per_s > 500
    assert family.write_per_s < family.total_write_per_s / 16 * 2
    assert family.write_share < 0.5


def family_loads_of(trace: Trace) -> dict[tuple[str, str], Any]:
    loads = key_loads(
        trace.recorder.accesses,
        trace.day.orders_by_period,
        target=1000,
        families=sharded_families(trace.world.promo_shards),
        cache_keys=trace.day.cache_keys,
    )
    return {(k.where, k.pk): k for k in loads}


def test_anonymous_searches_are_read_behind_the_cache(trace: Trace) -> None:
    cached = set(trace.day.cache_keys.values())
    assert any(key.startswith("GET /v1/products?q=") for key in cached)
    assert not any(key.startswith("POST ") for key in cached)
    searched = [k for (_, pk), k in family_loads_of(trace).items() if pk.startswith("SEARCH#")]
    behind = [k for k in searched if k.behind_cache_read_per_s is not None]
    assert behind
    # never more than without the cache; the most searched prefix (its queries repeat) less
    assert all(k.behind_cache_read_per_s <= k.read_per_s for k in behind)
    hottest = max(behind, key=lambda k: k.read_per_s)
    assert hottest.behind_cache_read_per_s < hottest.read_per_s / 2


def test_the_flash_sale_codes_uses_land_on_its_counters(trace: Trace) -> None:
    # The code is seeded as an admin makes one today: four counters (decision 0029).
    assert trace.world.promo_shards == {FLASH_CODE: 4}
    counters = [
        k
        for (_, pk), k in loads_of(trace).items()
        if pk.startswith(f"PROMO#{FLASH_CODE}#") and pk.rpartition("#")[2].isdigit()
    ]
    assert counters
    assert all(k.scaling == "single" and "OrdersFunction" in k.functions for k in counters)
    family = family_loads_of(trace)[("main", f"PROMO#{FLASH_CODE}#<0..3>")]
    assert (family.scaling, family.shards) == ("sharded", 4)
    assert family.total_write_per_s > 0
    assert family.write_per_s < family.total_write_per_s


def test_search_reads_land_on_word_prefix_partitions(trace: Trace) -> None:
    searched = [k for (where, pk), k in loads_of(trace).items() if pk.startswith("SEARCH#")]
    assert searched
    assert all(k.scaling == "single" for k in searched)
    # (a prefix searched only in a quiet hour counts nothing at the peak)
    assert max(k.read_per_s for k in searched) > 0


def test_orders_keys_are_their_own_and_not_scaled(trace: Trace) -> None:
    orders = [k for (where, pk), k in loads_of(trace).items() if pk.startswith("ORDER#")]
    assert orders
    assert all(k.scaling == "own" and not k.flagged for k in orders)


def test_the_report_prints_the_top_keys_and_the_quotas(trace: Trace) -> None:
    out = io.StringIO()
    figures = print_report(trace, 1000, population_factor=1.0, out=out)
    text = out.getvalue()
    assert "main.gsi4        PENDING#<0..15>" in text
    assert "fn r/s prod r/s on prod" in text
    assert "stage throttle 100 rps (burst 200)" in text
    assert "WorkerFunction: MaximumConcurrency 5" in text
    [worklist] = [k for k in figures["keys"] if k["pk"] == "PENDING#<0..15>"]
    assert worklist["shards"] == 16
    assert worklist["write_per_s"] < 500
    assert figures["cost_per_1000_orders"]["DynamoDB"] > 0


def test_the_catalogs_public_queries_are_marked_for_its_read_cache(trace: Trace) -> None:
    kept = [a for a in trace.recorder.accesses if a.cache_key]
    assert kept
    assert {(a.function, a.operation) for a in kept} == {("CatalogFunction", "Query")}
    assert any(a.pk.startswith("SEARCH#") for a in kept)
    # never the orders, carts or a merchant's own order list
    assert not any(a.pk.startswith(("ORDER#", "USER#", "MORDERS#", "CUSTOMER#")) for a in kept)
    figures = print_report(trace, 1000, population_factor=1.0, out=io.StringIO())
    searched = [k for k in figures["keys"] if k["pk"].startswith("SEARCH#")]
    assert searched
    assert all(k["function_cache_read_per_s"] is not None for k in searched)
    assert all(k["function_cache_read_per_s"] <= k["read_per_s"] for k in searched)
    assert figures["catalog_containers"] > 0


def test_the_day_leaves_the_clock_running(trace: Trace) -> None:
    # The day froze every clock at its own hours; whatever runs after it in the process
    # (a webhook's signature window, a token's lifetime) must see real time again.
    import time

    from warung import clock

    assert trace.day.orders_by_period  # the day ran
    assert abs(clock.epoch_seconds() - time.time()) < 5
