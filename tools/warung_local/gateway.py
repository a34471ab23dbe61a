"""An HTTP front door that routes like API Gateway REST (proxy integration, payload v1).

Routes come from the functions' `Api` events. For a request, every route whose
resource path matches is a candidate; the most specific wins (a static segment beats
`{param}`, which beats `{proxy+}`), and on one resource an exact method beats `ANY`.
The request becomes the proxy event that `sam local start-api` builds, and the
function's proxy response becomes the HTTP response.

What API Gateway answers itself is answered here as problem+json: no route (404),
a body over API Gateway's 10 MB limit (413), a failed function or a malformed
response (502, no stack trace; the details go to the log). CORS preflights are
answered from the Api's Cors settings, as SAM's mock integration does, except for the
origin: see `CorsPolicy`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fnmatch
import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from warung_local.template import LOCAL_ACCOUNT_ID, LOCAL_API_ID, ApiRoute, ApiSpec

log = logging.getLogger("warung_local.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit

# A request-time hook: (method, path, query) -> (status, headers, body) or None.
LocalEndpoint = Callable[
    [str, str, list[tuple[str, str]]], tuple[int, dict[str, str], bytes] | None
]
# Invokes a function by logical id: returns (ok, payload).
Invoker = Callable[[str, dict[str, Any], str], tuple[bool, Any]]


# ------------------------------------------------------------------ CORS

_LOCAL_ORIGIN = re.compile(r"http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?")
_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)


class CorsPolicy:
    """Which browser origins may read the local API's answers.

    A deployed stage names one origin (the template's Cors and the functions' settings).
    Locally a front end runs wherever its dev server started, so any `http://localhost:<port>`
    or `http://127.0.0.1:<port>` origin (and `http://[::1]:<port>`) is allowed, echoed
    exactly with `Vary: Origin`; every other origin gets no `Access-Control-Allow-Origin`.
    `only` (`--cors-origin`, `CORS_ORIGIN`) allows exactly that one origin instead. It applies
    when the template's API declares Cors at all, to preflights and to every answer.
    """

    def __init__(self, only: str | None = None) -> None:
        if only is not None and not _ORIGIN.fullmatch(only):
            raise ValueError(
                f"--cors-origin: expected an origin such as http://localhost:5173 "
                f"(scheme, host and port only), got {only!r}"
            )
        self.only = only

    def allows(self, origin: str | None) -> bool:
        """Whether a request from `origin` (its Origin header) may read the answer."""
        if not origin:
            return False
        if self.only is not None:
            return origin == self.only
        return _LOCAL_ORIGIN.fullmatch(origin) is not None

    def describe(self) -> str:
        """The policy in a few words, for the startup banner."""
        if self.only is not None:
            return f"{self.only} only"
        return (
            "any http://localhost:<port> or http://127.0.0.1:<port> origin (CORS_ORIGIN=… for one)"
        )

    def apply(self, headers: list[tuple[str, str]], origin: str | None) -> list[tuple[str, str]]:
        """An answer's headers with this policy's CORS headers in place of the function's."""
        allowed = self.allows(origin)
        dropped = {"access-control-allow-origin", "vary"}
        if not allowed:
            dropped |= {"access-control-expose-headers", "access-control-allow-credentials"}
        vary = [
            part.strip()
            for name, value in headers
            if name.lower() == "vary"
            for part in value.split(",")
            if part.strip()
        ]
        if not any(part.lower() == "origin" for part in vary):
            vary.append("Origin")
        result = [(name, value) for name, value in headers if name.lower() not in dropped]
        result.append(("Vary", ", ".join(vary)))
        if allowed and origin:
            result.append(("Access-Control-Allow-Origin", origin))
        return result


# ------------------------------------------------------------------ routing


@dataclass(frozen=True)
class RouteMatch:
    """A route chosen for a request, with the path parameters it captured."""

    route: ApiRoute
    path_parameters: dict[str, str]


