#!/usr/bin/env python3
"""`make bench`, requests section: warm latency, AWS calls and DynamoDB read units per
request of sign-in, a token-verified read and the public catalog reads, measured in-process
on the local runtime.

How it measures:

* A `LocalRuntime` of template.yaml is started in this process (free ports, demo data
  seeded: the signing key, the demo accounts and the demo merchants, event sources not
  started). Requests go straight to the function the template routes them to with
  `runtime.invoke(<function>, event)`: no HTTP in front, the API Gateway proxy events
  are built by the local gateway's own `build_proxy_event`.
* The catalog reads need a catalog worth reading: before them, untimed, the demo owner
  opens `DEFAULT_CATALOG_MERCHANTS` more merchants around central Jakarta, the demo
  admin approves them, and each gets `DEFAULT_CATALOG_PRODUCTS` products, all through
  the API (`runtime.invoke`), with names from a small vocabulary so that many share
  words (about one in six names starts with "Nasi", a third of those "Nasi Goreng").
* Scenarios, each with a few untimed warm-up requests first:
  - `POST /v1/auth/login` as the demo customer, from a different source IP each time
    (`requestContext.identity.sourceIp`, 10.x.y.z), so that the per-IP sign-in limit is
    never what is measured. The password is always the right one: five wrong ones would
    lock the account.
  - `GET /v1/me` with `Authorization: Bearer <access token>`: the token-verified read.
    The guard caches the account's auth state per container for 30 s, so with warm
    requests in a row its state read happens once (in the warm-up).
  - the same read with the guard's cache emptied before each request (untimed), as a
    container sees it when the same account calls it less often than every 30 s.
  - anonymous `GET /v1/products?q=nasi%20gor` (search, default relevance order, first
    page of 20), `GET /v1/products/{id}` (one seeded product) and
    `GET /v1/merchants?near=-6.1950,106.8230` (Bundaran HI: every merchant delivers there).
* The timed figure is the wall time of `runtime.invoke` (time.perf_counter around it):
  the handler, the local runtime's per-invocation module/environment swap (reported on
  its own), and the round trips to the embedded moto emulation over loopback.
* AWS calls per request: an observer of the emulation (`Emulation.add_observer`) sees
  every request it serves; the calls made during one invocation belong to it (the
  invocation is synchronous and nothing else runs: no event sources). DynamoDB calls
  are named by their `X-Amz-Target` operation, with the key they touch (partition key
  prefix) as detail; other services (Secrets Manager, SSM: the keys, cached by the
  function) are counted separately.
* DynamoDB read units per request are computed here, from each read's request and
  response as the emulation served them, with DynamoDB's rules: an item's size is the
  sum of its attribute names and values (strings in UTF-8 bytes, numbers about one byte
  per two significant digits plus one, lists and maps 3 bytes plus 1 per element);
  GetItem rounds its item up to 4 KB, BatchGetItem each item (a missing one costs as
  one unit), Query and Scan the sum of the items returned (no filter expressions are
  used); 1 unit per 4 KB strongly consistent, 0.5 eventually consistent, 2 in
  TransactGetItems. moto's own `ConsumedCapacity` is a fixed placeholder (GetItem 0.5,
  Query 1, BatchGetItem 1 per key, whatever the size and the consistency), so it is
  not asked for.

What transfers to Lambda and DynamoDB is the number and kind of calls per request, not
the milliseconds: moto in-process on a developer machine is neither.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import math
import os
import platform
import random
import re
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

AUTH_FUNCTION = "AuthFunction"
DEMO_EMAIL = "customer@example.com"
DEMO_PASSWORD = "warung-demo-password"  # noqa: S105 - the documented local demo account
DEFAULT_LOGIN_REQUESTS = 50
DEFAULT_READ_REQUESTS = 200
DEFAULT_STALE_REQUESTS = 50
DEFAULT_WARMUP = 3
DEFAULT_CATALOG_REQUESTS = 100
DEFAULT_CATALOG_MERCHANTS = 10
DEFAULT_CATALOG_PRODUCTS = 20  # per merchant
CATALOG_FUNCTION = "CatalogFunction"
DEMO_OWNER_EMAIL = "owner@example.com"
DEMO_ADMIN_EMAIL = "admin@example.com"
SEARCH_QUERY = "nasi gor"
NEAR_POINT = "-6.1950,106.8230"  # Bundaran HI, central Jakarta
GUARD_STATE_TTL_S = 30  # warung.auth.STATE_TTL_SECONDS, read from the function when possible
SWAP_SAMPLES = 200
_LOG_TAIL_CHARS = 3000


class RequestBenchError(Exception):
    """The request bench could not run, or a measured request did not succeed."""


# ------------------------------------------------------------------ observed calls


@dataclass(frozen=True)
class AwsCall:
    """One request the emulation served: service, operation and what it touched."""

    service: str
    operation: str
    detail: str = ""
    status: str = ""
    read_units: float | None = None  # DynamoDB reads, when the response was seen

    @property
    def label(self) -> str:
        return f"{self.operation} {self.detail}".strip()


_SERVICE_OF_TARGET = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
    "secretsmanager": "secretsmanager",
    "AmazonSSM": "ssm",
    "AmazonSQS": "sqs",
    "AWSEvents": "events",
    "Logs_20140328": "logs",
}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def _table_label(table: Any) -> str:
    # "warung-local-main" -> "main": the stage prefix says nothing here.
    return str(table or "?").rsplit("-", 1)[-1]


def _key_label(key: Any) -> str:
    """A key as its shape: the partition key without its variable part, a static sort key."""
    if not isinstance(key, dict):
        return ""

    def value(attr: Any) -> str:
        if isinstance(attr, dict) and attr:
            return str(next(iter(attr.values())))
        return ""

    pk = value(key.get("pk"))
    parts = pk.split("#")
    shape = "#".join(parts[:-1]) + "#…" if len(parts) > 1 else ("…" if pk else "")
    sk = value(key.get("sk"))
    if re.fullmatch(r"[A-Z_]+", sk):
        shape += f"/{sk}"
    return shape


def _dynamodb_detail(operation: str, body: bytes) -> str:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return ""
    if not isinstance(request, dict):
        return ""
    if operation in {"TransactWriteItems", "TransactGetItems"}:
        steps = []
        for item in request.get("TransactItems") or []:
            for kind, spec in item.items():
                key = spec.get("Key") or spec.get("Item") or {}
                steps.append(f"{kind} {_table_label(spec.get('TableName'))} {_key_label(key)}")
        return f"[{len(steps)}: " + ", ".join(steps) + "]"
    if operation == "BatchGetItem":
        parts = []
        for name, wanted in (request.get("RequestItems") or {}).items():
            keys = wanted.get("Keys") or [{}]
            read = "consistent" if wanted.get("ConsistentRead") else "eventual"
            parts.append(f"{_table_label(name)} {_key_label(keys[0])} x{len(keys)} {read}")
        return ", ".join(parts)
    table = _table_label(request.get("TableName"))
    if operation == "Query":
        index = request.get("IndexName")
        shape = f"{table}.{index}" if index else table
    elif "Key" in request:
        shape = f"{table} {_key_label(request['Key'])}"
    elif "Item" in request:
        shape = f"{table} {_key_label(request['Item'])}"
    else:
        shape = table
    if operation in {"GetItem", "Query", "Scan"}:
        shape += " consistent" if request.get("ConsistentRead") else " eventual"
        if request.get("ProjectionExpression"):
            shape += " projected"
    return shape


# ------------------------------------------------------------------ read units

READ_UNIT_BYTES = 4096


def attribute_size(value: dict[str, Any]) -> int:
    """The size DynamoDB bills for one attribute value (wire form, e.g. ``{"S": "x"}``)."""
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        digits = str(raw).lstrip("-").replace(".", "").lstrip("0").rstrip("0")
        return math.ceil(len(digits) / 2) + 1 if digits else 1
    if kind == "B":
        return len(base64.b64decode(raw)) if isinstance(raw, str) else len(raw)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in raw)
    if kind == "NS":
        return sum(attribute_size({"N": v}) for v in raw)
    if kind == "BS":
        return sum(attribute_size({"B": v}) for v in raw)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in raw.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values, in bytes."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def _units(size: int, consistent: bool) -> float:
    """Read units of ``size`` bytes read at once: whole 4 KB blocks, at least one."""
    blocks = max(1, math.ceil(size / READ_UNIT_BYTES))
    return blocks * (1.0 if consistent else 0.5)


def read_units(operation: str, request: dict[str, Any], response: dict[str, Any]) -> float:
    """The read capacity units one DynamoDB call consumed (0 for writes)."""
    if operation == "GetItem":
        size = item_size(response["Item"]) if response.get("Item") else 0
        return _units(size, bool(request.get("ConsistentRead")))
    if operation in {"Query", "Scan"}:
        size = sum(item_size(item) for item in response.get("Items") or [])
        return _units(size, bool(request.get("ConsistentRead")))
    if operation == "BatchGetItem":
        total = 0.0
        for table, wanted in (request.get("RequestItems") or {}).items():
            consistent = bool(wanted.get("ConsistentRead"))
            found = (response.get("Responses") or {}).get(table) or []
            unprocessed = ((response.get("UnprocessedKeys") or {}).get(table) or {}).get("Keys")
            missing = len(wanted.get("Keys") or []) - len(found) - len(unprocessed or [])
            total += sum(_units(item_size(item), consistent) for item in found)
            total += max(0, missing) * _units(0, consistent)
        return total
    if operation == "TransactGetItems":
        return sum(
            2 * _units(item_size(r["Item"]) if r.get("Item") else 0, True)
            for r in response.get("Responses") or []
        )
    return 0.0


def _read_units_of(operation: str, body: bytes, response_body: bytes | None) -> float | None:
    if response_body is None:
        return None
    try:
        request, response = json.loads(body or b"{}"), json.loads(response_body or b"{}")
        return read_units(operation, request, response)
    except (ValueError, TypeError, KeyError, AttributeError, StopIteration):
        return None


def describe_call(
    environ: dict[str, Any],
    body: bytes,
    status: str = "",
    response_body: bytes | None = None,
) -> AwsCall:
    """What one request to the emulation was, from its WSGI environ and body; with the
    response body, a DynamoDB call's read units too."""
    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    if "." in target:
        prefix, _, operation = target.rpartition(".")
        service = _SERVICE_OF_TARGET.get(prefix, prefix.lower())
        detail = _dynamodb_detail(operation, body) if service == "dynamodb" else ""
        if service == "dynamodb" and status.startswith("200"):
            units = _read_units_of(operation, body, response_body)
            return AwsCall(service, operation, detail, status, units)
        if service in {"ssm", "secretsmanager"}:
            with contextlib.suppress(ValueError, AttributeError):
                request = json.loads(body or b"{}")
                detail = str(request.get("Name") or request.get("SecretId") or "")
                detail = detail.rpartition(":secret:")[2]  # an ARN: its name
        return AwsCall(service, operation, detail, status)
    scope = _CREDENTIAL_SCOPE.search(str(environ.get("HTTP_AUTHORIZATION") or ""))
    service = scope.group(1) if scope else "unknown"
    action = re.search(rb"(?:^|&)Action=([A-Za-z]+)", body or b"")
    operation = (
        action.group(1).decode()
        if action
        else f"{environ.get('REQUEST_METHOD', '?')} {environ.get('PATH_INFO', '')}"
    )
    return AwsCall(service, operation, "", status)


