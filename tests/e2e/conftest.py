"""End-to-end fixtures: a deployed stack when API_URL is set, else the local runtime.

The local runtime runs as a real `python -m warung_local dev` subprocess, exactly as a
developer starts it, on free ports so that it never collides with a running `make dev`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from warung_local.emulation import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 45.0  # room for a loaded 2-core machine


def _status(url: str) -> int | None:
    """The HTTP status of GET url, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


_RUNTIME_LOG: list[Path] = []  # the local runtime's combined output, while it runs


def _log_tail(log_file: Path, lines: int = 40) -> str:
    return "\n".join(log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def api_url() -> Iterator[str]:
    """Base URL of the API under test: $API_URL, or a local runtime started for the session."""
    deployed = os.environ.get("API_URL")
    if deployed:
        yield deployed.rstrip("/")
        return

    port, emulator_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["tools", "layers/common"])}
    # Output goes to a file: a pipe nobody reads would block the server once full.
    log_file = Path(tempfile.mkstemp(prefix="warung-e2e-", suffix=".log")[1])
    _RUNTIME_LOG[:] = [log_file]
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "warung_local",
                "dev",
                "--port",
                str(port),
                "--emulator-port",
                str(emulator_port),
                # Every test signs in from 127.0.0.1: per-IP limits would throttle the suite.
                # The per-account lockout keeps its production value and is tested.
                "--parameter-overrides",
                "RateLoginAttemptsPerIp=10000/60",
                "RateRegistrationsPerIp=10000/3600",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    # Until the platform function exists any HTTP answer means the runtime is up.
    health_required = (ROOT / "functions" / "platform_api" / "app.py").exists()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        status = _status(f"{url}/v1/health")
        if status == 200 or (status is not None and not health_required):
            break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(
                f"the local runtime did not become ready (last status {status}):\n"
                + _log_tail(log_file)
            )
        time.sleep(0.2)

    try:
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(
                f"the local runtime did not stop within {SHUTDOWN_TIMEOUT_S:.0f} s of SIGINT"
            )
        output = log_file.read_text(encoding="utf-8", errors="replace")
        log_file.unlink(missing_ok=True)
        # Handled errors may log tracebacks while serving; shutting down must not.
        shutdown_output = output.rsplit("warung_local: stopping", 1)[-1]
        if code != 0 or "Traceback" in shutdown_output:
            pytest.fail(
                f"the local runtime did not exit cleanly (exit code {code}):\n{output[-4000:]}"
            )


@pytest.fixture
def local_only() -> None:
    """Skip a test that needs the local runtime (e.g. /_local/*) when API_URL is set."""
    if os.environ.get("API_URL"):
        pytest.skip("needs the local runtime; API_URL points at a deployed stack")


@pytest.fixture
def runtime_log(api_url: str) -> Path:
    """The file that receives everything the local runtime and its functions print."""
    if os.environ.get("API_URL") or not _RUNTIME_LOG:
        pytest.skip("needs the local runtime's output; API_URL points at a deployed stack")
    return _RUNTIME_LOG[0]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test's report carries the end of the local runtime's output (the handler's
    traceback of a 500 is there, not in the response)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed and _RUNTIME_LOG and _RUNTIME_LOG[0].exists():
        report.sections.append(("local runtime output (tail)", _log_tail(_RUNTIME_LOG[0], 80)))
