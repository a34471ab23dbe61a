"""The HTTP edge every function shares: limits, JSON, validation, errors and headers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import Field
from support.events import FakeContext, header, proxy_event

from warung.api import create_app, make_handler
from warung.auth import AuthGate, Caller
from warung.errors import InsufficientStock, RateLimited, Unauthorized
from warung.models import Limit, RequestModel


class Line(RequestModel):
    product_id: str
    quantity: int = Field(ge=1, le=50)


class Basket(RequestModel):
    items: list[Line]
    note: str | None = None


class CallerHeaderGate(AuthGate):
    """A guard for these tests: the caller is whoever ``X-Test-Caller`` names, else 401."""

    def check(self, app: Any) -> Caller:
        name = app.current_event.headers.get("x-test-caller")
        if not name:
            raise Unauthorized("Sign in.")
        return Caller(name, "session", frozenset({"customer"}), True, {})


def build_handler() -> Any:
    app = create_app()

    @app.get("/v1/me/baskets", security=[{"bearerAuth": []}], middlewares=[CallerHeaderGate()])
    def my_baskets(limit: Limit = 20) -> dict[str, Any]:
        return {"limit": limit}

    @app.post("/v1/baskets")
    def create_basket(basket: Basket) -> dict[str, Any]:
        return {"lines": len(basket.items)}

    @app.get("/v1/baskets")
    def list_baskets(limit: Limit = 20) -> dict[str, Any]:
        return {"limit": limit}

    @app.post("/v1/stock")
    def take_stock() -> dict[str, Any]:
        raise InsufficientStock("Only 2 left of Nasi Goreng.")

    @app.post("/v1/busy")
    def busy() -> dict[str, Any]:
        raise RateLimited("Slow down.", retry_after=42)

    @app.get("/v1/crash")
    def crash() -> dict[str, Any]:
        raise RuntimeError("database password is hunter2")

    return make_handler(app)


@pytest.fixture
def handler() -> Any:
    return build_handler()


def call(handler: Any, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    response = handler(proxy_event(*args, **kwargs), FakeContext())
    body = json.loads(response["body"]) if response["body"] else {}
    return response["statusCode"], body, response


def test_valid_body_reaches_the_route_with_json_headers(handler: Any) -> None:
    status, body, response = call(
        handler, "POST", "/v1/baskets", body='{"items": [{"product_id": "p1", "quantity": 2}]}'
    )
    assert status == 200
    assert body == {"lines": 1}
    assert header(response, "Content-Type") == "application/json; charset=utf-8"
    assert header(response, "X-Request-Id") == "req-unit-1"
    assert header(response, "Cache-Control") == "no-store"
    assert header(response, "X-Content-Type-Options") == "nosniff"
    hsts = header(response, "Strict-Transport-Security")
    assert hsts is not None
    assert hsts.startswith("max-age=")


def test_malformed_json_is_400_invalid_json(handler: Any) -> None:
    status, body, response = call(handler, "POST", "/v1/baskets", body='{"items": [')
    assert status == 400
    assert body["code"] == "invalid_json"
    assert body["request_id"] == "req-unit-1"
    assert header(response, "Content-Type") == "application/problem+json"


def test_nan_is_not_json(handler: Any) -> None:
    status, body, _ = call(handler, "POST", "/v1/baskets", body='{"items": [], "note": NaN}')
    assert (status, body["code"]) == (400, "invalid_json")


def test_body_over_64_kib_is_413(handler: Any) -> None:
    note = "x" * (65 * 1024)
    status, body, _ = call(
        handler, "POST", "/v1/baskets", body=json.dumps({"items": [], "note": note})
    )
    assert status == 413
    assert body["code"] == "payload_too_large"


def test_binary_body_over_the_limit_counts_decoded_bytes(handler: Any) -> None:
    status, body, _ = call(handler, "POST", "/v1/baskets", body=b"\x00" * (64 * 1024 + 1))
    assert (status, body["code"]) == (413, "payload_too_large")


def test_body_at_the_limit_is_accepted(handler: Any) -> None:
    prefix = '{"items": [], "note": "'
    note = "x" * (64 * 1024 - len(prefix) - 2)
    status, _, _ = call(handler, "POST", "/v1/baskets", body=prefix + note + '"}')
    assert status == 200


def test_unknown_field_is_422_naming_the_field(handler: Any) -> None:
    status, body, _ = call(
        handler, "POST", "/v1/baskets", body='{"items": [], "price": 1, "is_admin": true}'
    )
    assert status == 422
    assert body["code"] == "validation_error"
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"price", "is_admin"}
    assert all(error["message"] == "Unknown field." for error in body["errors"])


def test_nested_validation_error_has_a_dotted_path(handler: Any) -> None:
    status, body, _ = call(
        handler, "POST", "/v1/baskets", body='{"items": [{"product_id": "p1", "quantity": 0}]}'
    )
    assert status == 422
    assert [error["field"] for error in body["errors"]] == ["items.0.quantity"]


def test_limit_outside_1_to_100_is_422(handler: Any) -> None:
    for limit in ("0", "101", "ten"):
        status, body, _ = call(handler, "GET", "/v1/baskets", query={"limit": limit})
        assert (status, body["code"]) == (422, "validation_error"), limit
        assert body["errors"][0]["field"] == "limit"
    status, body, _ = call(handler, "GET", "/v1/baskets", query={"limit": "100"})
    assert (status, body) == (200, {"limit": 100})


def test_domain_error_is_rendered_with_its_code(handler: Any) -> None:
    status, body, _ = call(handler, "POST", "/v1/stock", body="{}")
    assert status == 409
    assert body["code"] == "insufficient_stock"
    assert body["detail"] == "Only 2 left of Nasi Goreng."


def test_rate_limited_carries_retry_after(handler: Any) -> None:
    status, body, response = call(handler, "POST", "/v1/busy", body="{}")
    assert (status, body["code"]) == (429, "rate_limited")
    assert header(response, "Retry-After") == "42"


def test_unexpected_error_is_500_without_internals(handler: Any) -> None:
    status, body, response = call(handler, "GET", "/v1/crash")
    assert status == 500
    assert body["code"] == "internal_error"
    assert "hunter2" not in response["body"]
    assert "Traceback" not in response["body"]
    assert body["request_id"] == "req-unit-1"


def test_unknown_route_is_404_problem(handler: Any) -> None:
    status, body, response = call(handler, "GET", "/v1/nothing-here")
    assert status == 404
    assert body["code"] == "not_found"
    assert header(response, "Content-Type") == "application/problem+json"
    assert header(response, "X-Request-Id") == "req-unit-1"


def test_cors_preflight_names_the_configured_origin(handler: Any) -> None:
    response = handler(
        proxy_event(
            "OPTIONS",
            "/v1/baskets",
            headers={"Origin": "https://app.example.test", "Access-Control-Request-Method": "POST"},
        ),
        FakeContext(),
    )
    assert response["statusCode"] == 204
    assert header(response, "Access-Control-Allow-Origin") == "https://app.example.test"
    assert "Idempotency-Key" in (header(response, "Access-Control-Allow-Headers") or "")


def test_rejected_body_still_carries_cors_for_the_browser(handler: Any) -> None:
    _, _, response = call(
        handler, "POST", "/v1/baskets", body="{", headers={"Origin": "https://app.example.test"}
    )
    assert header(response, "Access-Control-Allow-Origin") == "https://app.example.test"


def test_foreign_origin_gets_no_cors_grant(handler: Any) -> None:
    _, _, response = call(
        handler, "POST", "/v1/baskets", body="{", headers={"Origin": "https://evil.example"}
    )
    assert header(response, "Access-Control-Allow-Origin") is None


def test_known_path_with_another_method_is_405_with_allow(handler: Any) -> None:
    status, body, response = call(handler, "DELETE", "/v1/baskets")
    assert status == 405
    assert body["code"] == "not_found"
    assert header(response, "Allow") == "GET, OPTIONS, POST"


def test_trace_on_a_known_path_is_405_not_a_server_error(handler: Any) -> None:
    status, _, response = call(handler, "TRACE", "/v1/stock")
    assert status == 405
    assert header(response, "Allow") == "OPTIONS, POST"


# ---------------------------------------------------------------- query parameters


def test_an_undeclared_query_parameter_is_422_naming_it(handler: Any) -> None:
    status, body, response = call(
        handler, "GET", "/v1/baskets", query={"limit": "5", "catgory": "drinks"}
    )
    assert (status, body["code"]) == (422, "validation_error")
    assert body["errors"] == [{"field": "catgory", "message": "Unknown query parameter."}]
    assert header(response, "Content-Type") == "application/problem+json"


def test_a_route_without_query_parameters_refuses_every_one(handler: Any) -> None:
    status, body, _ = call(
        handler, "POST", "/v1/stock", body="{}", query={"zzz_unknown": "1", "debug": "true"}
    )
    assert (status, body["code"]) == (422, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["debug", "zzz_unknown"]


def test_unknown_query_parameters_are_listed_with_the_bodys_errors(handler: Any) -> None:
    status, body, _ = call(
        handler,
        "POST",
        "/v1/baskets",
        body='{"items": [{"product_id": "p1", "quantity": 0}], "price": 1}',
        query={"coupon": "FREE"},
    )
    assert status == 422
    assert sorted((e["field"], e["message"]) for e in body["errors"]) == [
        ("coupon", "Unknown query parameter."),
        ("items.0.quantity", "Input should be greater than or equal to 1"),
        ("price", "Unknown field."),
    ]


def test_declared_query_parameters_are_accepted(handler: Any) -> None:
    status, body, _ = call(handler, "GET", "/v1/baskets", query={"limit": "7"})
    assert (status, body) == (200, {"limit": 7})


def test_a_repeated_declared_parameter_is_judged_by_its_type_as_before(handler: Any) -> None:
    # `?limit=8&limit=9` is not one integer: the parameter's own 422, not "unknown".
    event = proxy_event("GET", "/v1/baskets", query={"limit": "9"})
    event["multiValueQueryStringParameters"] = {"limit": ["8", "9"]}
    response = handler(event, FakeContext())
    body = json.loads(response["body"])
    assert response["statusCode"] == 422
    assert body["errors"] == [{"field": "limit", "message": "Input should be a valid integer"}]


def test_an_unknown_parameter_only_in_the_multi_value_map_is_refused_too(handler: Any) -> None:
    event = proxy_event("GET", "/v1/baskets", query={"limit": "9"})
    event["multiValueQueryStringParameters"] = {"limit": ["9"], "tag": ["a", "b"]}
    response = handler(event, FakeContext())
    body = json.loads(response["body"])
    assert response["statusCode"] == 422
    assert [error["field"] for error in body["errors"]] == ["tag"]


def test_the_caller_is_checked_before_the_query_parameters(handler: Any) -> None:
    # Anonymous: 401, and nothing about the route's parameters.
    status, body, _ = call(handler, "GET", "/v1/me/baskets", query={"zzz_unknown": "1"})
    assert (status, body["code"]) == (401, "unauthorized")
    assert "errors" not in body
    assert "zzz_unknown" not in json.dumps(body)
    # Signed in: the unknown parameter is named.
    status, body, _ = call(
        handler,
        "GET",
        "/v1/me/baskets",
        query={"zzz_unknown": "1"},
        headers={"X-Test-Caller": "sri"},
    )
    assert (status, body["code"]) == (422, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["zzz_unknown"]


def test_query_parameters_on_no_route_keep_404_405_and_the_preflight(handler: Any) -> None:
    query = {"zzz_unknown": "1"}
    assert call(handler, "GET", "/v1/nothing-here", query=query)[0] == 404
    assert call(handler, "DELETE", "/v1/baskets", query=query)[0] == 405
    preflight = handler(
        proxy_event(
            "OPTIONS",
            "/v1/baskets",
            query={"limit": "5", "zzz_unknown": "1"},
            headers={"Origin": "https://app.example.test", "Access-Control-Request-Method": "GET"},
        ),
        FakeContext(),
    )
    assert preflight["statusCode"] == 204


def test_a_parameter_with_an_empty_name_is_named_as_sent(handler: Any) -> None:
    status, body, _ = call(handler, "GET", "/v1/baskets", query={"": "1"})
    assert status == 422
    assert body["errors"] == [{"field": "", "message": "Unknown query parameter."}]


# ---------------------------------------------------------------- media types


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "text/plain"],
)
def test_a_route_with_a_body_refuses_another_media_type_even_without_a_body(
    handler: Any, content_type: str
) -> None:
    # Powertools would read an empty form as `{}`: the route takes JSON only.
    status, body, response = call(
        handler, "POST", "/v1/baskets", headers={"Content-Type": content_type}
    )
    assert (status, body["code"]) == (415, "unsupported_media_type")
    assert header(response, "Content-Type") == "application/problem+json"


def test_json_without_a_body_is_still_a_422_for_the_missing_body(handler: Any) -> None:
    status, body, _ = call(handler, "POST", "/v1/baskets")
    assert (status, body["code"]) == (422, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["body"]