class CallRecorder:
    """An emulation observer that keeps the calls since the last `take()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[AwsCall] = []

    def __call__(
        self,
        environ: dict[str, Any],
        request_body: bytes,
        status: str,
        response_body: bytes,
    ) -> None:
        call = describe_call(environ, request_body, status, response_body)
        with self._lock:
            self._calls.append(call)

    def take(self) -> list[AwsCall]:
        with self._lock:
            calls, self._calls = self._calls, []
        return calls


# ------------------------------------------------------------------ statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that was actually observed."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(samples_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(samples_ms, 50),
        "p99": percentile(samples_ms, 99),
        "mean": statistics.fmean(samples_ms),
        "min": min(samples_ms),
        "max": max(samples_ms),
    }


def _rate(count: int, n: int) -> float:
    return round(count / n, 3) if n else 0.0


@dataclass
class Scenario:
    """One kind of request, measured `len(samples_ms)` times after its warm-up."""

    name: str
    request: str
    note: str
    samples_ms: list[float] = field(default_factory=list)
    calls: list[list[AwsCall]] = field(default_factory=list)
    warmup_calls: list[list[AwsCall]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        n = len(self.samples_ms)
        dynamo_per_request = [
            sum(1 for c in calls if c.service == "dynamodb") for calls in self.calls
        ]
        other_per_request = [
            sum(1 for c in calls if c.service != "dynamodb") for calls in self.calls
        ]
        by_operation = Counter(c.operation for calls in self.calls for c in calls if _ddb(c))
        units_per_request = [
            sum(c.read_units or 0.0 for c in calls if _ddb(c)) for calls in self.calls
        ]
        units_by_operation: Counter[str] = Counter()
        for calls in self.calls:
            for c in calls:
                if _ddb(c) and c.read_units:
                    units_by_operation[c.operation] += c.read_units  # type: ignore[assignment]
        by_call = Counter(c.label for calls in self.calls for c in calls if _ddb(c))
        others = Counter(
            f"{c.service} {c.label}" for calls in self.calls for c in calls if not _ddb(c)
        )
        warm_up_others = Counter(
            f"{c.service} {c.label}" for calls in self.warmup_calls for c in calls if not _ddb(c)
        )
        return {
            "name": self.name,
            "request": self.request,
            "note": self.note,
            "requests": n,
            "warmup_requests": len(self.warmup_calls),
            "latency_ms": latency_summary(self.samples_ms) if n else None,
            "dynamodb_calls_per_request": {
                "median": statistics.median(dynamo_per_request) if n else None,
                "mean": _rate(sum(dynamo_per_request), n),
                "min": min(dynamo_per_request, default=0),
                "max": max(dynamo_per_request, default=0),
                "by_operation": {op: _rate(k, n) for op, k in by_operation.most_common()},
                "by_call": {label: _rate(k, n) for label, k in by_call.most_common()},
            },
            "dynamodb_read_units_per_request": {
                "median": statistics.median(units_per_request) if n else None,
                "mean": round(statistics.fmean(units_per_request), 3) if n else 0.0,
                "min": min(units_per_request, default=0.0),
                "max": max(units_per_request, default=0.0),
                "by_operation": {
                    op: round(units / n, 3) for op, units in units_by_operation.most_common()
                },
            },
            "other_aws_calls_per_request": {
                "median": statistics.median(other_per_request) if n else None,
                "total": sum(other_per_request),
                "by_call": {label: _rate(k, n) for label, k in others.most_common()},
            },
            "other_aws_calls_during_warmup": dict(warm_up_others.most_common()),
        }


def _ddb(call: AwsCall) -> bool:
    return call.service == "dynamodb"


# ------------------------------------------------------------------ the bench


class _Sink(io.StringIO):
    """Where the functions' log lines go while measuring (their tail is shown on failure)."""

    def tail(self) -> str:
        return self.getvalue()[-_LOG_TAIL_CHARS:]


