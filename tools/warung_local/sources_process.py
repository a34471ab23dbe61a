"""Event sources of the functions that call the local API, run in a child process.

Invocations in one process are serialised by `functions.RUNTIME_LOCK` (see
`functions.py`): an invocation swaps `sys.modules` and `os.environ`, which are
process-wide. A handler that makes an HTTP request to the local API and waits for the
answer therefore waits for itself: the API's function needs the lock the handler holds,
and the request times out. In AWS it is an ordinary HTTPS call. The worker does exactly
that: the payment simulator's `payment.simulate` and `payment.refund` jobs post a signed
webhook to the stage's own `POST /v1/payments/webhook`.

So `dev` runs the event sources of such functions (SQS, DynamoDB streams, schedules) in
a child process, `python -m warung_local sources`, which loads only those functions,
from the same template with the same parameter overrides and the same physical values,
and runs the same driver classes (`sources.py`: batching, partial failures, redelivery,
dead letters) against the parent's emulation over HTTP. Its invocations hold the child's
lock; the API's function runs under the parent's. One child serves every such function:
they are few, and it keeps one extra interpreter, not one per function.

Which functions: those whose environment, as resolved for `dev`, holds the local API's
own address (`callers_of_api`). A function can only call the API if it is told where
the API is, and the template tells it through its environment (`PAYMENT_WEBHOOK_URL`
from the `PaymentWebhookUrl` parameter, which `dev` sets to its own gateway). The rule
needs no local-only markup in the template and follows the template as it changes:
today it selects WorkerFunction. A function that found the API's address some other way
would still deadlock; pass its id in `LocalRuntime(out_of_process=...)`.

The child's stdout and stderr are the parent's, so its logs and the handlers' output
appear in the runtime's combined output. It stops, with exit code 0, on SIGTERM, on
SIGINT (Ctrl-C reaches the whole process group), and when its stdin reaches end of
file: the parent holds the other end of that pipe, so a parent that dies, however it
dies, takes the child with it. It reports readiness (its drivers' names) on a pipe
given with `--ready-fd`, after every driver has started, so that a stream source reads
from a position no later than the moment `dev` reports itself ready. `dev` launches it
right after provisioning and collects that report once its own gateway serves, so the
child's start overlaps the parent's loading and seeding.

`/_local/mail` is unaffected: the mailbox observes the emulation's requests in the
parent, whoever sends them over HTTP.

The readiness pipe (`pass_fds`, `select` on a pipe) is POSIX: Linux and macOS, as the
Makefile is. `python -m warung_local sources --function F` also runs by hand against a
running emulation (without `--physical` it looks the resources up, as `invoke` does).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warung_local.template import FunctionSpec, PhysicalResources, Template

log = logging.getLogger("warung_local.sources_process")

_URL = re.compile(r"https?://[^\s\"'<>,;]+")
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0", ""}  # noqa: S104 - names, not a bind
STARTUP_TIMEOUT_S = 60.0
# The drivers stop together, within 5 s of an invocation in progress; the rest is room for a
# loaded machine (a 2-core CI runner running the suite beside it).
STOP_TIMEOUT_S = 30.0


# ------------------------------------------------------------------ which functions


def addresses_api(value: str, api_url: str) -> bool:
    """Whether `value` holds a URL of the API served at `api_url` (any loopback alias)."""
    api = urlsplit(api_url)
    hosts = {api.hostname or ""}
    if hosts & _LOOPBACK:
        hosts |= _LOOPBACK
    for match in _URL.finditer(value):
        try:
            url = urlsplit(match.group(0))
            port = url.port or (443 if url.scheme == "https" else 80)
        except ValueError:
            continue
        if port == api.port and (url.hostname or "") in hosts:
            return True
    return False


def calls_api(spec: FunctionSpec, api_url: str) -> bool:
    """Whether the function's environment gives it the address of the API at `api_url`."""
    return any(addresses_api(value, api_url) for value in spec.environment.values())


def callers_of_api(template: Template, api_url: str) -> list[str]:
    """Logical ids of the functions that may call the local API, in template order."""
    return [lid for lid, spec in template.functions.items() if calls_api(spec, api_url)]


# ------------------------------------------------------------------ the parent's side


def physical_to_json(physical: PhysicalResources) -> str:
    """The physical values as JSON text (for the child's --physical)."""
    return json.dumps(dataclasses.asdict(physical), sort_keys=True)


def physical_from_json(text: str) -> PhysicalResources:
    """The inverse of `physical_to_json`."""
    data = json.loads(text)
    fields = {f.name for f in dataclasses.fields(PhysicalResources)}
    return PhysicalResources(**{k: dict(v) for k, v in data.items() if k in fields})


def _tools_dir() -> str:
    return str(Path(__file__).resolve().parent.parent)


