"""A misspelt filter is refused, not ignored: `GET /v1/products?catgory=drinks` used to list
every product as if no filter had been given."""

from __future__ import annotations

from support.http import call


def test_a_misspelt_filter_is_422_naming_it(api_url: str) -> None:
    reply = call(api_url, "GET", "/v1/products?catgory=drinks")

    assert reply.status == 422
    assert reply.header("Content-Type") == "application/problem+json"
    assert reply.body["code"] == "validation_error"
    assert reply.body["errors"] == [{"field": "catgory", "message": "Unknown query parameter."}]


def test_every_unknown_parameter_is_named_next_to_a_known_one(api_url: str) -> None:
    reply = call(api_url, "GET", "/v1/products?category=drinks&catgory=drinks&sortby=price")

    assert reply.status == 422
    assert sorted(error["field"] for error in reply.body["errors"]) == ["catgory", "sortby"]
