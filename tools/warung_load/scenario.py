"""What the load test's customers do, in which ratios, and which answers fail the run.

Pure (no locust, no HTTP): `locustfile` plays it, the tests read it.

Each simulated customer signs in once from the pool (`pool_email`), then loops over the tasks
of `MIX`, picked at random in proportion to their weights, with a think time between them.
An order is the journey cart → quote → checkout (with an `Idempotency-Key`) → simulated
payment; a customer whose last order still awaits its payment follows that order instead of
placing another (an unpaid order holds stock, and five of them are a customer's limit).

Every route names the answers it expects. Anything else fails the run: a 5xx, a connection
error, a 429 the scenario did not mean to provoke, or any other unexpected answer. The only
planned 429 is the decoy account's lockout: wrong passwords, on purpose, until sign-in locks.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from ipaddress import ip_address
from urllib.parse import urlsplit

# The pool (`warung_load.pool` creates it): one account per simulated customer, a decoy
# to lock on purpose, and the owner of the merchant the customers order from.
DECOY_EMAIL = "load-decoy@example.com"
OWNER_EMAIL = "load-owner@example.com"
LOAD_MERCHANT = "Warung Uji Beban"
# The pool's password on a local emulation, published like the demo accounts' (a second run
# on the same runtime signs in with the accounts the first one created). A deployed dev
# stack's pool has a password of the operator's choosing (LOAD_PASSWORD).
LOCAL_PASSWORD = "warung-load-password"  # noqa: S105


def pool_email(n: int) -> str:
    """The ``n``-th customer of the pool (from 1)."""
    return f"load-{n}@example.com"


@dataclass(frozen=True)
class Route:
    """A route as the report names it, and the answers the scenario expects from it."""

    name: str
    expected: frozenset[int]

    @property
    def planned_429(self) -> bool:
        return 429 in self.expected


SEARCH = Route("GET /v1/products?q=", frozenset({200}))
MENU = Route("GET /v1/products?merchant_id=", frozenset({200}))
NEARBY = Route("GET /v1/merchants?near=", frozenset({200}))
SIGN_IN = Route("POST /v1/auth/login", frozenset({200}))
# Wrong passwords on the decoy: 401 until the account locks, then the planned 429.
LOCKOUT = Route("POST /v1/auth/login (decoy)", frozenset({401, 429}))
CART_PUT = Route("PUT /v1/cart/items/{id}", frozenset({200}))
QUOTE = Route("POST /v1/cart/quote", frozenset({200}))
CHECKOUT = Route("POST /v1/orders", frozenset({201}))
PAY = Route("POST /v1/payments/{id}/simulate", frozenset({202}))
TRACK = Route("GET /v1/orders/{id}", frozenset({200}))
ROUTES = (SEARCH, MENU, NEARBY, SIGN_IN, LOCKOUT, CART_PUT, QUOTE, CHECKOUT, PAY, TRACK)


@dataclass(frozen=True)
class Task:
    """One thing a customer does, its weight among the others, and the routes it calls."""

    name: str
    weight: int
    routes: tuple[Route, ...]


# The stated mix, in percent of the tasks a customer picks: two thirds browsing.
MIX = (
    Task("search", 30, (SEARCH,)),
    Task("menu", 20, (MENU,)),
    Task("nearby", 15, (NEARBY,)),
    Task("sign_in", 5, (SIGN_IN,)),
    Task("order", 25, (CART_PUT, QUOTE, CHECKOUT, PAY, TRACK)),
    Task("lockout", 5, (LOCKOUT,)),
)
SEARCH_WORDS = ("nasi", "soto", "mie", "es", "kopi", "sate", "ayam", "goreng")
# Points around central Jakarta, where the demo and load merchants deliver.
POINTS = ((-6.1754, 106.8272), (-6.1862, 106.8263), (-6.2088, 106.8456), (-6.1589, 106.9056))
DELIVERY_ADDRESS = {
    "line1": "Jl. Kebon Sirih No. 5",
    "city": "Jakarta",
    "postal_code": "10340",
    "lat": -6.1862,
    "lon": 106.8263,
}


class Verdict(Enum):
    """What one answer means for the run."""

    OK = "ok"
    SERVER_ERROR = "5xx"
    CONNECTION = "conn"
    UNPLANNED_429 = "429"
    UNEXPECTED = "other"


def judge(route: Route, status: int | None) -> Verdict:
    """The verdict on an answer of ``status`` from ``route`` (``None``: no answer at all,
    the connection failed or timed out)."""
    if status is None or status == 0:
        return Verdict.CONNECTION
    if status in route.expected:
        return Verdict.OK
    if status >= 500:
        return Verdict.SERVER_ERROR
    if status == 429:
        return Verdict.UNPLANNED_429
    return Verdict.UNEXPECTED


@dataclass
class Tally:
    """The verdicts of a run, per route."""

    counts: dict[str, Counter[Verdict]] = field(default_factory=dict)
    planned_429: Counter[str] = field(default_factory=Counter)

    def record(self, route: Route, status: int | None) -> Verdict:
        verdict = judge(route, status)
        self.counts.setdefault(route.name, Counter())[verdict] += 1
        if verdict is Verdict.OK and status == 429:
            self.planned_429[route.name] += 1
        return verdict

    def of(self, route_name: str, verdict: Verdict) -> int:
        return self.counts.get(route_name, Counter())[verdict]

    def failures(self) -> Counter[Verdict]:
        """Every verdict but OK, over all routes."""
        total: Counter[Verdict] = Counter()
        for per_route in self.counts.values():
            total.update({v: n for v, n in per_route.items() if v is not Verdict.OK})
        return total

    def exit_code(self) -> int:
        """0 when every answer was one the scenario expected, else 1."""
        return 1 if self.failures() else 0

    def verdict_line(self) -> str:
        failures = self.failures()
        if not failures:
            return "PASS: no 5xx, connection error, unplanned 429 or unexpected answer"
        parts = []
        for verdict in FAILURES:
            if failures[verdict]:
                routes = [name for name in self.counts if self.of(name, verdict)]
                parts.append(f"{failures[verdict]} {LABELS[verdict]} ({', '.join(routes)})")
        return "FAIL: " + "; ".join(parts)


FAILURES = (Verdict.SERVER_ERROR, Verdict.CONNECTION, Verdict.UNPLANNED_429, Verdict.UNEXPECTED)
LABELS = {
    Verdict.SERVER_ERROR: "5xx",
    Verdict.CONNECTION: "connection errors",
    Verdict.UNPLANNED_429: "unplanned 429",
    Verdict.UNEXPECTED: "unexpected answers",
}


@dataclass(frozen=True)
class Figures:
    """A route's figures from locust's statistics (times in milliseconds)."""

    name: str
    requests: int
    p50: float
    p95: float
    p99: float


def format_table(rows: Iterable[Figures], tally: Tally, total: Figures | None = None) -> str:
    """The per-route report: requests, percentiles and failures by kind, then the verdict."""
    head = ("route", "reqs", "p50", "p95", "p99", "5xx", "conn", "429", "other")
    lines: list[tuple[str, ...]] = [head]
    for row in sorted(rows, key=lambda r: r.name):
        lines.append(_cells(row, [tally.of(row.name, v) for v in FAILURES]))
    if total is not None:
        failures = tally.failures()
        lines.append(_cells(total, [failures[v] for v in FAILURES]))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(line)
        )
        for line in lines
    ]
    text.insert(1, "-" * len(text[0]))
    if total is not None:
        text.insert(len(text) - 1, "-" * len(text[0]))
    planned = ", ".join(f"{n} on {name}" for name, n in sorted(tally.planned_429.items()))
    notes = ["(times in ms; 429 column: unplanned only; planned 429: " + (planned or "none") + ")"]
    return "\n".join([*text, *notes, tally.verdict_line()])


def _cells(row: Figures, failures: list[int]) -> tuple[str, ...]:
    times = [f"{t:.0f}" if not math.isnan(t) else "-" for t in (row.p50, row.p95, row.p99)]
    return (row.name, str(row.requests), *times, *(str(n) for n in failures))


DURATION = re.compile(r"^(\d+)(s|m|h)?$")


def seconds(duration: str) -> int:
    """``30``, ``30s``, ``2m`` or ``1h`` in seconds (ValueError otherwise)."""
    match = DURATION.match(duration.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not a duration: {duration!r} (e.g. 30s, 2m, 1h)")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine (localhost or a loopback address)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
