"""The platform function, invoked in-process as Lambda would, on the committed sample events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from warung_local.functions import LocalFunction

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events" / "platform"


@pytest.fixture(scope="module")
def platform(app_stack: Any) -> LocalFunction:
    function = LocalFunction(
        app_stack.template.functions["PlatformFunction"], app_stack.endpoint_url
    )
    assert function.load(), function.init_error
    return function


def invoke(function: LocalFunction, event_file: str) -> dict[str, Any]:
    event = json.loads((EVENTS / event_file).read_text())
    result = function.invoke(event)
    assert result.ok, result.error
    response: dict[str, Any] = result.payload
    return response


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    return {name: values[-1] for name, values in response["multiValueHeaders"].items()}


def test_health_event_answers_ok_with_the_template_version(platform: LocalFunction) -> None:
    response = invoke(platform, "health.json")
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok", "version": "0.1.0"}
    headers = headers_of(response)
    event = json.loads((EVENTS / "health.json").read_text())
    assert headers["X-Request-Id"] == event["requestContext"]["requestId"]


def test_openapi_event_serves_the_merged_document_with_a_root_server(
    platform: LocalFunction,
) -> None:
    response = invoke(platform, "openapi.json")
    document = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert "/v1/health" in document["paths"]
    assert document["servers"] == [{"url": "/"}]


def test_openapi_behind_execute_api_names_the_stage(platform: LocalFunction) -> None:
    event = json.loads((EVENTS / "openapi.json").read_text())
    event["requestContext"]["domainName"] = "abc123.execute-api.ap-southeast-1.amazonaws.com"
    event["requestContext"]["stage"] = "dev"
    result = platform.invoke(event)
    assert json.loads(result.payload["body"])["servers"] == [{"url": "/dev"}]


def test_docs_event_serves_the_page_with_a_strict_policy(platform: LocalFunction) -> None:
    response = invoke(platform, "docs.json")
    assert response["statusCode"] == 200
    assert "swagger-ui" in response["body"]
    policy = headers_of(response)["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-eval" not in policy


def test_unknown_path_event_is_a_404_problem(platform: LocalFunction) -> None:
    response = invoke(platform, "not-found.json")
    assert response["statusCode"] == 404
    assert headers_of(response)["Content-Type"] == "application/problem+json"
    assert json.loads(response["body"])["code"] == "not_found"
