"""Audit entries and outbox jobs: their stored form and what they never contain."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from warung import secrets
from warung.audit import (
    REDACTED,
    SHARDS,
    AuditEntry,
    audit_write,
    audited,
    day_key,
    diff,
    redact,
    shard_of,
)
from warung.context import RequestMeta
from warung.dynamo import from_item
from warung.outbox import OutboxJob, is_outbox_item, outbox_write

META = RequestMeta(request_id="req-9", source_ip="203.0.113.7", user_agent="ua/1")
AT = datetime(2026, 11, 26, 8, 15, tzinfo=UTC)
KEY_ARN = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:audit-ip-hash-key"


@pytest.fixture(autouse=True)
def address_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[bytes]:
    """The stage's audit address key, as the secrets reader would have cached it."""
    from warung.settings import get_settings

    monkeypatch.setenv("AUDIT_IP_HASH_SECRET_ARN", KEY_ARN)
    get_settings.cache_clear()
    secrets._cache[KEY_ARN] = (time.monotonic(), "k" * 48)
    yield b"k" * 48
    secrets._cache.pop(KEY_ARN, None)
    get_settings.cache_clear()


def test_audit_item_is_keyed_by_sharded_day_time_actor_resource_and_action(
    address_key: bytes,
) -> None:
    entry = AuditEntry("user-1", "product.updated", "product:p1", META, {"price": 1}, at=AT)
    item = entry.as_item()
    shard = f"{shard_of(entry.entry_id):02d}"
    assert item["pk"] == f"DAY#2026-11-26#{shard}"
    assert item["sk"].startswith("2026-11-26T08:15:00.000000Z#")
    assert item["actor_pk"] == "ACTOR#user-1"
    assert item["resource_pk"] == "RES#product:p1"
    assert item["action_pk"] == f"ACTION#product.updated#2026-11-26#{shard}"
    assert item["at"] == "2026-11-26T08:15:00Z"
    assert (item["request_id"], item["actor_type"]) == ("req-9", "user")
    expected = hmac.new(address_key, b"203.0.113.7", hashlib.sha256).hexdigest()
    assert item["ip_hash"] == expected


def test_audit_item_keeps_neither_the_address_nor_the_user_agent() -> None:
    item = AuditEntry("user-1", "auth.logout", "user:user-1", META).as_item()
    assert "203.0.113.7" not in str(item)
    assert "ua/1" not in str(item)
    assert "source_ip" not in item
    assert "user_agent" not in item


def test_entry_without_an_address_reads_no_key() -> None:
    secrets._cache.clear()  # a read would now need Secrets Manager
    item = AuditEntry("system", "order.expired", "order:o1", RequestMeta("job-1")).as_item()
    assert "ip_hash" not in item


def test_busy_system_actors_are_sharded_by_day_on_the_actor_index() -> None:
    entry = AuditEntry("system", "order.expired", "order:o1", META, at=AT, actor_type="system")
    item = entry.as_item()
    assert item["actor_pk"] == f"ACTOR#system#2026-11-26#{shard_of(entry.entry_id):02d}"
    assert item["actor_type"] == "system"


def test_shard_comes_from_the_id_and_spreads_over_every_one_of_128_shards() -> None:
    ids = [f"01JENTRY{n:08d}" for n in range(12800)]
    counts = [0] * 128
    for each in ids:
        counts[shard_of(each)] += 1  # an IndexError if a shard were 128 or more
    assert SHARDS == 128
    assert shard_of(ids[0]) == shard_of(ids[0])
    assert min(counts) > 50
    assert max(counts) < 150
    # shards past 99 take three digits; the first 32 are spelt as under 32 shards
    assert day_key("2026-12-05", 7) == "DAY#2026-12-05#07"
    assert day_key("2026-12-05", 127) == "DAY#2026-12-05#127"


def test_unknown_actor_type_is_refused() -> None:
    with pytest.raises(ValueError, match="actor type"):
        audited("u", "auth.logout", "user:u", META, actor_type="robot")


def test_audit_write_never_overwrites_an_entry() -> None:
    write, _ = audit_write(AuditEntry("u", "a", "r:1", META), table="audit")
    assert write["Put"]["ConditionExpression"] == "attribute_not_exists(pk)"
    assert write["Put"]["TableName"] == "audit"


def test_secrets_are_redacted_at_any_depth() -> None:
    changes = {
        "name": {"from": "a", "to": "b"},
        "password_hash": "argon2id$...",
        "profile": {"webhook_secret": "whsec", "city": "Bandung"},
        "refresh_token": "abc",
    }
    assert redact(changes) == {
        "name": {"from": "a", "to": "b"},
        "password_hash": REDACTED,
        "profile": {"webhook_secret": REDACTED, "city": "Bandung"},
        "refresh_token": REDACTED,
    }
    entry = AuditEntry("u", "a", "r:1", META, changes)
    assert "whsec" not in str(audit_write(entry)[0])


def test_diff_lists_only_changed_fields() -> None:
    assert diff({"price": 1, "name": "x"}, {"price": 2, "name": "x", "tags": ["a"]}) == {
        "price": {"from": 1, "to": 2},
        "tags": {"from": None, "to": ["a"]},
    }


def test_outbox_job_is_stored_once_with_its_correlation_id_and_a_ttl() -> None:
    job = OutboxJob("email.verification", {"user_id": "u1"}, correlation_id="req-9")
    write, _ = outbox_write(job, table="main")
    put = write["Put"]
    assert put["ConditionExpression"] == "attribute_not_exists(pk)"
    item = from_item(put["Item"])
    assert item["pk"] == f"OUTBOX#{job.job_id}"
    assert item["job_type"] == "email.verification"
    assert item["correlation_id"] == "req-9"
    assert item["expires_at_epoch"] > int(job.created_at.timestamp())
    assert is_outbox_item(put["Item"])
    assert not is_outbox_item({"pk": {"S": "USER#1"}})