def _split(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _match_path(resource: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(specificity, parameters) if the resource path matches; lower specificity wins."""
    pattern, segments = _split(resource), _split(path)
    params: dict[str, str] = {}
    rank: list[int] = []
    for index, part in enumerate(pattern):
        if part.startswith("{") and part.endswith("+}"):
            # A greedy parameter is last and takes one segment or more.
            if index >= len(segments) or index != len(pattern) - 1:
                return None
            params[part[1:-2]] = "/".join(unquote(s) for s in segments[index:])
            rank.append(2)
            return tuple(rank), params
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = unquote(segments[index])
            rank.append(1)
        elif part == segments[index]:
            rank.append(0)
        else:
            return None
    if len(segments) != len(pattern):
        return None
    return tuple(rank), params


class Router:
    """Chooses the route of a request as API Gateway does."""

    def __init__(self, routes: Iterable[ApiRoute]) -> None:
        self.routes = list(routes)

    def _candidates(self, path: str) -> list[tuple[tuple[int, ...], ApiRoute, dict[str, str]]]:
        found = []
        for route in self.routes:
            matched = _match_path(route.path, path)
            if matched is not None:
                found.append((matched[0], route, matched[1]))
        return found

    def has_path(self, path: str) -> bool:
        """Whether any route's resource matches `path`, whatever its method."""
        return bool(self._candidates(path))

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route for `method path`, or None (which API Gateway answers with an error)."""
        method = method.upper()
        candidates = [c for c in self._candidates(path) if c[1].method in (method, "ANY")]
        if not candidates:
            return None
        # Most specific resource first; on the same resource, the exact method before ANY.
        candidates.sort(key=lambda c: (c[0], c[1].method == "ANY"))
        _, route, params = candidates[0]
        return RouteMatch(route, params)


# ------------------------------------------------------------------ events


def _is_binary(content_type: str | None, binary_media_types: list[str]) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return any(fnmatch.fnmatch(media_type, pattern.lower()) for pattern in binary_media_types)


def build_proxy_event(
    method: str,
    raw_path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes | None,
    match: RouteMatch | None,
    stage: str,
    binary_media_types: list[str] | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    now: dt.datetime | None = None,
    host: str = "localhost",
) -> dict[str, Any]:
    """The API Gateway REST proxy event (payload v1) for one request."""
    now = now or dt.datetime.now(dt.UTC)
    request_id = request_id or str(uuid.uuid4())
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value  # the last value wins, as in API Gateway
        multi_headers.setdefault(name, []).append(value)
    lower = {k.lower(): v for k, v in single_headers.items()}
    for name, value in (
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Port", host.rsplit(":", 1)[-1] if ":" in host else "80"),
    ):
        if name.lower() not in lower:
            single_headers[name] = value
            multi_headers[name] = [value]
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)

    is_base64 = False
    body_text: str | None = None
    if body:
        if _is_binary(lower.get("content-type"), binary_media_types or []):
            is_base64 = True
        else:
            try:
                body_text = body.decode("utf-8")
            except UnicodeDecodeError:
                is_base64 = True
        if is_base64:
            body_text = base64.b64encode(body).decode("ascii")

    resource = match.route.path if match else raw_path
    epoch_ms = int(now.timestamp() * 1000)
    return {
        "body": body_text,
        "resource": resource,
        "path": raw_path,
        "httpMethod": method.upper(),
        "isBase64Encoded": is_base64,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": (match.path_parameters or None) if match else None,
        "stageVariables": None,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "requestContext": {
            "resourceId": _resource_id(resource),
            "resourcePath": resource,
            "httpMethod": method.upper(),
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{raw_path}",
            "accountId": LOCAL_ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "requestTimeEpoch": epoch_ms,
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": lower.get("user-agent", ""),
                "user": None,
                "apiKey": None,
                "apiKeyId": None,
                "clientCert": None,
            },
            "domainName": host,
            "apiId": LOCAL_API_ID,
        },
    }


def _resource_id(resource: str) -> str:
    # API Gateway ids are short and stable per resource; a hash keeps them so locally.
    return format(binascii.crc32(resource.encode()) & 0xFFFFFF, "06x")


class MalformedResponse(ValueError):
    """The function's result is not a valid proxy response."""


def translate_response(payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:  # noqa: C901 - API Gateway's response rules, one per field
    """A proxy integration result as (status, headers, body); MalformedResponse if invalid."""
    if not isinstance(payload, dict):
        raise MalformedResponse(f"the response is a {type(payload).__name__}, not an object")
    allowed = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies"}
    unknown = set(payload) - allowed
    if unknown:
        raise MalformedResponse(f"unexpected keys {sorted(unknown)}")
    status = payload.get("statusCode", 200)
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"invalid statusCode {status!r}")
    headers: dict[str, list[str]] = {}
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders[{name}] is not a list")
        headers[name] = [str(v) for v in values]
    for name, value in (payload.get("headers") or {}).items():
        if isinstance(value, (dict, list)):
            raise MalformedResponse(f"headers[{name}] is not a string")
        headers.setdefault(name, [])
        if str(value) not in headers[name]:
            headers[name] = [str(value)] if not headers[name] else [*headers[name], str(value)]
    body = payload.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise MalformedResponse("body is not a string")
    elif payload.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise MalformedResponse("body is not valid base64") from exc
    else:
        data = body.encode("utf-8")
    return status, [(name, value) for name, values in headers.items() for value in values], data


def problem(status: int, title: str, code: str, detail: str, request_id: str) -> bytes:
    """An application/problem+json body."""
    document = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        "request_id": request_id,
    }
    return json.dumps(document).encode()


# ------------------------------------------------------------------ server


class _Server(ThreadingHTTPServer):
    """One thread per connection, and a listen backlog that holds a burst of clients.

    socketserver's default backlog is 5: twenty clients connecting at once overflow it
    before the accept loop catches up, and the kernel drops or resets their connections.
    API Gateway never refuses a connection for that; the kernel caps the value at
    net.core.somaxconn (4096 on current Linux, 128 on older kernels and macOS).
    """

    request_queue_size = 1024
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is one line, not a traceback (curl | head, a closed tab)."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            log.info(
                "%s - client closed the connection (%s)", client_address[0], type(error).__name__
            )
            return
        super().handle_error(request, client_address)


