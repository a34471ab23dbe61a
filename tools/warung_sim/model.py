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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

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
# Hash-sharded families: each shard's allowance over total/N for imbalance, in standard
# deviations of the binomial count of one second's accesses that land on it (3 sd: a
# second over it about once in 740, when DynamoDB's burst capacity absorbs it).
IMBALANCE_SD = 3.0
# The cache in front (decision 0024: CloudFront keeps anonymous catalog reads 30 s).
CACHE_TTL_S = 30.0
# Share of the cacheable requests sent with a token (never cached): the simulated day
# browses anonymously; on prod a customer who signed in may keep sending the token on
# catalog reads. 20% as decision 0008's amendment assumes; 1.0 is "everyone signed in".
SIGNED_IN_SHARE = 0.2
# CloudFront caches a distinct query is fetched through: edge locations fetch through a
# regional edge cache, which collapses most of their misses; Indonesia's traffic comes
# through a few of them (decision 0008: "a few, not the number of edge locations").
CACHE_NODES = 4
SECRET_CACHE_S = 300  # warung.tokens.CACHE_MAX_AGE_S: a container reads each secret that often

# A function's duration at the target: its wall time here with the wait on the emulation (moto
# behind one lock, on this machine) exchanged for AWS's latency per request, by botocore
# endpoint prefix. Assumed round figures, on the slow side of what these services answer in
# the same region: DynamoDB's are "single-digit milliseconds" (its product page); the
# queue, e-mail and Lambda calls a few times that. The wall times as measured are kept and
# printed beside (`DayResult.measured`): an upper bound.
AWS_LATENCY_MS: dict[str, float] = {
    "dynamodb": 8.0,
    "streams.dynamodb": 10.0,
    "sqs": 15.0,
    "ssm": 15.0,
    "secretsmanager": 15.0,
    "email": 60.0,  # SES v2 SendEmail
    "lambda": 30.0,  # a synchronous Invoke, the callee's own duration apart
    "s3": 30.0,
}
DEFAULT_AWS_LATENCY_MS = 20.0


def aws_latency_ms(requests: Mapping[str, int]) -> float:
    """What these requests (count by endpoint prefix) wait on AWS in all, by AWS_LATENCY_MS."""
    return sum(AWS_LATENCY_MS.get(p, DEFAULT_AWS_LATENCY_MS) * n for p, n in requests.items())


# The catalog's read cache (decision 0034): each container keeps a public listing's Query
# this long on prod (ReadCacheTtlSeconds in samconfig.toml's prod overrides).
READ_CACHE_TTL_S = 30.0

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
    scaling: str = "single"  # single, population, own (`scaling_of`) or sharded
    shards: int = 0  # a hash-sharded family's shard count (0: one key); figures per shard
    total_read_per_s: float = 0.0  # a family's reads over all its shards
    total_write_per_s: float = 0.0
    behind_cache_read_per_s: float | None = None  # reads/s on prod: CloudFront, then read cache
    # reads/s with the functions' read cache alone (CloudFront missing or bypassed)
    function_cache_read_per_s: float | None = None
    # its cached reads: distinct queries and read units per query (0: none cached)
    cached_queries: int = 0
    cached_units_per_query: float = 0.0

    def containers_for_half(self, ttl: float = READ_CACHE_TTL_S) -> int | None:
        """The most containers whose read caches keep this key's reads at or under half of
        its limit (each reading each query once per ``ttl``), or None: nothing cached."""
        if not self.cached_queries or self.cached_units_per_query <= 0:
            return None
        per_container = self.cached_queries * self.cached_units_per_query / ttl
        return int(FLAG_SHARE * READ_LIMIT / per_container)

    @property
    def behind_cache_share(self) -> float:
        """Its share with the reads behind the cache (its share when none is cacheable)."""
        if self.behind_cache_read_per_s is None:
            return self.share
        return max(self.behind_cache_read_per_s / READ_LIMIT, self.write_share)

    @property
    def cacheable(self) -> bool:
        return self.behind_cache_read_per_s is not None

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