def _ip_addresses(seed: int) -> Iterator[str]:
    """Distinct 10.x.y.z addresses, a fresh second octet per run."""
    second = random.Random(seed).randrange(1, 255)  # noqa: S311 - not for security
    for n in range(1, 255 * 254):
        yield f"10.{second}.{n // 254}.{n % 254 + 1}"


class RequestBench:
    """Drives the auth function of a started `LocalRuntime` and records what it calls."""

    def __init__(self, runtime: Any, recorder: CallRecorder, sink: _Sink) -> None:
        from warung_local.gateway import Router

        self.runtime = runtime
        self.recorder = recorder
        self.sink = sink
        self.router = Router(runtime.template.routes)
        self.ips = _ip_addresses(time.time_ns())

    def event(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Sequence[tuple[str, str]] = (),
        query: Sequence[tuple[str, str]] = (),
        source_ip: str = "127.0.0.1",
    ) -> dict[str, Any]:
        """The proxy event the local gateway would build for this request."""
        from warung_local.gateway import build_proxy_event

        match = self.router.match(method, path)
        if match is None or match.route.function_id not in self.runtime.functions:
            raise RequestBenchError(f"{method} {path} is not a route of a loaded function")
        all_headers = [("User-Agent", "warung-bench"), *headers]
        raw = None
        if body is not None:
            raw = json.dumps(body).encode()
            all_headers.append(("Content-Type", "application/json"))
        api = self.runtime.template.api
        return build_proxy_event(
            method,
            path,
            list(query),
            all_headers,
            raw,
            match,
            api.stage,
            api.binary_media_types,
            source_ip=source_ip,
        )

    def call(self, event: dict[str, Any]) -> tuple[float, dict[str, Any], list[AwsCall]]:
        """One timed invocation: (ms, parsed body, AWS calls); a non-2xx is an error."""
        request = f"{event['httpMethod']} {event['path']}"
        match = self.router.match(event["httpMethod"], event["path"])
        if match is None:
            raise RequestBenchError(f"{request} is not a route of the template")
        self.recorder.take()
        started = time.perf_counter()
        result = self.runtime.invoke(match.route.function_id, event)
        elapsed_ms = (time.perf_counter() - started) * 1000
        calls = self.recorder.take()
        if not result.ok:
            raise RequestBenchError(
                f"{request}: the invocation failed: {result.error}\n{self.sink.tail()}"
            )
        status = int(result.payload.get("statusCode", 0))
        if not 200 <= status < 300:
            raise RequestBenchError(
                f"{request}: HTTP {status}: {str(result.payload.get('body'))[:500]}\n"
                f"{self.sink.tail()}"
            )
        try:
            body = json.loads(result.payload.get("body") or "{}")
        except ValueError:
            body = {}
        return elapsed_ms, body, calls

    def measure(
        self,
        scenario: Scenario,
        make_event: Callable[[], dict[str, Any]],
        requests: int,
        warmup: int,
        before_each: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Run the scenario; returns the body of its last response."""
        body: dict[str, Any] = {}
        for i in range(warmup + requests):
            event = make_event()
            if before_each is not None:
                before_each()
            elapsed_ms, body, calls = self.call(event)
            if i < warmup:
                scenario.warmup_calls.append(calls)
            else:
                scenario.samples_ms.append(elapsed_ms)
                scenario.calls.append(calls)
        return body

    def login_event(self) -> dict[str, Any]:
        return self.event(
            "POST",
            "/v1/auth/login",
            body={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
            source_ip=next(self.ips),
        )

    def me_event(self, access_token: str) -> dict[str, Any]:
        return self.event("GET", "/v1/me", headers=[("Authorization", f"Bearer {access_token}")])

    def sign_in(self, email: str) -> str:
        """An access token of a demo account (untimed)."""
        event = self.event(
            "POST",
            "/v1/auth/login",
            body={"email": email, "password": DEMO_PASSWORD},
            source_ip=next(self.ips),
        )
        return str(self.call(event)[1]["access_token"])

    def send(self, method: str, path: str, token: str, body: Any = None) -> dict[str, Any]:
        """One untimed request as the holder of ``token``; its response body."""
        event = self.event(method, path, body=body, headers=[("Authorization", f"Bearer {token}")])
        return self.call(event)[1]

    def guard_module(self) -> Any:
        """The auth function's own `warung.auth` (None if it is not loaded)."""
        function = self.runtime.functions.get(AUTH_FUNCTION)
        return None if function is None else function.modules.get("warung.auth")

    def swap_overhead_ms(self, samples: int = SWAP_SAMPLES) -> float:
        """Median cost of the local runtime's per-invocation module/environment swap."""
        function = self.runtime.functions[AUTH_FUNCTION]
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            with function.activated():
                pass
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)


