"""One error hierarchy with the documented codes; one OpenAPI document that declares them."""

from __future__ import annotations

from typing import Any

import pytest

from warung import errors
from warung.errors import ERROR_CODES, ApiError, FieldError, ValidationFailed
from warung.openapi import merge


def all_error_classes() -> list[type[ApiError]]:
    found = [ApiError]
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, ApiError):
            found.append(value)
    return found


def test_every_error_class_uses_a_spec_code() -> None:
    codes = {cls.code for cls in all_error_classes()}
    assert codes <= set(ERROR_CODES)
    assert set(ERROR_CODES) <= codes  # and every spec code has a class


def test_problem_body_has_the_spec_shape() -> None:
    error = ValidationFailed("bad", errors=[FieldError("items.0.quantity", "too small")])
    assert error.problem("req-1") == {
        "type": "urn:warung:problem:validation_error",
        "title": "Invalid request",
        "status": 422,
        "code": "validation_error",
        "detail": "bad",
        "request_id": "req-1",
        "errors": [{"field": "items.0.quantity", "message": "too small"}],
    }


def doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": schemas or {}}}


def test_merge_joins_functions_and_declares_problem_errors() -> None:
    ok = {"200": {"description": "ok"}}
    merged = merge(
        [
            doc({"/v1/a": {"get": {"responses": dict(ok)}}}, {"A": {"type": "object"}}),
            doc({"/v1/b": {"post": {"responses": {**ok, "409": {"description": "conflict"}}}}}),
        ],
        title="T",
        version="1",
    )
    assert set(merged["paths"]) == {"/v1/a", "/v1/b"}
    assert merged["openapi"] == "3.1.0"
    post = merged["paths"]["/v1/b"]["post"]["responses"]
    for status in ("400", "409", "413", "422", "500"):
        assert post[status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert "A" in merged["components"]["schemas"]
    assert merged["components"]["schemas"]["Problem"]["properties"]["code"]["enum"] == list(
        ERROR_CODES
    )


def test_merge_refuses_a_route_defined_twice() -> None:
    twice = doc({"/v1/a": {"get": {"responses": {}}}})
    with pytest.raises(ValueError, match="GET /v1/a"):
        merge([twice, twice], title="T", version="1")


def test_a_routes_own_words_on_a_shared_status_come_first() -> None:
    validation = {
        "description": "Validation Error",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
        },
    }
    merged = merge(
        [
            doc(
                {
                    "/v1/links": {
                        "post": {
                            "responses": {
                                "200": {"description": "ok"},
                                "400": {"description": "`invalid_token`: unknown link."},
                                "422": validation,
                            }
                        }
                    }
                }
            )
        ],
        title="T",
        version="1",
    )
    responses = merged["paths"]["/v1/links"]["post"]["responses"]
    assert responses["400"]["description"] == (
        "`invalid_token`: unknown link. Also: Malformed request (invalid JSON, bad cursor)."
    )
    # Powertools' generated 422 is not the route's: the shared meaning alone
    assert responses["422"]["description"].startswith("The request does not match the contract")
    assert "Validation Error" not in responses["422"]["description"]