def bind_server(host: str, port: int) -> ThreadingHTTPServer:
    """A bound, listening server socket whose handler `Gateway.start` sets (port 0: a free one).

    Binding first lets the runtime learn its port before it resolves the template: the
    API's own address is a template parameter (PaymentWebhookUrl). Connections made
    before the gateway serves wait in the listen backlog.
    """
    return _Server((host, port), BaseHTTPRequestHandler)


class Gateway:
    """A threaded HTTP server that routes requests to functions as API Gateway does."""

    def __init__(
        self,
        routes: Iterable[ApiRoute],
        api: ApiSpec,
        invoke: Invoker,
        host: str = "127.0.0.1",
        port: int = 3000,
        local_endpoints: dict[str, LocalEndpoint] | None = None,
        server: ThreadingHTTPServer | None = None,
        cors: CorsPolicy | None = None,
    ) -> None:
        self.router = Router(routes)
        self.cors = cors or CorsPolicy()
        self.api = api
        self.invoke = invoke
        self.host = host
        self.port = port
        self.local_endpoints = local_endpoints or {}
        # A socket bound beforehand (`bind_server`): its port was known before the routes.
        self._reserved = server
        if server is not None:
            self.port = int(server.server_address[1])
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL of the API (the stage is not part of local paths, as with SAM)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Gateway:
        """Bind and serve in a background thread."""
        gateway = self

        class Handler(_RequestHandler):
            owner = gateway

        self._server = self._reserved or bind_server(self.host, self.port)
        self._reserved = None
        self._server.RequestHandlerClass = Handler
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="gateway",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the socket."""
        if self._reserved is not None:
            self._reserved.server_close()
            self._reserved = None
        if self._server is None:
            return
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server = self._thread = None

    # -------------------------------------------------------------- one request

    def gateway_response(
        self, kind: str, status: int, title: str, code: str, detail: str, request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """A response API Gateway produces itself, from the template's GatewayResponses if set."""
        headers = [("Content-Type", "application/problem+json"), ("X-Request-Id", request_id)]
        body = problem(status, title, code, detail, request_id)
        configured = self.api.gateway_responses.get(kind)
        if configured:
            templates = configured.get("ResponseTemplates") or {}
            text = templates.get("application/json")
            if isinstance(text, str):
                body = text.replace("$context.requestId", request_id).encode()
            headers = []
            for name, value in (
                (configured.get("ResponseParameters") or {}).get("Headers") or {}
            ).items():
                text_value = str(value)
                # 'literal' values are quoted; context.requestId is a mapping expression.
                headers.append(
                    (
                        name,
                        request_id if text_value == "context.requestId" else text_value.strip("'"),
                    )
                )
            status = int(configured.get("StatusCode", status))
        return status, headers, body

    def cors_preflight(self, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        """The answer of SAM's CORS mock integration to an OPTIONS request (its origin is set
        by the `CorsPolicy`, like every answer's)."""
        cors = self.api.cors or {}
        names = {
            "AllowHeaders": "Access-Control-Allow-Headers",
            "AllowMethods": "Access-Control-Allow-Methods",
            "MaxAge": "Access-Control-Max-Age",
            "AllowCredentials": "Access-Control-Allow-Credentials",
        }
        headers = [("X-Request-Id", request_id)]
        for key, header in names.items():
            if key in cors:
                headers.append((header, str(cors[key]).strip("'")))
        return 204, headers, b""

    def handle(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
        host: str,
    ) -> Answer:
        """Answer one HTTP request."""
        answer = self._answer(method, target, headers, body, source_ip, host)
        if self.api.cors:
            origin = next((v for k, v in reversed(headers) if k.lower() == "origin"), None)
            answer.headers = self.cors.apply(answer.headers, origin)
        return answer

    def _answer(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
        host: str,
    ) -> Answer:
        request_id = str(uuid.uuid4())
        split = urlsplit(target)
        path = split.path or "/"
        query = parse_qsl(split.query, keep_blank_values=True)
        if path.startswith("/_local/") and method == "GET":
            endpoint = self.local_endpoints.get(path)
            local = endpoint(method, path, query) if endpoint else None
            if local is not None:
                status, extra, data = local
                return Answer(status, [*extra.items(), ("X-Request-Id", request_id)], data, "local")
        if len(body) > MAX_BODY_BYTES:
            return Answer(*self.too_large(request_id), "gateway")
        if method == "OPTIONS" and self.api.cors and self.router.has_path(path):
            # SAM adds a mock OPTIONS method to every path, unless one is declared explicitly.
            explicit = self.router.match("OPTIONS", path)
            if explicit is None or explicit.route.method == "ANY":
                return Answer(*self.cors_preflight(request_id), "CORS preflight")
        match = self.router.match(method, path)
        if match is None:
            return Answer(
                404,
                [("Content-Type", "application/problem+json"), ("X-Request-Id", request_id)],
                problem(404, "Not Found", "not_found", f"No route for {method} {path}", request_id),
                "no route",
            )
        function_id = match.route.function_id
        event = build_proxy_event(
            method,
            path,
            query,
            headers,
            body,
            match,
            self.api.stage,
            self.api.binary_media_types,
            source_ip,
            request_id,
            host=host,
        )
        ok, payload = self.invoke(function_id, event, request_id)
        if not ok:
            # The request's own line follows; this one carries what the client never sees.
            log.error("%s %s -> %s failed: %s", method, path, function_id, _short_error(payload))
            return Answer(*self._bad_gateway(request_id), function_id)
        try:
            status, out_headers, data = translate_response(payload)
        except MalformedResponse as exc:
            log.error(
                "%s %s -> %s returned a malformed response: %s", method, path, function_id, exc
            )
            return Answer(*self._bad_gateway(request_id), function_id)
        if not any(name.lower() == "x-request-id" for name, _ in out_headers):
            out_headers.append(("X-Request-Id", request_id))
        return Answer(status, out_headers, data, function_id)

    def too_large(self, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        """API Gateway's answer to a body over its limit."""
        return self.gateway_response(
            "REQUEST_TOO_LARGE",
            413,
            "Payload too large",
            "payload_too_large",
            "The request body is too large.",
            request_id,
        )

    def _bad_gateway(self, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        return self.gateway_response(
            "DEFAULT_5XX",
            502,
            "Bad gateway",
            "internal_error",
            "The request could not be completed.",
            request_id,
        )


@dataclass
class Answer:
    """What the gateway answers a request, and who answered it (for the request's log line):
    a function's logical id, "CORS preflight", "no route", "local" or "gateway"."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    answered_by: str


def _short_error(payload: Any) -> str:
    if isinstance(payload, dict) and "errorType" in payload:
        trace = "".join(payload.get("stackTrace") or [])
        return f"{payload['errorType']}: {payload.get('errorMessage')}\n{trace}"
    return repr(payload)


class _RequestHandler(BaseHTTPRequestHandler):
    """Serves one connection. Each request is one line in the log, written once it is
    answered: method, path (never the query: like API Gateway's access log, so addresses or
    tokens in queries stay out of logs), who answered, status and duration. A client that
    went away before its answer was written is the same line, saying so."""

    owner: Gateway
    protocol_version = "HTTP/1.1"
    server_version = "warung-local"

    def _serve(self) -> None:
        started = time.monotonic()
        answer = self._answer()
        try:
            self.send_response(answer.status)
            for name, value in answer.headers:
                if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)
            self.wfile.flush()
            outcome = ""
        except (ConnectionError, TimeoutError) as exc:
            self.close_connection = True
            outcome = f": client closed the connection ({type(exc).__name__})"
        log.info(
            "%s %s -> %s %d (%.0f ms)%s",
            self.command,
            self.path.split("?", 1)[0],
            answer.answered_by,
            answer.status,
            (time.monotonic() - started) * 1000,
            outcome,
        )

    def _answer(self) -> Answer:
        declared = (self.headers.get("Content-Length") or "0").strip()
        length = int(declared) if declared.isascii() and declared.isdigit() else -1
        if length < 0:
            # Not a length: answer as the edge does, without reading a body of unknown size.
            self.close_connection = True
            bad = self.owner.gateway_response(
                "BAD_REQUEST_BODY",
                400,
                "Bad request",
                "validation_error",
                "The Content-Length header is not a number of bytes.",
                str(uuid.uuid4()),
            )
            return Answer(*bad, "gateway")
        if length > MAX_BODY_BYTES:
            # Do not read a huge body into memory; answer and close the connection.
            self.close_connection = True
            return Answer(*self.owner.too_large(str(uuid.uuid4())), "gateway")
        body = self.rfile.read(length) if length else b""
        return self.owner.handle(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            self.client_address[0],
            self.headers.get("Host", self.owner.url.split("//", 1)[1]),
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve  # noqa: N815 - stdlib names

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) reaches routing too, so the function decides
        # between 404 and 405 instead of the HTTP server answering 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Nothing: `_serve` writes the request's one line once it is answered."""

    def log_message(self, format: str, *args: Any) -> None:
        # What the HTTP server itself reports (a malformed request line, ...): one line.
        log.warning("%s - %s", self.address_string(), format % args)


def parse_header_option(text: str) -> tuple[str, str]:
    """`Name: value` or `Name:value` from the command line."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"header {text!r} is not Name:value")
    return name.strip(), value.strip()
