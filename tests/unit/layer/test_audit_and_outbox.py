"""Audit entries and outbox jobs: their stored form and what they never contain."""

from __future__ import annotations

from datetime import UTC, datetime

from warung.audit import REDACTED, AuditEntry, audit_write, diff, redact
from warung.context import RequestMeta
from warung.dynamo import from_item
from warung.outbox import OutboxJob, is_outbox_item, outbox_write

META = RequestMeta(request_id="req-9", source_ip="203.0.113.7", user_agent="ua/1")
AT = datetime(2026, 11, 26, 8, 15, tzinfo=UTC)


def test_audit_item_is_keyed_by_day_time_actor_and_resource() -> None:
    entry = AuditEntry("user-1", "product.updated", "product:p1", META, {"price": 1}, at=AT)
    item = entry.as_item()
    assert item["pk"] == "DAY#2026-11-26"
    assert item["sk"].startswith("2026-11-26T08:15:00.000000Z#")
    assert item["actor_pk"] == "ACTOR#user-1"
    assert item["resource_pk"] == "RES#product:p1"
    assert item["at"] == "2026-11-26T08:15:00Z"
    assert (item["request_id"], item["source_ip"], item["user_agent"]) == (
        "req-9",
        "203.0.113.7",
        "ua/1",
    )


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
