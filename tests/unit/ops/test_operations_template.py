"""What on-call depends on, held on the template itself: every alarm reaches a person, every
function, table and queue has its alarms, releases go through an alias with a checked canary,
prod cannot be deployed half set, and the dashboard shows only metrics that exist."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from deploy_config import overrides_of

from warung_local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[3]
PROD_OVERRIDES = {
    **overrides_of(
        {"prod": {"deploy": {"parameters": {"parameter_overrides": "Stage=prod"}}}}, "prod"
    ),
    "DeploymentType": "Canary10Percent5Minutes",
    "AlarmEmail": "oncall@warung.id",
}
TEMPLATE = load_template(ROOT / "template.yaml", PROD_OVERRIDES)
DOCUMENT: dict[str, Any] = TEMPLATE.document
RESOURCES: dict[str, dict[str, Any]] = DOCUMENT["Resources"]
ALARMS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
RELEASED = {k: v for k, v in FUNCTIONS.items() if k != "PreTrafficHookFunction"}
API_FUNCTIONS = {
    k
    for k, v in FUNCTIONS.items()
    if any(e.get("Type") == "Api" for e in (v["Properties"].get("Events") or {}).values())
}
TABLES = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::DynamoDB::Table"}
ALARM_TARGET = [{"Fn::If": ["HasAlarmTopic", {"Ref": "AlarmTopicArn"}, {"Ref": "AlarmTopic"}]}]


def function_name(function_id: str) -> str:
    return str(TEMPLATE.resolve(FUNCTIONS[function_id]["Properties"]["FunctionName"]))


def watched(alarm: Mapping[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every metric an alarm reads."""
    properties = TEMPLATE.resolve(alarm["Properties"])
    if "MetricName" in properties:
        dims = {d["Name"]: d["Value"] for d in properties.get("Dimensions", [])}
        return [(properties["Namespace"], properties["MetricName"], dims)]
    found = []
    for query in properties["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            found.append((metric["Namespace"], metric["MetricName"], dims))
    return found


# ---------------------------------------------------------------- alarms reach a person


RUNBOOK_SECTIONS = {
    line.lstrip("#").strip()
    for line in (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8").splitlines()
    if line.startswith("## ")
}


@pytest.mark.parametrize("alarm_id", sorted(ALARMS))
def test_every_alarm_notifies_when_it_fires_and_when_it_clears(alarm_id: str) -> None:
    properties = ALARMS[alarm_id]["Properties"]
    assert properties["AlarmActions"] == ALARM_TARGET
    assert properties["OKActions"] == ALARM_TARGET


@pytest.mark.parametrize("alarm_id", sorted(ALARMS))
def test_every_alarm_names_the_runbook_section_that_says_what_to_do(alarm_id: str) -> None:
    description = ALARMS[alarm_id]["Properties"]["AlarmDescription"]
    (section,) = re.findall(r'See docs/runbook\.md, "([^"]+)"\.', description)
    assert section in RUNBOOK_SECTIONS
    alarm_name = str(TEMPLATE.resolve(ALARMS[alarm_id]["Properties"]["AlarmName"]))
    runbook = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    # Written out in full, or with <function> / <table> for the alarms every one of them has.
    generic = alarm_name.replace("warung-prod-", "warung-<stage>-")
    generic = re.sub(
        r"<stage>-[a-z-]+-(errors|throttles|latency-p99)$", r"<stage>-<function>-\1", generic
    )
    generic = re.sub(r"<stage>-[a-z]+-table-", "<stage>-<table>-table-", generic)
    assert f"`{generic}`" in runbook


def test_the_stack_makes_its_topic_and_subscribes_the_address_unless_given_a_topic() -> None:
    assert RESOURCES["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert TEMPLATE.condition("CreateAlarmTopic") is True
    assert TEMPLATE.condition("SubscribeAlarmEmail") is True
    given = load_template(
        ROOT / "template.yaml", {**PROD_OVERRIDES, "AlarmTopicArn": "arn:aws:sns:x:1:oncall"}
    )
    assert given.condition("CreateAlarmTopic") is False
    assert given.condition("SubscribeAlarmEmail") is False


# The pre-traffic hook runs only during a release, and its own failure fails that release.
@pytest.mark.parametrize("function_id", sorted(RELEASED))
def test_every_function_has_errors_and_throttles_alarms(function_id: str) -> None:
    name = function_name(function_id)
    metrics = [m for alarm in ALARMS.values() for m in watched(alarm)]
    errors = [d for ns, m, d in metrics if (ns, m) == ("AWS/Lambda", "Errors")]
    throttles = [d for ns, m, d in metrics if (ns, m) == ("AWS/Lambda", "Throttles")]
    # Errors watch the `live` alias, so that the canary sees the new version's.
    assert {"FunctionName": name, "Resource": f"{name}:live"} in errors
    assert {"FunctionName": name} in throttles


@pytest.mark.parametrize("function_id", sorted(API_FUNCTIONS))
def test_every_api_function_family_has_a_p99_latency_alarm(function_id: str) -> None:
    name = function_name(function_id)
    (alarm,) = (
        a
        for a in ALARMS.values()
        if watched(a)
        == [("AWS/Lambda", "Duration", {"FunctionName": name, "Resource": f"{name}:live"})]
    )
    assert alarm["Properties"]["ExtendedStatistic"] == "p99"
    expected = 1500 if function_id == "AuthFunction" else 1000
    assert alarm["Properties"]["Threshold"] == expected


@pytest.mark.parametrize("table_id", sorted(TABLES))
def test_every_table_has_throttle_and_system_error_alarms(table_id: str) -> None:
    table = TEMPLATE.ref(table_id)
    metrics = [m for alarm in ALARMS.values() for m in watched(alarm)]
    names = {m for ns, m, d in metrics if ns == "AWS/DynamoDB" and d.get("TableName") == table}
    assert {"ReadThrottleEvents", "WriteThrottleEvents", "SystemErrors"} <= names
    indexes = [
        g["IndexName"] for g in RESOURCES[table_id]["Properties"].get("GlobalSecondaryIndexes", [])
    ]
    throttled_indexes = {
        d.get("GlobalSecondaryIndexName")
        for ns, m, d in metrics
        if m == "WriteThrottleEvents" and d.get("TableName") == table
    }
    assert set(indexes) <= throttled_indexes


def test_the_queues_and_the_api_have_their_alarms() -> None:
    metrics = [m for alarm in ALARMS.values() for m in watched(alarm)]
    jobs = TEMPLATE.get_att("JobsQueue", "QueueName")
    dead = TEMPLATE.get_att("JobsDeadLetterQueue", "QueueName")
    assert ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": jobs}) in metrics
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": dead}) in metrics
    # New dead letters page again while old ones still wait.
    assert ("Warung", "JobsDeadLettered", {"service": "worker"}) in metrics
    api = {"ApiName": "warung-prod", "Stage": "prod"}
    assert ("AWS/ApiGateway", "5XXError", api) in metrics
    assert ("AWS/ApiGateway", "Count", api) in metrics
    rate = TEMPLATE.resolve(RESOURCES["Api5xxAlarm"]["Properties"])
    (expression,) = [q["Expression"] for q in rate["Metrics"] if "Expression" in q]
    assert "requests >= 20" in expression  # one error at 3 a.m. is not a page
    assert {m for ns, m, d in metrics if ns == "AWS/SES"} == {
        "Reputation.BounceRate",
        "Reputation.ComplaintRate",
    }


# ---------------------------------------------------------------- releases


@pytest.mark.parametrize("function_id", sorted(RELEASED))
def test_every_function_is_released_through_its_live_alias_with_a_checked_canary(
    function_id: str,
) -> None:
    properties = RELEASED[function_id]["Properties"]
    assert properties["AutoPublishAlias"] == "live"
    preference = properties["DeploymentPreference"]
    assert TEMPLATE.resolve(preference["Type"]) == "Canary10Percent5Minutes"  # prod
    assert preference["Hooks"] == {"PreTraffic": {"Ref": "PreTrafficHookFunction"}}
    prefix = function_id.removesuffix("Function")
    alarms = {a["Ref"] for a in preference["Alarms"]}
    assert f"{prefix}ErrorsAlarm" in alarms
    if function_id in API_FUNCTIONS:
        assert {f"{prefix}LatencyAlarm", "Api5xxAlarm"} <= alarms


def test_the_hook_checks_the_new_version_of_every_api_function() -> None:
    hook = FUNCTIONS["PreTrafficHookFunction"]["Properties"]
    assert TEMPLATE.resolve(hook["FunctionName"]).startswith("CodeDeployHook_")
    variables = hook["Environment"]["Variables"]
    versions = {v["Ref"] for v in variables.values() if isinstance(v, dict) and "Ref" in v}
    assert versions == {f"{f}.Version" for f in API_FUNCTIONS}


def test_the_release_id_changes_only_the_platform_function() -> None:
    globals_ = DOCUMENT["Globals"]["Function"]["Environment"]["Variables"]
    assert "APP_VERSION" not in globals_
    users = [
        k
        for k, v in FUNCTIONS.items()
        if "APP_VERSION" in ((v["Properties"].get("Environment") or {}).get("Variables") or {})
    ]
    assert users == ["PlatformFunction"]


def test_no_resource_of_the_stack_owns_the_access_token_keys() -> None:
    # CloudFormation writes back any value it owns on the next update of the resource: the
    # keys live outside the stack, created by `signing_keys ensure` (docs/decisions/0012).
    for resource in RESOURCES.values():
        name = str(TEMPLATE.resolve((resource.get("Properties") or {}).get("Name", "")))
        assert not name.endswith(("/jwt-signing-key", "/jwks")), name
    auth = FUNCTIONS["AuthFunction"]["Properties"]["Environment"]["Variables"]
    assert TEMPLATE.resolve(auth["JWT_SIGNING_SECRET_ID"]) == "warung/prod/jwt-signing-key"
    shared = DOCUMENT["Globals"]["Function"]["Environment"]["Variables"]
    assert TEMPLATE.resolve(shared["JWKS_PARAMETER_NAME"]) == "/warung/prod/jwks"


# ---------------------------------------------------------------- prod cannot be half set

_RULE_FUNCTIONS = {"Fn::And", "Fn::Or", "Fn::Not", "Fn::Equals", "Fn::Contains"}


def evaluate(expression: Any, parameters: Mapping[str, str]) -> Any:
    """CloudFormation's rule functions, as CloudFormation evaluates them (only these are
    allowed in Rules; anything else is a template error)."""
    if isinstance(expression, list):
        return [evaluate(e, parameters) for e in expression]
    if not isinstance(expression, dict):
        return expression
    ((key, arg),) = expression.items()
    if key == "Ref":
        return parameters[arg]
    assert key in _RULE_FUNCTIONS, f"{key} is not allowed in Rules"
    values = evaluate(arg, parameters)
    if key == "Fn::And":
        return all(values)
    if key == "Fn::Or":
        return any(values)
    if key == "Fn::Not":
        return not values[0]
    if key == "Fn::Equals":
        return values[0] == values[1]
    return values[1] in values[0]  # Fn::Contains: [list, value]


def refusals(overrides: Mapping[str, str]) -> list[str]:
    """Why CloudFormation would refuse these parameters (AllowedPattern, then Rules)."""
    template = load_template(ROOT / "template.yaml", dict(overrides))
    parameters: dict[str, str] = {k: str(v) for k, v in template.parameters.items()}
    found = []
    for name, declared in DOCUMENT["Parameters"].items():
        pattern = declared.get("AllowedPattern")
        if pattern and not re.fullmatch(pattern, parameters[name]):
            found.append(f"{name} does not match its pattern")
    for rule in DOCUMENT["Rules"].values():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], parameters):
            continue
        found += [
            a["AssertDescription"]
            for a in rule["Assertions"]
            if not evaluate(a["Assert"], parameters)
        ]
    return found


PROD_READY = {
    "Stage": "prod",
    "PublicAppUrl": "https://app.warung.id",
    "CorsAllowOrigin": "https://app.warung.id",
    "TokenIssuer": "https://api.warung.id",
    "MailFrom": "no-reply@warung.id",
    "AlarmEmail": "oncall@warung.id",
    "PaymentProvider": "midtrans",
}


def test_a_complete_prod_and_a_default_dev_are_accepted() -> None:
    assert refusals(PROD_READY) == []
    assert refusals({"Stage": "dev"}) == []


def test_prod_refuses_a_localhost_or_missing_app_url() -> None:
    assert refusals({**PROD_READY, "PublicAppUrl": "http://localhost:5173"}) == [
        "PublicAppUrl does not match its pattern"
    ]
    assert refusals({**PROD_READY, "PublicAppUrl": ""}) == ["Set PublicAppUrl (https) for prod."]


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("MailFrom", "no-reply@warung.example", "MailFrom"),
        ("TokenIssuer", "", "TokenIssuer"),
        ("CorsAllowOrigin", "http://localhost:5173", "CorsAllowOrigin"),
        ("AlarmEmail", "", "AlarmTopicArn"),
        ("PaymentProvider", "simulator", "simulator"),
    ],
)
def test_prod_refuses_each_value_left_at_its_example(name: str, value: str, named: str) -> None:
    (refusal,) = refusals({**PROD_READY, name: value})
    assert named in refusal


