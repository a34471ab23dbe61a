"""Run a synthetic day on the local runtime with the key-heat recorder: the trace.

A `LocalRuntime` of template.yaml in this process (free ports, event sources stepped by the
day, not started), the population seeded into its emulation, the recorder installed before
the first request of the day and removed after the last.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from warung_sim.day import FLASH_CODE, Day, DayPlan, DayResult
from warung_sim.partitions import partition_queries
from warung_sim.population import (
    FLASH_USAGE_LIMIT,
    PASSWORD,
    Population,
    Seeder,
    World,
    flash_promo_items,
)
from warung_sim.recorder import (
    EmulationImages,
    KeyHeatRecorder,
    TableSchema,
    schema_from_description,
)

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Trace:
    """A simulated day's outcome: what was seeded, the requests, and the key heat."""

    world: World
    plan: DayPlan
    day: DayResult
    recorder: KeyHeatRecorder
    seed_s: float
    startup_s: float


def table_schemas(runtime: Any) -> dict[str, TableSchema]:
    """Every table of the emulation, with its keys and indexes (DescribeTable)."""
    from warung_local.emulation import aws_client

    client = aws_client("dynamodb", runtime.endpoint_url)
    schemas = {}
    for name in client.list_tables()["TableNames"]:
        table = client.describe_table(TableName=name)["Table"]
        schemas[name] = schema_from_description(table, name.rsplit("-", 1)[-1])
    return schemas


def _password_hash(runtime: Any) -> str:
    auth = runtime.functions["AuthFunction"]
    with auth.activated():
        return str(importlib.import_module("auth.rules.passwords").hash_password(PASSWORD))


def _promo_shard_count(runtime: Any, usage_limit: int) -> int:
    """The usage counters checkout's rules give a new code of ``usage_limit`` uses."""
    orders = runtime.functions["OrdersFunction"]
    with orders.activated():
        rules = importlib.import_module("orders.rules.promo_shards")
        return int(rules.shard_count(usage_limit))


def seed(runtime: Any, population: Population, plan: DayPlan) -> World:
    """The population and the flash sale's promo code, written into the emulation."""
    catalog = runtime.functions["CatalogFunction"]
    day_start = datetime.fromisoformat(f"{plan.date}T00:00:00+07:00")
    flash_start = datetime.fromisoformat(f"{plan.date}T{plan.flash_hour:02d}:00:00+07:00")
    password_hash = _password_hash(runtime)
    flash_shards = _promo_shard_count(runtime, FLASH_USAGE_LIMIT)
    with catalog.activated():
        seeder = Seeder(password_hash)
        world = seeder.seed(population, day_start)
        flash_end = flash_start + timedelta(hours=1)
        for item in flash_promo_items(FLASH_CODE, flash_start, flash_end, flash_shards):
            seeder.put(item)
        seeder.flush()
        world.items_written = seeder.written
        world.promo_shards[FLASH_CODE] = flash_shards  # its counters: a sharded family
    return world


def run_day(
    population: Population,
    plan: DayPlan,
    *,
    template: Path = ROOT / "template.yaml",
    progress: Callable[[str], None] = lambda _m: None,
) -> Trace:
    """Start the runtime, seed, run the day with the recorder; stop the runtime."""
    from warung_local.runtime import LocalRuntime

    started = time.perf_counter()
    # The catalog's read cache passes every Query through (TTL 0) and tells the recorder
    # which reads it would keep: the trace holds every read the day's requests cause, and
    # the model computes what the containers' caches leave of them at the target.
    runtime = LocalRuntime(
        template,
        port=0,
        emulator_port=0,
        seed=True,
        start_sources=False,
        parameter_overrides={"ReadCacheTtlSeconds": "0"},
    )
    runtime.start()
    try:
        startup_s = time.perf_counter() - started
        with partition_queries():
            progress(
                f"seeding {population.merchants} merchants, {population.customers} customers ..."
            )
            seeding = time.perf_counter()
            world = seed(runtime, population, plan)
            seed_s = time.perf_counter() - seeding
            progress(
                f"   {world.items_written} items ({world.search_items} search items) "
                f"in {seed_s:.0f} s"
            )
            recorder = KeyHeatRecorder(table_schemas(runtime), EmulationImages())
            recorder.recording = False
            recorder.install()
            day = None
            try:
                _observe_read_cache(runtime, recorder)
                day = Day(runtime, recorder, world, plan, progress)
                # Clients created before the hook (the runtime's, the seeder's) get it too.
                _hook_existing(runtime, recorder)
                day.set_clock(day.moment)
                progress("   the outbox relay reads past the population's stream records ...")
                day.catch_up()
                recorder.recording = True
                result = day.run()
                recorder.recording = False
            finally:
                recorder.uninstall()
                if day is not None:
                    day.release_clock()
        return Trace(world, plan, result, recorder, seed_s, startup_s)
    finally:
        runtime.stop()


def _hook_existing(runtime: Any, recorder: KeyHeatRecorder) -> None:
    """The functions' clients made before the recorder was installed (cold starts, seeding):
    each function's `warung.clients.aws_client` cache is emptied, so its next call makes a
    hooked one."""
    for function in runtime.functions.values():
        clients = function.modules.get("warung.clients")
        if clients is not None:
            clients.aws_client.cache_clear()
    for driver in runtime.drivers:
        for name in ("sqs", "streams", "client"):
            client = getattr(driver, name, None)
            if client is not None and hasattr(client, "meta"):
                recorder.hook(client)


def _observe_read_cache(runtime: Any, recorder: KeyHeatRecorder) -> None:
    """The catalog function's read cache reports each Query it sends to the recorder; the
    orders function keeps no promo code's definition (checkout reads it every time, and the
    model applies the orders containers' keeping to those reads)."""
    catalog = runtime.functions["CatalogFunction"]
    with catalog.activated():
        module: Any = importlib.import_module("warung.readcache")  # the function's own copy
        module.observer = recorder.note_cacheable
    orders = runtime.functions["OrdersFunction"]
    with orders.activated():
        rules: Any = importlib.import_module("orders.rules.promo_shards")
        rules.DEFINITION_TTL_S = 0.0
