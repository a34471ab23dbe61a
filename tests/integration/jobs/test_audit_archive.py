"""The audit archive on the real template, run by the local runtime as AWS would run it: new
audit entries, from the audit table's stream, become objects in the archive bucket (the
emulation cannot hold them immutable; tests/unit/ops/test_audit_archive_template.py checks
the Object Lock settings AWS enforces)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from support.pipeline import Pipeline

from warung.audit import AuditEntry, audit_write
from warung.context import RequestMeta
from warung.dynamo import Transaction, to_item
from warung_local.emulation import aws_client
from warung_local.sources import StreamPoller

ROOT = Path(__file__).resolve().parents[3]


def _archive(pipeline: Pipeline) -> None:
    """Let the archiver read the audit stream until it has nothing new."""
    archiver = pipeline.runtime.driver("AuditArchiveFunction", StreamPoller)
    assert isinstance(archiver, StreamPoller)
    for _ in range(20):
        if archiver.poll_once() == 0:
            return


def _objects(pipeline: Pipeline, entry_id: str) -> list[dict[str, Any]]:
    """Every archived object (each version) whose key names ``entry_id``."""
    s3 = aws_client("s3", pipeline.runtime.endpoint_url)
    bucket = pipeline.runtime.template.buckets["AuditArchiveBucket"].name
    found = []
    for version in s3.list_object_versions(Bucket=bucket, Prefix="audit/").get("Versions", []):
        if version["Key"].endswith(f"_{entry_id}.jsonl"):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
            found.append({"key": version["Key"], "body": body["Body"].read().decode()})
    return found


def _write_entry(action: str) -> AuditEntry:
    meta = RequestMeta(uuid.uuid4().hex, source_ip="203.0.113.9", user_agent="curl/8.5")
    entry = AuditEntry("user-1", action, "order:o-1", meta, {"status": "paid"})
    Transaction().extend([audit_write(entry)]).commit()
    return entry


def test_each_new_audit_entry_is_archived_as_one_json_line_without_the_raw_address(
    pipeline: Pipeline,
) -> None:
    entry = _write_entry("order.paid")

    _archive(pipeline)

    (archived,) = _objects(pipeline, entry.entry_id)
    day = f"{entry.at:%Y/%m/%d}"
    assert archived["key"].startswith(f"audit/{day}/")
    lines = archived["body"].splitlines()
    assert len(lines) == 1
    stored = json.loads(lines[0])
    assert stored["id"] == entry.entry_id
    assert (stored["actor_id"], stored["action"], stored["resource"]) == (
        "user-1",
        "order.paid",
        "order:o-1",
    )
    assert stored["changes"] == {"status": "paid"}
    assert "source_ip" not in stored
    assert "user_agent" not in stored
    assert "203.0.113.9" not in archived["body"]


def test_a_retried_record_is_written_to_the_same_key(pipeline: Pipeline) -> None:
    entry = _write_entry("order.cancelled")
    _archive(pipeline)
    (first,) = _objects(pipeline, entry.entry_id)

    # the same stream record delivered again, as Lambda does after a failed batch
    archiver = pipeline.runtime.driver("AuditArchiveFunction", StreamPoller)
    assert isinstance(archiver, StreamPoller)
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"NewImage": to_item(entry.as_item()), "SequenceNumber": "1"},
    }
    result = archiver.function.invoke({"Records": [record]})
    assert result.ok, result.error

    versions = _objects(pipeline, entry.entry_id)
    assert {v["key"] for v in versions} == {first["key"]}
    assert len(versions) == 2  # the same content, once more, under the same key
    assert versions[0]["body"] == versions[1]["body"]


def test_the_sample_event_is_archived_with_its_ip_hash(pipeline: Pipeline) -> None:
    """``make invoke FUNCTION=AuditArchiveFunction EVENT=events/audit_archive/...`` works."""
    sample = ROOT / "events" / "audit_archive" / "audit-insert.json"
    archiver = pipeline.runtime.driver("AuditArchiveFunction", StreamPoller)
    assert isinstance(archiver, StreamPoller)

    result = archiver.function.invoke(json.loads(sample.read_text(encoding="utf-8")))

    assert result.ok, result.error
    (archived,) = _objects(pipeline, "01JEXAMPLEAUDIT000000000001")[-1:]
    stored = json.loads(archived["body"])
    assert stored["ip_hash"] == "3f1c9a0d5b7e2a4c6e8f0a1b3c5d7e9f"
    assert archived["key"] == (
        "audit/2026/12/05/2026-12-05T03:00:00.123456Z_01JEXAMPLEAUDIT000000000001.jsonl"
    )