@dataclass(frozen=True)
class ShardFamily:
    """A hash-sharded key family: where it lives, its shard count, and its key builder.

    ``build(head, shard)`` is the code's own builder given the family's other parts (taken
    from the key's text before its last ``#``), or None when the head is not of this family:
    a key belongs to the family when the builder gives it back exactly."""

    name: str  # PENDING#<n>
    where: str  # main.gsi4
    shards: int
    build: Callable[[str, int], str | None]

    def head_of(self, where: str, pk: str) -> str | None:
        """The family's key without its shard (``PAYDAY#2026-12-07``), or None."""
        head, sep, tail = pk.rpartition("#")
        if where != self.where or not sep or not tail.isdigit():
            return None
        shard = int(tail)
        if shard >= self.shards or self.build(head, shard) != pk:
            return None
        return head


def _after(head: str, prefix: str) -> str:
    return head[len(prefix) :] if head.startswith(prefix) else ""


def _pending(head: str, shard: int) -> str | None:
    from warung.store.orders import pending_partition

    return pending_partition(shard) if head == "PENDING" else None


def _payday(head: str, shard: int) -> str | None:
    from warung.store.payments import payments_of_day_partition

    day = _after(head, "PAYDAY#")
    return payments_of_day_partition(day, shard) if day else None


def _audit_day(head: str, shard: int) -> str | None:
    from warung.audit import day_key

    day = _after(head, "DAY#")
    return day_key(day, shard) if day else None


def _audit_action(head: str, shard: int) -> str | None:
    from warung.audit import action_key

    action, _, day = _after(head, "ACTION#").rpartition("#")
    return action_key(action, day, shard) if action and day else None


def _audit_actor(head: str, shard: int) -> str | None:
    from warung.audit import SHARDED_ACTORS, actor_key

    actor, _, day = _after(head, "ACTOR#").rpartition("#")
    return actor_key(actor, day, shard) if actor in SHARDED_ACTORS and day else None


def _promo_counter(code: str) -> Callable[[str, int], str | None]:
    from warung.store.promos import promo_key, promo_shard_key

    def build(head: str, shard: int) -> str | None:
        return promo_shard_key(code, shard)["pk"] if head == promo_key(code)["pk"] else None

    return build


def sharded_families(promo_shards: Mapping[str, int] | None = None) -> list[ShardFamily]:
    """The hash-sharded key families of the code, from its own shard counts and builders.
    ``promo_shards``: a sharded promo code's counter count (decision 0029), per code."""
    from warung.audit import SHARDS
    from warung.store.orders import PENDING_SHARDS
    from warung.store.payments import PAYDAY_SHARDS

    families = [
        ShardFamily("PENDING#<n>", "main.gsi4", PENDING_SHARDS, _pending),
        ShardFamily("PAYDAY#<day>#<n>", "main.gsi1", PAYDAY_SHARDS, _payday),
        ShardFamily("DAY#<day>#<nn>", "audit", SHARDS, _audit_day),
        ShardFamily("ACTION#<action>#<day>#<nn>", "audit.by_action", SHARDS, _audit_action),
        ShardFamily("ACTOR#<actor>#<day>#<nn>", "audit.by_actor", SHARDS, _audit_actor),
    ]
    families += [
        ShardFamily(f"PROMO#{code}#<n>", "main", count, _promo_counter(code))
        for code, count in sorted((promo_shards or {}).items())
    ]
    return families


def family_of(
    where: str, pk: str, families: Sequence[ShardFamily]
) -> tuple[ShardFamily, str] | None:
    """The family a key belongs to and its head, or None (a key of its own)."""
    for family in families:
        head = family.head_of(where, pk)
        if head is not None:
            return family, head
    return None


