"""Queries of the embedded emulation that read one partition, not the whole table.

moto answers every Query by walking every item of the table (`Table.all_items`) and
keeping those of the asked partition. With the simulated population (hundreds of thousands
of items, most of them search items) that walk would be the whole run time. While
`partition_queries()` is active, a Query's walk is narrowed to the items that can be in its
partition: the table's own partition directly, an index's partition through a map of index
partition value -> item keys kept in this process. moto still applies every condition to
those candidates, so an answer is the one it would give anyway: a stale candidate (an item
that left the partition, or was deleted) is dropped by moto's own checks. Items enter the map
on every put and update (`Table.put_item`, `DynamoDBBackend.update_item`), which is every
way an item gets its index keys.

Only the simulation uses it (results are unchanged; nothing else in the project needs the
speed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_hint = threading.local()
_maps: dict[int, dict[str, dict[str, set[tuple[Any, Any]]]]] = {}


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


def _index_map(table: Any, index: Any) -> dict[str, set[tuple[Any, Any]]]:
    maps = _maps.setdefault(id(table), {})
    found = maps.get(index.name)
    if found is None:
        found = {}
        maps[index.name] = found
        for item in _original_all_items(table):
            _note(index, item, found)
    return found


def _note(index: Any, item: Any, into: dict[str, set[tuple[Any, Any]]]) -> None:
    hash_attr = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    value = item.attrs.get(hash_attr)
    if value is not None:
        into.setdefault(_text(value), set()).add((item.hash_key, item.range_key))


def _noted(table: Any, item: Any) -> None:
    for name, mapping in _maps.get(id(table), {}).items():
        index = next((i for i in table.all_indexes() if i.name == name), None)
        if index is not None and item is not None:
            _note(index, item, mapping)


def _candidates(table: Any, index_name: str | None, value: Any) -> list[Any]:
    if not index_name:
        found = table.items.get(value)
        if found is None:
            return []
        return list(found.values()) if table.range_key_attr else [found]
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    if index is None:
        return list(_original_all_items(table))
    out = []
    for hash_key, range_key in _index_map(table, index).get(_text(value), ()):
        stored = table.items.get(hash_key)
        if stored is None:
            continue
        item = stored.get(range_key) if table.range_key_attr else stored
        if item is not None:
            out.append(item)
    return out


_original_all_items: Any = None


@contextmanager
def partition_queries() -> Iterator[None]:
    """Narrow the emulation's Query walks to the asked partition inside the block."""
    global _original_all_items  # noqa: PLW0603 - moto's method, put back at the end
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_put = Table.put_item
    original_update = DynamoDBBackend.update_item
    _original_all_items = Table.all_items

    def all_items(self: Any) -> list[Any]:
        hint = getattr(_hint, "value", None)
        if hint is not None and hint[0] is self:
            return _candidates(self, hint[1], hint[2])
        return list(_original_all_items(self))

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # moto's backend passes the index name eighth, by position.
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        _hint.value = (self, index_name, hash_key) if hash_key is not None else None
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _hint.value = None

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = original_put(self, *args, **kwargs)
        _noted(self, item)
        return item

    def update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        item = original_update(self, table_name, *args, **kwargs)
        _noted(self.get_table(table_name), item)
        return item

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.all_items = _original_all_items  # type: ignore[method-assign]
        Table.query = original_query  # type: ignore[method-assign]
        Table.put_item = original_put  # type: ignore[method-assign]
        DynamoDBBackend.update_item = original_update  # type: ignore[method-assign]
        _maps.clear()
