"""`make simulate`'s model of the catalog's read cache (decision 0034): a cached key's reads
at the table are at most N containers / TTL per distinct query, never more than its request
rate, after CloudFront's share; and a schedule's empty polls come with the schedule, not
with the orders."""

from __future__ import annotations

import math
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from warung_sim import report
from warung_sim.model import READ_CACHE_TTL_S, behind_read_cache, key_loads
from warung_sim.recorder import KeyAccess
from warung_sim.report import stack_limits

from orders.rules.promo_shards import DEFINITION_TTL_S as PROMO_DEFINITION_TTL_S
from warung.store.orders import pending_partition
from warung_local.template import load_template


def read(
    pk: str,
    units: float,
    *,
    cache_key: str = "",
    request: int = -1,
    function: str = "CatalogFunction",
    items: int = 1,
    where: str = "main",
) -> KeyAccess:
    table, _, index = where.partition(".")
    return KeyAccess(
        function,
        "Query",
        table,
        index,
        pk,
        "",
        "read",
        units,
        True,
        "12:00",
        items=items,
        request=request,
        cache_key=cache_key,
    )


def test_a_query_costs_at_most_n_containers_per_ttl_and_never_more_than_its_rate() -> None:
    # 1,000 reads/s of one query over 100 containers: each reads it once per 30 s
    assert behind_read_cache(10.0, 1000.0, 1, 100, 30) == pytest.approx(
        100 * -math.expm1(-30_000 / 100) / 30 * 10
    )
    assert behind_read_cache(10.0, 1000.0, 1, 100, 30) == pytest.approx(100 / 30 * 10)
    # a rare query (1 request a minute) is read every time it is asked
    assert behind_read_cache(10.0, 1 / 60, 1, 100, 30) == pytest.approx(10 / 60, rel=0.01)
    # in between: fewer containers than asks, more than the rate
    between = behind_read_cache(10.0, 10.0, 1, 1000, 30)
    assert 10 * 10 > between > 1000 / 30 * 10 * 0.2
    # the TTL off, or no container: every read goes through
    assert behind_read_cache(10.0, 500.0, 3, 100, 0) == 5000
    # distinct queries each cost their own share
    assert behind_read_cache(10.0, 2000.0, 2, 100, 30) == pytest.approx(2 * 100 / 30 * 10)


def test_a_hot_search_prefix_behind_the_functions_cache() -> None:
    # 10 orders in the lunch hour, 20 searches of one query at 50 units: 100,000 units/s
    trace = [read("SEARCH#nasi", 50.0, cache_key="q1") for _ in range(20)]
    [load] = key_loads(trace, {"12:00": 10}, 1000, containers=300, read_cache_ttl=30)
    assert load.read_per_s == pytest.approx(100_000)
    # 2,000 queries/s over 300 containers: each reads it about once per 30 s
    assert load.function_cache_read_per_s == pytest.approx(300 / 30 * 50, rel=0.001)
    assert load.behind_cache_read_per_s == load.function_cache_read_per_s  # no CloudFront
    assert load.behind_cache_share < 0.5 < load.share
    # one query of 50 units: each container reads 50 / 30 units/s, 900 of them are half
    assert (load.cached_queries, load.cached_units_per_query) == (1, 50.0)
    assert load.containers_for_half(30) == 900


def test_the_functions_cache_takes_what_cloudfront_lets_through() -> None:
    queries = dict.fromkeys(range(10), "GET /v1/products?q=nasi")
    trace = [read("SEARCH#nasi", 50.0, cache_key="q1", request=n) for n in range(10)]
    [edge_only] = key_loads(trace, {"12:00": 10}, 1000, cache_keys=queries)
    [both] = key_loads(
        trace, {"12:00": 10}, 1000, cache_keys=queries, containers=300, read_cache_ttl=30
    )
    # CloudFront: 20% signed in (200 requests/s) plus P x D / 30 anonymous ones
    reaching = 50 * (200 + 4 / 30)
    assert edge_only.behind_cache_read_per_s == pytest.approx(reaching)
    assert both.behind_cache_read_per_s == pytest.approx(
        behind_read_cache(50.0, reaching / 50, 1, 300, 30)
    )
    assert (both.behind_cache_read_per_s or 0) < 300 / 30 * 50
    # without CloudFront, the functions' cache alone
    assert both.function_cache_read_per_s == pytest.approx(
        behind_read_cache(50.0, 1000.0, 1, 300, 30)
    )


def test_only_the_reads_through_the_cache_are_reduced() -> None:
    # an owner's own menu (fresh) and the public menu (cached), half the units each
    trace = [read("MPRODUCTS#m1", 4.0, cache_key="menu") for _ in range(5)]
    trace += [read("MPRODUCTS#m1", 4.0) for _ in range(5)]
    [load] = key_loads(trace, {"12:00": 10}, 1000, containers=100, read_cache_ttl=30)
    assert load.read_per_s == pytest.approx(4000)
    fresh = 2000
    assert load.function_cache_read_per_s == pytest.approx(
        fresh + behind_read_cache(4.0, 500.0, 1, 100, 30)
    )


def test_keys_no_cached_query_read_have_no_function_cache_figure() -> None:
    [load] = key_loads([read("MSTATUS#active", 5.0)], {"12:00": 10}, 1000, containers=100)
    assert load.function_cache_read_per_s is None
    assert load.behind_cache_share == load.share


def test_a_schedules_empty_polls_keep_their_rate_in_simulated_time() -> None:
    # the expiry job polls a shard 4 times in the lunch hour and finds nothing; a checkout
    # of the same hour reads nothing there. Before: 2 units over 10 orders x 1,000 = 200/s
    polls = [
        read(pending_partition(0), 0.5, function="OrderExpiryFunction", items=0, where="main.gsi4")
        for _ in range(4)
    ]
    [load] = key_loads(polls, {"12:00": 10}, 1000, scheduled={"OrderExpiryFunction"})
    assert load.read_per_s == pytest.approx(2.0 / 3600)
    # a run that found expired entries reads what the orders put there: per order
    found = replace(polls[0], items=3, units=1.5)
    [load] = key_loads([*polls, found], {"12:00": 10}, 1000, scheduled={"OrderExpiryFunction"})
    assert load.read_per_s == pytest.approx(150 + 2.0 / 3600)
    # a function not on a schedule polls per order as before
    [load] = key_loads(polls, {"12:00": 10}, 1000)
    assert load.read_per_s == pytest.approx(200)


def test_the_model_keeps_the_promo_definition_as_long_as_checkout_does() -> None:
    assert report.PROMO_DEFINITION_TTL_S == PROMO_DEFINITION_TTL_S


def test_prod_keeps_catalog_reads_as_long_as_the_model_says_and_other_stages_not_at_all() -> None:
    root = Path(__file__).resolve().parents[3]
    shipped = tomllib.loads((root / "samconfig.toml").read_text(encoding="utf-8"))
    prod = shipped["prod"]["deploy"]["parameters"]["parameter_overrides"].split()
    dev = shipped["dev"]["deploy"]["parameters"]["parameter_overrides"]
    assert f"ReadCacheTtlSeconds={READ_CACHE_TTL_S:g}" in prod
    assert "ReadCacheTtlSeconds" not in dev
    template = load_template(root / "template.yaml", {"Stage": "local"})
    catalog = template.functions["CatalogFunction"].environment
    assert catalog["READ_CACHE_TTL_SECONDS"] == "0"
    assert stack_limits()["scheduled"] == {"OrderExpiryFunction", "PaymentReconciliationFunction"}
