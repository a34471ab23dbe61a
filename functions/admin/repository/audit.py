"""The audit log's queries: every read is a Query with the time window in its key condition
(never a Scan), bounded per page (admin.rules.audit.MAX_ROUNDS), newest first."""

from __future__ import annotations

from typing import Any

from admin.rules.audit import (
    DONE,
    MAX_ROUNDS,
    READERS,
    Access,
    Position,
    ShardRead,
    Window,
    day_positions,
    fresh_day,
    merge,
    resume_point,
)
from warung.audit import day_key
from warung.dynamo import Transaction, dynamodb_client, from_item, to_item
from warung.settings import get_settings


def append(write: tuple[dict[str, Any], None]) -> None:
    """Store one audit entry (the reader's own: a conditional put, nothing else)."""
    Transaction().extend([write]).commit()


def read_page(
    access: Access, window: Window, limit: int, position: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to ``limit`` entries, newest first, from ``position`` (``None``: the start), and
    the position after them (``None`` when the window is read to its end)."""
    if access.sharded:
        return _sharded_page(access, window, limit, position)
    return _partition_page(access, window, limit, position)


def _partition_page(
    access: Access, window: Window, limit: int, position: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    start = (position or {}).get("k")
    page: list[dict[str, Any]] = []
    for _ in range(MAX_ROUNDS):
        request = _request(access, str(access.partition), window, limit - len(page))
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        response = dynamodb_client().query(**request)
        page += [from_item(raw) for raw in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        if not last:
            return page, None
        start = from_item(last)
        if len(page) >= limit:
            break
    return page, {"k": start}


def _sharded_page(
    access: Access, window: Window, limit: int, position: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The day walk. Inside a page each shard keeps its own position; between pages one
    sort key (``"b"``, ``None``: the day from its newest) says where every shard of the day
    ``"d"`` resumes (admin.rules.audit.resume_point). A position of the former layout (one
    sort key per shard of 32, ``"s"``) is refused: a 400 asking to start again."""
    days = window.days()
    day = str(position["d"]) if position else days[0]
    resume = position["b"] if position else None
    if day not in days or not (resume is None or (isinstance(resume, str) and resume)):
        raise ValueError("a position outside the window")
    shards = day_positions(resume)
    # Imported here: the day walk's threads are this route's alone, not the dead letters'.
    from concurrent.futures import ThreadPoolExecutor

    page: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        for _ in range(MAX_ROUNDS):
            open_shards = [n for n, at in enumerate(shards) if at != DONE]
            need = limit - len(page)
            jobs = [(access, window, day, n, shards[n], need) for n in open_shards]
            reads = list(pool.map(lambda job: _read_shard(*job), jobs))
            shown, moved = merge(reads, need)
            page += shown
            resume = resume_point(reads, shown, need)
            for n, at in zip(open_shards, moved, strict=True):
                shards[n] = at
            if all(at == DONE for at in shards):
                older = days.index(day) + 1
                if older == len(days):
                    return page, None
                day, shards, resume = days[older], fresh_day(), None
            if len(page) >= limit:
                break
    return page, {"d": day, "b": resume}


def _read_shard(
    access: Access, window: Window, day: str, shard: int, start: Position, need: int
) -> ShardRead:
    partition = access.shard_partition(day, shard)
    request = _request(access, partition, window, need)
    if start:
        request["ExclusiveStartKey"] = to_item(resume_key(access, day, shard, start))
    response = dynamodb_client().query(**request)
    items = [from_item(raw) for raw in response.get("Items", [])]
    last = response.get("LastEvaluatedKey")
    return ShardRead(start, items, str(from_item(last)["sk"]) if last else None)


def resume_key(access: Access, day: str, shard: int, sort_key: str) -> dict[str, str]:
    """The key to resume shard ``shard`` of ``day`` after ``sort_key``. Every key of an entry
    carries the same shard, so its table key is that shard's ``DAY#<date>#<shard>``: this
    holds for entries written under 32 shards and under 128 alike (an entry's id says its
    shard only under the count it was written with). The key need not be an entry's."""
    table_key = {"pk": day_key(day, shard), "sk": sort_key}
    if access.index is None:
        return table_key
    return table_key | {access.key_attribute: access.shard_partition(day, shard)}


def _request(access: Access, partition: str, window: Window, limit: int) -> dict[str, Any]:
    names = {"#pk": access.key_attribute, "#sk": "sk"}
    values: dict[str, Any] = {":pk": partition, ":lo": window.low, ":hi": window.high}
    request: dict[str, Any] = {
        "TableName": get_settings().audit_table_name,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :lo AND :hi",
        "ScanIndexForward": False,
        "Limit": max(limit, 1),
    }
    if access.index:
        request["IndexName"] = access.index
    if access.filters:
        clauses = []
        for n, (name, value) in enumerate(sorted(access.filters.items())):
            names[f"#f{n}"] = name
            values[f":f{n}"] = value
            clauses.append(f"#f{n} = :f{n}")
        request["FilterExpression"] = " AND ".join(clauses)
    request["ExpressionAttributeNames"] = names
    request["ExpressionAttributeValues"] = to_item(values)
    return request
