"""Rules the template must keep as it grows: checked on every run, so a new function or
table cannot quietly drop them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from warung_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml", {"Stage": "prod"})
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE.document["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
TABLES = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::DynamoDB::Table"}
AUDIT_WRITES_ALLOWED = {"dynamodb:PutItem", "dynamodb:ConditionCheckItem"}


def test_functions_run_python_3_13_on_arm64_with_active_tracing() -> None:
    globals_ = TEMPLATE.document["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Tracing"] == "Active"
    assert globals_["LoggingConfig"]["LogFormat"] == "JSON"


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_every_function_logs_to_its_own_group_made_before_it(function_id: str) -> None:
    group = RESOURCES.get(f"{function_id}LogGroup")
    assert group is not None, f"{function_id}LogGroup is missing"
    # Named after the function without referring to it, and the function names the group:
    # CloudFormation creates the group first, so Lambda never makes one without retention.
    name = TEMPLATE.resolve(FUNCTIONS[function_id]["Properties"]["FunctionName"])
    assert TEMPLATE.resolve(group["Properties"]["LogGroupName"]) == f"/aws/lambda/{name}"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    logging = FUNCTIONS[function_id]["Properties"]["LoggingConfig"]
    assert logging["LogGroup"] == {"Ref": f"{function_id}LogGroup"}


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_every_function_is_built_with_precompiled_bytecode(function_id: str) -> None:
    assert FUNCTIONS[function_id].get("Metadata", {}).get("BuildMethod") == "makefile"
    makefile = ROOT / FUNCTIONS[function_id]["Properties"]["CodeUri"] / "Makefile"
    assert f"build-{function_id}:" in makefile.read_text()
    assert "compileall" in makefile.read_text()


@pytest.mark.parametrize("table_id", sorted(TABLES))
def test_tables_are_recoverable_and_encrypted(table_id: str) -> None:
    properties = TABLES[table_id]["Properties"]
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert TABLES[table_id]["DeletionPolicy"] == "Retain"
    assert TEMPLATE.resolve(properties["DeletionProtectionEnabled"]) is True  # prod


def _statements(policies: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in policies if isinstance(policies, list) else [policies]:
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def _mentions(value: Any, logical_id: str) -> bool:
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        get_att = value.get("Fn::GetAtt")
        if (
            get_att
            and (get_att[0] if isinstance(get_att, list) else str(get_att).split(".")[0])
            == logical_id
        ):
            return True
        return any(_mentions(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, logical_id) for v in value)
    if isinstance(value, str):
        return logical_id in value
    return False


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_no_function_may_change_or_delete_audit_entries(function_id: str) -> None:
    policies = FUNCTIONS[function_id]["Properties"].get("Policies", [])
    for policy in policies if isinstance(policies, list) else [policies]:
        if isinstance(policy, dict):
            # SAM policy templates that grant writes beyond PutItem.
            for template_name in ("DynamoDBCrudPolicy", "DynamoDBWritePolicy"):
                assert not _mentions(policy.get(template_name, {}), "AuditTable"), template_name
    for statement in _statements(policies):
        if statement.get("Effect") != "Allow" or not _mentions(
            statement.get("Resource"), "AuditTable"
        ):
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        writes = {
            a
            for a in actions
            if not a.startswith(("dynamodb:Get", "dynamodb:Query", "dynamodb:Describe"))
        }
        assert writes <= AUDIT_WRITES_ALLOWED, (
            f"{function_id} may {sorted(writes - AUDIT_WRITES_ALLOWED)}"
        )
