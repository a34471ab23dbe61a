"""Every operation of the generated OpenAPI document, through the real template on the local
runtime, refuses what it does not take in one way (docs/api-guide.md, "Errors"):

- a query parameter it does not declare: `422 validation_error` naming it, like an unknown
  body field. The caller is checked first: an anonymous request to a protected operation
  is a 401 that says nothing about parameters;
- a body that is not JSON, or a request that says it sends one (`Content-Type`) without a
  body: `415 unsupported_media_type`, never a 422 or a validated empty form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from support.http import Reply, call
from warung_demo.seeders import demo_accounts, signing_key

from warung_local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
METHODS = ("get", "put", "post", "delete", "patch")
UNKNOWN = {"field": "zzz_unknown", "message": "Unknown query parameter."}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


OPERATIONS = operations()
IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with LocalRuntime(
        ROOT / "template.yaml", port=0, emulator_port=0, seed=False, start_sources=False
    ) as runtime:
        # The signing key and the demo accounts only: no merchants are needed.
        signing_key(runtime.template, runtime.endpoint_url)
        demo_accounts(runtime.template, runtime.endpoint_url)
        yield runtime.api_url


@pytest.fixture(scope="module")
def admin_token(api: str) -> str:
    """An admin with a verified address: every guard of the API lets it through."""
    login = call(
        api,
        "POST",
        "/v1/auth/login",
        {"email": "admin@example.com", "password": "warung-demo-password"},
    )
    assert login.status == 200, login.body
    return str(login.body["access_token"])


def url(path: str) -> str:
    """The operation's path with every path parameter filled in, and the made-up parameter."""
    return re.sub(r"\{[^}]+\}", "zzz", path) + "?zzz_unknown=1"


def test_the_document_has_the_operations_of_every_function() -> None:
    assert len(OPERATIONS) >= 50
    tags = {tag for _, _, operation in OPERATIONS for tag in operation.get("tags", [])}
    assert {"auth", "admin", "me", "platform"} <= tags


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_an_undeclared_query_parameter_is_422_naming_it(
    api: str, admin_token: str, method: str, path: str, operation: dict[str, Any]
) -> None:
    reply = call(api, method, url(path), token=admin_token)

    assert (reply.status, reply.body["code"]) == (422, "validation_error"), reply.body
    assert reply.header("Content-Type") == "application/problem+json"
    assert UNKNOWN in reply.body["errors"]
    declared = {parameter["name"] for parameter in operation.get("parameters", [])}
    assert "zzz_unknown" not in declared
    required = [p for p in operation.get("parameters", []) if p.get("required")]
    if "requestBody" not in operation and all(p["in"] == "path" for p in required):
        # nothing else is wrong with the request: the unknown parameter is the only error
        assert reply.body["errors"] == [UNKNOWN]


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [(m, p, o) for m, p, o in OPERATIONS if o.get("security")],
    ids=[i for i, (_, _, o) in zip(IDS, OPERATIONS, strict=True) if o.get("security")],
)
def test_an_anonymous_caller_gets_401_before_any_parameter_is_judged(
    api: str, method: str, path: str, operation: dict[str, Any]
) -> None:
    reply = call(api, method, url(path))

    assert (reply.status, reply.body["code"]) == (401, "unauthorized")
    assert "errors" not in reply.body
    assert "zzz_unknown" not in json.dumps(reply.body)


def test_the_declared_parameters_still_work_next_to_an_unknown_one(
    api: str, admin_token: str
) -> None:
    listed = call(api, "GET", "/v1/admin/users?role=admin&limit=5", token=admin_token)
    refused = call(api, "GET", "/v1/admin/users?role=admin&limit=5&rol=x", token=admin_token)

    # The emulation may hold other tests' admins too: the filter and the limit still apply.
    assert listed.status == 200
    emails = [item["email"] for item in listed.body["items"]]
    assert "admin@example.com" in emails or len(emails) == 5
    assert all("admin" in item["roles"] for item in listed.body["items"])
    assert 1 <= len(emails) <= 5
    assert (refused.status, refused.body["errors"]) == (
        422,
        [{"field": "rol", "message": "Unknown query parameter."}],
    )


# ---------------------------------------------------------------- media types

NOT_JSON = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b")
WITH_BODY = [(m, p, o) for m, p, o in OPERATIONS if "requestBody" in o]
WITH_BODY_IDS = [f"{m} {p}" for m, p, _ in WITH_BODY]


@pytest.mark.parametrize("content_type", NOT_JSON)
@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODY, ids=WITH_BODY_IDS)
def test_a_body_that_is_not_json_is_415(
    api: str, admin_token: str, method: str, path: str, operation: dict[str, Any], content_type: str
) -> None:
    assert operation["requestBody"]["content"].keys() == {"application/json"}
    target = re.sub(r"\{[^}]+\}", "zzz", path)
    for body in (b'{"a": 1}', b"a=1", None):
        reply = send(api, method, target, body, content_type, admin_token)
        assert (reply.status, reply.body["code"]) == (415, "unsupported_media_type"), body
        assert reply.header("Content-Type") == "application/problem+json"


def test_the_checks_before_415_keep_their_place(api: str, admin_token: str) -> None:
    # Anonymous without a body: the guard answers first (nothing was sent to judge).
    anonymous = send(api, "PATCH", "/v1/me", None, "text/plain", None)
    # With a body: the edge refuses it before routing, whoever asks.
    edge = send(api, "PATCH", "/v1/me", b"name=Sri", "text/plain", None)
    # A route that takes no body ignores the media type of a request without one.
    no_body = send(api, "GET", "/v1/health", None, "text/plain", admin_token)

    assert (anonymous.status, anonymous.body["code"]) == (401, "unauthorized")
    assert (edge.status, edge.body["code"]) == (415, "unsupported_media_type")
    assert no_body.status == 200


def send(
    api: str, method: str, path: str, body: bytes | None, content_type: str, token: str | None
) -> Reply:
    """One request with exactly this body and ``Content-Type`` (``call`` sends JSON)."""
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = Request(api + path, data=body, method=method, headers=headers)
    try:
        with urlopen(request, timeout=30) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    return Reply(status, got, json.loads(raw) if raw else None)