# ------------------------------------------------------------------ the catalog's data

_FIRST_WORDS = (
    ("Nasi", "food"),
    ("Nasi", "food"),
    ("Mie", "food"),
    ("Ayam", "food"),
    ("Sate", "food"),
    ("Soto", "food"),
    ("Bakso", "food"),
    ("Es", "drinks"),
    ("Kopi", "drinks"),
    ("Roti", "snacks"),
    ("Pisang", "snacks"),
    ("Tahu", "snacks"),
    ("Beras", "groceries"),
)
_NASI_WORDS = ("Goreng", "Goreng", "Uduk", "Kuning", "Liwet", "Campur")
_SECOND_WORDS = ("Goreng", "Bakar", "Kuah", "Manis", "Pedas", "Komplit", "Keju", "Susu", "Madura")
_LAST_WORDS = ("Spesial", "Telur", "Kampung", "Seafood", "Jumbo", "Pete", "", "", "")


def catalog_product(rng: random.Random) -> dict[str, Any]:
    """A POST /v1/merchants/{id}/products body with a name from a small vocabulary."""
    first, category = rng.choice(_FIRST_WORDS)
    second = rng.choice(_NASI_WORDS if first == "Nasi" else _SECOND_WORDS)
    name = " ".join(w for w in (first, second, rng.choice(_LAST_WORDS)) if w)
    return {
        "name": name,
        "description": f"{name}, dimasak setiap hari dengan bumbu rumahan.",
        "price": rng.randrange(5_000, 60_000, 500),
        "category": category,
        "tags": [first.lower()],
        "stock": rng.choice((None, None, rng.randrange(0, 50))),
    }


