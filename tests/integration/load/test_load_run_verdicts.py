"""`python -m warung_load` end to end against a stand-in API: the exit code and the report
an operator sees when every answer is as expected (and the route mix of such a run, in the
ratios the scenario states), when answers are 5xx, 429s the scenario did not provoke or
dropped connections, and when the target is not ready for a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from warung_load import scenario

ROOT = Path(__file__).resolve().parents[3]
MERCHANT = {"id": "m-1", "name": scenario.LOAD_MERCHANT}


class StandIn(ThreadingHTTPServer):
    """The few routes the scenario calls, answered as the API does; ``faults`` maps a pool
    address to what its sign-in gets instead: a status, or "drop" (closed unanswered)."""

    daemon_threads = True

    def __init__(self, faults: dict[str, int | str]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.faults = faults
        self.checkouts_without_key = 0


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *_: Any) -> None:
        pass

    def _answer(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _route(self, method: str) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        fault = self.server.faults.get(body.get("email", "")) if path == "/v1/auth/login" else None
        decoy = body.get("email") == scenario.DECOY_EMAIL
        if fault == "drop" and not decoy:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if isinstance(fault, int) and not decoy:
            self._answer(fault, {"code": "stand_in"})
            return
        self._answer(*self._normal(method, path, decoy))

    def _normal(self, method: str, path: str, decoy: bool) -> tuple[int, Any]:
        if (method, path) == ("POST", "/v1/auth/login"):
            # the decoy is locked, as it is after five wrong passwords
            return (429, {"code": "rate_limited"}) if decoy else (200, TOKENS)
        if (method, path) == ("GET", "/v1/merchants"):
            return 200, {"items": [MERCHANT], "next_cursor": None}
        if (method, path) == ("GET", "/v1/products"):
            items = [{"id": f"p-{n}", "available": True} for n in range(3)]
            return 200, {"items": items, "next_cursor": None}
        if method == "PUT" and path.startswith("/v1/cart/items/"):
            return 200, {"items": []}
        if (method, path) == ("POST", "/v1/cart/quote"):
            return 200, {"total": 1000}
        if (method, path) == ("POST", "/v1/orders"):
            if not self.headers.get("Idempotency-Key"):
                return 400, {"code": "idempotency_key_missing"}
            return 201, {"id": "o-1", "payment": {"id": "pay-1"}, "status": "pending_payment"}
        if (method, path) == ("POST", "/v1/payments/pay-1/simulate"):
            return 202, {"status": "pending"}
        if (method, path) == ("GET", "/v1/orders/o-1"):
            return 200, {"id": "o-1", "status": "paid"}
        return 404, {"code": "not_found"}

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")


TOKENS = {"access_token": "t", "refresh_token": "r", "token_type": "Bearer", "expires_in": 900}


@pytest.fixture
def stand_in(request: pytest.FixtureRequest) -> Iterator[str]:
    server = StandIn(getattr(request, "param", {}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _load(api: str, users: int, seconds: int, think: str = "0.05,0.1") -> tuple[int, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tools"), str(ROOT / "layers" / "common")]),
        "LOAD_PASSWORD": "load-test-password",
        "LOAD_THINK_S": think,
    }
    command = [sys.executable, "-m", "warung_load", "--api-url", api]
    command += ["--users", str(users), "--duration", f"{seconds}s"]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout + done.stderr


def _row(report: str, route: str) -> list[int]:
    """reqs and the four failure columns of ``route``'s line of the table."""
    [line] = [x for x in report.splitlines() if x.startswith(route + "  ")]
    cells = line[len(route) :].split()
    return [int(cells[0]), *(int(c) for c in cells[4:])]


def test_a_run_with_only_expected_answers_passes_in_the_stated_mix(stand_in: str) -> None:
    code, report = _load(stand_in, users=4, seconds=3, think="0,0.01")
    assert code == 0, report
    assert "PASS: no 5xx, connection error, unplanned 429 or unexpected answer" in report
    reqs = {route.name: _row(report, route.name)[0] for route in scenario.ROUTES}
    assert all(_row(report, r.name)[1:] == [0, 0, 0, 0] for r in scenario.ROUTES), report
    # each order task places an order or follows the last one; sign-in also runs at start
    tasks = {
        "search": reqs[scenario.SEARCH.name],
        "menu": reqs[scenario.MENU.name],
        "nearby": reqs[scenario.NEARBY.name],
        "sign_in": reqs[scenario.SIGN_IN.name] - 4,
        "order": reqs[scenario.CHECKOUT.name] + reqs[scenario.TRACK.name],
        "lockout": reqs[scenario.LOCKOUT.name],
    }
    total = sum(tasks.values())
    assert total > 500, report
    for task in scenario.MIX:
        assert abs(tasks[task.name] / total - task.weight / 100) < 0.04, (task, tasks)
    # an order is cart (two products), quote, checkout with its key, payment
    assert reqs[scenario.CART_PUT.name] == 2 * reqs[scenario.CHECKOUT.name]
    assert reqs[scenario.QUOTE.name] == reqs[scenario.CHECKOUT.name] == reqs[scenario.PAY.name]
    placed, seen_paid = reqs[scenario.CHECKOUT.name], reqs[scenario.TRACK.name]
    assert f"orders: {placed} placed, {seen_paid} seen paid" in report
    # the decoy's lockout answered 429 every time: planned, and said so
    assert f"planned 429: {reqs[scenario.LOCKOUT.name]} on POST /v1/auth/login (decoy)" in report


# Each customer of the pool meets another fault on signing in (the route every one calls).
FAULTS = {
    scenario.pool_email(1): 500,
    scenario.pool_email(2): 429,
    scenario.pool_email(3): "drop",
}


@pytest.mark.parametrize("stand_in", [FAULTS], indirect=True)
def test_5xx_unplanned_429s_and_dropped_connections_fail_the_run_counted_per_kind(
    stand_in: str,
) -> None:
    code, report = _load(stand_in, users=3, seconds=1)
    assert code == 1, report
    reqs, server_errors, dropped, unplanned, other = _row(report, "POST /v1/auth/login")
    assert min(server_errors, dropped, unplanned) > 0, report
    assert (server_errors + dropped + unplanned, other) == (reqs, 0)
    verdict = next(line for line in report.splitlines() if line.startswith("FAIL: "))
    assert verdict == (
        f"FAIL: {server_errors} 5xx (POST /v1/auth/login); "
        f"{dropped} connection errors (POST /v1/auth/login); "
        f"{unplanned} unplanned 429 (POST /v1/auth/login)"
    )


def test_a_target_without_the_pools_merchant_stops_before_the_run(stand_in: str) -> None:
    MERCHANT["name"] = "Another Warung"
    try:
        code, report = _load(stand_in, users=1, seconds=1)
    finally:
        MERCHANT["name"] = scenario.LOAD_MERCHANT
    assert code == 2, report
    assert f"no active merchant {scenario.LOAD_MERCHANT!r}" in report
    assert "route" not in report  # no table: nothing ran


def test_a_target_that_does_not_answer_stops_before_the_run() -> None:
    from warung_local.emulation import free_port

    code, report = _load(f"http://127.0.0.1:{free_port()}", users=1, seconds=1)
    assert code == 2, report
    assert "does not answer" in report