class SourcesProcess:
    """The child process that drives the event sources of some functions."""

    def __init__(
        self,
        template_path: str | Path,
        parameter_overrides: dict[str, str],
        function_ids: Collection[str],
        endpoint_url: str,
        physical: PhysicalResources | None = None,
        verbose: bool | None = None,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.template_path = Path(template_path).resolve()
        self.parameter_overrides = dict(parameter_overrides)
        self.function_ids = list(function_ids)
        self.endpoint_url = endpoint_url
        self.physical = physical
        if verbose is None:
            verbose = logging.getLogger("warung_local").getEffectiveLevel() <= logging.DEBUG
        self.verbose = verbose
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self.drivers: list[str] = []  # the child's drivers, as it reported them
        self.not_loaded: list[str] = []  # functions whose handler the child could not import
        self._stopping = threading.Event()
        self._ready_fd: int | None = None
        self._launched_at = 0.0

    @property
    def pid(self) -> int | None:
        """The child's process id (None when not started)."""
        return None if self.process is None else self.process.pid

    def command(self) -> list[str]:
        """The child's command line (without --ready-fd)."""
        command = [sys.executable, "-m", "warung_local"]
        if self.verbose:
            command.append("-v")
        command += [
            "sources",
            "--template",
            str(self.template_path),
            "--endpoint",
            self.endpoint_url,
            "--stop-on-stdin-eof",
        ]
        for function_id in self.function_ids:
            command += ["--function", function_id]
        if self.physical is not None:
            command += ["--physical", physical_to_json(self.physical)]
        # Last: nargs="*" takes every following word.
        command += ["--parameter-overrides"]
        command += [f"{k}={v}" for k, v in self.parameter_overrides.items()]
        return command

    def start(self) -> SourcesProcess:
        """Start the child and wait until its drivers run (raises if it fails to start)."""
        self.launch()
        return self.wait_ready()

    def launch(self) -> None:
        """Start the child; `wait_ready` then waits for it (meanwhile the parent may work)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [_tools_dir(), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
        )
        env["PYTHONUNBUFFERED"] = "1"  # handler output interleaves with the parent's
        self._stopping.clear()
        self._ready_fd, write_fd = os.pipe()
        try:
            self.process = subprocess.Popen(
                [*self.command(), "--ready-fd", str(write_fd)],
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
                env=env,
            )
        except BaseException:
            os.close(self._ready_fd)
            self._ready_fd = None
            raise
        finally:
            os.close(write_fd)
        self._launched_at = time.monotonic()

    def wait_ready(self) -> SourcesProcess:
        """Wait until the launched child reports its drivers running; raise if it does not."""
        if self.process is None or self._ready_fd is None:
            raise RuntimeError("the event sources process is not launched")
        remaining = self.startup_timeout_s - (time.monotonic() - self._launched_at)
        try:
            line = _read_line(self._ready_fd, remaining)
        finally:
            os.close(self._ready_fd)
            self._ready_fd = None
        if line is None:
            code = self.process.poll()
            self.stop()
            reason = (
                f"exited with code {code}"
                if code is not None
                else f"was not ready within {self.startup_timeout_s:.0f} s"
            )
            raise RuntimeError(f"the event sources process ({self._who()}) {reason}")
        ready = json.loads(line)
        self.drivers = [str(name) for name in ready.get("drivers", [])]
        self.not_loaded = [str(name) for name in ready.get("not_loaded", [])]
        threading.Thread(target=self._watch, name="sources-process", daemon=True).start()
        log.info(
            "event sources of %s run in process %d (they call the local API)",
            self._who(),
            self.process.pid,
        )
        return self

    def _who(self) -> str:
        return ", ".join(self.function_ids)

    def _watch(self) -> None:
        process = self.process
        if process is None:
            return
        code = process.wait()
        if not self._stopping.is_set():
            log.error(
                "the event sources process of %s exited (code %s): their events are not "
                "delivered until dev is restarted",
                self._who(),
                code,
            )

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """Stop the child (end of stdin and SIGTERM), wait for it; its exit code."""
        self._stopping.set()
        if self._ready_fd is not None:
            os.close(self._ready_fd)
            self._ready_fd = None
        process = self.process
        if process is None:
            return None
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("the event sources process did not stop in %.0f s; killed", timeout_s)
                process.kill()
                process.wait()
        if process.returncode != 0:
            log.warning("the event sources process exited with code %s", process.returncode)
        return process.returncode


def _read_line(fd: int, timeout_s: float) -> str | None:
    """One line from `fd`, or None on end of file or timeout."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        readable, _, _ = select.select([fd], [], [], remaining)
        if not readable:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\n", 1)[0].decode("utf-8")


# ------------------------------------------------------------------ the child's side


def run_sources(
    template_path: str | Path,
    parameter_overrides: dict[str, str],
    function_ids: Collection[str],
    endpoint_url: str,
    stop: threading.Event,
    physical: PhysicalResources | None = None,
    ready: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Load `function_ids`, run their event sources against `endpoint_url` until `stop`."""
    from warung_local.config import load_config
    from warung_local.functions import load_functions
    from warung_local.provision import provision
    from warung_local.sources import build_drivers, stop_all
    from warung_local.template import load_template

    config = load_config(template_path)
    template = load_template(
        template_path, config.parameters(overrides=parameter_overrides), config.stack_name
    )
    unknown = [f for f in function_ids if f not in template.functions]
    if unknown:
        known = ", ".join(sorted(template.functions))
        raise ValueError(f"unknown function {', '.join(unknown)}; the template has: {known}")
    # Without the parent's physical values, look them up (provisioning is idempotent).
    resolved = template.with_physical(physical or provision(template, endpoint_url))
    functions = load_functions(resolved, endpoint_url, only=set(function_ids))
    drivers = build_drivers(resolved, functions, endpoint_url)
    try:
        for driver in drivers:
            driver.start()
        not_loaded = [lid for lid, f in functions.items() if f.init_error is not None]
        log.info(
            "event sources process %d: %s",
            os.getpid(),
            ", ".join(d.name for d in drivers) or "no enabled event source",
        )
        if ready is not None:
            names = [d.name for d in drivers]
            ready({"pid": os.getpid(), "drivers": names, "not_loaded": not_loaded})
        while not stop.wait(0.5):
            pass
    finally:
        stop_all(drivers)
    return 0
