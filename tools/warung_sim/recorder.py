"""The key-heat recorder: every DynamoDB request the functions make, per partition key.

A botocore event hook (``before-call`` and ``after-call`` on each client's event system).
Nothing is hooked unless a simulation calls `KeyHeatRecorder.install`, which wraps
`botocore.session.Session.create_client` so that every client created from then on (the
functions create theirs lazily, on first use) reports to the recorder; `uninstall` puts
the original back. Outside a simulation the serving code runs exactly as it does in AWS.

What one request becomes (`KeyAccess`, one per item or partition it touches):

* reads: ``GetItem`` its key; ``BatchGetItem`` and ``TransactGetItems`` each key; ``Query``
  the partition of its key condition (the table's or the index's partition key); ``Scan``
  the whole table (``*``). Read units with the rules `make bench` uses
  (`warung_bench.warm.read_units`: 4 KB blocks, strongly consistent 1, eventually 0.5,
  doubled in a transaction).
* writes: each item a ``PutItem``, ``UpdateItem``, ``DeleteItem``, ``TransactWriteItems``
  or ``BatchWriteItem`` names (`warung_bench.warm.write_targets`), with its units from
  `warung_bench.warm.write_units` and the item's sizes just before and after the call.
* index writes: each global secondary index whose keys the item carries before or after.
  DynamoDB's rules: an item that enters the index costs one write, one that leaves it one,
  one whose index key changes two (the old entry deleted, the new one put), one that stays
  with other projected attributes changed one, an unchanged projection none. Each index
  write is billed on the projected entry (the index and table keys plus the projected
  attributes, plus 100 bytes of index overhead) in 1 KB blocks, and is not doubled by a
  transaction. The index entry's partition key is the item's value of the index's
  partition-key attribute.

The items' images (before and after) come from an `ItemSource`: the simulation reads them
from the embedded emulation's backend in this process, without a request. A failed call (a
condition that did not hold, a cancelled transaction) is recorded with ``ok`` false: its
units are those of the request and no index is written.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from warung_bench.warm import (
    WRITE_OPERATIONS,
    WRITE_UNIT_BYTES,
    item_size,
    read_units,
    write_targets,
    write_units,
)

INDEX_ENTRY_OVERHEAD_BYTES = 100  # DynamoDB's per-entry overhead of an index item
OUTSIDE = "(outside a function)"  # calls made while no function's invocation is attributed
_STASH = "warung_sim.key_heat"  # the request context key the two hooks share


@dataclass(frozen=True)
class IndexSchema:
    """A global secondary index: its keys and what it projects."""

    name: str
    hash_key: str
    range_key: str | None = None
    projection: str = "ALL"  # ALL, KEYS_ONLY or INCLUDE
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    """A table's keys and its global secondary indexes, under a short label ("main")."""

    name: str
    label: str
    hash_key: str
    range_key: str | None = None
    indexes: tuple[IndexSchema, ...] = ()

    def index(self, name: str) -> IndexSchema | None:
        return next((i for i in self.indexes if i.name == name), None)


def schema_from_description(table: Mapping[str, Any], label: str) -> TableSchema:
    """A `TableSchema` from a DescribeTable answer's ``Table``."""

    def keys(schema: Sequence[Mapping[str, str]]) -> tuple[str, str | None]:
        hash_key = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
        range_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
        return hash_key, range_key

    indexes = []
    for index in table.get("GlobalSecondaryIndexes") or []:
        hash_key, range_key = keys(index["KeySchema"])
        projection = index.get("Projection") or {}
        indexes.append(
            IndexSchema(
                str(index["IndexName"]),
                hash_key,
                range_key,
                str(projection.get("ProjectionType", "ALL")),
                tuple(projection.get("NonKeyAttributes") or ()),
            )
        )
    hash_key, range_key = keys(table["KeySchema"])
    return TableSchema(str(table["TableName"]), label, hash_key, range_key, tuple(indexes))


