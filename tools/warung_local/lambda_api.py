"""Lambda's Invoke, answered by the template's functions in the process that owns the emulation.

moto's Lambda would run a function in Docker, and the template's functions are not created
in it anyway. So the runtime that owns an emulation registers its functions with it
(`LocalRuntime`, and `invoke` with a throwaway emulation), and
`POST /2015-03-31/functions/{name}/invocations` runs the template function so named through
`LocalFunction.invoke`, exactly as the gateway and `invoke` run it: its own modules, its
template environment, the emulation's endpoint. Whoever calls (`dev` itself, `make invoke`
in a process of its own, a test), the emulation that receives the request runs the function.

- `{name}`: the function's name, its ARN (full, or partial `account:function:name`), either
  with a qualifier (`:live`, `:$LATEST`, `:7`, or `?Qualifier=`). A function has one local
  version, which every qualifier names. Any other name: 404 `ResourceNotFoundException`.
- RequestResponse only: `Event` and `DryRun` invocations are refused with 400
  `InvalidParameterValueException` rather than run differently from AWS.
- The answer is Lambda's: 200 with the handler's JSON result; for a handler exception
  (or a handler that cannot be imported), 200 with `X-Amz-Function-Error: Unhandled` and
  `{"errorMessage", "errorType", "requestId", "stackTrace"}`, as the Python runtime reports it.

The emulation serves Invoke outside its request lock: the handler calls the emulation while
the Invoke is answered. A handler of this same process that invokes another function holds
the process's invocation turn while it waits; the request carries its session token, and the
invoked function runs in that handler's turn (`functions.callers_turn`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from warung_local.functions import LocalFunction, callers_turn

if TYPE_CHECKING:
    from warung_local.emulation import LocalAnswer, WSGIEnviron

log = logging.getLogger("warung_local.lambda_api")

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations/?$")
# name, name:qualifier, account:function:name[:qualifier], arn:…:function:name[:qualifier]
_FUNCTION_REFERENCE = re.compile(
    r"^(?:arn:[\w-]+:lambda:[\w-]+:\d{12}:function:|\d{12}:function:)?"
    r"(?P<name>[\w-]+)(?::(?P<qualifier>\$LATEST|[\w-]+))?$"
)
_JSON = ("Content-Type", "application/json")


class LambdaInvoke:
    """Runs the template's functions for Lambda Invoke requests (a `LocalService`)."""

    def __init__(self, functions: Mapping[str, LocalFunction], region: str, account_id: str):
        self.by_name = {function.name: function for function in functions.values()}
        self.region, self.account_id = region, account_id

    def __call__(self, environ: WSGIEnviron, body: bytes) -> LocalAnswer | None:
        """The answer to an Invoke request; None for any other request."""
        match = _INVOKE_PATH.match(str(environ.get("PATH_INFO", "")))
        if environ.get("REQUEST_METHOD") != "POST" or match is None:
            return None
        request_id = str(uuid.uuid4())
        requested = match["function"]
        reference = _FUNCTION_REFERENCE.match(requested)
        function = self.by_name.get(reference["name"]) if reference else None
        if function is None:
            arn = requested
            if not requested.startswith("arn:"):
                arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{requested}"
            return _error(
                "404 Not Found",
                "ResourceNotFoundException",
                f"Function not found: {arn}",
                request_id,
            )
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE") or "RequestResponse"
        if invocation_type != "RequestResponse":
            return _error(
                "400 Bad Request",
                "InvalidParameterValueException",
                f"InvocationType {invocation_type} is not emulated locally: only "
                "RequestResponse is (docs/local-runtime.md)",
                request_id,
            )
        try:
            event: Any = json.loads(body) if body.strip() else {}
        except ValueError:
            return _error(
                "400 Bad Request",
                "InvalidRequestContentException",
                "Could not parse request body into json",
                request_id,
            )
        with callers_turn(environ.get("HTTP_X_AMZ_SECURITY_TOKEN")):
            result = function.invoke(event, request_id)
        qualifier = (reference["qualifier"] if reference else None) or _query_qualifier(environ)
        log.info(
            "Lambda Invoke %s%s -> %s %s (%.0f ms)",
            function.name,
            f":{qualifier}" if qualifier else "",
            function.spec.logical_id,
            "ok" if result.ok else "error",
            result.duration_ms,
        )
        headers = [_JSON, ("X-Amz-Executed-Version", "$LATEST"), ("x-amzn-RequestId", request_id)]
        if result.error is not None:
            error = {**result.error, "requestId": request_id}
            headers.append(("X-Amz-Function-Error", "Unhandled"))
            return "200 OK", headers, json.dumps(error).encode()
        return "200 OK", headers, json.dumps(result.payload).encode()


def _query_qualifier(environ: WSGIEnviron) -> str | None:
    values = parse_qs(str(environ.get("QUERY_STRING", ""))).get("Qualifier")
    return values[0] if values else None


def _error(status: str, code: str, message: str, request_id: str) -> LocalAnswer:
    """A Lambda API error as botocore parses it (the code in `x-amzn-ErrorType`)."""
    headers = [_JSON, ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
    return status, headers, json.dumps({"Type": "User", "Message": message}).encode()
