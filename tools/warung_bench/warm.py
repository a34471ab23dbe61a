#!/usr/bin/env python3
"""`make bench`, requests section: warm latency, AWS calls and DynamoDB read and write
units per request of sign-in, a token-verified read, the public catalog reads, checkout and
the payment provider's webhook, measured in-process on the local runtime.

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
  - `POST /v1/orders` (checkout) as the demo customer (verified), with a fresh
    `Idempotency-Key` each time, delivering to Bundaran HI from one more bench merchant
    (next to it, no opening hours) whose one product has no stock count (null). Untimed
    around each request: the cart gets 2 of that product before it, and the order is
    cancelled after it (a customer may hold at most 5 unpaid orders; checkout empties
    the cart).
  - `POST /v1/payments/webhook`: a `payment.succeeded` event signed as the simulator
    provider signs it (`SimulatorProvider.signed` of the payments function's own
    `warung.ordering.payments`, with the stage's webhook secret read from the emulation's Secrets
    Manager at the function's PAYMENT_WEBHOOK_SECRET_ARN) for a fresh pending order each
    time, placed untimed just before it (cart filled, checkout); the order becomes paid.
* The timed figure is the wall time of `runtime.invoke` (time.perf_counter around it):
  the handler, the local runtime's per-invocation module/environment swap (reported on
  its own), and the round trips to the embedded moto emulation over loopback; less the
  time of the bench's own item-size lookups for write units (below), which run while
  the function waits on a write.
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
  not asked for. A projected or filtered read is sized from what it returned: a lower
  bound, since DynamoDB bills the whole items it read (the same figure while they stay
  within the same 4 KB blocks; the projected reads here are of small items).
* DynamoDB write units per request are computed here too, with DynamoDB's rules: 1 unit
  per 1 KB (rounded up, at least 1) of the item for PutItem (the larger of the old and
  the new item), UpdateItem (the larger of before and after) and DeleteItem (the item
  deleted), 2 per 1 KB for each action of a TransactWriteItems, a ConditionCheck
  counting as a write of the item checked. The sizes are the items' own, read from the
  emulation's backend in this process (not through its API, so nothing is observed):
  just before the write by a WSGI middleware the bench puts in front of moto inside the
  emulation's lock (`BeforeImages`), and just after by the observer. Only when that is
  not possible are they taken from the request: a put's item (exact unless it replaced
  a bigger one), for the other actions the key plus the values sent (an approximation,
  below the real size); each row says how many of its write calls were sized that way.

What transfers to Lambda and DynamoDB is the number and kind of calls per request, not
the milliseconds: moto in-process on a developer machine is neither.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
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
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(__file__).resolve().parents[1]
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
ORDERS_FUNCTION = "OrdersFunction"
PAYMENTS_FUNCTION = "PaymentsFunction"
DEFAULT_ORDER_REQUESTS = 100
DELIVERY_ADDRESS = {  # Bundaran HI: where the orders are delivered
    "line1": "Jl. M.H. Thamrin No. 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.1950,
    "lon": 106.8230,
}
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
    write_units: float | None = None  # DynamoDB writes, when the call succeeded
    write_sizes_exact: bool | None = None  # every size from the table's item images

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


def _dynamodb_detail(operation: str, body: bytes) -> str:  # noqa: C901 - a script step; the bench becomes a package later
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


# ------------------------------------------------------------------ write units

WRITE_UNIT_BYTES = 1024
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)


@dataclass(frozen=True)
class WriteTarget:
    """One item a write request names: its table, its key (or whole item, for a put), what
    is done to it, and the size that the request alone gives for it."""

    table: str
    attributes: dict[str, Any]  # the Key, or the Item of a put
    action: str  # Put, Update, Delete, ConditionCheck
    request_size: int  # the put's item exactly; for the others an approximation


def _approximate_size(spec: dict[str, Any]) -> int:
    """An update's, delete's or condition check's item size from the request alone: the
    key plus the values (and aliased names) it sets or compares. It undercounts whatever
    else the item holds."""
    size = item_size(spec.get("Key") or {})
    size += sum(attribute_size(v) for v in (spec.get("ExpressionAttributeValues") or {}).values())
    size += sum(len(str(n).encode()) for n in (spec.get("ExpressionAttributeNames") or {}).values())
    return size


def write_targets(operation: str, request: dict[str, Any]) -> list[WriteTarget]:
    """The items a DynamoDB write names, in the request's order (none for a read)."""

    def target(action: str, spec: dict[str, Any], table: Any = None) -> WriteTarget:
        name = str(table or spec.get("TableName") or "")
        if action == "Put":
            item = spec.get("Item") or {}
            return WriteTarget(name, item, action, item_size(item))
        return WriteTarget(name, spec.get("Key") or {}, action, _approximate_size(spec))

    single = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}
    if operation in single:
        return [target(single[operation], request)]
    if operation == "TransactWriteItems":
        return [
            target(kind, spec)
            for step in request.get("TransactItems") or []
            for kind, spec in step.items()
        ]
    if operation == "BatchWriteItem":
        targets = []
        for table, writes in (request.get("RequestItems") or {}).items():
            for write in writes:
                if "PutRequest" in write:
                    targets.append(target("Put", write["PutRequest"], table))
                elif "DeleteRequest" in write:
                    targets.append(target("Delete", write["DeleteRequest"], table))
        return targets
    return []


