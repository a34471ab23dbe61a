"""The HTTP edge every API function shares: resolver factory and Lambda handler wrapper.

A function is three lines plus its routes::

    app = create_app()

    @app.get("/v1/things/<thing_id>")
    def get_thing(thing_id: str) -> Thing: ...

    handler = make_handler(app)

``make_handler`` applies the same stack everywhere: log context with the request id as
correlation id, metrics flushed at the end, the 64 KiB body limit (413) and malformed JSON
(400) before routing, then the resolver, then the headers every response carries.
Tracing comes from Lambda's active tracing (docs/decisions/0002).

Each route is checked in one order (:class:`ContractValidation`): who may call it first,
then the request against what the route declares (path, query, headers, body), where an
undeclared query parameter is a 422 like an unknown body field.
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any, cast, get_type_hints

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
)
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from warung.auth import GuardFirstValidation
from warung.context import RequestMeta
from warung.errors import (
    ApiError,
    FieldError,
    InternalError,
    InvalidJson,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from warung.observability import entry_point, logger
from warung.settings import get_settings

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
JSON_UTF8 = "application/json; charset=utf-8"

ProxyEvent = dict[str, Any]
ProxyResponse = dict[str, Any]
Handler = Callable[[ProxyEvent, LambdaContext], ProxyResponse]

# Sent on every response unless the route chose its own value.
SECURITY_HEADERS: Mapping[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-site",
}
ALLOWED_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Request-Id",
]
EXPOSED_RESPONSE_HEADERS = ["X-Request-Id", "ETag", "Location", "Retry-After"]
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _with_success(func: Any, route: Callable[..., Any], args: Any, kwargs: Any) -> dict[str, Any]:
    """The arguments of a route (``route``'s, by name) whose ``responses`` document errors
    but not the success, with the success response added from the handler's return model.
    (Powertools documents the return model only when a route gives no ``responses``.)"""
    named: dict[str, Any] = dict(_signature(route).bind(*args, **kwargs).arguments)
    responses = named.get("responses")
    status = int(named.get("status_code", 200))
    if not responses or status in responses:
        return named
    returned = get_type_hints(func).get("return")
    if not (isinstance(returned, type) and issubclass(returned, BaseModel)):
        raise TypeError(
            f"{func.__name__}: document the {status} response in `responses` "
            "(its return type is not a model)"
        )
    success: OpenAPIResponse = {
        "description": named.get("response_description") or "Successful response",
        "content": {"application/json": {"model": returned}},
    }
    return {**named, "responses": {status: success, **responses}}


@functools.cache
def _method_signature(function: Callable[..., Any]) -> inspect.Signature:
    parameters = list(inspect.signature(function).parameters.values())[1:]  # without self
    return inspect.Signature(parameters)


def _signature(route: Callable[..., Any]) -> inspect.Signature:
    """The signature of a bound ``route`` method, read once per class: every route is
    registered twice (router, then app), and reading Powertools' twenty parameters each
    time was a tenth of a function's route registration at cold start."""
    function = getattr(route, "__func__", None)
    return _method_signature(function) if function is not None else inspect.signature(route)


class UnknownQueryParameters(RequestValidationError):
    """Query parameters the route does not declare (and nothing else wrong)."""


class ContractValidation(GuardFirstValidation):
    """The request validation of every route: the route's auth guard first (so that an
    anonymous caller learns nothing of its rules), then Powertools' validation of path,
    query, headers and body, plus one rule of our own: a query parameter the route does not
    declare is an error, reported with the request's other errors (422), as an unknown body
    field is. (Powertools ignores undeclared parameters: ``?catgory=`` would list all.)"""

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response[Any]:
        """Validate as Powertools does, and refuse undeclared query parameters."""
        unknown = undeclared_query_parameters(app)
        if not unknown:
            return super().handler(app, next_middleware)
        errors = [
            {"type": "extra_forbidden", "loc": ("query", name), "msg": "Unknown query parameter."}
            for name in unknown
        ]

        def refuse(_: Any) -> Response[Any]:
            raise UnknownQueryParameters(errors)

        try:
            # Everything else valid: the route is not called, the unknown names are the error.
            return super().handler(app, cast(NextMiddleware, refuse))
        except UnknownQueryParameters:
            raise
        except RequestValidationError as invalid:
            raise RequestValidationError([*invalid.errors(), *errors]) from None

    def _get_body(self, app: Any) -> dict[str, Any]:
        """The body of a route that takes one, which is JSON only. Powertools would also read
        a form or multipart body; the edge refuses any such body (``check_body``), and a
        request that declares one of those media types without a body is refused the same
        way here (415), rather than validated as an empty form."""
        if media_type(app.current_event.headers.get("content-type")) not in ("", JSON):
            raise RequestUnsupportedContentType("Unsupported content type", errors=[])
        body: dict[str, Any] = super()._get_body(app)
        return body


def undeclared_query_parameters(app: APIGatewayRestResolver) -> list[str]:
    """The query parameters of the current request that its route does not declare, sorted
    (none for a request that matched no route: that one is a 404 or 405 as it is)."""
    route = app.context.get("_route")
    if route is None or not any(route is known for known in _routes(app)):
        return []
    event = app.current_event
    sent = set(event.query_string_parameters or {}) | set(
        event.multi_value_query_string_parameters or {}
    )
    declared = {parameter.alias for parameter in route.dependant.query_params}
    return sorted(sent - declared)


def _routes(app: APIGatewayRestResolver) -> list[Any]:
    # Powertools has no public view of its routes; these two lists are stable since v2.
    return [*app._static_routes, *app._dynamic_routes]


class WarungResolver(APIGatewayRestResolver):
    """Powertools' REST resolver; routes with error ``responses`` keep their success one."""

    def route(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        """Register a route (see :func:`_with_success`)."""
        parent = super().route

        def register(func: Any) -> Any:
            return parent(**_with_success(func, parent, args, kwargs))(func)

        return register


class WarungRouter(Router):
    """Powertools' Router for routes kept in their own module, documented like the app's."""

    def route(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        """Register a route (see :func:`_with_success`)."""
        parent = super().route

        def register(func: Any) -> Any:
            return parent(**_with_success(func, parent, args, kwargs))(func)

        return register


def create_app() -> APIGatewayRestResolver:
    """A REST (payload v1) resolver with validation, CORS and Warung's error mapping."""
    settings = get_settings()
    app = WarungResolver(
        enable_validation=True,
        cors=CORSConfig(
            allow_origin=settings.cors_allow_origin,
            allow_headers=ALLOWED_REQUEST_HEADERS,
            expose_headers=EXPOSED_RESPONSE_HEADERS,
            max_age=600,
        ),
    )

    def _api_error(error: ApiError) -> Response[str]:
        if error.http_status >= 500:
            logger.error("request failed", extra={"code": error.code})
        return problem_response(error, _current_request_id(app))

    def _invalid_request(error: RequestValidationError) -> Response[str]:
        failure = ValidationFailed(
            "The request does not match the API contract.",
            errors=[_field_error(item) for item in error.errors()],
        )
        return problem_response(failure, _current_request_id(app))

    def _not_json(_: RequestUnsupportedContentType) -> Response[str]:
        # The edge refuses such bodies first (check_body); this covers what reaches validation.
        refused = UnsupportedMediaType(
            "Send the body as JSON with `Content-Type: application/json`."
        )
        return problem_response(refused, _current_request_id(app))

    def _no_route(_: NotFoundError) -> Response[str]:
        event = app.current_event
        allowed = allowed_methods(app, event.path)
        error: ApiError = (
            MethodNotAllowed(event.http_method.upper(), allowed)
            if allowed
            else NotFound(f"No route for {event.http_method} {event.path}.")
        )
        return problem_response(error, _current_request_id(app))

    def _unexpected(_: Exception) -> Response[str]:
        # The client gets a request id to quote, never a stack trace; the log has it all.
        logger.exception("unhandled error")
        return problem_response(
            InternalError("The request could not be completed."), _current_request_id(app)
        )

    # Routes declare who may call them (warung.auth); that is checked before validation.
    app._request_validation_middleware = ContractValidation()  # type: ignore[no-untyped-call]

    # The most specific handler wins, so ``Exception`` only sees what nothing else maps.
    app.exception_handler(ApiError)(_api_error)
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler(RequestUnsupportedContentType)(_not_json)
    app.exception_handler(NotFoundError)(_no_route)
    app.exception_handler(Exception)(_unexpected)
    return app


def make_handler(app: APIGatewayRestResolver) -> Handler:
    """The Lambda entry point for ``app``: the decorator stack every function uses."""
    max_body = get_settings().max_body_bytes

    def handler(event: ProxyEvent, context: LambdaContext) -> ProxyResponse:
        request_id = request_id_of(event)
        try:
            check_body(event, max_body)
        except ApiError as error:
            return finish(event, _rejected(error, request_id))
        return finish(event, app.resolve(event, context))

    return entry_point(handler, correlation_id_path=correlation_paths.API_GATEWAY_REST)


def allowed_methods(app: APIGatewayRestResolver, path: str) -> list[str]:
    """The methods ``app`` serves on ``path`` (empty when it serves none): the ``Allow`` header."""
    methods = {route.method for route in _routes(app) if route.rule.match(path)}
    if not methods:
        return []
    return sorted(methods | {"OPTIONS"})


def request_meta(app: BaseRouter) -> RequestMeta:
    """Who is asking, from where: for audit entries and rate limits (behind CloudFront, the
    viewer's address when the request proves it came through CloudFront: warung.context)."""
    return RequestMeta.from_event(app.current_event.raw_event, origin_secret)


ORIGIN_SECRET_RECHECK_S = 60
"""After a rotation, how old a copy of the origin secret may be when a request's does not
match it: at most one read a minute per container, whatever a caller sends."""


def origin_secret(*, fresh: bool = False) -> str | None:
    """The stage's CloudFront origin secret, ``None`` where no CloudFront is in front.

    ``fresh``: the request's secret did not match the copy held; read it again if that copy
    is over a minute old (the secret was rotated: docs/runbook.md, "The origin secret").
    """
    arn = get_settings().origin_secret_arn
    if not arn:
        return None
    from warung.secrets import get_secret  # only behind CloudFront, on a viewer-address request

    return get_secret(arn, max_age=ORIGIN_SECRET_RECHECK_S) if fresh else get_secret(arn)


def no_content() -> Response[str]:
    """A 204: no body, no media type."""
    return Response(204, None, "")


# Response documentation shared by the routes of every function (problem+json bodies are
# added by warung.openapi when the document is merged).
UNAUTHORIZED: dict[int, OpenAPIResponse] = {
    401: {"description": "Missing, invalid or revoked credentials."}
}
ADMIN_ONLY: dict[int, OpenAPIResponse] = {
    **UNAUTHORIZED,
    403: {"description": "Not an admin."},
}
RATE_LIMITED: dict[int, OpenAPIResponse] = {
    429: {"description": "Too many attempts; see Retry-After."}
}


def request_id_of(event: Mapping[str, Any]) -> str:
    """API Gateway's request id: the correlation id of logs, jobs and the response."""
    context = event.get("requestContext") or {}
    return str(context.get("requestId") or "unknown")


def check_body(event: Mapping[str, Any], max_bytes: int) -> None:
    """Reject a body over ``max_bytes`` (413) or a JSON body that does not parse (400)."""
    raw = event.get("body")
    if raw is None or raw == "":
        return
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidJson("The body is not valid base64.") from exc
    else:
        data = str(raw).encode()
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The request body is {len(data)} bytes; the limit is {max_bytes}.")
    if str(event.get("httpMethod", "")).upper() not in _BODY_METHODS:
        return
    sent = media_type(_header(event, "content-type")) or JSON
    # JSON is `application/json` (with or without a charset): the validation of the routes
    # reads no other media type, `+json` variants included.
    if sent != JSON:
        raise UnsupportedMediaType(
            f"Send the body as JSON with `Content-Type: application/json`, not {sent!r}."
        )
    try:
        json.loads(data, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJson(f"The body is not valid JSON: {exc}.") from exc


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` value, lower case, without its parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def problem_response(error: ApiError, request_id: str | None) -> Response[str]:
    """The problem+json response of ``error``."""
    return Response(
        status_code=error.http_status,
        content_type=PROBLEM_JSON,
        body=json.dumps(error.problem(request_id)),
        headers=dict(error.headers),
    )


def finish(event: Mapping[str, Any], response: ProxyResponse) -> ProxyResponse:
    """Add what every response carries: request id, cache policy, security headers, charset."""
    headers: dict[str, list[str]] = response.setdefault("multiValueHeaders", {}) or {}
    response["multiValueHeaders"] = headers
    for name, value in (response.pop("headers", None) or {}).items():
        headers.setdefault(name, [value])
    present = {name.lower(): name for name in headers}

    def put_default(name: str, value: str) -> None:
        if name.lower() not in present:
            headers[name] = [value]
            present[name.lower()] = name

    headers["X-Request-Id"] = [request_id_of(event)]
    put_default("Cache-Control", "no-store")
    for name, value in SECURITY_HEADERS.items():
        put_default(name, value)
    content_type_key = present.get("content-type")
    if content_type_key and headers[content_type_key] == ["application/json"]:
        headers[content_type_key] = [JSON_UTF8]
    _allow_origin(event, headers, present)
    return response


def _rejected(error: ApiError, request_id: str) -> ProxyResponse:
    """A problem response built before routing, in the proxy-response shape."""
    return {
        "statusCode": error.http_status,
        "body": json.dumps(error.problem(request_id)),
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": [PROBLEM_JSON]}
        | {name: [value] for name, value in error.headers.items()},
    }


def _allow_origin(
    event: Mapping[str, Any], headers: dict[str, list[str]], present: dict[str, str]
) -> None:
    # Responses built before routing (413, 400) still need CORS so browsers can read them.
    if "access-control-allow-origin" in present:
        return
    origin = _header(event, "origin")
    allowed = get_settings().cors_allow_origin
    if origin and allowed in ("*", origin):
        headers["Access-Control-Allow-Origin"] = [allowed]
        headers["Access-Control-Expose-Headers"] = [",".join(EXPOSED_RESPONSE_HEADERS)]


def _header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == name and values:
            return str(values[-1])
    return None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _current_request_id(app: APIGatewayRestResolver) -> str:
    return app.current_event.request_context.request_id or "unknown"


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def _field_error(item: Mapping[str, Any]) -> FieldError:
    location = [str(part) for part in item.get("loc", ())]
    where = "body"
    if location and location[0] in _LOCATIONS:
        where, location = location[0], location[1:]
    message = str(item.get("msg", "invalid value"))
    if item.get("type") == "extra_forbidden":
        message = "Unknown query parameter." if where == "query" else "Unknown field."
    elif item.get("type") == "missing":
        message = "Field required."
    # A parameter is named as sent, even ``?=`` (an empty name); the body when nothing is.
    return FieldError(".".join(location) if location else where, message)
