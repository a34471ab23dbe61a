"""API Gateway REST proxy events for unit tests, shaped like the gateway's."""

from __future__ import annotations

import base64
from typing import Any


class FakeContext:
    """The attributes of a Lambda context that the layer reads."""

    function_name = "unit-function"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:ap-southeast-1:123456789012:function:unit-function"
    aws_request_id = "11111111-2222-3333-4444-555555555555"
    log_group_name = "/aws/lambda/unit-function"
    log_stream_name = "2026/11/26/[$LATEST]0"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def proxy_event(
    method: str,
    path: str,
    *,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    request_id: str = "req-unit-1",
) -> dict[str, Any]:
    """A REST v1 proxy event for ``method path``."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    encoded = isinstance(body, bytes)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "body": base64.b64encode(body).decode() if isinstance(body, bytes) else body,
        "isBase64Encoded": encoded,
        "requestContext": {
            "requestId": request_id,
            "stage": "test",
            "path": f"/test{path}",
            "resourcePath": path,
            "httpMethod": method,
            "domainName": "localhost",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "unit-test/1.0"},
        },
    }


def header(response: dict[str, Any], name: str) -> str | None:
    """One response header, case-insensitively, from the proxy response."""
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return str(values[-1])
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None