def _write_blocks(size: int) -> int:
    """Whole 1 KB blocks of ``size`` bytes, at least one."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def write_units(
    operation: str,
    request: dict[str, Any],
    before: Sequence[int | None] | None = None,
    after: Sequence[int | None] | None = None,
) -> tuple[float, bool]:
    """The write capacity units one DynamoDB write consumed, and whether every size it
    used was an item's real size.

    ``before`` and ``after`` are the sizes of the named items (`write_targets` order) as
    the table held them just before and just after the call (0: no item; None: unknown).
    The size billed is the larger of the two (PutItem over an existing item, UpdateItem),
    the item deleted (DeleteItem) or the item checked (ConditionCheck); 1 unit per 1 KB,
    2 in a transaction. Without the images, a put's size is its request item (exact when
    nothing was there before) and the other actions' an approximation from the request
    (`_approximate_size`).
    """
    targets = write_targets(operation, request)
    factor = 2 if operation == "TransactWriteItems" else 1
    total, exact = 0, True
    for i, t in enumerate(targets):
        old = before[i] if before is not None and i < len(before) else None
        new = after[i] if after is not None and i < len(after) else None
        if t.action == "Put":
            size = max(t.request_size, old or 0)
            exact = exact and old is not None
        elif t.action == "Update" and old is not None and new is not None:
            size = max(old, new)
        elif t.action in {"Delete", "ConditionCheck"} and old is not None:
            size = old
        else:
            size, exact = t.request_size, False
        total += factor * _write_blocks(size)
    return float(total), exact


class ItemImages:
    """Sizes of items as the embedded moto emulation holds them, read from its backend in
    this process (no request, nothing observed): what a write's units are computed from.

    moto's internals (5.x: ``dynamodb_backends[account][region].tables``, ``Table.get_item``,
    ``Item.to_json``) are read defensively: anything unexpected gives None, and the units
    fall back to the request's sizes, marked approximate.
    """

    def __init__(self) -> None:
        self.lookup_s = 0.0  # time spent here (inside the invocations: `call` subtracts it)
        self.lookups = 0
        self._tables: dict[str, Any] = {}

    def _table(self, name: str) -> Any:
        table = self._tables.get(name)
        if table is not None:
            return table
        from moto.dynamodb.models import dynamodb_backends

        for account in list(dynamodb_backends.values()):
            for backend in list(account.values()):
                table = backend.tables.get(name)
                if table is not None:
                    self._tables[name] = table  # the tables live as long as the runtime
                    return table
        return None

    def size(self, table_name: str, attributes: dict[str, Any]) -> int | None:
        """The stored size of the item with this key (0 if there is none), or None."""
        try:
            from moto.dynamodb.models.dynamo_type import DynamoType

            table = self._table(table_name)
            if table is None:
                return None
            hash_key = DynamoType(attributes[table.hash_key_attr])
            range_attr = table.range_key_attr
            range_key = DynamoType(attributes[range_attr]) if range_attr else None
            item = table.get_item(hash_key, range_key)
            return item_size(item.to_json()["Attributes"]) if item is not None else 0
        except Exception:  # moto internals: an unknown size, never a failure
            return None

    def sizes(self, operation: str, body: bytes) -> list[int | None] | None:
        """The current sizes of the items a write request names (None for other calls)."""
        if operation not in WRITE_OPERATIONS:
            return None
        started = time.perf_counter()
        try:
            request = json.loads(body or b"{}")
            return [self.size(t.table, t.attributes) for t in write_targets(operation, request)]
        except (ValueError, TypeError, AttributeError):
            return None
        finally:
            self.lookup_s += time.perf_counter() - started
            self.lookups += 1


BEFORE_SIZES = "warung_bench.before_sizes"  # WSGI environ key set by `BeforeImages`


class BeforeImages:
    """WSGI middleware in front of moto (inside the emulation's lock): notes, in the request's
    environ, the sizes of the items a DynamoDB write is about to change, for the observer
    that sees the same environ once the write is done."""

    def __init__(self, app: Callable[..., Any], images: ItemImages) -> None:
        self.app = app
        self.images = images

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
        prefix, _, operation = target.rpartition(".")
        if prefix == "DynamoDB_20120810" and operation in WRITE_OPERATIONS:
            body = environ["wsgi.input"].read()
            environ["wsgi.input"] = io.BytesIO(body)
            environ[BEFORE_SIZES] = self.images.sizes(operation, body)
        return self.app(environ, start_response)


def _write_units_of(
    operation: str,
    body: bytes,
    before: Sequence[int | None] | None,
    after: Sequence[int | None] | None,
) -> tuple[float | None, bool | None]:
    if operation not in WRITE_OPERATIONS:
        return 0.0, None
    try:
        return write_units(operation, json.loads(body or b"{}"), before, after)
    except (ValueError, TypeError, KeyError, AttributeError, StopIteration):
        return None, None


def describe_call(
    environ: dict[str, Any],
    body: bytes,
    status: str = "",
    response_body: bytes | None = None,
    after_sizes: Sequence[int | None] | None = None,
) -> AwsCall:
    """What one request to the emulation was, from its WSGI environ and body; with the
    response body, a DynamoDB call's read units too, and a successful write's units
    (from the item sizes `BeforeImages` noted in the environ and ``after_sizes``, else
    from the request)."""
    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    if "." in target:
        prefix, _, operation = target.rpartition(".")
        service = _SERVICE_OF_TARGET.get(prefix, prefix.lower())
        detail = _dynamodb_detail(operation, body) if service == "dynamodb" else ""
        if service == "dynamodb" and status.startswith("200"):
            units = _read_units_of(operation, body, response_body)
            before = environ.get(BEFORE_SIZES)
            written, exact = _write_units_of(operation, body, before, after_sizes)
            return AwsCall(service, operation, detail, status, units, written, exact)
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
    """An emulation observer that keeps the calls since the last `take()`; with
    ``images``, it reads the sizes of the items each DynamoDB write left (the observer
    runs inside the emulation's lock, right after the write)."""

    def __init__(self, images: ItemImages | None = None) -> None:
        self._lock = threading.Lock()
        self._calls: list[AwsCall] = []
        self.images = images

    def __call__(
        self,
        environ: dict[str, Any],
        request_body: bytes,
        status: str,
        response_body: bytes,
    ) -> None:
        after = None
        target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
        if self.images is not None and target.startswith("DynamoDB_20120810."):
            after = self.images.sizes(target.rpartition(".")[2], request_body)
        call = describe_call(environ, request_body, status, response_body, after)
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
        writes = [c for calls in self.calls for c in calls if _ddb(c) and c.write_units]
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
            "dynamodb_read_units_per_request": self._units(lambda c: c.read_units),
            "dynamodb_write_units_per_request": {
                **self._units(lambda c: c.write_units),
                # Write calls whose every item size came from the table (before and after
                # the call) vs those with a size taken or approximated from the request.
                "sizes_exact_calls": sum(1 for c in writes if c.write_sizes_exact),
                "sizes_from_request_calls": sum(1 for c in writes if not c.write_sizes_exact),
            },
            "other_aws_calls_per_request": {
                "median": statistics.median(other_per_request) if n else None,
                "total": sum(other_per_request),
                "by_call": {label: _rate(k, n) for label, k in others.most_common()},
            },
            "other_aws_calls_during_warmup": dict(warm_up_others.most_common()),
        }

    def _units(self, of: Callable[[AwsCall], float | None]) -> dict[str, Any]:
        """Capacity units per request (``of``: a call's read or write units)."""
        n = len(self.calls)
        per_request = [sum(of(c) or 0.0 for c in calls if _ddb(c)) for calls in self.calls]
        by_operation: dict[str, float] = {}
        for calls in self.calls:
            for c in calls:
                units = of(c)
                if _ddb(c) and units:
                    by_operation[c.operation] = by_operation.get(c.operation, 0.0) + units
        ranked = sorted(by_operation.items(), key=lambda kv: -kv[1])
        return {
            "median": statistics.median(per_request) if n else None,
            "mean": round(statistics.fmean(per_request), 3) if n else 0.0,
            "min": min(per_request, default=0.0),
            "max": max(per_request, default=0.0),
            "by_operation": {op: round(units / n, 3) for op, units in ranked},
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
        raw_body: bytes | None = None,
    ) -> dict[str, Any]:
        """The proxy event the local gateway would build for this request (``body`` as
        JSON, or ``raw_body`` as it is: a signed body must keep its bytes)."""
        from warung_local.gateway import build_proxy_event

        match = self.router.match(method, path)
        if match is None or match.route.function_id not in self.runtime.functions:
            raise RequestBenchError(f"{method} {path} is not a route of a loaded function")
        all_headers = [("User-Agent", "warung-bench"), *headers]
        raw = raw_body
        if body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
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
        images = self.recorder.images
        looked_up = images.lookup_s if images is not None else 0.0
        started = time.perf_counter()
        result = self.runtime.invoke(match.route.function_id, event)
        elapsed_ms = (time.perf_counter() - started) * 1000
        calls = self.recorder.take()
        if images is not None:  # the bench's own item-size lookups, done while the function waited
            elapsed_ms -= (images.lookup_s - looked_up) * 1000
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
        after_each: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Run the scenario; returns the body of its last response. ``before_each`` runs
        before the request's event is made, ``after_each`` gets its response body: both
        untimed, their AWS calls not counted."""
        body: dict[str, Any] = {}
        for i in range(warmup + requests):
            if before_each is not None:
                before_each()
            event = make_event()
            elapsed_ms, body, calls = self.call(event)
            if after_each is not None:
                after_each(body)
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

    def send(
        self,
        method: str,
        path: str,
        token: str,
        body: Any = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        """One untimed request as the holder of ``token``; its response body."""
        event = self.event(
            method, path, body=body, headers=[("Authorization", f"Bearer {token}"), *headers]
        )
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


def open_merchant(
    bench: RequestBench, owner: str, admin: str, n: int, lat: float, lon: float
) -> str:
    """A merchant "Warung Bench <n>" of the demo owner at (lat, lon), approved by the demo
    admin, without opening hours (open whenever it is switched open); its id."""
    profile = {
        "name": f"Warung Bench {n:02d}",
        "description": "Bench data.",
        "phone": f"+62812{n:07d}",
        "address": {"line1": f"Jl. Bench No. {n}", "city": "Jakarta", "postal_code": "10110"},
        "location": {"lat": lat, "lon": lon},
    }
    merchant_id = str(bench.send("POST", "/v1/merchants", owner, profile)["id"])
    bench.send("PATCH", f"/v1/admin/merchants/{merchant_id}", admin, {"status": "active"})
    return merchant_id


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
        lat = round(-6.1950 + rng.uniform(-0.06, 0.06), 4)
        lon = round(106.8230 + rng.uniform(-0.06, 0.06), 4)
        merchant_id = open_merchant(bench, owner, admin, n + 1, lat, lon)
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


# ------------------------------------------------------------------ checkout and payment


def _idempotency_key() -> str:
    return f"bench-{uuid.uuid4().hex}"


def order_scenarios(
    bench: RequestBench, requests: int, warmup: int, *, merchant_number: int = 99
) -> list[Scenario]:
    """Checkout and the payment provider's webhook, as the demo customer.

    Untimed first: the demo owner opens one more merchant next to the delivery address
    (approved by the demo admin, no opening hours) with one product whose stock is not
    tracked (null), and the customer's cart is emptied. Then, per request, untimed: the
    cart gets 2 of that product (PUT /v1/cart/items/{id}); for checkout the order is
    cancelled right after (so the customer never nears the unpaid-order limit); for the
    webhook an order is placed first and the request pays it."""
    owner = bench.sign_in(DEMO_OWNER_EMAIL)
    admin = bench.sign_in(DEMO_ADMIN_EMAIL)
    lat, lon = (float(v) for v in NEAR_POINT.split(","))
    merchant_id = open_merchant(bench, owner, admin, merchant_number, lat + 0.002, lon - 0.001)
    product = {
        "name": "Nasi Goreng Bench",
        "description": "The product the bench orders.",
        "price": 25_000,
        "category": "food",
        "tags": ["nasi"],
        "stock": None,
    }
    product_path = f"/v1/merchants/{merchant_id}/products"
    product_id = str(bench.send("POST", product_path, owner, product)["id"])
    customer = bench.sign_in(DEMO_EMAIL)
    auth = ("Authorization", f"Bearer {customer}")
    bench.send("DELETE", "/v1/cart", customer)
    order_body = {"delivery_address": DELIVERY_ADDRESS}

    def fill_cart() -> None:
        bench.send("PUT", f"/v1/cart/items/{product_id}", customer, {"quantity": 2})

    def checkout_event() -> dict[str, Any]:
        key = ("Idempotency-Key", _idempotency_key())
        return bench.event("POST", "/v1/orders", body=order_body, headers=[auth, key])

    def cancel(order: dict[str, Any]) -> None:
        if order.get("status") != "pending_payment":
            raise RequestBenchError(f"checkout answered an order in {order.get('status')!r}")
        bench.send("POST", f"/v1/orders/{order['id']}/cancel", customer)

    checkout = Scenario(
        "checkout",
        "POST /v1/orders",
        "demo customer (verified); 2 of one product (stock null) of one bench merchant; a "
        "fresh Idempotency-Key per request; cart filled before and the order cancelled "
        "after, untimed",
    )
    bench.measure(
        checkout, checkout_event, requests, warmup, before_each=fill_cart, after_each=cancel
    )

    payments = bench.runtime.functions[PAYMENTS_FUNCTION]
    secret = payment_webhook_secret(bench.runtime, payments)
    placed: dict[str, Any] = {}

    def place_order() -> None:
        fill_cart()
        key = ("Idempotency-Key", _idempotency_key())
        placed["order"] = bench.send("POST", "/v1/orders", customer, order_body, headers=[key])

    def webhook_event() -> dict[str, Any]:
        return payment_succeeded_event(bench, payments, secret, placed["order"])

    def check_receipt(receipt: dict[str, Any]) -> None:
        if receipt.get("duplicate"):
            raise RequestBenchError("the webhook took a fresh event for a duplicate")

    webhook = Scenario(
        "payment_webhook",
        "POST /v1/payments/webhook",
        "signed payment.succeeded (Warung-Signature, the stage's secret) for a fresh "
        "pending order each request, placed before it, untimed: the order becomes paid",
    )
    bench.measure(
        webhook,
        webhook_event,
        requests,
        warmup,
        before_each=place_order,
        after_each=check_receipt,
    )
    last = bench.send("GET", f"/v1/orders/{placed['order']['id']}", customer)
    if last.get("status") != "paid":
        raise RequestBenchError(f"the webhook left the order {last.get('status')!r}, not paid")
    return [checkout, webhook]


def signed_payment_succeeded(
    payments: Any, secret: str, order: dict[str, Any], prefix: str = "evt_bench"
) -> tuple[bytes, str, str]:
    """The provider's signed `payment.succeeded` for ``order`` (a checkout's answer), signed
    by the payments function's own provider class as the simulator's worker signs: (body,
    signature header, signature). The bench, the probe and the simulated day send it."""
    with payments.activated():
        module = importlib.import_module("warung.ordering.payments")
        event = module.ProviderEvent(
            id=f"{prefix}_{uuid.uuid4().hex}",
            type="payment.succeeded",
            data=module.EventData(
                payment_id=order["payment"]["id"],
                order_id=order["id"],
                amount=order["total"],
                currency="IDR",
            ),
        )
        body, signature = module.SimulatorProvider(secret).signed(event)
        return body, str(module.SIGNATURE_HEADER), signature


def payment_succeeded_event(
    bench: RequestBench, payments: Any, secret: str, order: dict[str, Any]
) -> dict[str, Any]:
    """The webhook's API Gateway event for ``order``, signed (`signed_payment_succeeded`)."""
    body, header, signature = signed_payment_succeeded(payments, secret, order)
    return bench.event("POST", "/v1/payments/webhook", raw_body=body, headers=[(header, signature)])