def seed_catalog(
    bench: RequestBench, merchants: int, products: int, seed: int = 7
) -> dict[str, Any]:
    """Open, approve and stock ``merchants`` merchants of ``products`` products each around
    central Jakarta, through the API (untimed); the ids of what was created."""
    rng = random.Random(seed)  # noqa: S311 - test data
    owner = bench.sign_in(DEMO_OWNER_EMAIL)
    admin = bench.sign_in(DEMO_ADMIN_EMAIL)
    merchant_ids: list[str] = []
    product_ids: list[str] = []
    for n in range(merchants):
        profile = {
            "name": f"Warung Bench {n + 1:02d}",
            "description": "Bench data.",
            "phone": f"+62812{n + 1:07d}",
            "address": {
                "line1": f"Jl. Bench No. {n + 1}",
                "city": "Jakarta",
                "postal_code": "10110",
            },
            "location": {
                "lat": round(-6.1950 + rng.uniform(-0.06, 0.06), 4),
                "lon": round(106.8230 + rng.uniform(-0.06, 0.06), 4),
            },
        }
        merchant_id = str(bench.send("POST", "/v1/merchants", owner, profile)["id"])
        status = {"status": "active"}
        bench.send("PATCH", f"/v1/admin/merchants/{merchant_id}", admin, status)
        merchant_ids.append(merchant_id)
        for _ in range(products):
            path = f"/v1/merchants/{merchant_id}/products"
            body = bench.send("POST", path, owner, catalog_product(rng))
            product_ids.append(str(body["id"]))
    return {"merchants": merchant_ids, "products": product_ids}