def shard_load(total: float, units_per_access: float, shards: int) -> float:
    """One shard's units/s when ``total`` units/s of accesses of ``units_per_access`` each
    are spread over ``shards`` by a hash: the mean total/N plus `IMBALANCE_SD` standard
    deviations of the binomial count of one second's accesses that land on it (in units:
    sqrt(total x units_per_access x p x (1 - p)), p = 1/N)."""
    if shards <= 1 or total <= 0:
        return total
    p = 1.0 / shards
    sd = math.sqrt(total * max(units_per_access, 0.0) * p * (1 - p))
    return total * p + IMBALANCE_SD * sd


def shards_for_half(total: float, units_per_access: float, limit: float = WRITE_LIMIT) -> int:
    """The fewest shards that keep each (with its allowance) at or under half of ``limit``."""
    n = max(1, math.ceil(total / (FLAG_SHARE * limit)))
    while shard_load(total, units_per_access, n) > FLAG_SHARE * limit and n < 100_000:
        n += 1
    return n


def distinct_in_ttl(seen: int, unique_share: float, anon_per_s: float, ttl: float) -> float:
    """Distinct query strings among ``anon_per_s`` requests in ``ttl`` seconds, from a day's
    sample: the ``seen`` distinct ones the key was read for, plus a long tail (``near=``
    points, rare words) of ``unique_share`` of the requests, each a query of its own."""
    in_ttl = anon_per_s * ttl
    return min(in_ttl, seen + unique_share * in_ttl)


def query_shape(cache_key: str) -> str:
    """A cache key without its parameters' values: ``GET /v1/merchants?city=``."""
    head, _, query = cache_key.partition("?")
    names = sorted({name for name, _ in parse_qsl(query.split(" ")[0], keep_blank_values=True)})
    return f"{head.split(' ')[0]} {head.split(' ')[-1]}?" + "&".join(f"{n}=" for n in names)


def unique_shares(cache_keys: Mapping[int, str]) -> dict[str, float]:
    """Per query shape, the share of its requests whose query string the day saw only once:
    ``near=<point>`` near 1 (every customer's own point), ``city=`` near 0 (five cities)."""
    per_query = Counter(cache_keys.values())
    requests: Counter[str] = Counter()
    once: Counter[str] = Counter()
    for query, n in per_query.items():
        shape = query_shape(query)
        requests[shape] += n
        once[shape] += 1 if n == 1 else 0
    return {shape: once[shape] / n for shape, n in requests.items()}


def behind_cache(
    units_per_request: float,
    requests_per_s: float,
    distinct: float,
    signed_in_share: float = SIGNED_IN_SHARE,
    caches: int = CACHE_NODES,
    ttl: float = CACHE_TTL_S,
) -> float:
    """Read units/s reaching the table behind CloudFront (decision 0008, 2026-12-05):
    C x (R_signed + min(R_anon, P x D / TTL)), with R_signed the requests sent with a token
    (never cached), R_anon the others and D the distinct queries among them in ``ttl``."""
    signed = requests_per_s * signed_in_share
    anon = requests_per_s - signed
    return units_per_request * (signed + min(anon, caches * distinct / ttl))


def behind_read_cache(
    units_per_query: float,
    queries_per_s: float,
    distinct: float,
    containers: float,
    ttl: float = READ_CACHE_TTL_S,
) -> float:
    """Read units/s the functions' read caches (decision 0034) send on to the table for a
    key's cached queries: ``distinct`` queries asked ``queries_per_s`` times a second in all
    (evenly), spread over ``containers`` containers. A container reads a query at most once
    per ``ttl``, and only if it was asked for it meanwhile: of N containers, those that get
    one of the query's r/D requests in a TTL, N x (1 - exp(-(r/D) x TTL / N)), each read it
    once per TTL. So each query costs at most N/TTL reads a second, and never more than its
    own request rate; times C units per read."""
    if queries_per_s <= 0 or units_per_query <= 0:
        return 0.0
    if ttl <= 0 or containers <= 0:
        return queries_per_s * units_per_query
    d = max(1.0, distinct)
    n = max(1.0, containers)
    asked_per_query = queries_per_s / d * ttl  # requests for one query in one TTL
    reading = n * -math.expm1(-asked_per_query / n)  # containers that read it per TTL
    return d * min(reading, asked_per_query) / ttl * units_per_query