def payment_webhook_secret(runtime: Any, payments: Any) -> str:
    """The stage's payment webhook secret, as the payments function reads it (its
    PAYMENT_WEBHOOK_SECRET_ARN), with a client of this process: the function's own
    cache stays cold, so its first read shows in the warm-up."""
    from warung_local.emulation import aws_client

    arn = payments.environment.get("PAYMENT_WEBHOOK_SECRET_ARN")
    if not arn:
        raise RequestBenchError(f"{PAYMENTS_FUNCTION} has no PAYMENT_WEBHOOK_SECRET_ARN")
    client = aws_client("secretsmanager", runtime.endpoint_url)
    return str(client.get_secret_value(SecretId=arn)["SecretString"])


def run_request_bench(  # noqa: C901 - a script; the bench becomes a package later
    template: str | Path = ROOT / "template.yaml",
    *,
    login_requests: int = DEFAULT_LOGIN_REQUESTS,
    read_requests: int = DEFAULT_READ_REQUESTS,
    stale_requests: int = DEFAULT_STALE_REQUESTS,
    catalog_requests: int = DEFAULT_CATALOG_REQUESTS,
    catalog_merchants: int = DEFAULT_CATALOG_MERCHANTS,
    catalog_products: int = DEFAULT_CATALOG_PRODUCTS,
    order_requests: int = DEFAULT_ORDER_REQUESTS,
    warmup: int = DEFAULT_WARMUP,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Start a local runtime, measure the scenarios, stop it; the report section."""
    say = progress or (lambda _msg: None)
    if login_requests < 1 or read_requests < 1 or stale_requests < 0 or warmup < 1:
        raise ValueError("at least 1 request and 1 warm-up request per scenario")
    if catalog_requests < 0 or catalog_merchants < 0 or catalog_products < 0:
        raise ValueError("catalog requests, merchants and products cannot be negative")
    if order_requests < 0:
        raise ValueError("order requests cannot be negative")
    try:
        from warung_local.runtime import LocalRuntime
    except ImportError as exc:
        raise RequestBenchError(f"cannot import the local runtime: {exc}") from exc

    started = time.perf_counter()
    sink = _Sink()
    images = ItemImages()
    recorder = CallRecorder(images)
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
            middleware = getattr(runtime.emulation, "middleware", None)
            item_images = hasattr(middleware, "app")
            if middleware is not None and item_images:
                # Inside the emulation's lock, as the observers: the sizes of the items a
                # write is about to change (see `write_units`).
                middleware.app = BeforeImages(middleware.app, images)
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
            order_note = None
            missing = [
                f for f in (ORDERS_FUNCTION, PAYMENTS_FUNCTION) if f not in runtime.functions
            ]
            orders_measured = bool(order_requests) and not missing
            if order_requests and missing:
                order_note = f"checkout and webhook skipped: no {' nor '.join(missing)}"
            elif order_requests:
                ordering = time.perf_counter()
                scenarios += order_scenarios(bench, order_requests, warmup)
                say(
                    f"   {order_requests} checkouts and {order_requests} payment webhooks "
                    f"(+{warmup} warm-up each, carts and orders prepared untimed) in "
                    f"{time.perf_counter() - ordering:.0f} s"
                )
            swap_ms = bench.swap_overhead_ms()
            endpoint = runtime.endpoint_url
            seed_lines = list(runtime.seed_lines)
        finally:
            runtime.stop()

    return {
        "function": AUTH_FUNCTION,
        "functions": sorted(
            {AUTH_FUNCTION}
            | ({CATALOG_FUNCTION} if catalog["products"] else set())
            | ({ORDERS_FUNCTION, PAYMENTS_FUNCTION} if orders_measured else set())
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
        "write_units": (
            "computed with DynamoDB's rules (1 KB blocks; the larger of the item before and "
            "after, the item deleted or checked; 2x in a transaction) from the items' sizes "
            "as the emulation held them just before and after each write"
            if item_images
            else "computed with DynamoDB's rules from the requests alone: puts exact, "
            "updates, deletes and condition checks approximated (key plus the values "
            "sent): the emulation's item images were not reachable"
        ),
        # Two per write call (before, after), inside the measured invocations.
        "size_lookup_ms_mean": round(images.lookup_s * 1000 / images.lookups, 3)
        if images.lookups
        else None,
        "scenarios": [s.summary() for s in scenarios],
        "notes": [n for n in (stale_note, catalog_note, order_note) if n],
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


# ------------------------------------------------------------------ report


def _count(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def _units_cell(units: dict[str, Any] | None) -> str:
    """Median capacity units per request, with their range when they vary."""
    if not units or units.get("median") is None:
        return "-"
    cell = _count(units["median"])
    if units["min"] != units["max"]:
        cell += f" ({_count(units['min'])}..{_count(units['max'])})"
    return cell


def print_request_report(section: dict[str, Any], out: Any = None) -> None:  # noqa: C901 - a report layout, one branch per section
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
        f"(~{section['local_swap_overhead_ms']:.2f} ms), less the bench's item-size lookups; "
        "percentiles by nearest rank"
    )
    emit()
    rows = section["scenarios"]
    w = max(22, *(len(r["name"]) for r in rows))
    rw = max(19, *(len(r["request"]) for r in rows))
    emit(
        f"{'scenario':<{w}}  {'request':<{rw}}  {'n':>4}  {'p50 ms':>7}  {'p99 ms':>7}  "
        f"{'mean':>7}  {'min':>6}  {'max':>7}  {'DynamoDB/req':>12}  {'other AWS/req':>13}  "
        f"{'read units/req':>14}  {'write units/req':>15}"
    )
    for r in rows:
        lat = r["latency_ms"]
        ddb = r["dynamodb_calls_per_request"]
        other = r["other_aws_calls_per_request"]
        spread = "" if ddb["min"] == ddb["max"] else f" ({ddb['min']}..{ddb['max']})"
        rcu = _units_cell(r.get("dynamodb_read_units_per_request"))
        wcu = _units_cell(r.get("dynamodb_write_units_per_request"))
        emit(
            f"{r['name']:<{w}}  {r['request']:<{rw}}  {r['requests']:>4}  {lat['p50']:>7.1f}  "
            f"{lat['p99']:>7.1f}  {lat['mean']:>7.1f}  {lat['min']:>6.1f}  {lat['max']:>7.1f}  "
            f"{_count(ddb['median']) + spread:>12}  {_count(other['median']):>13}  {rcu:>14}  "
            f"{wcu:>15}"
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
        units = r.get("dynamodb_write_units_per_request") or {}
        if units.get("by_operation"):
            exact, approx = units["sizes_exact_calls"], units["sizes_from_request_calls"]
            how = (
                "sizes: the items' own, before and after each write"
                if not approx
                else f"{approx} of {exact + approx} write calls sized from the request"
            )
            emit(
                f"    write units per request: {_count(units['mean'])} = "
                + " + ".join(f"{_count(v)} {op}" for op, v in units["by_operation"].items())
                + f" ({how})"
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
            "strongly consistent, 0.5 eventually; projected reads sized from what they "
            "returned); moto's own ConsumedCapacity is a fixed placeholder"
        )
    if section.get("write_units"):
        lookup = section.get("size_lookup_ms_mean")
        emit(
            f"  write units: {section['write_units']}"
            + (
                f"; those lookups (~{lookup:.3f} ms each, two per write call) are taken "
                "out of the ms"
                if lookup is not None
                else ""
            )
        )
    for note in section.get("notes", []):
        emit(f"  note: {note}")


# ------------------------------------------------------------------ standalone


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Warm in-process latency, AWS calls and DynamoDB read and write units per "
        "request of sign-in, GET /v1/me, the catalog reads, checkout and the payment webhook "
        "on the local runtime (the requests section of `make bench`)."
    )
    p.add_argument("--template", default=str(ROOT / "template.yaml"))
    p.add_argument("--requests", type=int, default=DEFAULT_READ_REQUESTS, metavar="N")
    p.add_argument("--login-requests", type=int, default=DEFAULT_LOGIN_REQUESTS, metavar="N")
    p.add_argument("--stale-requests", type=int, default=DEFAULT_STALE_REQUESTS, metavar="N")
    p.add_argument("--catalog-requests", type=int, default=DEFAULT_CATALOG_REQUESTS, metavar="N")
    p.add_argument("--catalog-merchants", type=int, default=DEFAULT_CATALOG_MERCHANTS, metavar="N")
    p.add_argument("--catalog-products", type=int, default=DEFAULT_CATALOG_PRODUCTS, metavar="N")
    p.add_argument("--order-requests", type=int, default=DEFAULT_ORDER_REQUESTS, metavar="N")
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
            order_requests=args.order_requests,
            warmup=args.warmup,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except (RequestBenchError, ValueError) as exc:
        print(f"warung_bench.warm: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(section, indent=2))
    else:
        print_request_report(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
