"""The shared HTTP edge, end to end: a real HTTP request through the local runtime reaches a
function built on the layer, and bad input gets a clear problem+json answer, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from warung_local.runtime import LocalRuntime

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "edge" / "template.yaml"


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    runtime = LocalRuntime(FIXTURE, port=0, emulator_port=0, seed=False, start_sources=False)
    with runtime:
        yield runtime.api_url


def post(
    api: str, body: bytes, path: str = "/v1/orders", content_type: str = "application/json"
) -> tuple[int, dict[str, str], Any]:
    request = Request(api + path, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_valid_order_is_created(api: str) -> None:
    status, headers, body = post(api, b'{"items": [{"product_id": "p1", "quantity": 2}]}')
    assert status == 201
    assert body == {"lines": 1}
    assert headers["X-Request-Id"]


def test_malformed_json_is_400_invalid_json(api: str) -> None:
    status, headers, body = post(api, b'{"items": [{"product_id": "p1",')
    assert status == 400
    assert body["code"] == "invalid_json"
    assert headers["Content-Type"] == "application/problem+json"
    assert body["request_id"] == headers["X-Request-Id"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/merge-patch+json"],
)
def test_a_body_that_is_not_json_is_415_unsupported_media_type(api: str, content_type: str) -> None:
    status, headers, body = post(api, b'{"items": []}', content_type=content_type)
    assert status == 415
    assert body["code"] == "unsupported_media_type"
    assert headers["Content-Type"] == "application/problem+json"
    assert content_type.split(";", maxsplit=1)[0] in body["detail"]


def test_json_with_a_charset_is_accepted(api: str) -> None:
    order = b'{"items": [{"product_id": "p1", "quantity": 2}]}'
    assert post(api, order, content_type="application/json; charset=utf-8")[0] == 201


def test_65_kib_body_is_413_payload_too_large(api: str) -> None:
    notes = "x" * (65 * 1024)
    payload = {"items": [{"product_id": "p1", "quantity": 1}], "notes": notes}
    status, _, body = post(api, json.dumps(payload).encode())
    assert status == 413
    assert body["code"] == "payload_too_large"


def test_unknown_field_is_422_and_names_it(api: str) -> None:
    status, _, body = post(
        api, b'{"items": [{"product_id": "p1", "quantity": 1, "unit_price": 1}], "total": 1}'
    )
    assert status == 422
    assert body["code"] == "validation_error"
    assert sorted(e["field"] for e in body["errors"]) == ["items.0.unit_price", "total"]


def test_wrong_types_are_422_not_500(api: str) -> None:
    for payload, expected in (
        (b"[]", (422, "validation_error")),
        (b'"text"', (422, "validation_error")),
        (b"null", (422, "validation_error")),
        (b'{"items": "many"}', (422, "validation_error")),
        # 1e400 overflows to infinity: not an integer quantity
        (b'{"items": [{"quantity": 1e400}]}', (422, "validation_error")),
    ):
        status, _, body = post(api, payload)
        assert (status, body["code"]) == expected, payload


def test_unknown_route_is_404_problem(api: str) -> None:
    status, _, body = post(api, b"{}", path="/v1/nowhere")
    assert status == 404
    assert body["code"] == "not_found"
