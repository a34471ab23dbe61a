"""`python -m warung_load` (`make load`): locust, headless, against the API.

    make load                                   # a local runtime of its own, 10 users, 1 minute
    make load USERS=50 DURATION=5m
    make load API_URL=https://…/prod LOAD_PASSWORD=…   # a deployed stack, named explicitly

Without `API_URL` it starts `python -m warung_local dev` on free loopback ports, with a data
folder of its own (never `.local/`), the demo data, and the per-address sign-in limit raised
as the end-to-end suite raises it (every simulated customer signs in from 127.0.0.1; the
per-account lockout keeps its production value: the scenario provokes it once, on purpose).
It then creates the pool (`warung_load.pool`) directly in the emulation, runs locust, prints
the per-route table and stops the runtime. `--endpoint` with a loopback `--api-url` uses an
already running local runtime instead (the end-to-end suite's).

A deployed stack is only ever targeted when `API_URL` names it; its pool is created once
with `python -m warung_load.pool seed --stage dev` and the same `LOAD_PASSWORD`.

The exit code is locust's: 0 when every answer was one the scenario expected, 1 otherwise
(any 5xx, connection error, unplanned 429 or unexpected answer; `warung_load.scenario`);
2 when the run could not start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warung_load.scenario import LOCAL_PASSWORD, is_loopback, seconds

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
READY = "Press Ctrl-C to stop."
STARTUP_TIMEOUT_S = 120.0
SHUTDOWN_TIMEOUT_S = 45.0
# Every simulated customer signs in from 127.0.0.1 (as the end-to-end suite raises it).
LIMITS = ["RateLoginAttemptsPerIp=100000/60", "RateRegistrationsPerIp=100000/3600"]


class LoadError(Exception):
    """The run could not start (exit code 2)."""


def _env() -> dict[str, str]:
    inherited = os.environ.get("PYTHONPATH", "")
    path = [
        str(ROOT / "tools"),
        str(ROOT / "layers" / "common"),
        *([inherited] if inherited else []),
    ]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


@contextmanager
def local_runtime(log_path: Path) -> Iterator[tuple[str, str]]:
    """`python -m warung_local dev` on free loopback ports: (API URL, emulation URL)."""
    from warung_local.emulation import free_port

    data = Path(tempfile.mkdtemp(prefix="warung-load-data-"))
    port, emulator_port = free_port(), free_port()
    command = [sys.executable, "-m", "warung_local", "dev", "--port", str(port)]
    command += ["--emulator-port", str(emulator_port), "--data-dir", str(data)]
    command += ["--parameter-overrides", *LIMITS]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while READY not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise LoadError(f"the local runtime did not start (its output: {log_path})")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{emulator_port}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(data, ignore_errors=True)


def create_pool(endpoint: str, users: int, password: str) -> None:
    """The pool, in the local emulation at ``endpoint`` (`warung_load.pool`)."""
    started = time.monotonic()
    command = [sys.executable, "-m", "warung_load.pool", "seed", "--users", str(users)]
    result = subprocess.run(
        [*command, "--endpoint", endpoint],
        cwd=ROOT,
        env={**_env(), "LOAD_PASSWORD": password},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        raise LoadError(f"the pool was not created:\n{result.stderr[-2000:]}")
    print(result.stdout.strip(), f"({time.monotonic() - started:.1f} s)", flush=True)


def run_locust(api_url: str, users: int, duration_s: int, spawn_rate: float, password: str) -> int:
    """locust, headless, against ``api_url``; its exit code."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--host", api_url, "--users", str(users), "--spawn-rate", str(spawn_rate)]
    command += ["--run-time", f"{duration_s}s", "--stop-timeout", "5", "--loglevel", "WARNING"]
    env = {**_env(), "LOAD_PASSWORD": password, "LOAD_POOL": str(users)}
    started = time.monotonic()
    code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    print(f"load: locust ran {time.monotonic() - started:.1f} s (exit code {code})", flush=True)
    return code


def check_target(api_url: str | None, endpoint: str | None) -> None:
    """Only loopback addresses unless API_URL names a deployed stack; a local emulation
    (where the pool is written) is always on this machine."""
    if endpoint is not None and not (is_loopback(endpoint) and api_url and is_loopback(api_url)):
        raise LoadError("--endpoint needs a loopback emulation and a loopback --api-url")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m warung_load", description=__doc__)
    parser.add_argument("--users", type=int, default=int(os.environ.get("USERS") or 10))
    parser.add_argument("--duration", default=os.environ.get("DURATION") or "1m")
    parser.add_argument(
        "--spawn-rate", type=float, help="users started per second (default: all in 1 s)"
    )
    parser.add_argument("--api-url", default=os.environ.get("API_URL") or None)
    parser.add_argument("--endpoint", help="the emulation of a running local runtime (loopback)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        duration_s = seconds(args.duration)
        if args.users < 1:
            raise LoadError("USERS must be 1 or more")
        check_target(args.api_url, args.endpoint)
        spawn_rate = args.spawn_rate or float(args.users)
        print(f"load: {args.users} users for {duration_s} s", flush=True)
        if args.api_url is None:
            log = Path(tempfile.mkstemp(prefix="warung-load-", suffix=".log")[1])
            password = LOCAL_PASSWORD
            started = time.monotonic()
            with local_runtime(log) as (api_url, endpoint):
                print(
                    f"load: local runtime {api_url} ready in {time.monotonic() - started:.1f} s "
                    f"(its output: {log})",
                    flush=True,
                )
                create_pool(endpoint, args.users, password)
                code = run_locust(api_url, args.users, duration_s, spawn_rate, password)
            log.unlink(missing_ok=True)
            return code
        if args.endpoint is not None:
            password = LOCAL_PASSWORD
            create_pool(args.endpoint, args.users, password)
        else:
            password = os.environ.get("LOAD_PASSWORD", "")
            if not password:
                raise LoadError(
                    "a deployed stack needs LOAD_PASSWORD, the password of its pool "
                    "(python -m warung_load.pool seed --stage dev)"
                )
        print(f"load: {args.api_url.rstrip('/')}", flush=True)
        return run_locust(args.api_url.rstrip("/"), args.users, duration_s, spawn_rate, password)
    except (LoadError, ValueError) as exc:
        print(f"load: {exc}", file=sys.stderr)
        return 2
