"""What `dev` prints while it serves: one line per request, and one short line (never a
traceback) for a client that went away before its answer."""

from __future__ import annotations

import re
import socket
import struct
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from support.dev import Dev, running_dev, stop_dev

FIXTURE_TEMPLATE = (
    Path(__file__).resolve().parents[2] / "fixtures" / "local_runtime" / "template.yaml"
)


def _get(dev: Dev, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{dev.port}{path}", method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _lines_about(output: str, text: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


def test_each_request_is_one_line_with_method_path_function_status_and_duration(
    tmp_path: Path,
) -> None:
    marker = uuid.uuid4().hex[:8]
    with running_dev(tmp_path / "dev.log", template=FIXTURE_TEMPLATE) as dev:
        # when: a function's route (with a query), a preflight, a path without a route
        assert _get(dev, f"/items/{marker}-get?email=someone@example.com") == 200
        preflight = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"}
        assert _get(dev, f"/items/{marker}-cors", "OPTIONS", preflight) == 204
        assert _get(dev, f"/nowhere-{marker}") == 404
        assert stop_dev(dev) == 0  # everything it printed is in the file now
        output = dev.output

    # then: one line each, naming who answered, without the query string
    (routed,) = _lines_about(output, f"/items/{marker}-get")
    assert re.search(rf"GET /items/{marker}-get -> WebFunction 200 \(\d+ ms\)$", routed), routed
    (cors,) = _lines_about(output, f"/items/{marker}-cors")
    assert re.search(rf"OPTIONS /items/{marker}-cors -> CORS preflight 204 \(\d+ ms\)$", cors)
    (missing,) = _lines_about(output, f"/nowhere-{marker}")
    assert re.search(rf"GET /nowhere-{marker} -> no route 404 \(\d+ ms\)$", missing), missing
    assert "someone@example.com" not in output


def test_a_client_that_disconnects_early_is_one_short_line(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex[:8]
    with running_dev(tmp_path / "dev.log", template=FIXTURE_TEMPLATE) as dev:
        # given: a client that sends a request and resets the connection at once
        with socket.create_connection(("127.0.0.1", dev.port), timeout=10) as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.sendall(f"GET /items/{marker} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        # when: the server has noticed (its line is written once the answer failed)
        deadline = time.monotonic() + 10
        while "closed the connection" not in dev.output and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _get(dev, "/items/after") == 200  # and it serves on
        assert stop_dev(dev) == 0
        output = dev.output

    # then: one short line, no traceback
    assert len(_lines_about(output, "closed the connection")) == 1
    assert "Traceback" not in output
    assert len(_lines_about(output, f"/items/{marker}")) <= 1
