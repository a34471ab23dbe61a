"""End-to-end fixtures: a deployed stack when API_URL is set, else the local runtime.

The local runtime runs as a real `python -m warung_local dev` subprocess, exactly as a
developer starts it, on free ports so that it never collides with a running `make dev`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.dev import running_dev

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0  # seeding included; room for a loaded machine
SHUTDOWN_TIMEOUT_S = 45.0  # room for a loaded 2-core machine


_RUNTIME_LOG: list[Path] = []  # the local runtime's combined output, while it runs
_EMULATOR: list[str] = []  # the local runtime's AWS emulation endpoint, while it runs


def _log_tail(log_file: Path, lines: int = 40) -> str:
    return "\n".join(log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def api_url() -> Iterator[str]:
    """Base URL of the API under test: $API_URL, or a local runtime started for the session."""
    deployed = os.environ.get("API_URL")
    if deployed:
        yield deployed.rstrip("/")
        return

    log_file = Path(tempfile.mkstemp(prefix="warung-e2e-", suffix=".log")[1])
    _RUNTIME_LOG[:] = [log_file]
    # Every test signs in from 127.0.0.1: per-IP limits would throttle the suite. The
    # per-account lockout keeps its production value and is tested.
    limits = ["RateLoginAttemptsPerIp=10000/60", "RateRegistrationsPerIp=10000/3600"]
    # A failing job's backoff fast-forwarded: its retries follow at once, so a job that keeps
    # failing reaches the dead-letter queue in seconds rather than 7.5 minutes.
    retries = ["JobRetryBaseSeconds=0"]
    with running_dev(
        log_file, args=["--parameter-overrides", *limits, *retries], startup_s=STARTUP_TIMEOUT_S
    ) as dev:
        _EMULATOR[:] = [f"http://127.0.0.1:{dev.emulator_port}"]
        yield f"http://127.0.0.1:{dev.port}"
        _EMULATOR.clear()
        process = dev.process
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
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
def emulator_url(api_url: str) -> str:
    """The local runtime's AWS emulation endpoint, for the rare test that must arrange what
    the API cannot (a loopback webhook receiver: only the worker admits loopback locally)."""
    if os.environ.get("API_URL") or not _EMULATOR:
        pytest.skip("needs the local runtime's emulation; API_URL points at a deployed stack")
    return _EMULATOR[0]


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
