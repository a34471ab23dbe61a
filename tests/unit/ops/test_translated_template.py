"""The template as CloudFormation deploys it (the SAM transform's output, offline): every API
route and every event source reaches a function's `live` alias, and prod releases each
function through a canary that its alarms and the pre-traffic hook can stop."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROD = {"Stage": "prod", "DeploymentType": "Canary10Percent5Minutes", "EnableWaf": "true"}


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """prod's template as the transform makes it (the translator lives in the policy venv,
    which `make setup` creates; the make target is a no-op once it exists)."""
    subprocess.run(
        ["make", "--no-print-directory", "-s", ".venv-policy/.installed"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    output = tmp_path_factory.mktemp("translated") / "prod.json"
    parameters = [arg for name, value in PROD.items() for arg in ("--parameter", f"{name}={value}")]
    subprocess.run(
        [
            str(ROOT / ".venv-policy" / "bin" / "python"),
            str(ROOT / "tools" / "translate_template.py"),
            str(ROOT / "template.yaml"),
            str(output),
            *parameters,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    document: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return document


def of_type(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in document["Resources"].items() if v["Type"] == kind}


def released(document: dict[str, Any]) -> set[str]:
    """The functions published behind an alias."""
    return {
        alias["Properties"]["FunctionName"]["Ref"]
        for alias in of_type(document, "AWS::Lambda::Alias").values()
    }


def test_every_api_route_calls_a_live_alias(translated: dict[str, Any]) -> None:
    (api,) = of_type(translated, "AWS::ApiGateway::RestApi").values()
    targets = []
    for path, operations in api["Properties"]["Body"]["paths"].items():
        for method, operation in operations.items():
            integration = operation.get("x-amazon-apigateway-integration") or {}
            if integration.get("type") == "aws_proxy":
                uri = integration["uri"]["Fn::Sub"]
                (target,) = re.findall(r"/functions/\$\{([^}]+)\}/invocations", uri)
                targets.append((path, method, target))
    assert len(targets) > 40
    assert all(target.endswith("Aliaslive") for _, _, target in targets), targets
    permissions = of_type(translated, "AWS::Lambda::Permission").values()
    assert all(p["Properties"]["FunctionName"]["Ref"].endswith("Aliaslive") for p in permissions)


def test_every_event_source_calls_a_live_alias(translated: dict[str, Any]) -> None:
    mappings = of_type(translated, "AWS::Lambda::EventSourceMapping").values()
    assert {m["Properties"]["FunctionName"]["Ref"] for m in mappings} == {
        "WorkerFunctionAliaslive",
        "PaymentRefundsFunctionAliaslive",
        "OutboxRelayFunctionAliaslive",
        "AuditArchiveFunctionAliaslive",
    }
    targets = [
        t["Arn"]
        for schedule in of_type(translated, "AWS::Events::Rule").values()
        for t in schedule["Properties"]["Targets"]
    ]
    assert sorted(targets, key=str) == [
        {"Ref": "OrderExpiryFunctionAliaslive"},
        {"Ref": "PaymentReconciliationFunctionAliaslive"},
    ]


def test_prod_releases_every_function_by_a_canary_its_alarms_can_stop(
    translated: dict[str, Any],
) -> None:
    functions = set(of_type(translated, "AWS::Lambda::Function")) - {"PreTrafficHookFunction"}
    assert released(translated) == functions
    groups = of_type(translated, "AWS::CodeDeploy::DeploymentGroup")
    assert len(groups) == len(functions)
    for name, group in groups.items():
        properties = group["Properties"]
        assert properties["DeploymentConfigName"]["Fn::Sub"][1] == {
            "ConfigName": "Canary10Percent5Minutes"
        }
        alarms = [a["Name"]["Ref"] for a in properties["AlarmConfiguration"]["Alarms"]]
        assert properties["AlarmConfiguration"]["Enabled"] is True
        assert f"{name.removesuffix('FunctionDeploymentGroup')}ErrorsAlarm" in alarms
        assert "DEPLOYMENT_STOP_ON_ALARM" in properties["AutoRollbackConfiguration"]["Events"]


def test_every_alias_waits_for_the_pre_traffic_hook(translated: dict[str, Any]) -> None:
    for alias in of_type(translated, "AWS::Lambda::Alias").values():
        update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert update["BeforeAllowTrafficHook"] == {"Ref": "PreTrafficHookFunction"}


def test_the_waf_guards_the_stage_on_prod(translated: dict[str, Any]) -> None:
    # Without CloudFront in front (with it, WAF is at the edge: test_cdn_template.py).
    association = of_type(translated, "AWS::WAFv2::WebACLAssociation")["WebAclAssociation"]
    assert association["Condition"] == "UseWaf"
    assert "/stages/" in association["Properties"]["ResourceArn"]["Fn::Sub"]
    acl = of_type(translated, "AWS::WAFv2::WebACL")["WebAcl"]
    rules = {rule["Name"] for rule in acl["Properties"]["Rules"]}
    assert rules == {"aws-common", "aws-known-bad-inputs", "auth-rate"}


def test_the_waf_counts_credential_routes_per_address_not_token_refreshes(
    translated: dict[str, Any],
) -> None:
    # behind carrier-grade NAT every signed-in user of an address refreshes every 15 minutes:
    # counting those would block the whole address (docs/decisions/0028)
    acl = of_type(translated, "AWS::WAFv2::WebACL")["WebAcl"]
    (rule,) = [r for r in acl["Properties"]["Rules"] if r["Name"] == "auth-rate"]
    scope = rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    counted = re.compile(scope["RegexMatchStatement"]["RegexString"])
    for path in ("/prod/v1/auth/login", "/v1/auth/register", "/v1/auth/password/forgot"):
        assert counted.search(path), path
    for path in ("/prod/v1/auth/refresh", "/v1/auth/logout", "/v1/auth/password/change"):
        assert not counted.search(path), path


def test_the_edge_web_acl_counts_the_same_routes_as_the_regional_one(
    translated: dict[str, Any],
) -> None:
    # behind CloudFront the edge web ACL (bootstrap/edge-waf.yaml) replaces the regional one:
    # the same ceiling for shared addresses, on the same credential routes
    from warung_local.template import parse_template_text

    edge = parse_template_text((ROOT / "bootstrap" / "edge-waf.yaml").read_text())
    (edge_acl,) = [r for r in edge["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"]
    (edge_rule,) = [r for r in edge_acl["Properties"]["Rules"] if r["Name"] == "auth-rate"]
    acl = of_type(translated, "AWS::WAFv2::WebACL")["WebAcl"]
    (rule,) = [r for r in acl["Properties"]["Rules"] if r["Name"] == "auth-rate"]

    def scope(r: dict[str, Any]) -> Any:
        return r["Statement"]["RateBasedStatement"]["ScopeDownStatement"]

    assert scope(edge_rule) == scope(rule)
    template = parse_template_text((ROOT / "template.yaml").read_text())
    assert (
        edge["Parameters"]["AuthRequestsPer5Minutes"]["Default"]
        == template["Parameters"]["WafAuthRequestsPer5Minutes"]["Default"]
    )