def catalog_scenarios(
    bench: RequestBench, catalog: dict[str, Any], requests: int, warmup: int
) -> list[Scenario]:
    """The anonymous catalog reads: a search, one product, merchants near a point."""
    search = Scenario(
        "product_search",
        f"GET /v1/products?q={SEARCH_QUERY.replace(' ', '%20')}",
        "anonymous; default order (relevance) reads every search item of the longest word, "
        "then the merchants and the page's products",
    )
    page = bench.measure(
        search,
        lambda: bench.event("GET", "/v1/products", query=[("q", SEARCH_QUERY)]),
        requests,
        warmup,
    )
    if not page.get("items"):
        raise RequestBenchError(f"the search for {SEARCH_QUERY!r} found nothing to measure")
    product_id = str(page["items"][0]["id"])
    product = Scenario(
        "product",
        "GET /v1/products/{id}",
        "anonymous; the first product of that search",
    )
    bench.measure(
        product, lambda: bench.event("GET", f"/v1/products/{product_id}"), requests, warmup
    )
    near = Scenario(
        "merchants_near",
        f"GET /v1/merchants?near={NEAR_POINT}",
        f"anonymous; {len(catalog['merchants'])} bench merchants within 10 km and the demo "
        "ones deliver there; first page of 20",
    )
    listed = bench.measure(
        near,
        lambda: bench.event("GET", "/v1/merchants", query=[("near", NEAR_POINT)]),
        requests,
        warmup,
    )
    if not listed.get("items"):
        raise RequestBenchError(f"no merchant delivers to {NEAR_POINT}")
    return [search, product, near]


