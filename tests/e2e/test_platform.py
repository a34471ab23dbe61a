"""Platform routes as a client sees them: health, the OpenAPI document and the docs page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

ROOT = Path(__file__).resolve().parents[2]


def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, Any, bytes]:
    request = Request(url, method=method, headers=headers or {})
    try:
        with urlopen(request, timeout=15) as response:
            return response.status, response.headers, response.read()
    except HTTPError as error:
        return error.code, error.headers, error.read()


def test_health_is_ok_with_a_request_id(api_url: str) -> None:
    status, headers, body = fetch(f"{api_url}/v1/health")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    assert json.loads(body)["version"]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["X-Request-Id"])
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_each_request_gets_its_own_request_id(api_url: str) -> None:
    ids = {fetch(f"{api_url}/v1/health")[1]["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_unknown_route_is_404_problem_json(api_url: str) -> None:
    status, headers, body = fetch(f"{api_url}/v1/does-not-exist")
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "not_found"
    assert problem["request_id"] == headers["X-Request-Id"]


def test_openapi_document_is_the_committed_one(api_url: str) -> None:
    status, headers, body = fetch(f"{api_url}/v1/openapi.json")
    assert status == 200
    served = json.loads(body)
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert served["openapi"].startswith("3.1")
    assert served["paths"] == committed["paths"]
    assert served["components"] == committed["components"]
    assert served["servers"]  # the deployment's own base path
    assert int(headers["Cache-Control"].split("max-age=")[1]) <= 60


def test_docs_page_loads_only_assets_the_api_serves(api_url: str) -> None:
    status, headers, body = fetch(f"{api_url}/docs", headers={"Accept": "text/html"})
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    references = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert references, "the page references its assets"
    assert not [ref for ref in references if "//" in ref], "no CDN or absolute URL"
    for reference in references:
        asset_status, asset_headers, asset = fetch(f"{api_url}/{reference}")
        assert asset_status == 200, reference
        assert asset, reference
        assert asset_headers["Content-Type"].split(";")[0] in ("application/javascript", "text/css")


def test_unknown_docs_asset_is_404(api_url: str) -> None:
    status, _, body = fetch(f"{api_url}/docs/evil.js")
    assert status == 404
    assert json.loads(body)["code"] == "not_found"


def test_cors_preflight_allows_the_configured_origin(api_url: str) -> None:
    status, headers, _ = fetch(
        f"{api_url}/v1/health",
        method="OPTIONS",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"},
    )
    assert status in (200, 204)
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


@pytest.mark.usefixtures("local_only")
def test_locally_a_front_end_on_any_port_reads_answers_and_their_headers(api_url: str) -> None:
    # A dev server on another port than the template's origin (5173) sees what 5173 sees.
    origin = "http://localhost:3001"
    status, headers, _ = fetch(f"{api_url}/v1/health", headers={"Origin": origin})

    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == origin
    assert "X-Request-Id" in headers["Access-Control-Expose-Headers"].split(",")
    assert "Origin" in headers["Vary"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsupported_method_on_health_is_405_with_allow(api_url: str, method: str) -> None:
    status, headers, body = fetch(f"{api_url}/v1/health", method=method)
    assert status == 405
    assert headers["Allow"] == "GET, OPTIONS"
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == "not_found"
