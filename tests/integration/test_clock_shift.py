"""`make test-clock`: every Python process of the virtual environment starts with its wall
clock moved by ``WARUNG_CLOCK_OFFSET_S``, monotonic clocks untouched (tools/clock_shift.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import clock_shift
import pytest

THREE_DAYS_S = 3 * 24 * 3600.0
# What a child reports: its wall clock, its monotonic clock, and how long a 0.2 s sleep and
# a 0.2 s timed wait took by the monotonic clock.
PROBE = """
import datetime, json, threading, time
wall, mono = time.time(), time.monotonic()
now = datetime.datetime.now(datetime.timezone.utc).timestamp()
t0 = time.monotonic(); time.sleep(0.2); slept = time.monotonic() - t0
t0 = time.monotonic(); threading.Event().wait(0.2); waited = time.monotonic() - t0
print(json.dumps({"wall": wall, "now": now, "mono": mono, "slept": slept, "waited": waited}))
"""


def _child(code: str, offset: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != clock_shift.ENV}
    if offset is not None:
        env[clock_shift.ENV] = offset
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.fixture(scope="module", autouse=True)
def installed_hook() -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    assert (site / f"{clock_shift.MODULE}.pth").exists(), "run `make setup`: it installs the hook"


def test_a_process_starts_with_its_wall_clock_moved_and_its_monotonic_clock_not() -> None:
    real_before, mono_before = clock_shift._real_now(), time.monotonic()
    seen = _child(PROBE, str(THREE_DAYS_S))
    real_after, mono_after = clock_shift._real_now(), time.monotonic()

    assert real_before + THREE_DAYS_S <= seen["wall"] <= real_after + THREE_DAYS_S
    assert abs(seen["now"] - seen["wall"]) < 1.0  # datetime moves with time.time
    assert mono_before <= seen["mono"] <= mono_after  # one system-wide monotonic clock
    assert 0.19 <= seen["slept"] < 5.0
    assert 0.19 <= seen["waited"] < 5.0


def test_without_the_variable_nothing_moves() -> None:
    real_before = clock_shift._real_now()
    seen = _child(PROBE, None)
    assert real_before <= seen["wall"] <= clock_shift._real_now()


def test_starting_again_does_not_add_the_offset_twice() -> None:
    # As if the .pth were processed a second time, and the module started by hand too.
    code = (
        "import time, json, warung_clock_shift as w\n"
        "exec(open(w.__file__.replace('.py', '.pth')).read())\n"
        "w.start()\n"
        "print(json.dumps({'wall': time.time()}))\n"
    )
    real_before = clock_shift._real_now()
    seen = _child(code, str(THREE_DAYS_S))
    assert real_before + THREE_DAYS_S <= seen["wall"] <= clock_shift._real_now() + THREE_DAYS_S


def test_children_inherit_the_offset_not_an_absolute_time() -> None:
    # A grandchild started a second later is a second later, as without the shift.
    code = (
        "import json, subprocess, sys, time\n"
        "parent = time.time(); time.sleep(1.0)\n"
        "out = subprocess.run([sys.executable, '-c', 'import time; print(time.time())'],\n"
        "                     capture_output=True, text=True).stdout\n"
        "print(json.dumps({'parent': parent, 'child': float(out)}))\n"
    )
    seen = _child(code, str(-THREE_DAYS_S))
    assert 1.0 <= seen["child"] - seen["parent"] < 10.0
    assert seen["parent"] <= clock_shift._real_now() - THREE_DAYS_S


def test_the_offset_to_a_time_is_counted_from_the_real_now() -> None:
    target = clock_shift._real_now() + 1000.0
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(target))
    assert abs(clock_shift.offset_to(at) - 1000.0) < 2.0
    with pytest.raises(ValueError, match="time zone"):
        clock_shift.offset_to("2026-12-05T20:00:00")