def run_request_bench(
    template: str | Path = ROOT / "template.yaml",
    *,
    login_requests: int = DEFAULT_LOGIN_REQUESTS,
    read_requests: int = DEFAULT_READ_REQUESTS,
    stale_requests: int = DEFAULT_STALE_REQUESTS,
    catalog_requests: int = DEFAULT_CATALOG_REQUESTS,
    catalog_merchants: int = DEFAULT_CATALOG_MERCHANTS,
    catalog_products: int = DEFAULT_CATALOG_PRODUCTS,
    warmup: int = DEFAULT_WARMUP,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Start a local runtime, measure the scenarios, stop it; the report section."""
    say = progress or (lambda _msg: None)
    if login_requests < 1 or read_requests < 1 or stale_requests < 0 or warmup < 1:
        raise ValueError("at least 1 request and 1 warm-up request per scenario")
    if catalog_requests < 0 or catalog_merchants < 0 or catalog_products < 0:
        raise ValueError("catalog requests, merchants and products cannot be negative")
    try:
        from warung_local.runtime import LocalRuntime
    except ImportError as exc:
        raise RequestBenchError(f"cannot import the local runtime: {exc}") from exc

    started = time.perf_counter()
    sink = _Sink()
    recorder = CallRecorder()
    # The functions log to stdout (JSON lines); it must stay clean for --json.
    with contextlib.redirect_stdout(sink):
        runtime = LocalRuntime(template, port=0, emulator_port=0, seed=True, start_sources=False)
        try:
            runtime.start()
        except Exception as exc:
            raise RequestBenchError(f"the local runtime did not start: {exc}") from exc
        try:
            if AUTH_FUNCTION not in runtime.functions:
                raise RequestBenchError(f"{AUTH_FUNCTION} is not a function of {template}")
            function = runtime.functions[AUTH_FUNCTION]
            if function.init_error is not None:
                raise RequestBenchError(f"{AUTH_FUNCTION} failed to load: {function.init_error}")
            if not any(DEMO_EMAIL in line for line in runtime.seed_lines):
                raise RequestBenchError(
                    f"the demo account {DEMO_EMAIL} was not seeded: {runtime.seed_lines}"
                )
            assert runtime.emulation is not None
            runtime.emulation.add_observer(recorder)
            bench = RequestBench(runtime, recorder, sink)
            startup_s = time.perf_counter() - started
            say(
                f"   local runtime up in {startup_s:.1f} s (emulation {runtime.endpoint_url}); "
                f"{login_requests} sign-ins, {read_requests} + {stale_requests} reads "
                f"(+{warmup} warm-up each)"
            )

            login = Scenario(
                "login",
                "POST /v1/auth/login",
                f"demo customer, a different source IP per request; {warmup} warm-up",
            )
            body = bench.measure(login, bench.login_event, login_requests, warmup)
            token = str(body["access_token"])

            guard = bench.guard_module()
            ttl = getattr(guard, "STATE_TTL_SECONDS", GUARD_STATE_TTL_S)
            me = Scenario(
                "me",
                "GET /v1/me",
                f"Bearer token; guard state cached ({ttl:g} s per container, read in the warm-up)",
            )
            profile = bench.measure(me, lambda: bench.me_event(token), read_requests, warmup)
            scenarios = [login, me]

            stale_note = None
            if stale_requests and guard is not None and hasattr(guard, "forget_auth_state"):
                user_id = str(profile["id"])
                stale = Scenario(
                    "me_guard_cache_expired",
                    "GET /v1/me",
                    "guard state cache emptied before each request (untimed): a container "
                    f"that sees the account less often than every {ttl:g} s",
                )
                bench.measure(
                    stale,
                    lambda: bench.me_event(token),
                    stale_requests,
                    1,
                    before_each=lambda: guard.forget_auth_state(user_id),
                )
                scenarios.append(stale)
            elif stale_requests:
                stale_note = "guard cache scenario skipped: warung.auth.forget_auth_state not found"

            catalog_note = None
            catalog: dict[str, Any] = {"merchants": [], "products": []}
            if catalog_requests and CATALOG_FUNCTION not in runtime.functions:
                catalog_note = f"catalog reads skipped: no {CATALOG_FUNCTION} in the template"
            elif catalog_requests:
                seeding = time.perf_counter()
                catalog = seed_catalog(bench, catalog_merchants, catalog_products)
                say(
                    f"   catalog data: {len(catalog['merchants'])} merchants, "
                    f"{len(catalog['products'])} products added through the API in "
                    f"{time.perf_counter() - seeding:.0f} s (besides the demo merchants)"
                )
                scenarios += catalog_scenarios(bench, catalog, catalog_requests, warmup)
            swap_ms = bench.swap_overhead_ms()
            endpoint = runtime.endpoint_url
            seed_lines = list(runtime.seed_lines)
        finally:
            runtime.stop()

    return {
        "function": AUTH_FUNCTION,
        "functions": sorted(
            {AUTH_FUNCTION} | ({CATALOG_FUNCTION} if catalog["products"] else set())
        ),
        "template": str(template),
        "emulation_endpoint": endpoint,
        "host_machine": platform.machine(),
        "host_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "metric": "wall time of runtime.invoke (time.perf_counter), in-process: handler, the "
        "local runtime's module/environment swap, loopback round trips to moto",
        "percentiles": "nearest rank (p99 of 50 samples is the 50th, i.e. the maximum)",
        "guard_state_ttl_s": ttl,
        "local_swap_overhead_ms": round(swap_ms, 3),
        "runtime_startup_s": round(startup_s, 1),
        "catalog_data": {
            "merchants_added": len(catalog["merchants"]),
            "products_added": len(catalog["products"]),
            "demo_merchants": sum(1 for line in seed_lines if line.startswith("demo merchant ")),
        },
        "read_units": "computed from each DynamoDB read's request and response with "
        "DynamoDB's size rules (moto's ConsumedCapacity is a fixed placeholder)",
        "scenarios": [s.summary() for s in scenarios],
        "notes": [n for n in (stale_note, catalog_note) if n],
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


# ------------------------------------------------------------------ report


def _count(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def print_request_report(section: dict[str, Any], out: Any = None) -> None:
    """The requests section, as text."""
    out = out or sys.stdout

    def emit(line: str = "") -> None:
        print(line, file=out)

    if section.get("error"):
        emit("Warm requests (auth): NOT MEASURED")
        emit(f"  {section['error']}")
        return
    if section.get("skipped"):
        emit(f"Warm requests (auth): skipped ({section['skipped']})")
        return
    emit(
        f"Warm requests, in-process on the local runtime "
        f"({', '.join(section.get('functions') or [section['function']])} via "
        f"runtime.invoke, moto at {section['emulation_endpoint']})"
    )
    emit(
        f"  caveat: {section['host_machine']}, {section['host_cpus']} CPU(s), Python "
        f"{section['python']}, moto over loopback: not Lambda nor DynamoDB latency. "
        "What transfers is the number of calls per request."
    )
    emit(
        f"  ms = wall time of runtime.invoke, including the local runtime's module swap "
        f"(~{section['local_swap_overhead_ms']:.2f} ms); percentiles by nearest rank"
    )
    emit()
    rows = section["scenarios"]
    w = max(22, *(len(r["name"]) for r in rows))
    rw = max(19, *(len(r["request"]) for r in rows))
    emit(
        f"{'scenario':<{w}}  {'request':<{rw}}  {'n':>4}  {'p50 ms':>7}  {'p99 ms':>7}  "
        f"{'mean':>7}  {'min':>6}  {'max':>7}  {'DynamoDB/req':>12}  {'other AWS/req':>13}  "
        f"{'read units/req':>14}"
    )
    for r in rows:
        lat = r["latency_ms"]
        ddb = r["dynamodb_calls_per_request"]
        other = r["other_aws_calls_per_request"]
        spread = "" if ddb["min"] == ddb["max"] else f" ({ddb['min']}..{ddb['max']})"
        units = r.get("dynamodb_read_units_per_request") or {}
        rcu = "-" if units.get("median") is None else _count(units["median"])
        if units.get("median") is not None and units["min"] != units["max"]:
            rcu += f" ({_count(units['min'])}..{_count(units['max'])})"
        emit(
            f"{r['name']:<{w}}  {r['request']:<{rw}}  {r['requests']:>4}  {lat['p50']:>7.1f}  "
            f"{lat['p99']:>7.1f}  {lat['mean']:>7.1f}  {lat['min']:>6.1f}  {lat['max']:>7.1f}  "
            f"{_count(ddb['median']) + spread:>12}  {_count(other['median']):>13}  {rcu:>14}"
        )
    emit()
    for r in rows:
        ddb = r["dynamodb_calls_per_request"]
        emit(f"  {r['name']} ({r['note']}):")
        emit(
            "    DynamoDB per request: "
            + ", ".join(f"{_count(v)} {op}" for op, v in ddb["by_operation"].items())
        )
        for label, v in ddb["by_call"].items():
            emit(f"      {_count(v):>5} x {label}")
        units = r.get("dynamodb_read_units_per_request") or {}
        if units.get("by_operation"):
            emit(
                f"    read units per request: {_count(units['mean'])} = "
                + " + ".join(f"{_count(v)} {op}" for op, v in units["by_operation"].items())
            )
        other = r["other_aws_calls_per_request"]
        if other["by_call"]:
            emit(
                "    other AWS calls per request: "
                + ", ".join(f"{_count(v)} {k}" for k, v in other["by_call"].items())
            )
        else:
            emit("    other AWS calls per request: none (keys cached)")
        if r["other_aws_calls_during_warmup"]:
            emit(
                "    first use, in the warm-up: "
                + ", ".join(f"{k} x{v}" for k, v in r["other_aws_calls_during_warmup"].items())
            )
    emit(
        f"  The guard caches each account's auth state for {section['guard_state_ttl_s']:g} s "
        "per container: a warm /v1/me reads the profile once, plus the guard's state read "
        f"at most once per {section['guard_state_ttl_s']:g} s per account and container."
    )
    data = section.get("catalog_data") or {}
    if data.get("products_added"):
        emit(
            f"  Catalog reads over {data['demo_merchants']} demo merchants plus "
            f"{data['merchants_added']} merchants and {data['products_added']} products added "
            "through the API before measuring."
        )
    if section.get("read_units"):
        emit(
            "  read units: computed from each read's request and response with DynamoDB's "
            "rules (4 KB blocks; GetItem and BatchGetItem per item, Query per call; 1 "
            "strongly consistent, 0.5 eventually); moto's own ConsumedCapacity is a fixed "
            "placeholder"
        )
    for note in section.get("notes", []):
        emit(f"  note: {note}")


# ------------------------------------------------------------------ standalone


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Warm in-process latency, AWS calls and DynamoDB read units per request "
        "of sign-in, GET /v1/me and the catalog reads on the local runtime (the requests "
        "section of `make bench`)."
    )
    p.add_argument("--template", default=str(ROOT / "template.yaml"))
    p.add_argument("--requests", type=int, default=DEFAULT_READ_REQUESTS, metavar="N")
    p.add_argument("--login-requests", type=int, default=DEFAULT_LOGIN_REQUESTS, metavar="N")
    p.add_argument("--stale-requests", type=int, default=DEFAULT_STALE_REQUESTS, metavar="N")
    p.add_argument("--catalog-requests", type=int, default=DEFAULT_CATALOG_REQUESTS, metavar="N")
    p.add_argument("--catalog-merchants", type=int, default=DEFAULT_CATALOG_MERCHANTS, metavar="N")
    p.add_argument("--catalog-products", type=int, default=DEFAULT_CATALOG_PRODUCTS, metavar="N")
    p.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, metavar="N")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = p.parse_args(argv)
    try:
        section = run_request_bench(
            args.template,
            login_requests=args.login_requests,
            read_requests=args.requests,
            stale_requests=args.stale_requests,
            catalog_requests=args.catalog_requests,
            catalog_merchants=args.catalog_merchants,
            catalog_products=args.catalog_products,
            warmup=args.warmup,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except (RequestBenchError, ValueError) as exc:
        print(f"bench_requests: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(section, indent=2))
    else:
        print_request_report(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
