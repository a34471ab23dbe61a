"""The release's pre-traffic check (a CodeDeploy lifecycle hook).

Before CodeDeploy shifts any traffic of the ``live`` alias to a new version, it calls this
function. It invokes the NEW version of every API function with one request each, as API
Gateway would send it, and checks the answer: the platform's health, the public signing keys
(which proves the auth function reads its key material), a catalog read, and a protected read
of the orders and payments functions that must be refused with ``401`` (which proves their
token guard loads). Any wrong answer, error or timeout fails the deployment: CodeDeploy then
keeps (or puts back) all traffic on the previous version (docs/runbook.md, "Canary failure").

The versions to check come from the environment (``<NAME>_VERSION``: a version ARN, set by
the template from ``!Ref <Function>.Version``); a probe whose variable is unset is skipped,
so a stage may check fewer functions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="pre-traffic-hook")

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
Check = Callable[[dict[str, Any]], str | None]


def _json(answer: dict[str, Any]) -> Any:
    try:
        return json.loads(answer.get("body") or "null")
    except ValueError:
        return None


def _health(answer: dict[str, Any]) -> str | None:
    body = _json(answer)
    ok = answer.get("statusCode") == 200 and isinstance(body, dict) and body.get("status") == "ok"
    return None if ok else "health is not 200 {status: ok}"


def _signing_keys(answer: dict[str, Any]) -> str | None:
    body = _json(answer)
    keys = body.get("keys") if isinstance(body, dict) else None
    if answer.get("statusCode") != 200 or not isinstance(keys, list) or not keys:
        return "the JWK Set is not 200 with at least one key"
    if any(not isinstance(k, dict) or not k.get("kid") for k in keys):
        return "a published key has no kid"
    return None


def _categories(answer: dict[str, Any]) -> str | None:
    body = _json(answer)
    items = body.get("items") if isinstance(body, dict) else None
    ok = answer.get("statusCode") == 200 and isinstance(items, list) and len(items) > 0
    return None if ok else "the category list is not 200 with items"


def _refused(answer: dict[str, Any]) -> str | None:
    body = _json(answer)
    code = body.get("code") if isinstance(body, dict) else None
    ok = answer.get("statusCode") == 401 and code == "unauthorized"
    return None if ok else "an anonymous protected read is not 401 unauthorized"


@dataclass(frozen=True)
class Probe:
    """One request to one function's new version, and what its answer must be."""

    variable: str  # the environment variable holding the version ARN
    path: str
    check: Check


PROBES = (
    Probe("PLATFORM_VERSION", "/v1/health", _health),
    Probe("AUTH_VERSION", "/.well-known/jwks.json", _signing_keys),
    Probe("CATALOG_VERSION", "/v1/categories", _categories),
    Probe("ORDERS_VERSION", "/v1/cart", _refused),
    Probe("PAYMENTS_VERSION", "/v1/payments/pre-traffic-probe", _refused),
    Probe("ADMIN_VERSION", "/v1/admin/dead-letters", _refused),
)


def api_event(path: str, request_id: str) -> dict[str, Any]:
    """A GET of ``path`` as API Gateway (REST, proxy integration) delivers it."""
    headers = {"Accept": "application/json", "User-Agent": "warung-pre-traffic-hook"}
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "resourcePath": path,
            "httpMethod": "GET",
            "path": path,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers["User-Agent"]},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def run_probes(invoke: Invoke, environment: Mapping[str, str], request_id: str) -> list[str]:
    """What is wrong with the new versions (empty: every probe passed)."""
    failures: list[str] = []
    for probe in PROBES:
        version = environment.get(probe.variable, "")
        if not version:
            continue
        try:
            answer = invoke(version, api_event(probe.path, request_id))
        except Exception as error:
            failures.append(f"{probe.path}: no answer from {version} ({type(error).__name__})")
            continue
        problem = probe.check(answer)
        if problem:
            failures.append(f"{probe.path}: {problem} (from {version})")
    return failures


def lambda_invoke(client: Any) -> Invoke:
    """An :data:`Invoke` through the Lambda API: a function error counts as no answer."""

    def invoke(version: str, event: dict[str, Any]) -> dict[str, Any]:
        result = client.invoke(FunctionName=version, Payload=json.dumps(event).encode())
        payload = result["Payload"].read()
        if result.get("FunctionError"):
            raise RuntimeError(f"function error: {payload[:200]!r}")
        answer: dict[str, Any] = json.loads(payload)
        return answer

    return invoke


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    import boto3  # the Lambda runtime's; only this deploy-time function uses it

    deployment_id = event["DeploymentId"]
    hook_execution_id = event["LifecycleEventHookExecutionId"]
    request_id = f"pre-traffic-{context.aws_request_id}"
    failures = run_probes(lambda_invoke(boto3.client("lambda")), os.environ, request_id)
    status = "Failed" if failures else "Succeeded"
    if failures:
        logger.error("new versions failed their checks", extra={"failures": failures})
    else:
        logger.info("new versions passed their checks")
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id,
        lifecycleEventHookExecutionId=hook_execution_id,
        status=status,
    )
    return {"status": status, "failures": failures}