# ---------------------------------------------------------------- the dashboard


def emitted_metrics() -> set[tuple[str, str]]:
    """(metric, service) of every metric the functions emit, read from their code."""
    found: set[tuple[str, str]] = set()
    for function_id, function in FUNCTIONS.items():
        service = (
            (function["Properties"].get("Environment") or {})
            .get("Variables", {})
            .get("POWERTOOLS_SERVICE_NAME")
        )
        code = ROOT / function["Properties"]["CodeUri"]
        handler_module = function["Properties"]["Handler"].rsplit(".", 1)[0].split(".")[-1]
        for path in code.rglob("*.py"):
            if function_id == "OrderExpiryFunction" and path.stem != handler_module:
                continue  # the expiry function shares the orders package but not its routes
            if function_id == "OrdersFunction" and path.stem == "expiry":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and _metric_call(node):
                    name = _metric_name(node)
                    if name:
                        found.add((name, str(service)))
    return found


def _metric_call(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in {"add_metric", "_count", "count"}


def _metric_name(node: ast.Call) -> str | None:
    for keyword in node.keywords:
        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def dashboard_metrics(template: Template) -> list[list[Any]]:
    body = template.resolve(RESOURCES["Dashboard"]["Properties"]["DashboardBody"])
    widgets = json.loads(body)["widgets"]
    return [m for w in widgets if w["type"] == "metric" for m in w["properties"]["metrics"]]


def test_every_dashboard_metric_is_emitted_by_the_code_or_by_a_resource_of_the_stack() -> None:
    emitted = emitted_metrics()
    resources = {
        "AWS/Lambda": {"FunctionName": {function_name(f) for f in FUNCTIONS}},
        "AWS/DynamoDB": {"TableName": {TEMPLATE.ref(t) for t in TABLES}},
        "AWS/SQS": {
            "QueueName": {
                TEMPLATE.get_att(q, "QueueName")
                for q, v in RESOURCES.items()
                if v["Type"] == "AWS::SQS::Queue"
            }
        },
        "AWS/ApiGateway": {"ApiName": {"warung-prod"}, "Stage": {"prod"}},
    }
    metrics = dashboard_metrics(TEMPLATE)
    assert len(metrics) > 40
    for metric in metrics:
        namespace, name, *rest = metric
        dims = dict(zip(rest[0:-1:2], rest[1::2], strict=False)) if rest else {}
        dims = {k: v for k, v in dims.items() if isinstance(v, str)}
        if namespace == "Warung":
            assert (name, dims["service"]) in emitted, f"nothing emits {name} for {dims}"
        else:
            for dimension, value in dims.items():
                assert value in resources[namespace][dimension], f"{namespace} {dimension}={value}"


def test_the_dashboard_shows_the_business_metrics() -> None:
    shown = {m[1] for m in dashboard_metrics(TEMPLATE) if m[0] == "Warung"}
    assert {
        "OrdersPlaced",
        "OrderValue",
        "CodOrdersPlaced",
        "CodDeliveriesFailed",
        "PaymentsSucceeded",
        "PaymentsFailed",
        "PaymentsRefunded",
        "FailedLogins",
        "RefreshTokenReuse",
        "WebhookSignatureFailures",
    } <= shown
