"""Reading the audit log, without AWS: the time window, the key each set of filters is read
from, and the merge of a day's shards (newest first, none lost, none twice)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from admin.rules.audit import (
    DONE,
    ShardRead,
    Window,
    access_for,
    check_action,
    merge,
    window_of,
)
from warung.audit import action_key, actor_key, day_key
from warung.errors import ValidationFailed

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def test_the_window_defaults_to_the_last_seven_days_both_ends_included() -> None:
    window = window_of(None, None, NOW)
    assert window == Window("2026-11-28T03:00:00.000000Z", "2026-12-05T03:00:00.000000Z#~")
    assert window.days()[0] == "2026-12-05"
    assert window.days()[-1] == "2026-11-28"
    assert len(window.days()) == 8


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-01-01T00:00:00Z", "2026-04-02T00:00:00Z", "from"),  # 91 days
        ("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", "from"),  # backwards
        ("yesterday", None, "from"),
        ("2026-01-01", None, "from"),  # a date is not a time
        (None, "2026-01-01T00:00:00", "to"),  # no offset
        ("0001-01-01T00:00:00+14:00", None, "from"),  # before any entry, and out of range
        (None, "9999-12-31T23:59:59-14:00", "to"),
    ],
)
def test_a_bad_window_is_422_naming_the_field(
    start: str | None, end: str | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        window_of(start, end, NOW)
    assert refused.value.errors[0].field == field


def test_ninety_days_with_an_offset_is_accepted_in_utc() -> None:
    window = window_of("2026-01-01T07:00:00+07:00", "2026-04-01T00:00:00Z", NOW)
    assert window.low == "2026-01-01T00:00:00.000000Z"


def test_an_action_the_code_never_writes_is_422() -> None:
    check_action("order.created")
    with pytest.raises(ValidationFailed):
        check_action("order.teleported")


def test_the_most_selective_key_answers_and_the_rest_is_filtered() -> None:
    by_resource = access_for("u1", "order:o1", "order.created")
    assert (by_resource.index, by_resource.partition) == ("by_resource", "RES#order:o1")
    assert by_resource.filters == {"actor_id": "u1", "action": "order.created"}
    by_actor = access_for("u1", None, "order.created")
    assert (by_actor.index, by_actor.partition) == ("by_actor", "ACTOR#u1")
    assert by_actor.filters == {"action": "order.created"}
    # a busy system actor is sharded: its action's index is as good, and is preferred
    by_action = access_for("system", None, "order.expired")
    assert by_action.index == "by_action"
    assert by_action.shard_partition("2026-12-05", 7) == action_key(
        "order.expired", "2026-12-05", 7
    )
    assert by_action.filters == {"actor_id": "system"}
    system = access_for("system", None, None)
    assert system.shard_partition("2026-12-05", 31) == actor_key("system", "2026-12-05", 31)
    everything = access_for(None, None, None)
    assert everything.index is None
    assert everything.shard_partition("2026-12-05", 0) == day_key("2026-12-05", 0)


# ---------------------------------------------------------------- the merge


def entry(minute: int, shard: int) -> dict[str, Any]:
    at = datetime(2026, 12, 5, tzinfo=UTC) + timedelta(minutes=minute)
    return {"sk": f"{at:%Y-%m-%dT%H:%M:%S.%fZ}#{shard:02d}{minute:06d}", "shard": shard}


def test_merge_shows_only_what_no_shard_can_still_beat() -> None:
    # shard 0 stopped at minute 50 with more to read; shard 1 is read to its end
    shard0 = ShardRead(None, [entry(90, 0), entry(50, 0)], stopped_at=entry(50, 0)["sk"])
    shard1 = ShardRead(None, [entry(80, 1), entry(60, 1), entry(10, 1)], stopped_at=None)

    shown, positions = merge([shard0, shard1], need=10)

    # minute 10 of shard 1 waits: shard 0 may still hold minutes 11..49
    assert shown == [entry(90, 0), entry(80, 1), entry(60, 1), entry(50, 0)]
    assert positions == [entry(50, 0)["sk"], entry(60, 1)["sk"]]


def test_merge_stops_at_the_page_and_each_shard_resumes_after_its_last_shown() -> None:
    shard0 = ShardRead(None, [entry(90, 0), entry(70, 0)], stopped_at=None)
    shard1 = ShardRead("x", [entry(80, 1), entry(60, 1)], stopped_at=None)
    shard2 = ShardRead("y", [], stopped_at=None)

    shown, positions = merge([shard0, shard1, shard2], need=2)

    assert shown == [entry(90, 0), entry(80, 1)]
    assert positions == [entry(90, 0)["sk"], entry(80, 1)["sk"], DONE]


def test_repeated_merges_give_every_entry_once_newest_first() -> None:
    # given: 32 shards with random entries; each read returns at most `need` items
    rng = random.Random(7)
    shards = [
        sorted(
            (entry(rng.randrange(1440), s) for _ in range(rng.randrange(12))),
            key=lambda e: e["sk"],
            reverse=True,
        )
        for s in range(32)
    ]
    positions: list[Any] = [None] * 32
    seen: list[dict[str, Any]] = []
    for _ in range(500):
        if all(p == DONE for p in positions):
            break
        need = 5
        reads, open_shards = [], [n for n, p in enumerate(positions) if p != DONE]
        for n in open_shards:
            rest = [e for e in shards[n] if positions[n] is None or e["sk"] < positions[n]]
            taken = rest[:need]
            more = len(rest) > need
            reads.append(ShardRead(positions[n], taken, taken[-1]["sk"] if more else None))
        shown, moved = merge(reads, need)
        seen += shown
        for n, p in zip(open_shards, moved, strict=True):
            positions[n] = p
    everything = sorted((e for s in shards for e in s), key=lambda e: e["sk"], reverse=True)
    assert seen == everything
