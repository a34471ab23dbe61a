"""The audit archive as the template defines it: an Object Lock bucket (COMPLIANCE for the
retention parameter on prod, GOVERNANCE for a day elsewhere), versioned, encrypted, private,
TLS-only, with deletes and retention changes denied to everyone; the audit table's stream of
new entries; and an archiver that may only put objects there. (The emulation cannot prove
immutability; AWS enforces it from these settings.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from warung_local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[3]


def _template(**overrides: str) -> Template:
    return load_template(ROOT / "template.yaml", overrides)


def _resource(template: Template, logical_id: str) -> dict[str, Any]:
    resolved: dict[str, Any] = template.resolve(template.document["Resources"][logical_id])
    return resolved


def _lock(template: Template) -> dict[str, Any]:
    bucket = _resource(template, "AuditArchiveBucket")["Properties"]
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    retention: dict[str, Any] = bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    return retention


def test_prod_keeps_entries_in_compliance_mode_for_the_retention_parameter() -> None:
    assert _lock(_template(Stage="prod")) == {"Mode": "COMPLIANCE", "Days": "365"}
    longer = _template(Stage="prod", AuditArchiveRetentionDays="2555")
    assert _lock(longer) == {"Mode": "COMPLIANCE", "Days": "2555"}


@pytest.mark.parametrize("stage", ["dev", "local"])
def test_other_stages_keep_entries_a_day_in_governance_mode(stage: str) -> None:
    assert _lock(_template(Stage=stage)) == {"Mode": "GOVERNANCE", "Days": 1}


def test_the_bucket_is_versioned_encrypted_private_and_kept() -> None:
    bucket = _resource(_template(Stage="prod"), "AuditArchiveBucket")
    properties = bucket["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    assert bucket["DeletionPolicy"] == "Retain"


def test_the_bucket_policy_denies_plain_http_and_every_delete_or_retention_change() -> None:
    template = _template(Stage="prod")
    policy = _resource(template, "AuditArchiveBucketPolicy")["Properties"]
    assert policy["Bucket"] == template.resolve({"Ref": "AuditArchiveBucket"})
    statements = policy["PolicyDocument"]["Statement"]
    denied: set[str] = set()
    for statement in statements:
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == "*"
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Condition"):
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            assert actions == ["s3:*"]
        else:
            denied |= set(actions)
    assert {
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObjectRetention",
        "s3:BypassGovernanceRetention",
        "s3:PutLifecycleConfiguration",
    } <= denied


def test_the_audit_table_streams_new_entries_to_the_archiver_only() -> None:
    template = _template(Stage="prod")
    table = _resource(template, "AuditTable")["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    archiver = template.document["Resources"]["AuditArchiveFunction"]["Properties"]
    (source,) = archiver["Events"].values()
    assert source["Type"] == "DynamoDB"
    assert source["Properties"]["Stream"] == {"Fn::GetAtt": ["AuditTable", "StreamArn"]}
    assert source["Properties"]["FilterCriteria"]["Filters"] == [
        {"Pattern": '{"eventName": ["INSERT"]}'}
    ]
    assert "OnFailure" in source["Properties"]["DestinationConfig"]


def test_the_archiver_may_only_put_objects_under_audit_in_that_bucket() -> None:
    archiver = _resource(_template(Stage="prod"), "AuditArchiveFunction")["Properties"]
    statements = [s for p in archiver["Policies"] if "Statement" in p for s in p["Statement"]]
    assert [(s["Effect"], s["Action"]) for s in statements] == [("Allow", "s3:PutObject")]
    assert statements[0]["Resource"].endswith(":::warung-prod-audit-archive-123456789012/audit/*")
    templates = [next(iter(p)) for p in archiver["Policies"] if "Statement" not in p]
    assert templates == ["SQSSendMessagePolicy"]  # its failure queue
