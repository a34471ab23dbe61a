"""The catalog's read cache (``warung.readcache``): a container reads each distinct public
Query at most once per TTL, on the serving code's clock; different queries never share an
answer; the cache stays within its bounds; and what a caller does with the rows it got
never reaches the cache."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from warung import dynamo, readcache
from warung.dynamo import partition_query, to_item
from warung.readcache import Page, ReadCache
from warung.settings import get_settings


class CountingTable:
    """Answers Query like DynamoDB for a few partitions (pages of ``Limit`` items) and
    counts the requests it was sent."""

    def __init__(self, partitions: dict[str, list[dict[str, Any]]]) -> None:
        self.partitions = partitions
        self.requests: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        partition = request["ExpressionAttributeValues"][":pk"]["S"]
        rows = self.partitions.get(partition, [])
        start = request.get("ExclusiveStartKey")
        if start is not None:
            after = start["sk"]["S"]
            rows = [r for r in rows if r["sk"] > after]
        limit = request.get("Limit") or len(rows)
        page = rows[:limit]
        answer: dict[str, Any] = {"Items": [to_item(r) for r in page]}
        if len(rows) > limit:
            answer["LastEvaluatedKey"] = to_item({"pk": partition, "sk": page[-1]["sk"]})
        return answer


def _rows(partition: str, n: int) -> list[dict[str, Any]]:
    return [
        {"pk": partition, "sk": f"{i:03d}", "name": f"Nasi {i}", "price": 1000 * i}
        for i in range(n)
    ]


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch, clock: ModuleType) -> CountingTable:
    counting = CountingTable(
        {"SEARCH#nasi": _rows("SEARCH#nasi", 5), "SEARCH#mie": _rows("SEARCH#mie", 2)}
    )
    monkeypatch.setattr(dynamo, "dynamodb_client", lambda: counting)
    monkeypatch.setenv("TABLE_NAME", "warung-test-main")
    monkeypatch.delenv("READ_CACHE_TTL_SECONDS", raising=False)
    get_settings.cache_clear()
    return counting


def _search(
    prefix: str, *, page_size: int | None = None, start: Any = None
) -> list[dict[str, Any]]:
    request = partition_query(f"SEARCH#{prefix}", page_size=page_size, start=start)
    return [item for item, _ in readcache.query_items(request)]


def test_the_same_query_twice_within_the_ttl_is_one_read_and_a_second_after_it(
    table: CountingTable, clock: ModuleType
) -> None:
    first = _search("nasi")
    clock.advance(29.9)
    again = _search("nasi")
    assert again == first
    assert [r["name"] for r in again] == [f"Nasi {i}" for i in range(5)]
    assert len(table.requests) == 1

    clock.advance(0.1)  # 30 s after the read: the default TTL is over
    _search("nasi")
    assert len(table.requests) == 2


def test_a_change_in_the_table_shows_after_the_ttl_at_the_latest(
    table: CountingTable, clock: ModuleType
) -> None:
    assert len(_search("mie")) == 2
    table.partitions["SEARCH#mie"].append({"pk": "SEARCH#mie", "sk": "009", "name": "Mie 9"})
    assert len(_search("mie")) == 2  # the container's copy, younger than the TTL
    clock.advance(get_settings().read_cache_ttl_seconds)
    assert [r["name"] for r in _search("mie")][-1] == "Mie 9"


def test_different_queries_never_share_an_answer(table: CountingTable) -> None:
    nasi, mie = _search("nasi"), _search("mie")
    first_two = _search("nasi", page_size=2)
    start = to_item({"pk": "SEARCH#nasi", "sk": "001"})
    after_one = _search("nasi", page_size=2, start=start)
    by_index = [
        item for item, _ in readcache.query_items(partition_query("SEARCH#nasi", index="gsi1"))
    ]
    assert {r["pk"] for r in nasi} == {"SEARCH#nasi"}
    assert {r["pk"] for r in mie} == {"SEARCH#mie"}
    assert [r["sk"] for r in first_two] == ["000", "001", "002", "003", "004"]  # paged on
    assert [r["sk"] for r in after_one] == ["002", "003", "004"]
    assert by_index == nasi
    # pages of 2: from the start (3 pages); after "001" the same requests as the start's
    # second and third pages: read once, shared
    asked = [
        (r["ExpressionAttributeValues"][":pk"]["S"], r.get("Limit"), r.get("IndexName"))
        for r in table.requests
    ]
    assert asked.count(("SEARCH#nasi", None, None)) == 1
    assert asked.count(("SEARCH#mie", None, None)) == 1
    assert asked.count(("SEARCH#nasi", None, "gsi1")) == 1
    assert asked.count(("SEARCH#nasi", 2, None)) == 3


def test_pages_are_read_lazily_and_each_kept_on_its_own(table: CountingTable) -> None:
    rows = readcache.query_items(partition_query("SEARCH#nasi", page_size=2))
    assert [next(rows)[0]["sk"], next(rows)[0]["sk"]] == ["000", "001"]
    assert len(table.requests) == 1  # the second page is not read until it is reached
    assert [r["sk"] for r in _search("nasi", page_size=2)] == ["000", "001", "002", "003", "004"]
    assert len(table.requests) == 3  # the first page came from the cache


def test_rows_a_caller_changes_do_not_change_what_the_next_caller_gets(
    table: CountingTable,
) -> None:
    rows = list(readcache.query_items(partition_query("SEARCH#nasi")))
    rows[0][0]["name"] = "changed"
    rows[0][0]["price"] = 1
    rows[0][1]["sk"]["S"] = "999"
    del rows[1][0]["name"]
    rows.clear()
    again = list(readcache.query_items(partition_query("SEARCH#nasi")))
    assert len(again) == 5
    assert again[0][0]["name"] == "Nasi 0"
    assert again[0][0]["price"] == 0
    assert again[0][1] == {"pk": {"S": "SEARCH#nasi"}, "sk": {"S": "000"}}
    assert again[1][0]["name"] == "Nasi 1"
    assert len(table.requests) == 1


def test_a_ttl_of_zero_turns_the_cache_off(
    table: CountingTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READ_CACHE_TTL_SECONDS", "0")
    get_settings.cache_clear()
    _search("nasi")
    _search("nasi")
    assert len(table.requests) == 2


def test_the_least_recently_used_page_goes_first_when_entries_are_bounded(
    clock: ModuleType,
) -> None:
    cache = ReadCache(max_entries=2, max_items=100)
    page = Page(({"sk": {"S": "1"}},), None)
    cache.keep("a", page, 30)
    cache.keep("b", page, 30)
    assert cache.get("a") is page  # "a" is now the most recently used
    cache.keep("c", page, 30)
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is page
    assert cache.get("c") is page


def test_the_items_kept_stay_within_their_bound(clock: ModuleType) -> None:
    cache = ReadCache(max_entries=100, max_items=5)

    def page(n: int) -> Page:
        return Page(tuple({"sk": {"S": str(i)}} for i in range(n)), None)

    cache.keep("three", page(3), 30)
    cache.keep("two", page(2), 30)
    assert cache.items == 5
    cache.keep("one", page(1), 30)  # six items: the oldest page goes
    assert cache.get("three") is None
    assert cache.items == 3
    cache.keep("too big", page(6), 30)  # larger than the whole bound: not kept at all
    assert cache.get("too big") is None
    assert cache.get("two") is not None
    assert cache.get("one") is not None


def test_an_expired_page_is_dropped_and_its_items_no_longer_count(clock: ModuleType) -> None:
    cache = ReadCache()
    cache.keep("a", Page(({"sk": {"S": "1"}},), None), 30)
    clock.advance(30)
    assert cache.get("a") is None
    assert (len(cache), cache.items) == (0, 0)
