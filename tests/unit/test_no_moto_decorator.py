"""No test starts moto's in-process mock (``mock_aws``): starting it resets every moto
backend of the process, and with them the emulation the integration tests share (its
secrets, tables and signing key), so that every later test fails far from the cause."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_test_uses_mock_aws() -> None:
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.name != Path(__file__).name and "mock_aws" in path.read_text(encoding="utf-8")
    ]
    assert offenders == [], "use the session's emulation (app_stack) instead"
