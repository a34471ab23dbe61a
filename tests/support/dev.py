"""`python -m warung_local dev` in a process of its own, as a person starts it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from warung_local.emulation import free_port

REPO = Path(__file__).resolve().parents[2]
READY = "Press Ctrl-C to stop."


@dataclass(frozen=True)
class Dev:
    """A running `dev`: its process, its ports and the file that receives its output."""

    process: subprocess.Popen[bytes]
    port: int
    emulator_port: int
    log_path: Path

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_dev(
    log_path: Path,
    *,
    template: Path | None = None,
    args: Sequence[str] = (),
    startup_s: float = 90.0,
    data_dir: Path | None = None,
) -> Iterator[Dev]:
    """`dev` on free ports (and ``args``), ready to serve; killed afterwards if it still runs.

    Output goes to ``log_path``: a pipe nobody reads would block the server once full. The
    data it keeps across restarts goes to ``data_dir``, or to a folder of its own that is
    deleted afterwards: never the developer's `.local/`.
    """
    own_data = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="warung-dev-data-")) if data_dir is None else data_dir
    port, emulator_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["tools", "layers/common"])}
    command = [sys.executable, "-m", "warung_local", "dev"]
    if template is not None:
        command += ["--template", str(template)]
    command += ["--port", str(port), "--emulator-port", str(emulator_port)]
    command += ["--data-dir", str(folder), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    dev = Dev(process, port, emulator_port, log_path)
    try:
        deadline = time.monotonic() + startup_s
        while READY not in dev.output:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dev did not start:\n{dev.output[-3000:]}")
            time.sleep(0.1)
        yield dev
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if own_data:
            shutil.rmtree(folder, ignore_errors=True)


def stop_dev(dev: Dev, timeout_s: float = 45.0) -> int:
    """Stop `dev` as Ctrl-C does; its exit code (the test fails if it does not stop)."""
    dev.process.send_signal(signal.SIGINT)
    try:
        return dev.process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pytest.fail(f"dev did not stop within {timeout_s:.0f} s of SIGINT:\n{dev.output[-3000:]}")
