"""The gateway over real HTTP, with the fixture application."""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from support.dev import running_dev, stop_dev

from warung_local.runtime import LocalRuntime

FIXTURE_TEMPLATE = (
    Path(__file__).resolve().parents[2] / "fixtures" / "local_runtime" / "template.yaml"
)


def _request(
    runtime: LocalRuntime,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(
        runtime.api_url + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _echo(runtime: LocalRuntime, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    status, _, body = _request(runtime, method, path, **kwargs)
    assert status == 200, body
    event: dict[str, Any] = json.loads(body)["event"]
    return event


def test_path_parameters_and_static_segments(fixture_runtime: LocalRuntime) -> None:
    item = _echo(fixture_runtime, "GET", "/items/42")
    special = _echo(fixture_runtime, "GET", "/items/special")

    assert (item["resource"], item["pathParameters"]) == ("/items/{id}", {"id": "42"})
    assert (special["resource"], special["pathParameters"]) == ("/items/special", None)
    assert item["requestContext"]["stage"] == "local"
    assert item["requestContext"]["path"] == "/local/items/42"


def test_greedy_proxy_and_query_strings(fixture_runtime: LocalRuntime) -> None:
    event = _echo(fixture_runtime, "GET", "/files/a/b/c.txt?tag=x&tag=y&empty=")

    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["queryStringParameters"] == {"tag": "y", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["x", "y"], "empty": [""]}


def test_any_method_route_gets_the_body(fixture_runtime: LocalRuntime) -> None:
    event = _echo(
        fixture_runtime,
        "PATCH",
        "/echo",
        body=b'{"name":"Nasi"}',
        headers={"Content-Type": "application/json"},
    )

    assert event["httpMethod"] == "PATCH"
    assert (event["body"], event["isBase64Encoded"]) == ('{"name":"Nasi"}', False)


def test_binary_request_and_response_bodies_are_base64(fixture_runtime: LocalRuntime) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00"
    event = _echo(fixture_runtime, "POST", "/echo", body=png, headers={"Content-Type": "image/png"})
    status, headers, body = _request(fixture_runtime, "GET", "/files/logo.png")

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png
    assert (status, headers["Content-Type"], body) == (200, "image/png", b"\x89PNG\r\n\x1a\n")


def test_multi_value_response_headers_reach_the_client(fixture_runtime: LocalRuntime) -> None:
    _, headers, _ = _request(fixture_runtime, "GET", "/echo")

    assert headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert headers["X-Request-Id"]


def test_unknown_route_is_a_problem_json_404(fixture_runtime: LocalRuntime) -> None:
    status, headers, body = _request(fixture_runtime, "GET", "/nowhere")

    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "not_found"
    assert problem["detail"] == "No route for GET /nowhere"
    assert problem["request_id"] == headers["X-Request-Id"]


def test_cors_preflight_answers_from_the_template(fixture_runtime: LocalRuntime) -> None:
    status, headers, body = _request(
        fixture_runtime,
        "OPTIONS",
        "/items/42",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"},
    )

    assert (status, body) == (204, b"")
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type"
    assert headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize(
    "origin", ["http://localhost:5173", "http://localhost:3001", "http://127.0.0.1:8080"]
)
def test_a_preflight_from_any_local_port_gets_its_own_origin_back(
    fixture_runtime: LocalRuntime, origin: str
) -> None:
    status, headers, _ = _request(
        fixture_runtime,
        "OPTIONS",
        "/items/42",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )

    assert status == 204
    assert headers.get_all("Access-Control-Allow-Origin") == [origin]
    assert headers["Vary"] == "Origin"
    assert headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"


@pytest.mark.parametrize("origin", ["http://localhost:4200", "http://127.0.0.1:3000"])
def test_an_answer_to_a_local_origin_echoes_it(fixture_runtime: LocalRuntime, origin: str) -> None:
    status, headers, _ = _request(fixture_runtime, "GET", "/items/42", headers={"Origin": origin})

    assert status == 200
    assert headers.get_all("Access-Control-Allow-Origin") == [origin]
    assert "Origin" in [part.strip() for part in headers["Vary"].split(",")]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost.evil.example",
        "https://localhost:5173",  # not the scheme a local dev server uses
        "http://192.168.1.20:5173",
        "null",
    ],
)
def test_any_other_origin_gets_no_allow_origin(fixture_runtime: LocalRuntime, origin: str) -> None:
    _, preflight, _ = _request(
        fixture_runtime,
        "OPTIONS",
        "/items/42",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    status, answer, _ = _request(fixture_runtime, "GET", "/items/42", headers={"Origin": origin})

    assert status == 200
    assert preflight.get("Access-Control-Allow-Origin") is None
    assert answer.get("Access-Control-Allow-Origin") is None
    assert preflight["Vary"] == "Origin"


@pytest.mark.parametrize("path", ["/boom", "/bad-response"])
def test_function_failure_is_a_502_without_details(
    fixture_runtime: LocalRuntime, path: str
) -> None:
    status, headers, body = _request(fixture_runtime, "GET", path)

    assert status == 502
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "internal_error"
    assert "secret internal detail" not in body.decode()
    assert "Traceback" not in body.decode()
    assert "app.py" not in body.decode()


@pytest.mark.parametrize("raw", [False, True])
def test_local_mail_lists_an_email_sent_through_sesv2(
    fixture_runtime: LocalRuntime, raw: bool
) -> None:
    # given: a function sends a text+HTML email (simple or raw MIME)
    recipient = f"customer-{'raw' if raw else 'simple'}@example.com"
    request = {
        "to": recipient,
        "subject": "Your order",
        "text": "Paid: 25000",
        "html": "<p>Paid: <b>25000</b></p>",
        "raw": raw,
    }
    status, _, _ = _request(
        fixture_runtime,
        "POST",
        "/mail",
        body=json.dumps(request).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 202

    # when: the developer looks at the local mailbox for that address
    status, headers, body = _request(fixture_runtime, "GET", f"/_local/mail?to={recipient}")

    # then: the email is there with both parts
    assert (status, headers["Content-Type"]) == (200, "application/json")
    (mail,) = json.loads(body)
    assert mail["to"] == [recipient]
    assert mail["from"] == "noreply@warung.test"
    assert mail["subject"] == "Your order"
    assert mail["text"].strip() == "Paid: 25000"
    assert mail["html"].strip() == "<p>Paid: <b>25000</b></p>"
    assert mail["sent_at"].endswith("Z")


def test_local_mail_without_filter_lists_oldest_first(fixture_runtime: LocalRuntime) -> None:
    for n in (1, 2):
        request = {
            "to": f"order-{n}@example.com",
            "subject": f"n{n}",
            "text": "t",
            "html": "<p>h</p>",
        }
        _request(fixture_runtime, "POST", "/mail", body=json.dumps(request).encode())

    _, _, body = _request(fixture_runtime, "GET", "/_local/mail")

    subjects = [m["subject"] for m in json.loads(body)]
    assert subjects.index("n1") < subjects.index("n2")


@pytest.mark.parametrize("declared", ["w", "-1", "1e3", "٣"])
def test_a_content_length_that_is_not_a_length_is_a_400_not_a_dropped_connection(
    fixture_runtime: LocalRuntime, declared: str
) -> None:
    host, port = fixture_runtime.api_url.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        head = f"POST /echo HTTP/1.1\r\nHost: {host}\r\nContent-Length: {declared}\r\n\r\n"
        connection.sendall(head.encode() + b"{}")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk

    answer_head, _, body = answer.partition(b"\r\n\r\n")
    assert answer_head.split(b"\r\n", 1)[0] == b"HTTP/1.1 400 Bad Request"
    assert b"Content-Type: application/problem+json" in answer_head
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (400, "validation_error")
    assert "Content-Length" in problem["detail"]


def test_cors_origin_allows_exactly_that_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: `make dev CORS_ORIGIN=https://app.example.test` (make passes it in the environment)
    monkeypatch.setitem(os.environ, "CORS_ORIGIN", "https://app.example.test")
    with running_dev(tmp_path / "dev.log", template=FIXTURE_TEMPLATE) as dev:
        base = f"http://127.0.0.1:{dev.port}"

        def allowed(origin: str) -> str | None:
            request = urllib.request.Request(
                base + "/items/42",
                method="OPTIONS",
                headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                value: str | None = response.headers.get("Access-Control-Allow-Origin")
                return value

        # then: that origin only; a local one no longer
        assert allowed("https://app.example.test") == "https://app.example.test"
        assert allowed("http://localhost:5173") is None
        assert allowed("https://evil.example") is None
        assert "CORS           https://app.example.test only" in dev.output
        assert stop_dev(dev) == 0
