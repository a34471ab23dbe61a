"""GET /v1/admin/audit on the real template: every filter and pair of filters, cursors over
a history of several days and shards, the refusals, and the read recorded in the log."""

from __future__ import annotations

import base64
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.admin_world import AdminWorld

from warung.audit import SHARDS, AuditEntry, shard_of
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.ids import new_id

JAN = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
FEB = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
MAR = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
APR = datetime(2026, 4, 6, 12, 0, tzinfo=UTC)


def window(start: datetime, days: int) -> dict[str, str]:
    end = start + timedelta(days=days)
    return {"from": f"{start:%Y-%m-%dT%H:%M:%SZ}", "to": f"{end:%Y-%m-%dT%H:%M:%SZ}"}


def walk(world: AdminWorld, token: str, query: dict[str, str]) -> list[dict[str, Any]]:
    """Every page of a listing, in order."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        status, body = world.get(query | ({"cursor": cursor} if cursor else {}), token=token)
        assert status == 200, body
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the listing did not end")


def test_every_filter_and_pair_of_filters_gives_exactly_its_entries_newest_first(
    world: AdminWorld,
) -> None:
    # given: a small log over three days: a customer, an admin and the expiry job
    admin_token = world.token_for(new_id(), admin=True)
    customer, admin, order_a, order_b = new_id(), new_id(), new_id(), new_id()
    rows = [
        (customer, "user", "order.created", f"order:{order_a}", 0),
        (customer, "user", "order.created", f"order:{order_b}", 1),
        (customer, "user", "auth.login_succeeded", f"user:{customer}", 2),
        (admin, "admin", "order.accepted", f"order:{order_a}", 26),
        (admin, "admin", "admin.user_updated", f"user:{customer}", 27),
        ("system", "system", "order.expired", f"order:{order_b}", 30),
        ("system", "system", "order.expired", f"order:{new_id()}", 50),
        (customer, "user", "order.cancelled", f"order:{order_a}", 51),
    ]
    entries = [
        world.record(actor, action, resource, JAN + timedelta(hours=hours), actor_type=kind)
        for actor, kind, action, resource, hours in rows
    ]
    values = {
        "actor_id": [customer, admin, "system"],
        "resource": [f"order:{order_a}", f"order:{order_b}", f"user:{customer}"],
        "action": ["order.created", "order.expired", "order.accepted", "auth.login_succeeded"],
    }
    combos: list[dict[str, str]] = [{}]
    for names in [*itertools.combinations(values, 1), *itertools.combinations(values, 2)]:
        for chosen in itertools.product(*(values[n] for n in names)):
            combos.append(dict(zip(names, chosen, strict=True)))

    for filters in combos:
        # when: the admin lists with those filters (pages of 2 to cross page ends)
        listed = walk(world, admin_token, filters | window(JAN, 3) | {"limit": "2"})

        # then: exactly the matching entries, newest first
        def keep(e: AuditEntry, f: dict[str, str] = filters) -> bool:
            seen = {"actor_id": e.actor_id, "resource": e.resource, "action": e.action}
            return all(seen[k] == v for k, v in f.items())

        expected = [e.entry_id for e in sorted(entries, key=lambda e: e.at, reverse=True)]
        expected = [i for i in expected if keep(next(e for e in entries if e.entry_id == i))]
        assert [item["id"] for item in listed] == expected, filters

    # and: the time range is a filter too, both ends included
    narrow = {"from": "2026-01-11T11:00:00Z", "to": "2026-01-11T15:00:00Z"}
    listed = walk(world, admin_token, narrow)
    assert [i["id"] for i in listed] == [
        entries[5].entry_id,
        entries[4].entry_id,
        entries[3].entry_id,
    ]
    # and: an item says who, what, to what, with a hashed address
    item = walk(world, admin_token, {"action": "admin.user_updated"} | window(JAN, 3))[0]
    assert item["actor"] == {"type": "admin", "id": admin}
    assert item["resource"] == {"type": "user", "id": customer}
    assert len(item["ip_hash"]) == 64
    assert "198.51.100.9" not in str(item)
    assert set(item) == {
        "id",
        "at",
        "actor",
        "action",
        "resource",
        "request_id",
        "ip_hash",
        "changes",
    }


def test_cursors_walk_a_history_of_several_days_and_shards_once(world: AdminWorld) -> None:
    # given: 250 entries over four days, in most of the 128 shards
    admin_token = world.token_for(new_id(), admin=True)
    meta = RequestMeta("req-history", source_ip="198.51.100.10")
    history = [
        AuditEntry(
            f"user-{n % 7}", "order.created", f"order:{n}", meta, at=FEB + timedelta(minutes=23 * n)
        )
        for n in range(250)
    ]
    world.store(history)
    assert len({shard_of(e.entry_id) for e in history}) > SHARDS // 2
    assert len({f"{e.at:%d}" for e in history}) == 4

    # when: the admin pages through them 17 at a time
    listed = walk(world, admin_token, window(FEB, 5) | {"limit": "17"})

    # then: every entry once, newest first, no gap
    newest_first = sorted(history, key=lambda e: e.at, reverse=True)
    assert [i["id"] for i in listed] == [e.entry_id for e in newest_first]
    # and: the same with a filter the index does not cover (one actor on the by-action index)
    mine = walk(
        world,
        admin_token,
        window(FEB, 5) | {"action": "order.created", "actor_id": "user-3", "limit": "5"},
    )
    assert [i["id"] for i in mine] == [e.entry_id for e in newest_first if e.actor_id == "user-3"]


def test_a_day_written_under_32_shards_then_128_pages_once_newest_first(
    world: AdminWorld,
) -> None:
    # given: a day whose entries were written under 32 shards and under 128, interleaved:
    # customers' orders and the expiry job's (a sharded actor)
    admin_token = world.token_for(new_id(), admin=True)
    meta = RequestMeta("req-layouts", source_ip="198.51.100.11")

    def made(n: int) -> AuditEntry:
        at = MAR + timedelta(minutes=4 * n)
        if n % 4 == 3:
            return AuditEntry("system", "order.expired", f"order:{n}", meta, at=at)
        return AuditEntry(f"user-{n % 5}", "order.created", f"order:{n}", meta, at=at)

    history = [made(n) for n in range(300)]
    old, new = history[::2], history[1::2]
    world.store_under_32_shards(old)
    world.store(new)
    # (an old entry's id gives a shard past 31 today: its key cannot come from its id)
    assert any(shard_of(e.entry_id) >= 32 for e in old)
    assert any(shard_of(e.entry_id) >= 32 for e in new)
    newest_first = sorted(history, key=lambda e: e.at, reverse=True)
    day = window(MAR, 1)

    # when: the admin pages through the day, on the table, the action and the actor index
    everything = walk(world, admin_token, day | {"limit": "17"})
    expired = walk(world, admin_token, day | {"action": "order.expired", "limit": "6"})
    system = walk(world, admin_token, day | {"actor_id": "system", "limit": "9"})
    one_user = walk(
        world, admin_token, day | {"action": "order.created", "actor_id": "user-2", "limit": "4"}
    )

    # then: every entry once, newest first, no gap
    assert [i["id"] for i in everything] == [e.entry_id for e in newest_first]
    expiries = [e.entry_id for e in newest_first if e.action == "order.expired"]
    assert [i["id"] for i in expired] == expiries
    assert [i["id"] for i in system] == expiries
    assert [i["id"] for i in one_user] == [
        e.entry_id for e in newest_first if e.actor_id == "user-2"
    ]


def test_a_day_walk_cursor_of_the_32_shard_reader_is_a_400(world: AdminWorld) -> None:
    # given: a cursor as the reader issued it under 32 shards (one sort key per shard)
    admin_id = new_id()
    admin_token = world.token_for(admin_id, admin=True)
    day = window(MAR, 1)
    status, first = world.get(day | {"limit": "1"}, token=admin_token)
    assert status == 200
    scope = list_scope("GET /v1/admin/audit", admin_id, **day)
    position = decode_cursor(first["next_cursor"], scope)
    assert position is not None
    old = encode_cursor({"w": position["w"], "d": "2026-03-03", "s": [None] * 32}, scope)
    assert old is not None

    # when: it comes back
    status, body = world.get(day | {"cursor": old}, token=admin_token)

    # then: a 400 naming the cursor, asking to start again
    assert status == 400
    assert body["errors"] == [
        {"field": "cursor", "message": "Invalid or foreign cursor; start again without it."}
    ]


def test_refusals(world: AdminWorld) -> None:
    admin_token = world.token_for(new_id(), admin=True)
    customer_token = world.token_for(new_id())
    owner_token = world.token_for(new_id(), owner_of=new_id())
    for n in range(3):
        world.record("user-x", "auth.logout", f"user:{n}", APR + timedelta(minutes=n))
    status, first = world.get(window(APR, 1) | {"limit": "1"}, token=admin_token)
    assert status == 200
    assert first["next_cursor"]

    # a changed cursor, or one of another list, is a 400
    raw = bytearray(base64.urlsafe_b64decode(first["next_cursor"] + "=="))
    raw[-1] ^= 1
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    assert world.get(window(APR, 1) | {"cursor": forged}, token=admin_token)[0] == 400
    other = window(APR, 1) | {"action": "auth.logout", "cursor": first["next_cursor"]}
    assert world.get(other, token=admin_token)[0] == 400
    # a range over 90 days, an unknown action, a bad time: 422
    status, body = world.get(window(APR, 91), token=admin_token)
    assert (status, body["errors"][0]["field"]) == (422, "from")
    assert world.get(window(APR, 90), token=admin_token)[0] == 200
    assert world.get({"action": "order.teleported"}, token=admin_token)[0] == 422
    assert world.get({"from": "yesterday"}, token=admin_token)[0] == 422
    assert world.get({"from": "2026-04-01T00:00:00"}, token=admin_token)[0] == 422  # no offset
    # a customer and a merchant owner: 403; nobody: 401
    assert world.get({}, token=customer_token)[0] == 403
    assert world.get({}, token=owner_token)[0] == 403
    assert world.get({})[0] == 401


def test_reading_the_log_is_itself_in_the_log(world: AdminWorld, clock: Any) -> None:
    clock.freeze(datetime(2026, 6, 1, 10, 0, tzinfo=UTC).timestamp())
    admin_id = new_id()
    token = world.token_for(admin_id, admin=True)

    status, _ = world.get({"action": "order.expired", "resource": "order:o-9"}, token=token)
    assert status == 200
    clock.advance(1)

    status, body = world.get({"actor_id": admin_id, "action": "admin.audit.read"}, token=token)
    assert status == 200
    [read] = body["items"]
    assert read["actor"] == {"type": "admin", "id": admin_id}
    assert read["resource"] == {"type": "audit", "id": "log"}
    assert read["changes"]["filters"]["action"] == "order.expired"
    assert read["changes"]["filters"]["resource"] == "order:o-9"
    assert read["changes"]["filters"]["from"] == "2026-05-25T10:00:00.000000Z"


@pytest.mark.parametrize("limit", ["0", "101"])
def test_limit_is_1_to_100(world: AdminWorld, limit: str) -> None:
    token = world.token_for(new_id(), admin=True)
    assert world.get({"limit": limit}, token=token)[0] == 422
