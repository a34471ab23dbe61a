"""API Gateway REST proxy events for unit tests, shaped like the gateway's."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext


class FakeContext(LambdaContext):
    """A Lambda context object (Powertools' ``LambdaContext``, which the handlers are typed
    with) holding what the layer reads; a test may name its own function and request."""

    def __init__(
        self,
        *,
        function_name: str = "unit-function",
        memory_limit_in_mb: int = 256,
        invoked_function_arn: str = (
            "arn:aws:lambda:ap-southeast-1:123456789012:function:unit-function"
        ),
        aws_request_id: str = "11111111-2222-3333-4444-555555555555",
    ) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._memory_limit_in_mb = memory_limit_in_mb
        self._invoked_function_arn = invoked_function_arn
        self._aws_request_id = aws_request_id
        self._log_group_name = "/aws/lambda/unit-function"
        self._log_stream_name = "2026/11/26/[$LATEST]0"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
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
