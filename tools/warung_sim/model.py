"""From a simulated day's trace to a target peak: the arithmetic of `make simulate`.

Linear scaling, per order. Every figure of the day is divided by the orders placed in the
same part of the day and multiplied by the target rate (1,000 orders/s unless told): the
browsing, searching, paying, jobs and expiry that come with each order come with it in the
same proportion at the target ("proportional browsing").

* Partition keys: for each key (table or index, partition key value) its read and write
  units per order are taken in each busy hour of the day (an hour with at least 5% of the
  day's orders) and the highest of those hours is kept, so that a key hot for one hour (the
  flash sale's promo code at lunch) counts at its hour's rate. Its share of the partition
  limits: 3,000 read units/s and 1,000 write units/s per partition key, for a table and for
  each global secondary index alike. Anything above half of a limit is flagged.
* Catalogue-wide partitions (search prefixes, categories, cities, merchant statuses, geo
  cells) hold more items when the population is larger. When the day ran on a smaller
  population (``population_factor`` = full population / simulated), a Query that read
  such a partition to its end has its read units multiplied by that factor, up to its
  page size (``Limit``), or for a reader that pages on (search) up to its ceiling; one
  stopped by its page size reads the same at any size.
* Keys that name one entity scale differently. A key with an id of the seeded population
  (a merchant, a product, a customer) takes its share of that population's traffic: at the
  full population that share is ``population_factor`` times smaller. A key with an id born
  during the day (an order, a payment, an outbox job, an idempotency record, a hashed
  rate-limit subject) is touched by its own life only: more orders make more such keys,
  not hotter ones, so it keeps the rate it had in simulated time (its busiest hour's units
  over 3,600 s). Keys without an id (``PENDING``, ``SEARCH#nasi``, ``PROMO#KILAT18``,
  ``DAY#<date>#<shard>``) are single-valued: the whole target rate lands on them.
* Everything else (invocations, durations, API requests, other AWS calls) per order over the
  whole day.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from warung_sim.recorder import KeyAccess

READ_LIMIT = 3000.0  # read units per second per partition key
WRITE_LIMIT = 1000.0  # write units per second per partition key
FLAG_SHARE = 0.5  # flag a key above half of its limit
BUSY_SHARE = 0.05  # an hour is busy with at least this share of the day's orders
CATALOGUE_PREFIXES = ("SEARCH#", "CAT#", "CATNEW#", "MCITY#", "MSTATUS#", "GEO#")
# Readers that page on past one Query's Limit, and how many items they read at most: a
# relevance-sorted search reads up to 5,000 candidates, pages of 1,000 (the catalog's
# MAX_SORTED_CANDIDATES). Every other reader stops at its first page's Limit.
READ_CEILINGS = {"SEARCH#": 5000}
ACCOUNT_CONCURRENCY = 1000  # default Lambda concurrent executions per account and region
API_ACCOUNT_RPS = 10_000  # default API Gateway throttle per account and region
SES_SEND_RATE = 14  # messages/s: a typical production SES account's starting quota
SECRETS_MANAGER_RPS = 10_000  # GetSecretValue requests/s per account and region
SSM_STANDARD_TPS = 40  # GetParameter(s) transactions/s, standard throughput
# Carrier-grade NAT: the share of the active customers behind one public mobile address
# (an assumption: Indonesian carriers put thousands of subscribers behind one IPv4 address).
CGNAT_SHARE = 1 / 200
SECRET_CACHE_S = 300  # warung.tokens.CACHE_MAX_AGE_S: a container reads each secret that often

# Assumed list prices in USD (Asia Pacific (Singapore), on demand); check the price list.
PRICES = {
    "dynamodb_write_unit": 0.7125 / 1e6,
    "dynamodb_read_unit": 0.1425 / 1e6,
    "lambda_gb_s_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "api_request": 4.25 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "ses_message": 0.10 / 1000,
    "secrets_manager_call": 0.05 / 10_000,
}


# Ids the application makes (time-ordered ids, hashes, order numbers, provider event ids).
_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}|[0-9a-f]{16,}|WRG-[0-9A-Z]{4}-[0-9A-Z]{4}|evt_\w+")
PERIOD_S = 3600.0  # the day's periods are its hours


def id_tokens(pk: str) -> list[str]:
    """The ids in a key (``ORDER#01M9...`` -> ``["01M9..."]``; ``PENDING`` -> none)."""
    return _ID.findall(pk)


def key_family(pk: str) -> str:
    """A key with its ids left out: ``ORDER#…``, ``RL#login_attempts_ip#…``."""
    return _ID.sub("…", pk)


def scaling_of(pk: str, seeded_ids: frozenset[str] | set[str]) -> str:
    """How a key's load grows: ``single`` (no id: the whole target lands on it),
    ``population`` (one seeded entity's share) or ``own`` (born during the day)."""
    ids = id_tokens(pk)
    if not ids:
        return "single"
    return "population" if any(i in seeded_ids for i in ids) else "own"


@dataclass(frozen=True)
class KeyLoad:
    """One partition key at the target: units per second and what they are of its limits."""

    where: str  # main, main.gsi3, audit.by_action
    pk: str
    read_per_s: float
    write_per_s: float
    failed_per_s: float  # writes refused (a condition, a cancelled transaction)
    functions: tuple[str, ...]
    scaling: str = "single"  # single, population or own (`scaling_of`)

    @property
    def read_share(self) -> float:
        return self.read_per_s / READ_LIMIT

    @property
    def write_share(self) -> float:
        return self.write_per_s / WRITE_LIMIT

    @property
    def share(self) -> float:
        """The larger of its read and write shares."""
        return max(self.read_share, self.write_share)

    @property
    def flagged(self) -> bool:
        return self.share > FLAG_SHARE


def busy_periods(orders_by_period: Mapping[str, int]) -> set[str]:
    """The hours whose orders are at least `BUSY_SHARE` of the day's (always the busiest)."""
    total = sum(orders_by_period.values())
    if not total:
        return set()
    busiest = max(orders_by_period, key=lambda p: orders_by_period[p])
    return {p for p, n in orders_by_period.items() if n >= BUSY_SHARE * total} | {busiest}


def catalogue_wide(pk: str) -> bool:
    """A partition whose size grows with the population (merchants, products)."""
    return pk.startswith(CATALOGUE_PREFIXES)


def read_units_at_population(access: KeyAccess, population_factor: float) -> float:
    """The read's units at the full population (see the module docstring): a catalogue-wide
    partition read to its end holds ``population_factor`` times the items, up to what its
    reader reads at most (its Limit, or its ceiling in `READ_CEILINGS`)."""
    if not (access.to_end and catalogue_wide(access.pk)) or population_factor <= 1:
        return access.units
    ceiling = next((n for p, n in READ_CEILINGS.items() if access.pk.startswith(p)), 0)
    ceiling = ceiling or access.limit
    factor = population_factor
    if ceiling and access.items:
        factor = min(factor, max(1.0, ceiling / access.items))
    return access.units * factor


def key_loads(
    accesses: Iterable[KeyAccess],
    orders_by_period: Mapping[str, int],
    target: float,
    population_factor: float = 1.0,
    seeded_ids: frozenset[str] | set[str] = frozenset(),
) -> list[KeyLoad]:
    """Every partition key's load at ``target`` orders/s, hottest (largest share) first."""
    busy = busy_periods(orders_by_period)
    reads: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    writes: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    failed: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    functions: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in accesses:
        key = (a.where, a.pk)
        functions[key].add(a.function)
        if a.kind == "read":
            reads[key][a.period] += read_units_at_population(a, population_factor)
        elif a.ok:
            writes[key][a.period] += a.units
        else:
            failed[key][a.period] += 1

    def peak(per_period: Mapping[str, float], scaling: str) -> float:
        if scaling == "own":
            return max(per_period.values(), default=0.0) / PERIOD_S
        rates = [per_period.get(p, 0.0) / orders_by_period[p] for p in busy if orders_by_period[p]]
        load = max(rates, default=0.0) * target
        return load / population_factor if scaling == "population" else load

    loads = []
    for (where, pk), callers in functions.items():
        scaling = scaling_of(pk, seeded_ids)
        loads.append(
            KeyLoad(
                where,
                pk,
                peak(reads[(where, pk)], scaling),
                peak(writes[(where, pk)], scaling),
                peak(failed[(where, pk)], scaling),
                tuple(sorted(callers)),
                scaling,
            )
        )
    return sorted(loads, key=lambda k: (-k.share, k.where, k.pk))


def shard_family(pk: str) -> str:
    """A sharded key without its shard suffix (``DAY#2026-12-07#07`` -> ``DAY#2026-12-07``)."""
    head, sep, tail = pk.rpartition("#")
    return head if sep and tail.isdigit() and len(tail) == 2 else pk


def shards_needed(loads: Sequence[KeyLoad], table: str) -> dict[str, tuple[float, int]]:
    """Per sharded key family of ``table`` (and its indexes): its total write units/s over
    all shards and the shards it needs to keep each shard at or under half its limit."""
    totals: dict[str, float] = defaultdict(float)
    for load in loads:
        if load.where.split(".")[0] != table:
            continue
        family = shard_family(load.pk)
        if family != load.pk:
            totals[f"{load.where} {family}"] += load.write_per_s
    return {
        family: (units, max(1, math.ceil(units / (FLAG_SHARE * WRITE_LIMIT))))
        for family, units in totals.items()
    }


@dataclass(frozen=True)
class FunctionLoad:
    """One function at the target: invocations/s, mean duration, concurrency."""

    function: str
    per_order: float
    mean_ms: float
    per_s: float
    concurrency: float
    memory_mb: int


def function_loads(
    invocations: Iterable[tuple[str, str, float]],
    orders: int,
    target: float,
    memory_mb: Mapping[str, int],
) -> list[FunctionLoad]:
    """Concurrency per function at ``target`` (Little's law: rate x duration)."""
    count: Counter[str] = Counter()
    total_ms: dict[str, float] = defaultdict(float)
    for _period, function, ms in invocations:
        count[function] += 1
        total_ms[function] += ms
    out = []
    for function, n in count.items():
        per_order = n / orders if orders else 0.0
        mean_ms = total_ms[function] / n
        per_s = per_order * target
        out.append(
            FunctionLoad(
                function,
                per_order,
                mean_ms,
                per_s,
                per_s * mean_ms / 1000,
                int(memory_mb.get(function, 512)),
            )
        )
    return sorted(out, key=lambda f: -f.concurrency)


def calls_per_s(
    calls: Mapping[tuple[str, str, str], int], orders: int, target: float
) -> dict[tuple[str, str], float]:
    """Every AWS call (service, operation) per second at ``target``, all functions together."""
    totals: Counter[tuple[str, str]] = Counter()
    for (_function, service, operation), n in calls.items():
        totals[(service, operation)] += n
    return {k: n / orders * target for k, n in totals.items()} if orders else {}


def cost_per_thousand_orders(
    loads_units: tuple[float, float],
    functions: Sequence[FunctionLoad],
    api_per_order: float,
    service_calls: Mapping[tuple[str, str], float],
    target: float,
) -> dict[str, float]:
    """USD per 1,000 orders at the target's mix (`PRICES`): DynamoDB, Lambda, API Gateway,
    SQS, SES and Secrets Manager."""
    read_per_order, write_per_order = loads_units
    lambda_gb_s = sum(f.per_order * f.mean_ms / 1000 * f.memory_mb / 1024 for f in functions)
    lambda_requests = sum(f.per_order for f in functions)

    def per_order(service: str, operations: Iterable[str] | None = None) -> float:
        return (
            sum(
                v
                for (s, op), v in service_calls.items()
                if s == service and (operations is None or op in operations)
            )
            / target
        )

    costs = {
        "DynamoDB": read_per_order * PRICES["dynamodb_read_unit"]
        + write_per_order * PRICES["dynamodb_write_unit"],
        "Lambda": lambda_gb_s * PRICES["lambda_gb_s_arm64"]
        + lambda_requests * PRICES["lambda_request"],
        "API Gateway": api_per_order * PRICES["api_request"],
        "SQS": per_order("sqs") * PRICES["sqs_request"],
        "SES": (per_order("ses", {"SendEmail", "SendRawEmail"}) + per_order("sesv2", {"SendEmail"}))
        * PRICES["ses_message"],
        "Secrets Manager": per_order("secretsmanager") * PRICES["secrets_manager_call"],
    }
    return {name: cost * 1000 for name, cost in costs.items()}
