"""The arithmetic of `make simulate`'s model: per-order scaling to the target, the busiest
hour per key, partition limits and the flag at half of them, shards and concurrency."""

from __future__ import annotations

import pytest
from warung_sim.model import (
    busy_periods,
    function_loads,
    key_family,
    key_loads,
    scaling_of,
    shard_family,
    shards_needed,
)
from warung_sim.recorder import KeyAccess


def access(
    pk: str,
    units: float,
    *,
    kind: str = "write",
    period: str = "12:00",
    where: str = "main",
    ok: bool = True,
    to_end: bool = False,
    items: int = 1,
    limit: int = 0,
) -> KeyAccess:
    table, _, index = where.partition(".")
    return KeyAccess(
        "OrdersFunction", "Op", table, index, pk, "", kind, units, ok, period, items, to_end, limit
    )


def test_units_per_order_scale_linearly_to_the_target() -> None:
    # given 10 orders in the hour, each writing 3 units to PENDING (put, then removal)
    trace = [access("PENDING", 3.0, where="main.gsi3") for _ in range(10)]
    [load] = key_loads(trace, {"12:00": 10}, target=1000)
    # then at 1,000 orders/s PENDING takes 3,000 write units/s: three times its limit
    assert load.write_per_s == pytest.approx(3000)
    assert load.share == pytest.approx(3.0)
    assert load.flagged


def test_a_key_counts_at_its_busiest_hour_not_the_days_average() -> None:
    # given a promo code used by 3 of the 10 lunch orders and by none of the 10 dinner ones
    trace = [access("PROMO#KILAT", 2.0, period="12:00") for _ in range(3)]
    [load] = key_loads(trace, {"12:00": 10, "19:00": 10}, target=1000)
    # then its rate is lunch's: 0.6 units per order
    assert load.write_per_s == pytest.approx(600)
    assert load.flagged  # 60% of 1,000


def test_reads_are_measured_against_three_thousand_and_half_is_not_flagged() -> None:
    trace = [access("SEARCH#nasi", 15.0, kind="read") for _ in range(10)]
    [load] = key_loads(trace, {"12:00": 10}, target=100)
    assert load.read_per_s == pytest.approx(1500)
    assert load.share == pytest.approx(0.5)
    assert not load.flagged  # exactly half is not above half


def test_quiet_hours_do_not_set_a_keys_rate() -> None:
    # given one order at 06:00 (under 5% of the day's 100) that touched a key 5 times
    trace = [access("USER#x", 1.0, period="06:00") for _ in range(5)]
    assert busy_periods({"06:00": 1, "12:00": 99}) == {"12:00"}
    [load] = key_loads(trace, {"06:00": 1, "12:00": 99}, target=1000)
    assert load.write_per_s == 0


def test_catalogue_wide_reads_grow_with_the_population_only_when_read_to_the_end() -> None:
    trace = [
        access("SEARCH#nasi", 10.0, kind="read", to_end=True),
        access("CAT#food", 10.0, kind="read", to_end=False),  # stopped by its page size
        access("USER#u1", 10.0, kind="read", to_end=True),  # one customer's: no growth
    ]
    loads = {k.pk: k.read_per_s for k in key_loads(trace, {"12:00": 1}, 1, population_factor=10)}
    assert loads == {"SEARCH#nasi": 100.0, "CAT#food": 10.0, "USER#u1": 10.0}


def test_population_growth_stops_at_what_the_reader_reads() -> None:
    # given 25 merchants of a city read in one Query of Limit 100, and 300 search candidates
    trace = [
        access("MCITY#jakarta", 4.0, kind="read", to_end=True, items=25, limit=100),
        access("SEARCH#nasi", 6.0, kind="read", to_end=True, items=300, limit=1000),
    ]
    loads = {k.pk: k.read_per_s for k in key_loads(trace, {"12:00": 1}, 1, population_factor=10)}
    # then the city list reads 100 at most (x4), the search pages on to 3,000 (x10)
    assert loads == {"MCITY#jakarta": 16.0, "SEARCH#nasi": 60.0}


def test_refused_writes_are_counted_apart_from_units() -> None:
    trace = [access("PROMO#KILAT", 2.0, ok=False), access("PROMO#KILAT", 2.0)]
    [load] = key_loads(trace, {"12:00": 2}, target=1000)
    assert load.write_per_s == pytest.approx(1000)
    assert load.failed_per_s == pytest.approx(500)


def test_audit_shards_needed_keep_each_shard_at_half_its_limit() -> None:
    # given 32 shards of one day each taking 1,000 units/s in the busiest hour
    trace = [access(f"DAY#2026-12-07#{n:02d}", 1.0, where="audit") for n in range(32)]
    loads = key_loads(trace, {"12:00": 1}, target=1000)
    assert shard_family("DAY#2026-12-07#07") == "DAY#2026-12-07"
    assert shard_family("RES#order:01ABC") == "RES#order:01ABC"
    # then the family takes 32,000 units/s: 64 shards of 500 would be needed
    assert shards_needed(loads, "audit") == {"audit DAY#2026-12-07": (32000.0, 64)}


def test_concurrency_is_rate_times_duration() -> None:
    invocations = [("12:00", "OrdersFunction", 200.0), ("12:00", "OrdersFunction", 100.0)]
    [load] = function_loads(invocations, orders=1, target=1000, memory_mb={})
    # two invocations of 150 ms per order: 2,000/s x 0.15 s
    assert load.per_s == pytest.approx(2000)
    assert load.concurrency == pytest.approx(300)


def test_a_seeded_entitys_key_takes_its_share_of_the_full_population() -> None:
    merchant = "MERCHANT#01M92DHWT2JH2E31Z6TRSP8Z1S"
    trace = [access(merchant, 1.0, kind="read") for _ in range(10)]
    seeded = {"01M92DHWT2JH2E31Z6TRSP8Z1S"}
    [load] = key_loads(trace, {"12:00": 10}, 1000, population_factor=10, seeded_ids=seeded)
    # one of 50 merchants took every order here; one of 500 takes a tenth of that share
    assert load.scaling == "population"
    assert load.read_per_s == pytest.approx(100)


def test_a_key_born_during_the_day_keeps_its_own_rate() -> None:
    # given one order's key written 4 units in its hour
    trace = [access("ORDER#01M96SBTC03FSBKCJ5PWDSAV1E", 1.0) for _ in range(4)]
    [load] = key_loads(trace, {"12:00": 1}, target=1000)
    # then more orders make more order keys, not a hotter one: 4 units over 3,600 s
    assert load.scaling == "own"
    assert load.write_per_s == pytest.approx(4 / 3600)
    assert key_family("ORDER#01M96SBTC03FSBKCJ5PWDSAV1E") == "ORDER#…"
    assert scaling_of("SEARCH#nasi", set()) == "single"
