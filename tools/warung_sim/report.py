"""What `make simulate` prints: the day as run, then the model at the target peak."""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from warung.store.promos import promo_key
from warung_sim import model
from warung_sim.recorder import KeyAccess
from warung_sim.simulate import Trace

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("browse", "search", "cart", "checkout", "pay", "status", "order", "account")


def stack_limits(template_path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    """The limits the stack sets itself, read from the template: the stage throttle, the
    SQS consumers' MaximumConcurrency and batch sizes, each function's memory."""
    from warung_local.template import load_template

    template = load_template(template_path, {"Stage": "local"})
    document = template.document
    params = document.get("Parameters") or {}
    scaling: dict[str, tuple[int, int]] = {}
    scheduled: set[str] = set()
    for logical_id, resource in (document.get("Resources") or {}).items():
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event in events.values():
            props = event.get("Properties") or {}
            if event.get("Type") in {"Schedule", "ScheduleV2"}:
                scheduled.add(logical_id)
            config = props.get("ScalingConfig") or {}
            if event.get("Type") == "SQS" and "MaximumConcurrency" in config:
                scaling[logical_id] = (
                    int(config["MaximumConcurrency"]),
                    int(props.get("BatchSize", 10)),
                )
    return {
        "throttle_rate": float((params.get("ThrottleRateLimit") or {}).get("Default", 0)),
        "throttle_burst": float((params.get("ThrottleBurstLimit") or {}).get("Default", 0)),
        "sqs_scaling": scaling,
        "scheduled": frozenset(scheduled),
        "memory_mb": {lid: int(spec.memory) for lid, spec in template.functions.items()},
    }


def _rate(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 1 else f"{value:.2f}"


CHECKOUT = "POST /v1/orders"
PROMO_DEFINITION_TTL_S = 10.0  # orders.rules.promo_shards.DEFINITION_TTL_S


def with_promo_definitions_kept(trace: Trace) -> list[KeyAccess]:
    """The trace with checkout's reads of a sharded code's item marked as kept by the orders
    containers (decision 0034: at checkout, a container reads a sharded code's definition
    once per ``PROMO_DEFINITION_TTL_S``). The simulated day's clock jumps minutes between
    checkouts, so its one orders container reads it every time: the model does the rest."""
    checkouts = {n for n, r in enumerate(trace.day.requests) if r.route == CHECKOUT}
    definitions = {promo_key(code)["pk"] for code in trace.world.promo_shards}
    return [
        replace(a, cache_key=f"item:{a.pk}")
        if a.kind == "read"
        and a.request in checkouts
        and a.pk in definitions
        and a.sk == "PROMO"
        and not a.index
        else a
        for a in trace.recorder.accesses
    ]


def _units_per_access(trace: Trace, family: model.KeyLoad) -> tuple[float, float]:
    """A family's mean read and write units per access in the day (its shards' keys)."""
    families = model.sharded_families(trace.world.promo_shards)
    units = {"read": [0.0, 0], "write": [0.0, 0]}
    for a in trace.recorder.accesses:
        if a.where != family.where or (a.kind == "write" and not a.ok):
            continue
        found = model.family_of(a.where, a.pk, families)
        if found is not None and f"{found[1]}#<0..{family.shards - 1}>" == family.pk:
            units[a.kind][0] += a.units
            units[a.kind][1] += 1
    return (
        float(units["read"][0]) / max(1, int(units["read"][1])),
        float(units["write"][0]) / max(1, int(units["write"][1])),
    )


def print_report(  # noqa: C901 - a report layout, one block per section
    trace: Trace,
    target: float,
    population_factor: float,
    out: TextIO = sys.stdout,
    limits: dict[str, Any] | None = None,
    *,
    raw: bool = False,
    signed_in_share: float = model.SIGNED_IN_SHARE,
    cache_nodes: int = model.CACHE_NODES,
    catalog_containers: int = 0,
) -> dict[str, Any]:
    """Print the report; return its figures (for --json and the tests)."""
    emit: Callable[..., None] = lambda line="": print(line, file=out)  # noqa: E731
    limits = limits or stack_limits()
    day = trace.day
    orders = sum(day.orders_by_period.values())
    kinds = Counter(r.kind for r in day.requests)
    emit(f"Synthetic day on the local runtime ({trace.plan.date}, Jakarta 06:00-23:00)")
    emit(
        f"  population: {len(trace.world.merchants)} merchants, {len(trace.world.customers)} "
        f"customers, {trace.world.items_written} items seeded in {trace.seed_s:.0f} s "
        f"(full population = {population_factor:g} x this)"
    )
    emit(
        f"  traffic: {len(day.requests)} API requests, {orders} orders placed, "
        f"{len(day.invocations)} invocations, in {day.elapsed_s:.0f} s"
    )
    if orders:
        emit(
            "  per order: "
            + ", ".join(f"{k} {kinds[k] / orders:.1f}" for k in KINDS if kinds[k])
            + " (requests)"
        )
    refused = {k: v for k, v in day.outcomes.items() if not k.rsplit(" ", 1)[1].startswith("2")}
    if refused:
        emit("  refused: " + ", ".join(f"{k} x{v}" for k, v in sorted(refused.items())))
    if not orders:
        emit("  no order was placed: nothing to scale")
        return {"orders": 0}

    raw_loads = model.key_loads(
        trace.recorder.accesses, day.orders_by_period, target, population_factor
    )
    functions = model.function_loads(day.invocations, orders, target, limits["memory_mb"])
    as_measured = {
        f.function: f
        for f in model.function_loads(day.measured, orders, target, limits["memory_mb"])
    }
    # the containers at the target: each keeps its own read cache
    running = {f.function: float(math.ceil(f.concurrency)) for f in functions}
    if catalog_containers:
        running["CatalogFunction"] = float(catalog_containers)
    containers = int(running.get("CatalogFunction", 0))
    ttl = model.READ_CACHE_TTL_S  # prod's (the day itself runs with the cache off)
    loads = raw_loads
    if not raw:
        loads = model.key_loads(
            with_promo_definitions_kept(trace),
            day.orders_by_period,
            target,
            population_factor,
            families=model.sharded_families(trace.world.promo_shards),
            cache_keys=day.cache_keys,
            signed_in_share=signed_in_share,
            caches=cache_nodes,
            containers=running,
            read_cache_ttl={"CatalogFunction": ttl, "OrdersFunction": PROMO_DEFINITION_TTL_S},
            scheduled=limits.get("scheduled", frozenset()),
        )
    emit()
    emit(
        f"Partition keys at {target:,.0f} orders/s (busiest hour per key; limits per key: "
        f"{model.READ_LIMIT:,.0f} read units/s, {model.WRITE_LIMIT:,.0f} write units/s)"
    )
    if raw:
        emit("  raw: every key on its own, sharded families and the cache not modelled")
    emit(
        f"  {'table/index':<16} {'partition key':<38} {'reads/s':>8} {'writes/s':>8} "
        f"{'of limit':>8} {'fn r/s':>8} {'prod r/s':>8} {'on prod':>7}  {'scaling':<10} by"
    )

    def flagged_on_prod(k: model.KeyLoad) -> bool:
        return k.behind_cache_share > model.FLAG_SHARE

    flagged = [k for k in loads if flagged_on_prod(k)]
    uncached_only = [k for k in loads if k.flagged and not flagged_on_prod(k)]
    shown = loads[:10] + [k for k in flagged if k not in loads[:10]]
    for k in shown:
        if flagged_on_prod(k):
            mark = "  << over half" + (" behind the cache" if k.cacheable else "")
        elif k.flagged:
            mark = "  < over half without the cache"
        else:
            mark = ""
        pk = k.pk if len(k.pk) <= 38 else k.pk[:35] + "..."
        cdn, cdn_share, fn = "", "", ""
        if k.behind_cache_read_per_s is not None:
            cdn, cdn_share = _rate(k.behind_cache_read_per_s), f"{k.behind_cache_share:.0%}"
        if k.function_cache_read_per_s is not None:
            fn = _rate(k.function_cache_read_per_s)
        scaling = f"{k.scaling}/{k.shards}" if k.shards else k.scaling
        emit(
            f"  {k.where:<16} {pk:<38} {_rate(k.read_per_s):>8} {_rate(k.write_per_s):>8} "
            f"{k.share:>8.0%} {fn:>8} {cdn:>8} {cdn_share:>7}  {scaling:<10} "
            f"{', '.join(f.replace('Function', '') for f in k.functions)}{mark}"
        )
    emit(
        f"  {len(flagged)} key(s) above {model.FLAG_SHARE:.0%} of a partition limit on prod "
        f"(behind the cache where it applies); {len(uncached_only)} more without the cache"
    )
    emit(
        "  scaling: single = no id, the whole target lands on it; population = one seeded "
        "merchant, product or customer, at the full population's share; own = born during "
        "the day (an order, a job): its own rate; sharded/N = a hash-sharded family, "
        f"figures per shard: total/N + {model.IMBALANCE_SD:g} sd of the binomial count of "
        "one second's accesses on one shard"
    )
    emit(
        f"  CDN: reads/s behind CloudFront for keys read by cacheable answers (public, "
        f"{model.CACHE_TTL_S:g} s): C x (R_signed + min(R_anon, P x D / {model.CACHE_TTL_S:g})), "
        f"{signed_in_share:.0%} of the requests sent with a token (never cached), P = "
        f"{cache_nodes} caches, D = distinct queries in {model.CACHE_TTL_S:g} s from the "
        "day's (the query strings the key was read for, plus a tail: the share of its "
        "query shape's requests whose string the day saw once); when the "
        "CDN misses entirely, or for a customer whose every read carries a token, the "
        "key takes the fn column"
    )
    origin_of_n = "given" if catalog_containers else "the concurrency below"
    emit(
        f"  fn: reads/s with the catalog's read cache alone (warung.readcache, {ttl:g} s): "
        f"each of a key's D distinct Queries is read at most once per {ttl:g} s by each of "
        f"N = {containers:,} catalog containers ({origin_of_n}) that was asked for "
        f"it: D x N(1 - exp(-(R/D) x {ttl:g} / N)) / {ttl:g} x C, never more than R x C; "
        "prod r/s: the same behind CloudFront (what CloudFront lets through reaches the "
        "functions, then their caches)"
    )
    for k in flagged:
        most = k.containers_for_half(ttl)
        if most is not None and k.functions == ("CatalogFunction",):
            queries = f"{k.cached_queries} cached quer{'y' if k.cached_queries == 1 else 'ies'}"
            emit(
                f"  {k.pk}: under half a partition with at most {most:,} catalog containers "
                f"({queries} of {k.cached_units_per_query:,.0f} read units; here N = "
                f"{containers:,}, from the durations modelled above)"
            )
    contended = [k for k in loads if k.failed_per_s >= 0.01]
    if contended:
        emit(
            "  refused writes (conditions, cancelled transactions) at the target: "
            + ", ".join(f"{k.pk} {_rate(k.failed_per_s)}/s" for k in contended[:5])
        )

    from warung.audit import SHARDS  # the audit log's shard count today

    emit()
    if raw:
        shards = model.shards_needed(raw_loads, "audit")
        emit(f"Audit shards (warung.audit.SHARDS = {SHARDS}; raw: per-key peaks summed)")
        for family, (units, shards_for_half) in sorted(shards.items(), key=lambda kv: -kv[1][0]):
            verdict = "enough" if shards_for_half <= SHARDS else "NOT enough"
            emit(
                f"  {family:<44} {_rate(units):>8} write units/s over all shards: needs "
                f"{shards_for_half} for half a partition each ({verdict})"
            )
    else:
        emit(
            f"Hash-sharded families (warung.audit.SHARDS = {SHARDS}; per shard with the "
            f"allowance; shards each family needs for half a partition)"
        )
        for k in sorted((k for k in loads if k.shards and k.share), key=lambda k: -k.share):
            per_access = _units_per_access(trace, k)
            need = max(
                model.shards_for_half(k.total_write_per_s, per_access[1], model.WRITE_LIMIT),
                model.shards_for_half(k.total_read_per_s, per_access[0], model.READ_LIMIT),
            )
            verdict = "enough" if need <= k.shards else "NOT enough"
            emit(
                f"  {k.where:<16} {k.pk:<38} {_rate(k.total_write_per_s):>8} writes/s "
                f"{_rate(k.total_read_per_s):>8} reads/s in all, {k.share:.0%} per shard; "
                f"needs {need} of {k.shards} ({verdict})"
            )

    total_concurrency = sum(f.concurrency for f in functions)
    emit()
    measured_concurrency = sum(f.concurrency for f in as_measured.values())
    emit(
        f"Lambda at {target:,.0f} orders/s (mean ms: the durations measured here with the wait "
        "on the emulation exchanged for AWS's latency per request; as measured: the raw wall "
        "times, the emulation's wait in them, an upper bound)"
    )
    emit(
        f"  {'function':<28} {'per order':>9} {'per s':>9} {'mean ms':>8} {'as measured':>11} "
        f"{'concurrency':>11}"
    )
    for f in functions:
        wall = as_measured.get(f.function)
        emit(
            f"  {f.function:<28} {f.per_order:>9.2f} {_rate(f.per_s):>9} {f.mean_ms:>8.0f} "
            f"{(wall.mean_ms if wall else 0.0):>11.0f} {f.concurrency:>11,.0f}"
        )
    emit(
        f"  total concurrency {total_concurrency:,.0f} vs the default account quota of "
        f"{model.ACCOUNT_CONCURRENCY:,} ({total_concurrency / model.ACCOUNT_CONCURRENCY:.0%}); "
        f"{measured_concurrency:,.0f} at the durations as measured"
    )
    for function, (maximum, batch) in sorted(limits["sqs_scaling"].items()):
        needed = next((f.concurrency for f in functions if f.function == function), 0.0)
        verdict = "enough" if needed <= maximum else "NOT enough: the queue grows"
        emit(
            f"  {function}: MaximumConcurrency {maximum} (batches of {batch}) vs "
            f"{needed:,.1f} needed ({verdict})"
        )

    api_per_order = len(day.requests) / orders
    api_rps = api_per_order * target
    emit()
    emit(f"API Gateway at {target:,.0f} orders/s: {api_rps:,.0f} requests/s")
    emit(
        f"  account throttle {model.API_ACCOUNT_RPS:,} rps: {api_rps / model.API_ACCOUNT_RPS:.0%}; "
        f"stage throttle {limits['throttle_rate']:,.0f} rps (burst "
        f"{limits['throttle_burst']:,.0f}): {api_rps / max(limits['throttle_rate'], 1):,.0f} x "
        f"over, reached at {limits['throttle_rate'] / api_per_order:,.1f} orders/s"
    )

    calls = model.calls_per_s(trace.recorder.calls, orders, target)
    emit()
    emit(f"Other AWS calls at {target:,.0f} orders/s")
    for (service, operation), rate in sorted(calls.items()):
        if service == "dynamodb":
            continue
        emit(f"  {service:<16} {operation:<28} {_rate(rate):>9}/s")
    ses = sum(v for (s, op), v in calls.items() if s in {"ses", "sesv2"} and "Send" in op)
    emit(
        f"  SES: {ses:,.0f} messages/s vs a sending quota of {model.SES_SEND_RATE}/s "
        f"(new production accounts; raised on request)"
    )
    # One warm container per function ran the day, shorter than the cache's lifetime: the
    # calls each function made are about the names one container reads per lifetime.
    names: Counter[str] = Counter()
    for (function, service, _op), n in trace.recorder.calls.items():
        if service in {"secretsmanager", "ssm"}:
            names[function] += n
    reads = sum(
        math.ceil(f.concurrency) * names[f.function] for f in functions if names[f.function]
    )
    emit(
        f"  Secrets Manager / SSM: each container reads its secrets and parameters once per "
        f"{model.SECRET_CACHE_S} s: about {reads / model.SECRET_CACHE_S:,.1f} reads/s at "
        f"this concurrency (GetSecretValue quota {model.SECRETS_MANAGER_RPS:,}/s, "
        f"GetParameter {model.SSM_STANDARD_TPS}/s standard throughput), plus one per cold start"
    )

    limits_by_rule: Counter[str] = Counter()
    for a in trace.recorder.accesses:
        if a.pk.startswith("RL#") and a.kind == "write" and not a.index:
            limits_by_rule[a.pk.split("#")[1]] += 1
    emit()
    emit("Rate-limit keys (RL#<rule>#<subject>)")
    if not limits_by_rule:
        emit("  none written")
    for rule, hits in limits_by_rule.most_common():
        per_s = hits / orders * target
        emit(
            f"  {rule:<20} {hits / orders:.3f} hits per order, {_rate(per_s)}/s in all; an "
            f"address shared by {model.CGNAT_SHARE:.1%} of the customers (carrier NAT) "
            f"would count {per_s * model.CGNAT_SHARE * 60:,.1f} a minute"
        )

    read_per_order = (
        sum(
            model.read_units_at_population(a, population_factor)
            for a in trace.recorder.accesses
            if a.kind == "read"
        )
        / orders
    )
    write_per_order = (
        sum(a.units for a in trace.recorder.accesses if a.kind == "write" and a.ok) / orders
    )
    costs = model.cost_per_thousand_orders(
        (read_per_order, write_per_order), functions, api_per_order, calls, target
    )
    emit()
    emit(
        f"Cost per 1,000 orders (USD, assumed Singapore on-demand list prices): "
        f"{sum(costs.values()):.3f}"
    )
    emit(
        "  "
        + ", ".join(f"{name} {value:.3f}" for name, value in costs.items())
        + f"; DynamoDB {read_per_order:.0f} read + {write_per_order:.0f} write units per order"
    )
    return {
        "orders": orders,
        "keys": [
            {
                "where": k.where,
                "pk": k.pk,
                "read_per_s": k.read_per_s,
                "write_per_s": k.write_per_s,
                "share": k.share,
                "scaling": k.scaling,
                "shards": k.shards,
                "behind_cache_read_per_s": k.behind_cache_read_per_s,
                "function_cache_read_per_s": k.function_cache_read_per_s,
                "behind_cache_share": k.behind_cache_share,
            }
            for k in loads[:50] + [k for k in loads[50:] if k.shards]
        ],
        "flagged": [f"{k.where} {k.pk}" for k in flagged],
        "flagged_without_cache": [f"{k.where} {k.pk}" for k in uncached_only],
        "concurrency": total_concurrency,
        "concurrency_as_measured": measured_concurrency,
        "catalog_containers": containers,
        "api_rps": api_rps,
        "cost_per_1000_orders": costs,
    }