class ItemSource(Protocol):
    """Where the recorder reads an item as the table holds it (wire form), or None."""

    def image(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class KeyAccess:
    """One item or partition one DynamoDB request touched, and the units it cost there."""

    function: str  # the function whose invocation made the request
    operation: str  # GetItem, Query, TransactWriteItems, ...
    table: str  # the table's label (main, audit, idempotency)
    index: str  # "" for the table itself
    pk: str  # the partition key value in that table or index
    sk: str  # the sort key value ("" for a Query or Scan)
    kind: str  # "read" or "write"
    units: float
    ok: bool = True  # False: the request failed (condition, cancelled transaction)
    period: str = ""  # the part of the day it belongs to (the simulation's hour)
    items: int = 0  # items a Query or Scan returned
    to_end: bool = False  # a Query that read its partition (or key range) to the end
    limit: int = 0  # the Query's Limit (0: none)
    request: int = -1  # the API request it was made for (`KeyHeatRecorder.request`), or -1
    # a Query sent through the catalog's read cache (`warung.readcache`): its cache key, so
    # the model can tell the distinct queries a container would keep; "" for other reads
    cache_key: str = ""

    @property
    def where(self) -> str:
        """``main``, ``main.gsi3``: the table or index whose partition limits apply."""
        return f"{self.table}.{self.index}" if self.index else self.table


def _value(attribute: Any) -> str:
    """A key attribute's value as text (``{"S": "PENDING"}`` -> ``PENDING``)."""
    if isinstance(attribute, dict) and attribute:
        return str(next(iter(attribute.values())))
    return ""


def _key_of(schema: TableSchema, item: Mapping[str, Any]) -> dict[str, Any]:
    names = [schema.hash_key] + ([schema.range_key] if schema.range_key else [])
    return {n: item[n] for n in names if n in item}


def _projected(schema: TableSchema, index: IndexSchema, item: Mapping[str, Any]) -> dict[str, Any]:
    """What ``index`` holds of ``item``: everything, or its keys (and included attributes)."""
    if index.projection == "ALL":
        return dict(item)
    names = {schema.hash_key, schema.range_key, index.hash_key, index.range_key}
    names |= set(index.non_key_attributes if index.projection == "INCLUDE" else ())
    return {k: v for k, v in item.items() if k in names}


def _index_key(index: IndexSchema, item: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """The item's entry key in ``index``, or None when it lacks one of the index's keys."""
    if not item or index.hash_key not in item:
        return None
    if index.range_key and index.range_key not in item:
        return None
    return _value(item[index.hash_key]), _value(item.get(index.range_key or "", {}))


def _index_entry_units(schema: TableSchema, index: IndexSchema, item: Mapping[str, Any]) -> float:
    size = item_size(_projected(schema, index, item)) + INDEX_ENTRY_OVERHEAD_BYTES
    return float(max(1, math.ceil(size / WRITE_UNIT_BYTES)))


def index_writes(
    schema: TableSchema, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[tuple[str, str, str, float]]:
    """The index writes one item write causes: (index, index pk, index sk, units) each.

    ``before`` and ``after`` are the item as the table held it around the write (None: no
    item). Entering an index, leaving it, or staying with another projection is one write;
    moving to another index key is two; an unchanged projection is none.
    """
    writes = []
    for index in schema.indexes:
        old, new = _index_key(index, before), _index_key(index, after)
        if old is None and new is None:
            continue
        if old is not None and new is not None and old == new:
            assert before is not None
            assert after is not None
            if _projected(schema, index, before) == _projected(schema, index, after):
                continue
            writes.append((index.name, *new, _index_entry_units(schema, index, after)))
            continue
        if old is not None:
            assert before is not None
            writes.append((index.name, *old, _index_entry_units(schema, index, before)))
        if new is not None:
            assert after is not None
            writes.append((index.name, *new, _index_entry_units(schema, index, after)))
    return writes


_CONDITION = re.compile(r"(#?[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(:[A-Za-z0-9_]+)")


def query_partition(request: Mapping[str, Any], hash_key: str) -> str:
    """The partition a Query reads: the value its key condition gives ``hash_key``."""
    names = request.get("ExpressionAttributeNames") or {}
    values = request.get("ExpressionAttributeValues") or {}
    condition = str(request.get("KeyConditionExpression") or "")
    for name, placeholder in _CONDITION.findall(condition):
        if names.get(name, name) == hash_key and placeholder in values:
            return _value(values[placeholder])
    legacy = (request.get("KeyConditions") or {}).get(hash_key) or {}
    listed = legacy.get("AttributeValueList") or []
    return _value(listed[0]) if listed else "?"


def _single_requests(operation: str, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One request per item a write names (`write_targets` order), to price items alone."""
    if operation == "TransactWriteItems":
        return [{"TransactItems": [step]} for step in request.get("TransactItems") or []]
    if operation == "BatchWriteItem":
        return [
            {"RequestItems": {table: [write]}}
            for table, writes in (request.get("RequestItems") or {}).items()
            for write in writes
        ]
    return [dict(request)]


@dataclass
class KeyHeatRecorder:
    """Records the DynamoDB requests (and counts every AWS call) of the clients it hooks.

    ``tables`` maps each physical table name to its schema; ``images`` gives the items
    around each write (without it, only a put's new item is known: index writes of the
    other actions are not seen). ``function`` names whose requests these are: the
    simulation sets it around each invocation (`attributed`).
    """

    tables: Mapping[str, TableSchema]
    images: ItemSource | None = None
    recording: bool = True
    function: str = OUTSIDE
    period: str = ""
    request: int = -1  # the number of the API request being served (-1: none)
    accesses: list[KeyAccess] = field(default_factory=list)
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _original: Callable[..., Any] | None = None
    _through_cache: threading.local = field(default_factory=threading.local)
    # The wall time spent waiting on the emulation, and the requests sent, by service: a
    # function's duration in Lambda has AWS's latency in their place, not the emulation's.
    waited_s: float = 0.0
    sent: Counter[str] = field(default_factory=Counter)
    _send: Callable[..., Any] | None = None

    # ------------------------------------------------------------ hooking

    def install(self) -> None:
        """Hook every botocore client created from now on (until `uninstall`)."""
        import botocore.session

        if self._original is not None:
            return
        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            recorder.hook(client)
            return client

        self._original = original
        botocore.session.Session.create_client = create_client
        self._time_sends()

    def _time_sends(self) -> None:
        from botocore.endpoint import Endpoint

        send = Endpoint._send
        recorder = self

        def timed_send(endpoint: Any, request: Any) -> Any:
            started = time.perf_counter()
            try:
                return send(endpoint, request)
            finally:
                recorder.waited_s += time.perf_counter() - started
                recorder.sent[str(endpoint._endpoint_prefix)] += 1

        self._send = send
        Endpoint._send = timed_send

    def uninstall(self) -> None:
        """Put botocore's own `create_client` and send back (hooked clients stay hooked)."""
        import botocore.session
        from botocore.endpoint import Endpoint

        if self._original is not None:
            botocore.session.Session.create_client = self._original
            self._original = None
        if self._send is not None:
            Endpoint._send = self._send
            self._send = None

    def hook(self, client: Any) -> None:
        """Report this client's calls to the recorder."""
        client.meta.events.register("before-call", self.before_call)
        client.meta.events.register("after-call", self.after_call)

    def note_cacheable(self, request: Mapping[str, Any]) -> None:
        """The read cache's observer (`warung.readcache.observer`): the Query it sends next,
        in this thread, is one a container's cache would keep."""
        from warung.readcache import query_key

        self._through_cache.key = query_key(request)

    @contextmanager
    def attributed(self, function: str) -> Iterator[None]:
        """The requests made inside the block are ``function``'s."""
        previous, self.function = self.function, function
        try:
            yield
        finally:
            self.function = previous

    # ------------------------------------------------------------ the hooks

    def before_call(self, model: Any, params: Mapping[str, Any], context: Any, **_: Any) -> None:
        """Note the request, and the items a write is about to change."""
        if not self.recording or model.service_model.service_name != "dynamodb":
            return
        try:
            request = json.loads(params.get("body") or b"{}")
        except (TypeError, ValueError):
            return
        operation = model.name
        befores = None
        if operation in WRITE_OPERATIONS and self.images is not None:
            befores = [
                self.images.image(t.table, self._key(t.table, t.attributes))
                for t in write_targets(operation, request)
            ]
        if isinstance(context, dict):
            context[_STASH] = (request, befores)

    def after_call(
        self, http_response: Any, parsed: Mapping[str, Any], model: Any, context: Any, **_: Any
    ) -> None:
        """Record what the request touched and cost."""
        if not self.recording:
            return
        service, operation = model.service_model.service_name, model.name
        ok = 200 <= int(getattr(http_response, "status_code", 200)) < 300
        with self._lock:
            self.calls[(self.function, service, operation)] += 1
        if service != "dynamodb" or not isinstance(context, dict) or _STASH not in context:
            return
        request, befores = context.pop(_STASH)
        accesses = self.accesses_of(operation, request, parsed if ok else {}, befores, ok=ok)
        cache_key = getattr(self._through_cache, "key", "")
        if cache_key and operation == "Query":
            self._through_cache.key = ""
            accesses = [replace(a, cache_key=cache_key) for a in accesses]
        with self._lock:
            self.accesses.extend(accesses)

    # ------------------------------------------------------------ one request

    def _schema(self, table: str) -> TableSchema:
        schema = self.tables.get(table)
        return schema or TableSchema(table, table, "pk", "sk")

    def _key(self, table: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
        return _key_of(self._schema(table), attributes)

    def accesses_of(
        self,
        operation: str,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
        befores: Sequence[dict[str, Any] | None] | None = None,
        *,
        ok: bool = True,
    ) -> list[KeyAccess]:
        """The `KeyAccess` records of one request (``response``: its parsed answer; for a
        write, ``befores`` are the named items as they were just before it)."""
        if operation in WRITE_OPERATIONS:
            return self._writes(operation, request, befores, ok=ok)
        return self._reads(operation, request, response, ok=ok)

    def _access(
        self,
        operation: str,
        table: str,
        index: str,
        pk: str,
        sk: str,
        kind: str,
        units: float,
        ok: bool,
    ) -> KeyAccess:
        label = self._schema(table).label
        return KeyAccess(
            self.function,
            operation,
            label,
            index,
            pk,
            sk,
            kind,
            units,
            ok,
            self.period,
            request=self.request,
        )

    def _reads(
        self, operation: str, request: Mapping[str, Any], response: Mapping[str, Any], *, ok: bool
    ) -> list[KeyAccess]:
        out = []
        if operation == "GetItem":
            schema = self._schema(str(request.get("TableName")))
            key = request.get("Key") or {}
            units = read_units(operation, dict(request), dict(response))
            out.append(self._get(operation, schema, key, units, ok))
        elif operation in {"Query", "Scan"}:
            table = str(request.get("TableName"))
            schema = self._schema(table)
            index_name = str(request.get("IndexName") or "")
            index = schema.index(index_name) if index_name else None
            hash_key = index.hash_key if index else schema.hash_key
            pk = query_partition(request, hash_key) if operation == "Query" else "*"
            units = read_units(operation, dict(request), dict(response))
            access = self._access(operation, table, index_name, pk, "", "read", units, ok)
            out.append(
                replace(
                    access,
                    items=len(response.get("Items") or []),
                    to_end=ok and "LastEvaluatedKey" not in response,
                    limit=int(request.get("Limit") or 0),
                )
            )
        elif operation == "BatchGetItem":
            found = response.get("Responses") or {}
            for table, wanted in (request.get("RequestItems") or {}).items():
                schema = self._schema(table)
                consistent = {"ConsistentRead": bool(wanted.get("ConsistentRead"))}
                items = {self._id(schema, i): i for i in found.get(table) or []}
                for key in wanted.get("Keys") or []:
                    item = items.get(self._id(schema, key))
                    units = read_units("GetItem", consistent, {"Item": item} if item else {})
                    out.append(self._get(operation, schema, key, units, ok))
        elif operation == "TransactGetItems":
            answers = response.get("Responses") or []
            for i, step in enumerate(request.get("TransactItems") or []):
                spec = step.get("Get") or {}
                schema = self._schema(str(spec.get("TableName")))
                answer = answers[i] if i < len(answers) else {}
                units = read_units(operation, {}, {"Responses": [answer]})
                out.append(self._get(operation, schema, spec.get("Key") or {}, units, ok))
        return out

    def _get(
        self, operation: str, schema: TableSchema, key: Mapping[str, Any], units: float, ok: bool
    ) -> KeyAccess:
        pk = _value(key.get(schema.hash_key))
        sk = _value(key.get(schema.range_key or "", {}))
        return self._access(operation, schema.name, "", pk, sk, "read", units, ok)

    @staticmethod
    def _id(schema: TableSchema, item: Mapping[str, Any]) -> tuple[str, str]:
        return _value(item.get(schema.hash_key)), _value(item.get(schema.range_key or "", {}))

    def _writes(
        self,
        operation: str,
        request: Mapping[str, Any],
        befores: Sequence[dict[str, Any] | None] | None,
        *,
        ok: bool,
    ) -> list[KeyAccess]:
        out = []
        targets = write_targets(operation, dict(request))
        singles = _single_requests(operation, request)
        for i, target in enumerate(targets):
            schema = self._schema(target.table)
            key = _key_of(schema, target.attributes)
            before = befores[i] if befores is not None and i < len(befores) else None
            after = None
            if ok and self.images is not None:
                after = self.images.image(target.table, key)
            elif ok and target.action == "Put":
                after = dict(target.attributes)
            known = befores is not None and self.images is not None
            old_size = (item_size(before) if before else 0) if known else None
            new_size = (item_size(after) if after else 0) if ok and known else old_size
            units, _exact = write_units(
                operation, singles[i] if i < len(singles) else {}, [old_size], [new_size]
            )
            pk, sk = _value(key.get(schema.hash_key)), _value(key.get(schema.range_key or "", {}))
            out.append(self._access(operation, target.table, "", pk, sk, "write", units, ok))
            if not ok or target.action == "ConditionCheck":
                continue
            for index, index_pk, index_sk, index_units in index_writes(schema, before, after):
                out.append(
                    self._access(
                        operation, target.table, index, index_pk, index_sk, "write", index_units, ok
                    )
                )
        return out


class EmulationImages:
    """Items as the embedded emulation holds them, read from its backend in this process
    (no request, so nothing is recorded): what `make bench` sizes writes from
    (`warung_bench.warm.ItemImages`), here as whole items."""

    def __init__(self) -> None:
        from warung_bench.warm import ItemImages

        self._sizes = ItemImages()

    def image(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The stored item at ``key`` (wire form), or None (no item, or not readable)."""
        try:
            from moto.dynamodb.models.dynamo_type import DynamoType

            found = self._sizes._table(table)  # the bench's own table lookup
            if found is None:
                return None
            range_attr = found.range_key_attr
            item = found.get_item(
                DynamoType(key[found.hash_key_attr]),
                DynamoType(key[range_attr]) if range_attr else None,
            )
            return dict(item.to_json()["Attributes"]) if item is not None else None
        except Exception:  # moto internals: an unknown item, never a failure
            return None
