"""The audit day walk under 128 shards: a cursor is one sort key per day whatever the shard
count, and it resumes entries written under 32 shards and under 128 at their own keys."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from admin.repository import audit as repository
from admin.repository.audit import resume_key
from admin.rules.audit import (
    DONE,
    ShardRead,
    Window,
    access_for,
    day_positions,
    merge,
    resume_point,
)
from warung.audit import SHARDS, AuditEntry, action_key, day_key, shard_of
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor, list_scope

SECRET = b"s" * 48
SCOPE = list_scope("GET /v1/admin/audit", "admin-1", **{"from": "", "to": ""})
AT = datetime(2026, 12, 5, 8, 30, tzinfo=UTC)
META = RequestMeta("req-1")


def shard_under_32(entry_id: str) -> int:
    """The shard an entry got when the log had 32 shards: the same hash, modulo 32."""
    return int.from_bytes(hashlib.sha256(entry_id.encode()).digest()[:4], "big") % 32


def entry_moved_by_the_new_count() -> AuditEntry:
    """An entry whose shard under 128 is not its shard under 32."""
    for n in range(1000):
        entry = AuditEntry("u1", "order.created", f"order:{n}", META, at=AT)
        if shard_of(entry.entry_id) >= 32:
            return entry
    raise AssertionError("no id hashed past shard 31")


def test_a_cursor_resumes_an_entry_written_under_32_shards_and_one_under_128() -> None:
    # given: an entry written when the log had 32 shards (its keys as stored then) ...
    old = entry_moved_by_the_new_count()
    old_shard = shard_under_32(old.entry_id)
    old_item = old.as_item() | {
        "pk": day_key("2026-12-05", old_shard),
        "action_pk": action_key("order.created", "2026-12-05", old_shard),
    }
    # ... and one written now
    new = AuditEntry("u1", "order.created", "order:new", META, at=AT + timedelta(seconds=1))
    new_item = new.as_item()
    for item, shard in ((old_item, old_shard), (new_item, shard_of(new.entry_id))):
        # when: a page ends at the entry and its cursor comes back
        position = {"w": ["2026-12-05T00:00:00.000000Z", "2026-12-06"], "d": "2026-12-05"}
        cursor = encode_cursor(position | {"b": item["sk"]}, SCOPE, key=SECRET)
        back = decode_cursor(cursor, SCOPE, key=SECRET)
        assert back is not None
        # then: the shard it lives in resumes at exactly its keys, on the table and the index
        everything, by_action = (
            access_for(None, None, None),
            access_for(None, None, "order.created"),
        )
        assert resume_key(everything, back["d"], shard, back["b"]) == {
            "pk": item["pk"],
            "sk": item["sk"],
        }
        assert resume_key(by_action, back["d"], shard, back["b"]) == {
            "pk": item["pk"],
            "sk": item["sk"],
            "action_pk": item["action_pk"],
        }


def test_a_day_walk_cursor_stays_short_with_128_shards() -> None:
    position = {
        "w": ["2026-11-28T08:30:00.000000Z", "2026-12-05T08:30:00.000000Z#~"],
        "d": "2026-12-05",
        "b": f"2026-12-05T08:29:59.123456Z#{AuditEntry('u', 'a', 'r:1', META).entry_id}",
    }
    cursor = encode_cursor(position, SCOPE, key=SECRET)
    assert cursor is not None
    assert len(cursor) < 200  # one position for the day, not one per shard (2,048 at most)


def entry(minute: int, shard: int, kept: bool = True) -> dict[str, Any]:
    at = datetime(2026, 12, 5, tzinfo=UTC) + timedelta(minutes=minute)
    return {"sk": f"{at:%Y-%m-%dT%H:%M:%S.%fZ}#{shard:03d}{minute:06d}", "kept": kept}


def test_resume_point_after_a_full_page_is_its_last_entry_else_the_frontier() -> None:
    stopped = ShardRead(None, [entry(90, 0), entry(50, 0)], stopped_at=entry(50, 0)["sk"])
    ended = ShardRead(None, [entry(80, 1), entry(10, 1)], stopped_at=None)
    shown, _ = merge([stopped, ended], need=2)
    assert resume_point([stopped, ended], shown, need=2) == entry(80, 1)["sk"]
    shown, _ = merge([stopped, ended], need=10)
    assert resume_point([stopped, ended], shown, need=10) == entry(50, 0)["sk"]
    shown, _ = merge([ended], need=10)
    assert resume_point([ended], shown, need=10) == DONE


def test_pages_of_a_128_shard_day_with_a_filter_give_every_entry_once_newest_first() -> None:
    # given: a day of 128 shards, some entries filtered out (a read counts them, returns
    # none of them: a shard can stop early having returned nothing)
    rng = random.Random(18)
    shards = [
        sorted(
            (entry(rng.randrange(1440), s, rng.random() < 0.6) for _ in range(rng.randrange(9))),
            key=lambda e: e["sk"],
            reverse=True,
        )
        for s in range(SHARDS)
    ]

    def read(n: int, start: Any, need: int) -> ShardRead:
        rest = [e for e in shards[n] if start is None or e["sk"] < start]
        evaluated = rest[:need]
        more = len(rest) > need
        return ShardRead(
            start, [e for e in evaluated if e["kept"]], evaluated[-1]["sk"] if more else None
        )

    # when: pages of 7 are read, two rounds a page, each page starting from the cursor's one
    # sort key
    seen: list[dict[str, Any]] = []
    resume: Any = None
    for _ in range(1000):
        positions = day_positions(resume)
        page: list[dict[str, Any]] = []
        for _ in range(2):
            open_shards = [n for n, p in enumerate(positions) if p != DONE]
            need = 7 - len(page)
            reads = [read(n, positions[n], need) for n in open_shards]
            shown, moved = merge(reads, need)
            page += shown
            resume = resume_point(reads, shown, need)
            for n, p in zip(open_shards, moved, strict=True):
                positions[n] = p
            if len(page) >= 7 or all(p == DONE for p in positions):
                break
        seen += page
        if all(p == DONE for p in positions):
            break

    # then: every kept entry once, newest first
    kept = sorted((e for s in shards for e in s if e["kept"]), key=lambda e: e["sk"], reverse=True)
    assert seen == kept


def test_a_quiet_day_page_reads_each_of_128_shards_once_at_most_10_at_a_time(
    monkeypatch: Any,
) -> None:
    # given: an empty log, and a client that notes each Query and how many run at once
    lock, running, most, partitions = threading.Lock(), [0], [0], []

    class Client:
        def query(self, **request: Any) -> dict[str, Any]:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
                partitions.append(request["ExpressionAttributeValues"][":pk"]["S"])
            time.sleep(0.002)
            with lock:
                running[0] -= 1
            return {"Items": []}

    monkeypatch.setattr(repository, "dynamodb_client", Client)
    window = Window("2026-12-05T00:00:00.000000Z", "2026-12-05T23:00:00.000000Z#~")

    # when: the whole log of the day is read
    page, after = repository.read_page(access_for(None, None, None), window, 20, None)

    # then: one round of 128 Queries, one per shard, never more than 10 in flight
    assert (page, after) == ([], None)
    assert sorted(partitions) == sorted(day_key("2026-12-05", n) for n in range(128))
    assert 2 <= most[0] <= 10
