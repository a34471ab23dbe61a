"""The short form of `make load` in the suite: 10 customers for 30 s on the local runtime,
from a pool created in its emulation; the run passes only if no answer was a 5xx, a
connection error, an unplanned 429 or anything else the scenario did not expect (local
runtime only: the pool is written into its emulation)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from warung_load import scenario

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
USERS = 10
DURATION_S = 30


def test_ten_customers_for_thirty_seconds_get_only_expected_answers(
    api_url: str, emulator_url: str
) -> None:
    command = [sys.executable, "-m", "warung_load", "--api-url", api_url]
    command += ["--endpoint", emulator_url, "--users", str(USERS), "--duration", f"{DURATION_S}s"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["tools", "layers/common"])}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "PASS: no 5xx, connection error, unplanned 429 or unexpected answer" in report
    rows = {
        line.split("  ")[0]: line.split("  ")[0:1] + line[len(line.split("  ")[0]) :].split()
        for line in report.splitlines()
        if line.startswith(("GET ", "POST ", "PUT ", "total "))
    }
    # every customer signed in, browsed and ordered; nothing failed on any route
    assert int(rows[scenario.SIGN_IN.name][1]) >= USERS, report
    for route in (scenario.SEARCH, scenario.CHECKOUT, scenario.PAY):
        assert int(rows[route.name][1]) > 0, report
    assert all(row[-4:] == ["0", "0", "0", "0"] for row in rows.values()), report