def key_loads(  # noqa: C901 - one pass over the trace, then one load per key or family
    accesses: Iterable[KeyAccess],
    orders_by_period: Mapping[str, int],
    target: float,
    population_factor: float = 1.0,
    seeded_ids: frozenset[str] | set[str] = frozenset(),
    families: Sequence[ShardFamily] = (),
    cache_keys: Mapping[int, str] | None = None,
    signed_in_share: float = SIGNED_IN_SHARE,
    caches: int = CACHE_NODES,
    containers: float | Mapping[str, float] = 0.0,
    read_cache_ttl: float | Mapping[str, float] = READ_CACHE_TTL_S,
    scheduled: frozenset[str] | set[str] = frozenset(),
) -> list[KeyLoad]:
    """Every partition key's load at ``target`` orders/s, hottest (largest share) first.

    With ``families``, the keys of a hash-sharded family are one load whose figures are per
    shard (`shard_load`). With ``cache_keys`` (request number -> its CloudFront cache key,
    for the answers the cache may keep), each key read by such requests also gets its reads
    behind the cache (`behind_cache`). Reads the functions' read cache would keep (those
    with a ``cache_key``) are then reduced for ``containers`` containers of the function
    that reads them, each keeping what it read ``read_cache_ttl`` seconds (either one figure,
    or one per function) (`behind_read_cache`): with CloudFront in front (prod), and alone
    (CloudFront missing).

    ``scheduled``: functions run by a schedule (the expiry job). Their reads that found
    nothing (a run's poll of a partition) come with the schedule, not with the orders: they
    keep their rate in simulated time; the reads that found entries scale per order, as
    those entries do."""
    busy = busy_periods(orders_by_period)
    reads: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    writes: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    failed: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    functions: dict[tuple[str, str], set[str]] = defaultdict(set)
    # per family: its shard count and accesses (for the units per access)
    grouped: dict[tuple[str, str], int] = {}
    counted: dict[tuple[str, str, str], int] = Counter()
    # reads by cacheable answers: units over the day, requests, cache keys per request
    cached_units: dict[tuple[str, str], float] = defaultdict(float)
    all_units: dict[tuple[str, str], float] = defaultdict(float)
    requests_of: dict[tuple[str, str], set[int]] = defaultdict(set)
    cacheable = cache_keys or {}
    tails = unique_shares(cacheable)
    # reads a schedule makes whatever the orders (polls that found nothing), per period
    polled: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    # reads through the functions' read cache: units, count, and units per distinct query
    kept_units: dict[tuple[str, str], float] = defaultdict(float)
    kept_count: dict[tuple[str, str], int] = Counter()
    kept_queries: dict[tuple[str, str], set[str]] = defaultdict(set)
    kept_by: dict[tuple[str, str], str] = {}
    for a in accesses:
        key = (a.where, a.pk)
        found = family_of(a.where, a.pk, families) if families else None
        if found is not None:
            family, head = found
            key = (a.where, f"{head}#<0..{family.shards - 1}>")
            grouped[key] = family.shards
        functions[key].add(a.function)
        if a.kind == "read":
            units = read_units_at_population(a, population_factor)
            if a.function in scheduled and a.operation == "Query" and not a.items:
                polled[key][a.period] += units
                counted[(*key, "read")] += 1
                continue
            reads[key][a.period] += units
            all_units[key] += units
            if a.cache_key:
                kept_units[key] += units
                kept_count[key] += 1
                kept_queries[key].add(a.cache_key)
                kept_by[key] = a.function
            if a.request in cacheable and found is None:
                cached_units[key] += units
                requests_of[key].add(a.request)
            counted[(*key, "read")] += 1
        elif a.ok:
            writes[key][a.period] += a.units
            counted[(*key, "write")] += 1
        else:
            failed[key][a.period] += 1

    def peak(per_period: Mapping[str, float], scaling: str) -> float:
        if scaling == "own":
            return max(per_period.values(), default=0.0) / PERIOD_S
        rates = [per_period.get(p, 0.0) / orders_by_period[p] for p in busy if orders_by_period[p]]
        load = max(rates, default=0.0) * target
        return load / population_factor if scaling == "population" else load

    def per_access(per_period: Mapping[str, float], n: int) -> float:
        return sum(per_period.values()) / n if n else 0.0

    def polls(key: tuple[str, str]) -> float:
        return max(polled[key].values(), default=0.0) / PERIOD_S if key in polled else 0.0

    def read_cached(key: tuple[str, str], reads_per_s: float) -> float | None:
        """``reads_per_s`` of ``key`` (what reaches the functions) after their read cache."""
        if not kept_count.get(key) or not all_units[key]:
            return None
        kept = reads_per_s * kept_units[key] / all_units[key]
        per_query = kept_units[key] / kept_count[key]
        function = kept_by[key]
        n = containers if isinstance(containers, int | float) else containers.get(function, 0)
        ttl = (
            read_cache_ttl
            if isinstance(read_cache_ttl, int | float)
            else read_cache_ttl.get(function, 0)
        )
        left = behind_read_cache(per_query, kept / per_query, len(kept_queries[key]), n, ttl)
        return reads_per_s - kept + left

    def cached(key: tuple[str, str], origin_reads: float) -> float | None:
        asked = requests_of.get(key)
        if not asked or not all_units[key]:
            return None
        cacheable_reads = origin_reads * cached_units[key] / all_units[key]
        per_request = cached_units[key] / len(asked)
        rate = cacheable_reads / per_request
        seen = len({cacheable[r] for r in asked})
        unique_share = sum(tails[query_shape(cacheable[r])] for r in asked) / len(asked)
        anon = rate * (1 - signed_in_share)
        distinct = distinct_in_ttl(seen, unique_share, anon, CACHE_TTL_S)
        kept = behind_cache(per_request, rate, distinct, signed_in_share, caches)
        return origin_reads - cacheable_reads + kept

    loads = []
    for (where, pk), callers in functions.items():
        key = (where, pk)
        shards = grouped.get(key, 0)
        if shards:
            total_r = peak(reads[key], "single") + polls(key)
            total_w = peak(writes[key], "single")
            r_unit = per_access(reads[key], counted[(where, pk, "read")])
            w_unit = per_access(writes[key], counted[(where, pk, "write")])
            loads.append(
                KeyLoad(
                    where,
                    pk,
                    shard_load(total_r, r_unit, shards),
                    shard_load(total_w, w_unit, shards),
                    peak(failed[key], "single") / shards,
                    tuple(sorted(callers)),
                    "sharded",
                    shards,
                    total_r,
                    total_w,
                )
            )
            continue
        scaling = scaling_of(pk, seeded_ids)
        read_per_s = peak(reads[key], scaling) + polls(key)
        write_per_s = peak(writes[key], scaling)
        edge = cached(key, read_per_s)
        function_only = read_cached(key, read_per_s)
        on_prod = read_cached(key, read_per_s if edge is None else edge)
        loads.append(
            KeyLoad(
                where,
                pk,
                read_per_s,
                write_per_s,
                peak(failed[key], scaling),
                tuple(sorted(callers)),
                scaling,
                total_read_per_s=read_per_s,
                total_write_per_s=write_per_s,
                behind_cache_read_per_s=edge if on_prod is None else on_prod,
                function_cache_read_per_s=function_only,
                cached_queries=len(kept_queries.get(key, ())),
                cached_units_per_query=kept_units[key] / kept_count[key] if kept_count[key] else 0,
            )
        )
    return sorted(loads, key=lambda k: (-k.share, k.where, k.pk))


def shard_family(pk: str) -> str:
    """A sharded key without its shard suffix (``DAY#2026-12-07#07`` -> ``DAY#2026-12-07``)."""
    head, sep, tail = pk.rpartition("#")
    return head if sep and tail.isdigit() and len(tail) >= 2 else pk


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
