"""Route matching precedence and the proxy events and responses of the gateway."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from warung_local.gateway import (
    CorsPolicy,
    MalformedResponse,
    Router,
    build_proxy_event,
    translate_response,
)
from warung_local.template import ApiRoute

ROUTES = [
    ApiRoute("GET", "/v1/items/{id}", "Items"),
    ApiRoute("GET", "/v1/items/special", "Special"),
    ApiRoute("ANY", "/v1/items/{id}", "ItemsAny"),
    ApiRoute("GET", "/docs", "Docs"),
    ApiRoute("GET", "/docs/{proxy+}", "DocsAssets"),
    ApiRoute("ANY", "/{proxy+}", "NotFound"),
]


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/v1/items/special", "Special", None),  # static beats {param}
        ("GET", "/v1/items/42", "Items", {"id": "42"}),  # exact method beats ANY
        ("DELETE", "/v1/items/42", "ItemsAny", {"id": "42"}),
        ("GET", "/docs", "Docs", None),
        ("GET", "/docs/swagger-ui/index.css", "DocsAssets", {"proxy": "swagger-ui/index.css"}),
        ("POST", "/docs/x", "NotFound", {"proxy": "docs/x"}),  # no POST there: the catch-all
        ("GET", "/v1/unknown/deep/path", "NotFound", {"proxy": "v1/unknown/deep/path"}),
        ("GET", "/v1/items/a%20b", "Items", {"id": "a b"}),
    ],
)
def test_the_most_specific_route_wins(
    method: str, path: str, function: str, params: dict[str, str] | None
) -> None:
    match = Router(ROUTES).match(method, path)

    assert match is not None
    assert match.route.function_id == function
    assert (match.path_parameters or None) == params


def test_no_route_without_a_catch_all() -> None:
    router = Router(
        [ApiRoute("GET", "/v1/health", "Health"), ApiRoute("GET", "/docs/{proxy+}", "Docs")]
    )

    assert router.match("POST", "/v1/health") is None
    assert router.match("GET", "/v1/healthz") is None
    assert router.match("GET", "/docs") is None  # a greedy parameter needs one segment at least
    assert router.has_path("/v1/health")


def test_event_has_multi_value_headers_and_query_and_the_last_value_wins() -> None:
    match = Router(ROUTES).match("GET", "/v1/items/7")
    now = dt.datetime(2026, 11, 26, 8, 15, tzinfo=dt.UTC)

    event = build_proxy_event(
        "GET",
        "/v1/items/7",
        [("tag", "a"), ("tag", "b"), ("q", "x")],
        [("Accept", "text/plain"), ("Accept", "application/json"), ("User-Agent", "tests")],
        None,
        match,
        "local",
        request_id="req-1",
        now=now,
        host="127.0.0.1:3000",
    )

    assert event["resource"] == "/v1/items/{id}"
    assert event["pathParameters"] == {"id": "7"}
    assert event["queryStringParameters"] == {"tag": "b", "q": "x"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["x"]}
    assert event["headers"]["Accept"] == "application/json"
    assert event["multiValueHeaders"]["Accept"] == ["text/plain", "application/json"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["path"] == "/local/v1/items/7"
    assert context["stage"] == "local"
    assert context["requestId"] == "req-1"
    assert context["identity"]["userAgent"] == "tests"
    assert context["requestTimeEpoch"] == int(now.timestamp() * 1000)
    assert context["requestTime"] == "26/Nov/2026:08:15:00 +0000"


def test_event_without_query_has_none_and_proxy_parameter() -> None:
    match = Router(ROUTES).match("GET", "/docs/a/b.js")

    event = build_proxy_event("GET", "/docs/a/b.js", [], [], None, match, "local")

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] == {"proxy": "a/b.js"}


def test_binary_media_types_and_invalid_utf8_are_base64_encoded() -> None:
    png = b"\x89PNG\r\n"
    text_event = build_proxy_event(
        "POST",
        "/x",
        [],
        [("Content-Type", "application/json")],
        b'{"a":1}',
        None,
        "local",
        ["image/*"],
    )
    image_event = build_proxy_event(
        "POST", "/x", [], [("Content-Type", "image/png")], png, None, "local", ["image/*"]
    )
    garbage_event = build_proxy_event(
        "POST", "/x", [], [("Content-Type", "text/plain")], b"\xff\xfe", None, "local", []
    )

    assert (text_event["body"], text_event["isBase64Encoded"]) == ('{"a":1}', False)
    assert (image_event["body"], image_event["isBase64Encoded"]) == (
        base64.b64encode(png).decode(),
        True,
    )
    assert garbage_event["isBase64Encoded"] is True


def test_proxy_response_translates_headers_and_base64_body() -> None:
    status, headers, body = translate_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "image/png"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )

    assert status == 201
    assert ("Set-Cookie", "a=1") in headers
    assert ("Set-Cookie", "b=2") in headers
    assert ("Content-Type", "image/png") in headers
    assert body == b"\x00\x01"


@pytest.mark.parametrize(
    "payload",
    [
        "text",
        {"statusCode": "abc"},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "extra": 1},
    ],
)
def test_malformed_proxy_responses_are_rejected(payload: object) -> None:
    with pytest.raises(MalformedResponse):
        translate_response(payload)


def test_a_cors_origin_that_is_not_an_origin_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"^--cors-origin: expected an origin such as") as raised:
        CorsPolicy("http://localhost:5173/app")
    assert "\n" not in str(raised.value)


def test_the_cors_policy_replaces_the_functions_grant_and_keeps_other_vary_values() -> None:
    function_headers = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "ETag,X-Request-Id"),
        ("Vary", "Accept-Encoding"),
        ("Content-Type", "application/json"),
    ]

    local = CorsPolicy().apply(function_headers, "http://localhost:3001")
    foreign = CorsPolicy().apply(function_headers, "https://evil.example")

    assert local == [
        ("Access-Control-Expose-Headers", "ETag,X-Request-Id"),
        ("Content-Type", "application/json"),
        ("Vary", "Accept-Encoding, Origin"),
        ("Access-Control-Allow-Origin", "http://localhost:3001"),
    ]
    assert foreign == [("Content-Type", "application/json"), ("Vary", "Accept-Encoding, Origin")]
