"""A per-container cache of public catalog reads: what a DynamoDB Query returned, for a
few seconds (docs/decisions/0034).

The hot catalogue partitions (a popular search prefix, a city's merchants, a geo cell) are
read by every container of the catalog function many times a second with the same query.
Each page a Query returns is kept here under the exact request that asked for it (table,
index, key condition and values, sort order, start key, limit, filters), for
``READ_CACHE_TTL_SECONDS`` (30 s unless set; 0 turns the cache off), so that a container
reads each distinct query at most once per TTL whatever the traffic, and signed-in and
anonymous callers share it. What a request does with the rows (the distance from the exact
``near=`` point, the filters, the caller's own view) is computed per request, as before.

Only public, non-personal reads go through it: the repositories choose, query by query.
Nothing here is consistent: a listing may be up to the TTL old. Prices and units are read
again, consistently, at quote and checkout.

Bounded (least recently used out first) by entries and by the items they hold, so that one
container's memory stays small. Pages are kept in DynamoDB's wire form and turned into fresh
Python values on every read: a caller that changes what it got changes nothing here.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from warung import clock

MAX_ENTRIES = 512  # pages kept per container
MAX_ITEMS = 20_000  # items over all kept pages (a search page holds up to 1,000)

Row = tuple[dict[str, Any], dict[str, Any]]  # an item and the key that resumes after it
# Called with each request the cache sends to DynamoDB (a miss); the simulation's recorder
# uses it to tell these reads from the others. None outside a simulation.
observer: Callable[[Mapping[str, Any]], None] | None = None


@dataclass(frozen=True)
class Page:
    """One Query answer as DynamoDB sent it: its items and the key to go on from, if any."""

    items: tuple[Mapping[str, Any], ...]
    last_key: Mapping[str, Any] | None


def query_key(request: Mapping[str, Any]) -> str:
    """The cache key of a Query request: the whole request, in a canonical form."""
    return json.dumps(request, sort_keys=True, separators=(",", ":"), default=repr)


class ReadCache:
    """Pages by query, each kept ``ttl`` seconds of `warung.clock` after it was read."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, max_items: int = MAX_ITEMS) -> None:
        self.max_entries = max_entries
        self.max_items = max_items
        self._pages: OrderedDict[str, tuple[float, Page]] = OrderedDict()
        self._items = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def items(self) -> int:
        """The items all kept pages hold."""
        return self._items

    def get(self, key: str) -> Page | None:
        """The page kept under ``key`` if it is younger than its TTL, else None."""
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            expires, page = found
            if clock.epoch_seconds() >= expires:
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return page

    def keep(self, key: str, page: Page, ttl: float) -> None:
        """Keep ``page`` under ``key`` for ``ttl`` seconds (not at all when ``ttl`` <= 0
        or the page alone is larger than the bound); the least recently used go first."""
        if ttl <= 0 or len(page.items) > self.max_items:
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (clock.epoch_seconds() + ttl, page)
            self._items += len(page.items)
            while len(self._pages) > self.max_entries or self._items > self.max_items:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        """Forget every page."""
        with self._lock:
            self._pages.clear()
            self._items = 0

    def _drop(self, key: str) -> None:
        _, page = self._pages.pop(key)
        self._items -= len(page.items)


_cache = ReadCache()


def clear() -> None:
    """Forget every kept page of this container (tests; a TTL change)."""
    _cache.clear()


def _ttl() -> float:
    from warung.settings import get_settings

    return float(get_settings().read_cache_ttl_seconds)


def _page(client: Any, request: dict[str, Any]) -> Page:
    key = query_key(request)
    page = _cache.get(key)
    if page is None:
        if observer is not None:
            observer(request)
        answer = client.query(**request)
        page = Page(tuple(answer.get("Items", [])), answer.get("LastEvaluatedKey"))
        _cache.keep(key, page, _ttl())
    return page


def remembered(key: str) -> dict[str, Any] | None:
    """An item this container kept under ``key`` (`remember`) within its TTL, as a fresh
    Python value; None when there is none."""
    from warung.dynamo import from_item

    page = _cache.get(f"item:{key}")
    return from_item(page.items[0]) if page is not None and page.items else None


def remember(key: str, item: Mapping[str, Any], ttl: float) -> None:
    """Keep ``item`` (a Python value, as `warung.dynamo.get_item` returns it) under ``key``
    for ``ttl`` seconds: for a definition that does not change while it is in use."""
    from warung.dynamo import to_item

    _cache.keep(f"item:{key}", Page((to_item(item),), None), ttl)


def query_items(request: dict[str, Any]) -> Iterator[Row]:
    """`warung.dynamo.query_items` through the cache: every item the Query finds, page after
    page (lazily), each with the key that resumes right after it; each page read from
    DynamoDB only when this container has not read the same page within the TTL."""
    from warung import dynamo

    client = dynamo.dynamodb_client()

    def send(page_request: dict[str, Any]) -> Mapping[str, Any]:
        page = _page(client, page_request)
        answer: dict[str, Any] = {"Items": page.items}
        if page.last_key is not None:
            answer["LastEvaluatedKey"] = page.last_key
        return answer

    return dynamo.query_items(request, send)
