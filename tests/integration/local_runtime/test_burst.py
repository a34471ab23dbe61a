"""`make dev` holds a burst of clients: 200 connections opened at once are all answered.

A front-end team points a load of browser tabs, a mobile simulator and a test runner at the
local API. API Gateway never refuses a connection because many arrive together; neither
may the local runtime (its listen backlog once was socketserver's 5). Handlers may still
run one at a time: every client gets its answer, some a little later.
"""

from __future__ import annotations

import http.client
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.dev import running_dev

REPO = Path(__file__).resolve().parents[3]
CLIENTS = 200
ANSWER_WITHIN_S = 60.0


@pytest.fixture(scope="module")
def dev_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m warung_local dev` on the real template, as `make dev` starts it."""
    with running_dev(tmp_path_factory.mktemp("burst") / "dev.log") as dev:
        yield f"127.0.0.1:{dev.port}"
        dev.process.send_signal(signal.SIGINT)
        dev.process.wait(timeout=60)


def _health(address: str, start: threading.Barrier) -> str:
    """Connect when every client is ready, then GET /v1/health; the status, or the error."""
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=ANSWER_WITHIN_S)
    try:
        start.wait()
        connection.connect()
        connection.request("GET", "/v1/health", headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return str(response.status)
    except OSError as error:  # reset, refused, timed out
        return type(error).__name__
    finally:
        connection.close()


def test_two_hundred_clients_connecting_at_once_are_all_answered(dev_api: str) -> None:
    start = threading.Barrier(CLIENTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        outcome = _health(dev_api, start)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=ANSWER_WITHIN_S + 10)
    elapsed_s = time.monotonic() - began

    assert Counter(outcomes) == {"200": CLIENTS}
    assert elapsed_s < ANSWER_WITHIN_S
