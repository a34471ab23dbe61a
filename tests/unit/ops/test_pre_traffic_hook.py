"""The release's pre-traffic check: it passes a release only when every new version answers
as it must, and it always tells CodeDeploy its verdict."""

from __future__ import annotations

import io
import json
import sys
import types
from typing import Any

import pytest
from deploy_hook import app
from support.events import FakeContext

VERSIONS = {
    "PLATFORM_VERSION": "arn:aws:lambda:ap-southeast-1:1:function:warung-prod-platform:7",
    "AUTH_VERSION": "arn:aws:lambda:ap-southeast-1:1:function:warung-prod-auth:7",
    "CATALOG_VERSION": "arn:aws:lambda:ap-southeast-1:1:function:warung-prod-catalog:7",
    "ORDERS_VERSION": "arn:aws:lambda:ap-southeast-1:1:function:warung-prod-orders:7",
    "PAYMENTS_VERSION": "arn:aws:lambda:ap-southeast-1:1:function:warung-prod-payments:7",
    "ADMIN_VERSION": "arn:aws:lambda:ap-southeast-1:1:function:warung-prod-admin:7",
}
GOOD = {
    "/v1/health": (200, {"status": "ok", "version": "abc"}),
    "/.well-known/jwks.json": (200, {"keys": [{"kid": "k1", "kty": "EC"}]}),
    "/v1/categories": (200, {"items": [{"id": "food", "name": "Food"}]}),
    "/v1/cart": (401, {"code": "unauthorized", "status": 401}),
    "/v1/payments/pre-traffic-probe": (401, {"code": "unauthorized", "status": 401}),
    "/v1/admin/audit": (401, {"code": "unauthorized", "status": 401}),
}


class Functions:
    """New versions that answer from a table, recording what they were sent."""

    def __init__(self, answers: dict[str, tuple[int, Any]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, version: str, event: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((version, event))
        status, body = self.answers[event["path"]]
        return {"statusCode": status, "body": json.dumps(body)}


def test_new_versions_that_answer_right_pass_and_each_was_sent_a_real_api_request() -> None:
    functions = Functions(GOOD)
    assert app.run_probes(functions, VERSIONS, "pre-traffic-1") == []
    called = {version for version, _ in functions.calls}
    assert called == set(VERSIONS.values())
    _, event = functions.calls[0]
    assert event["httpMethod"] == "GET"
    assert event["requestContext"]["requestId"] == "pre-traffic-1"
    assert event["headers"]["Accept"] == "application/json"


@pytest.mark.parametrize(
    ("path", "answer", "problem"),
    [
        ("/v1/health", (500, {"code": "internal_error"}), "health"),
        ("/.well-known/jwks.json", (200, {"keys": []}), "at least one key"),
        ("/.well-known/jwks.json", (200, {"keys": [{"kty": "EC"}]}), "no kid"),
        ("/v1/categories", (200, {"items": []}), "category list"),
        ("/v1/cart", (200, {"items": []}), "401"),
        ("/v1/payments/pre-traffic-probe", (500, None), "401"),
        ("/v1/admin/audit", (200, {"items": []}), "401"),
    ],
)
def test_one_wrong_answer_fails_the_release_and_says_which(
    path: str, answer: tuple[int, Any], problem: str
) -> None:
    functions = Functions({**GOOD, path: answer})
    (failure,) = app.run_probes(functions, VERSIONS, "r")
    assert failure.startswith(f"{path}: ")
    assert problem in failure


def test_a_version_that_cannot_answer_fails_the_release() -> None:
    def broken(version: str, event: dict[str, Any]) -> dict[str, Any]:
        raise TimeoutError("read timed out")

    failures = app.run_probes(broken, VERSIONS, "r")
    assert len(failures) == len(VERSIONS)
    assert all("no answer" in f and "TimeoutError" in f for f in failures)


def test_only_the_functions_named_in_the_environment_are_checked() -> None:
    functions = Functions(GOOD)
    only = {"PLATFORM_VERSION": VERSIONS["PLATFORM_VERSION"], "AUTH_VERSION": ""}
    assert app.run_probes(functions, only, "r") == []
    assert [v for v, _ in functions.calls] == [VERSIONS["PLATFORM_VERSION"]]


class FakeLambda:
    def __init__(self, functions: Functions, error_on: str | None = None) -> None:
        self.functions, self.error_on = functions, error_on

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        if FunctionName == self.error_on:
            return {
                "FunctionError": "Unhandled",
                "Payload": io.BytesIO(b'{"errorType":"KeyError"}'),
            }
        answer = self.functions(FunctionName, json.loads(Payload))
        return {"Payload": io.BytesIO(json.dumps(answer).encode())}


class FakeCodeDeploy:
    def __init__(self) -> None:
        self.verdicts: list[dict[str, str]] = []

    def put_lifecycle_event_hook_execution_status(self, **verdict: str) -> None:
        self.verdicts.append(verdict)


def hook_with(
    monkeypatch: pytest.MonkeyPatch, lambda_client: FakeLambda
) -> tuple[dict[str, Any], FakeCodeDeploy]:
    codedeploy = FakeCodeDeploy()
    clients = {"lambda": lambda_client, "codedeploy": codedeploy}
    fake = types.ModuleType("boto3")
    fake.client = lambda name: clients[name]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "boto3", fake)
    for name, value in VERSIONS.items():
        monkeypatch.setenv(name, value)
    event = {"DeploymentId": "d-ABC123", "LifecycleEventHookExecutionId": "hook-1"}
    return app.handler(event, FakeContext(aws_request_id="req-1")), codedeploy


def test_the_handler_reports_success_to_codedeploy(monkeypatch: pytest.MonkeyPatch) -> None:
    result, codedeploy = hook_with(monkeypatch, FakeLambda(Functions(GOOD)))
    assert result == {"status": "Succeeded", "failures": []}
    assert codedeploy.verdicts == [
        {
            "deploymentId": "d-ABC123",
            "lifecycleEventHookExecutionId": "hook-1",
            "status": "Succeeded",
        }
    ]


def test_a_function_error_is_reported_as_a_failed_release(monkeypatch: pytest.MonkeyPatch) -> None:
    lambda_client = FakeLambda(Functions(GOOD), error_on=VERSIONS["CATALOG_VERSION"])
    result, codedeploy = hook_with(monkeypatch, lambda_client)
    assert result["status"] == "Failed"
    (failure,) = result["failures"]
    assert failure.startswith("/v1/categories: no answer")
    assert [v["status"] for v in codedeploy.verdicts] == ["Failed"]
