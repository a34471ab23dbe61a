#!/usr/bin/env python3
"""`make bench`, requests section: warm latency and AWS calls per request of sign-in and a
token-verified read, measured in-process on the local runtime.

How it measures:

* A `LocalRuntime` of template.yaml is started in this process (free ports, demo data
  seeded: the signing key and the demo accounts, event sources not started). Requests
  go straight to the auth function with `runtime.invoke("AuthFunction", event)`: no
  HTTP in front, the API Gateway proxy events are built by the local gateway's own
  `build_proxy_event`.
* Scenarios, each with a few untimed warm-up requests first:
  - `POST /v1/auth/login` as the demo customer, from a different source IP each time
    (`requestContext.identity.sourceIp`, 10.x.y.z), so that the per-IP sign-in limit is
    never what is measured. The password is always the right one: five wrong ones would
    lock the account.
  - `GET /v1/me` with `Authorization: Bearer <access token>`: the token-verified read.
    The guard caches the account's auth state per container for 30 s, so with warm
    requests in a row its state read happens once (in the warm-up).
  - the same read with the guard's cache emptied before each request (untimed), as a
    container sees it when the same account calls it less often than every 30 s.
* The timed figure is the wall time of `runtime.invoke` (time.perf_counter around it):
  the handler, the local runtime's per-invocation module/environment swap (reported on
  its own), and the round trips to the embedded moto emulation over loopback.
* AWS calls per request: an observer of the emulation (`Emulation.add_observer`) sees
  every request it serves; the calls made during one invocation belong to it (the
  invocation is synchronous and nothing else runs: no event sources). DynamoDB calls
  are named by their `X-Amz-Target` operation, with the key they touch (partition key
  prefix) as detail; other services (Secrets Manager, SSM: the keys, cached by the
  function) are counted separately.

What transfers to Lambda and DynamoDB is the number and kind of calls per request, not
the milliseconds: moto in-process on a developer machine is neither.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import random
import re
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

AUTH_FUNCTION = "AuthFunction"
DEMO_EMAIL = "customer@example.com"
DEMO_PASSWORD = "warung-demo-password"  # noqa: S105 - the documented local demo account
DEFAULT_LOGIN_REQUESTS = 50
DEFAULT_READ_REQUESTS = 200
DEFAULT_STALE_REQUESTS = 50
DEFAULT_WARMUP = 3
GUARD_STATE_TTL_S = 30  # warung.auth.STATE_TTL_SECONDS, read from the function when possible
SWAP_SAMPLES = 200
_LOG_TAIL_CHARS = 3000


class RequestBenchError(Exception):
    """The request bench could not run, or a measured request did not succeed."""


# ------------------------------------------------------------------ observed calls


@dataclass(frozen=True)
class AwsCall:
    """One request the emulation served: service, operation and what it touched."""

    service: str
    operation: str
    detail: str = ""
    status: str = ""

    @property
    def label(self) -> str:
        return f"{self.operation} {self.detail}".strip()


_SERVICE_OF_TARGET = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
    "secretsmanager": "secretsmanager",
    "AmazonSSM": "ssm",
    "AmazonSQS": "sqs",
    "AWSEvents": "events",
    "Logs_20140328": "logs",
}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def _table_label(table: Any) -> str:
    # "warung-local-main" -> "main": the stage prefix says nothing here.
    return str(table or "?").rsplit("-", 1)[-1]


def _key_label(key: Any) -> str:
    """A key as its shape: the partition key without its variable part, a static sort key."""
    if not isinstance(key, dict):
        return ""

    def value(attr: Any) -> str:
        if isinstance(attr, dict) and attr:
            return str(next(iter(attr.values())))
        return ""

    pk = value(key.get("pk"))
    parts = pk.split("#")
    shape = "#".join(parts[:-1]) + "#…" if len(parts) > 1 else ("…" if pk else "")
    sk = value(key.get("sk"))
    if re.fullmatch(r"[A-Z_]+", sk):
        shape += f"/{sk}"
    return shape


def _dynamodb_detail(operation: str, body: bytes) -> str:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return ""
    if not isinstance(request, dict):
        return ""
    if operation in {"TransactWriteItems", "TransactGetItems"}:
        steps = []
        for item in request.get("TransactItems") or []:
            for kind, spec in item.items():
                key = spec.get("Key") or spec.get("Item") or {}
                steps.append(f"{kind} {_table_label(spec.get('TableName'))} {_key_label(key)}")
        return f"[{len(steps)}: " + ", ".join(steps) + "]"
    table = _table_label(request.get("TableName"))
    if operation == "Query":
        index = request.get("IndexName")
        shape = f"{table}.{index}" if index else table
    elif "Key" in request:
        shape = f"{table} {_key_label(request['Key'])}"
    elif "Item" in request:
        shape = f"{table} {_key_label(request['Item'])}"
    else:
        shape = table
    if operation in {"GetItem", "Query", "Scan"}:
        shape += " consistent" if request.get("ConsistentRead") else " eventual"
        if request.get("ProjectionExpression"):
            shape += " projected"
    return shape


def describe_call(environ: dict[str, Any], body: bytes, status: str = "") -> AwsCall:
    """What one request to the emulation was, from its WSGI environ and body."""
    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    if "." in target:
        prefix, _, operation = target.rpartition(".")
        service = _SERVICE_OF_TARGET.get(prefix, prefix.lower())
        detail = _dynamodb_detail(operation, body) if service == "dynamodb" else ""
        if service in {"ssm", "secretsmanager"}:
            with contextlib.suppress(ValueError, AttributeError):
                request = json.loads(body or b"{}")
                detail = str(request.get("Name") or request.get("SecretId") or "")
                detail = detail.rpartition(":secret:")[2]  # an ARN: its name
        return AwsCall(service, operation, detail, status)
    scope = _CREDENTIAL_SCOPE.search(str(environ.get("HTTP_AUTHORIZATION") or ""))
    service = scope.group(1) if scope else "unknown"
    action = re.search(rb"(?:^|&)Action=([A-Za-z]+)", body or b"")
    operation = (
        action.group(1).decode()
        if action
        else f"{environ.get('REQUEST_METHOD', '?')} {environ.get('PATH_INFO', '')}"
    )
    return AwsCall(service, operation, "", status)


class CallRecorder:
    """An emulation observer that keeps the calls since the last `take()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[AwsCall] = []

    def __call__(
        self,
        environ: dict[str, Any],
        request_body: bytes,
        status: str,
        response_body: bytes,  # noqa: ARG002 - the observer signature
    ) -> None:
        call = describe_call(environ, request_body, status)
        with self._lock:
            self._calls.append(call)

    def take(self) -> list[AwsCall]:
        with self._lock:
            calls, self._calls = self._calls, []
        return calls


# ------------------------------------------------------------------ statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that was actually observed."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(samples_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(samples_ms, 50),
        "p99": percentile(samples_ms, 99),
        "mean": statistics.fmean(samples_ms),
        "min": min(samples_ms),
        "max": max(samples_ms),
    }


def _rate(count: int, n: int) -> float:
    return round(count / n, 3) if n else 0.0


@dataclass
class Scenario:
    """One kind of request, measured `len(samples_ms)` times after its warm-up."""

    name: str
    request: str
    note: str
    samples_ms: list[float] = field(default_factory=list)
    calls: list[list[AwsCall]] = field(default_factory=list)
    warmup_calls: list[list[AwsCall]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        n = len(self.samples_ms)
        dynamo_per_request = [
            sum(1 for c in calls if c.service == "dynamodb") for calls in self.calls
        ]
        other_per_request = [
            sum(1 for c in calls if c.service != "dynamodb") for calls in self.calls
        ]
        by_operation = Counter(c.operation for calls in self.calls for c in calls if _ddb(c))
        by_call = Counter(c.label for calls in self.calls for c in calls if _ddb(c))
        others = Counter(
            f"{c.service} {c.label}" for calls in self.calls for c in calls if not _ddb(c)
        )
        warm_up_others = Counter(
            f"{c.service} {c.label}" for calls in self.warmup_calls for c in calls if not _ddb(c)
        )
        return {
            "name": self.name,
            "request": self.request,
            "note": self.note,
            "requests": n,
            "warmup_requests": len(self.warmup_calls),
            "latency_ms": latency_summary(self.samples_ms) if n else None,
            "dynamodb_calls_per_request": {
                "median": statistics.median(dynamo_per_request) if n else None,
                "mean": _rate(sum(dynamo_per_request), n),
                "min": min(dynamo_per_request, default=0),
                "max": max(dynamo_per_request, default=0),
                "by_operation": {op: _rate(k, n) for op, k in by_operation.most_common()},
                "by_call": {label: _rate(k, n) for label, k in by_call.most_common()},
            },
            "other_aws_calls_per_request": {
                "median": statistics.median(other_per_request) if n else None,
                "total": sum(other_per_request),
                "by_call": {label: _rate(k, n) for label, k in others.most_common()},
            },
            "other_aws_calls_during_warmup": dict(warm_up_others.most_common()),
        }


def _ddb(call: AwsCall) -> bool:
    return call.service == "dynamodb"


# ------------------------------------------------------------------ the bench


class _Sink(io.StringIO):
    """Where the functions' log lines go while measuring (their tail is shown on failure)."""

    def tail(self) -> str:
        return self.getvalue()[-_LOG_TAIL_CHARS:]


def _ip_addresses(seed: int) -> Iterator[str]:
    """Distinct 10.x.y.z addresses, a fresh second octet per run."""
    second = random.Random(seed).randrange(1, 255)  # noqa: S311 - not for security
    for n in range(1, 255 * 254):
        yield f"10.{second}.{n // 254}.{n % 254 + 1}"


class RequestBench:
    """Drives the auth function of a started `LocalRuntime` and records what it calls."""

    def __init__(self, runtime: Any, recorder: CallRecorder, sink: _Sink) -> None:
        from warung_local.gateway import Router

        self.runtime = runtime
        self.recorder = recorder
        self.sink = sink
        self.router = Router(runtime.template.routes)
        self.ips = _ip_addresses(time.time_ns())

    def event(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Sequence[tuple[str, str]] = (),
        source_ip: str = "127.0.0.1",
    ) -> dict[str, Any]:
        """The proxy event the local gateway would build for this request."""
        from warung_local.gateway import build_proxy_event

        match = self.router.match(method, path)
        if match is None or match.route.function_id != AUTH_FUNCTION:
            raise RequestBenchError(f"{method} {path} is not a route of {AUTH_FUNCTION}")
        all_headers = [("User-Agent", "warung-bench"), *headers]
        raw = None
        if body is not None:
            raw = json.dumps(body).encode()
            all_headers.append(("Content-Type", "application/json"))
        api = self.runtime.template.api
        return build_proxy_event(
            method,
            path,
            [],
            all_headers,
            raw,
            match,
            api.stage,
            api.binary_media_types,
            source_ip=source_ip,
        )

    def call(self, event: dict[str, Any]) -> tuple[float, dict[str, Any], list[AwsCall]]:
        """One timed invocation: (ms, parsed body, AWS calls); a non-2xx is an error."""
        self.recorder.take()
        started = time.perf_counter()
        result = self.runtime.invoke(AUTH_FUNCTION, event)
        elapsed_ms = (time.perf_counter() - started) * 1000
        calls = self.recorder.take()
        request = f"{event['httpMethod']} {event['path']}"
        if not result.ok:
            raise RequestBenchError(
                f"{request}: the invocation failed: {result.error}\n{self.sink.tail()}"
            )
        status = int(result.payload.get("statusCode", 0))
        if not 200 <= status < 300:
            raise RequestBenchError(
                f"{request}: HTTP {status}: {str(result.payload.get('body'))[:500]}\n"
                f"{self.sink.tail()}"
            )
        try:
            body = json.loads(result.payload.get("body") or "{}")
        except ValueError:
            body = {}
        return elapsed_ms, body, calls

    def measure(
        self,
        scenario: Scenario,
        make_event: Callable[[], dict[str, Any]],
        requests: int,
        warmup: int,
        before_each: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Run the scenario; returns the body of its last response."""
        body: dict[str, Any] = {}
        for i in range(warmup + requests):
            event = make_event()
            if before_each is not None:
                before_each()
            elapsed_ms, body, calls = self.call(event)
            if i < warmup:
                scenario.warmup_calls.append(calls)
            else:
                scenario.samples_ms.append(elapsed_ms)
                scenario.calls.append(calls)
        return body

    def login_event(self) -> dict[str, Any]:
        return self.event(
            "POST",
            "/v1/auth/login",
            body={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
            source_ip=next(self.ips),
        )

    def me_event(self, access_token: str) -> dict[str, Any]:
        return self.event("GET", "/v1/me", headers=[("Authorization", f"Bearer {access_token}")])

    def guard_module(self) -> Any:
        """The auth function's own `warung.auth` (None if it is not loaded)."""
        function = self.runtime.functions.get(AUTH_FUNCTION)
        return None if function is None else function.modules.get("warung.auth")

    def swap_overhead_ms(self, samples: int = SWAP_SAMPLES) -> float:
        """Median cost of the local runtime's per-invocation module/environment swap."""
        function = self.runtime.functions[AUTH_FUNCTION]
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            with function.activated():
                pass
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)


def run_request_bench(
    template: str | Path = ROOT / "template.yaml",
    *,
    login_requests: int = DEFAULT_LOGIN_REQUESTS,
    read_requests: int = DEFAULT_READ_REQUESTS,
    stale_requests: int = DEFAULT_STALE_REQUESTS,
    warmup: int = DEFAULT_WARMUP,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Start a local runtime, measure the scenarios, stop it; the report section."""
    say = progress or (lambda _msg: None)
    if login_requests < 1 or read_requests < 1 or stale_requests < 0 or warmup < 1:
        raise ValueError("at least 1 request and 1 warm-up request per scenario")
    try:
        from warung_local.runtime import LocalRuntime
    except ImportError as exc:
        raise RequestBenchError(f"cannot import the local runtime: {exc}") from exc

    started = time.perf_counter()
    sink = _Sink()
    recorder = CallRecorder()
    # The functions log to stdout (JSON lines); it must stay clean for --json.
    with contextlib.redirect_stdout(sink):
        runtime = LocalRuntime(template, port=0, emulator_port=0, seed=True, start_sources=False)
        try:
            runtime.start()
        except Exception as exc:
            raise RequestBenchError(f"the local runtime did not start: {exc}") from exc
        try:
            if AUTH_FUNCTION not in runtime.functions:
                raise RequestBenchError(f"{AUTH_FUNCTION} is not a function of {template}")
            function = runtime.functions[AUTH_FUNCTION]
            if function.init_error is not None:
                raise RequestBenchError(f"{AUTH_FUNCTION} failed to load: {function.init_error}")
            if not any(DEMO_EMAIL in line for line in runtime.seed_lines):
                raise RequestBenchError(
                    f"the demo account {DEMO_EMAIL} was not seeded: {runtime.seed_lines}"
                )
            assert runtime.emulation is not None
            runtime.emulation.add_observer(recorder)
            bench = RequestBench(runtime, recorder, sink)
            startup_s = time.perf_counter() - started
            say(
                f"   local runtime up in {startup_s:.1f} s (emulation {runtime.endpoint_url}); "
                f"{login_requests} sign-ins, {read_requests} + {stale_requests} reads "
                f"(+{warmup} warm-up each)"
            )

            login = Scenario(
                "login",
                "POST /v1/auth/login",
                f"demo customer, a different source IP per request; {warmup} warm-up",
            )
            body = bench.measure(login, bench.login_event, login_requests, warmup)
            token = str(body["access_token"])

            guard = bench.guard_module()
            ttl = getattr(guard, "STATE_TTL_SECONDS", GUARD_STATE_TTL_S)
            me = Scenario(
                "me",
                "GET /v1/me",
                f"Bearer token; guard state cached ({ttl:g} s per container, read in the warm-up)",
            )
            profile = bench.measure(me, lambda: bench.me_event(token), read_requests, warmup)
            scenarios = [login, me]

            stale_note = None
            if stale_requests and guard is not None and hasattr(guard, "forget_auth_state"):
                user_id = str(profile["id"])
                stale = Scenario(
                    "me_guard_cache_expired",
                    "GET /v1/me",
                    "guard state cache emptied before each request (untimed): a container "
                    f"that sees the account less often than every {ttl:g} s",
                )
                bench.measure(
                    stale,
                    lambda: bench.me_event(token),
                    stale_requests,
                    1,
                    before_each=lambda: guard.forget_auth_state(user_id),
                )
                scenarios.append(stale)
            elif stale_requests:
                stale_note = "guard cache scenario skipped: warung.auth.forget_auth_state not found"
            swap_ms = bench.swap_overhead_ms()
            endpoint = runtime.endpoint_url
        finally:
            runtime.stop()

    return {
        "function": AUTH_FUNCTION,
        "template": str(template),
        "emulation_endpoint": endpoint,
        "host_machine": platform.machine(),
        "host_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "metric": "wall time of runtime.invoke (time.perf_counter), in-process: handler, the "
        "local runtime's module/environment swap, loopback round trips to moto",
        "percentiles": "nearest rank (p99 of 50 samples is the 50th, i.e. the maximum)",
        "guard_state_ttl_s": ttl,
        "local_swap_overhead_ms": round(swap_ms, 3),
        "runtime_startup_s": round(startup_s, 1),
        "scenarios": [s.summary() for s in scenarios],
        "notes": [n for n in (stale_note,) if n],
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


# ------------------------------------------------------------------ report


def _count(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def print_request_report(section: dict[str, Any], out: Any = None) -> None:
    """The requests section, as text."""
    out = out or sys.stdout

    def emit(line: str = "") -> None:
        print(line, file=out)

    if section.get("error"):
        emit("Warm requests (auth): NOT MEASURED")
        emit(f"  {section['error']}")
        return
    if section.get("skipped"):
        emit(f"Warm requests (auth): skipped ({section['skipped']})")
        return
    emit(
        f"Warm requests, in-process on the local runtime ({section['function']} via "
        f"runtime.invoke, moto at {section['emulation_endpoint']})"
    )
    emit(
        f"  caveat: {section['host_machine']}, {section['host_cpus']} CPU(s), Python "
        f"{section['python']}, moto over loopback: not Lambda nor DynamoDB latency. "
        "What transfers is the number of calls per request."
    )
    emit(
        f"  ms = wall time of runtime.invoke, including the local runtime's module swap "
        f"(~{section['local_swap_overhead_ms']:.2f} ms); percentiles by nearest rank"
    )
    emit()
    rows = section["scenarios"]
    w = max(22, *(len(r["name"]) for r in rows))
    rw = max(19, *(len(r["request"]) for r in rows))
    emit(
        f"{'scenario':<{w}}  {'request':<{rw}}  {'n':>4}  {'p50 ms':>7}  {'p99 ms':>7}  "
        f"{'mean':>7}  {'min':>6}  {'max':>7}  {'DynamoDB/req':>12}  {'other AWS/req':>13}"
    )
    for r in rows:
        lat = r["latency_ms"]
        ddb = r["dynamodb_calls_per_request"]
        other = r["other_aws_calls_per_request"]
        spread = "" if ddb["min"] == ddb["max"] else f" ({ddb['min']}..{ddb['max']})"
        emit(
            f"{r['name']:<{w}}  {r['request']:<{rw}}  {r['requests']:>4}  {lat['p50']:>7.1f}  "
            f"{lat['p99']:>7.1f}  {lat['mean']:>7.1f}  {lat['min']:>6.1f}  {lat['max']:>7.1f}  "
            f"{_count(ddb['median']) + spread:>12}  {_count(other['median']):>13}"
        )
    emit()
    for r in rows:
        ddb = r["dynamodb_calls_per_request"]
        emit(f"  {r['name']} ({r['note']}):")
        emit(
            "    DynamoDB per request: "
            + ", ".join(f"{_count(v)} {op}" for op, v in ddb["by_operation"].items())
        )
        for label, v in ddb["by_call"].items():
            emit(f"      {_count(v):>5} x {label}")
        other = r["other_aws_calls_per_request"]
        if other["by_call"]:
            emit(
                "    other AWS calls per request: "
                + ", ".join(f"{_count(v)} {k}" for k, v in other["by_call"].items())
            )
        else:
            emit("    other AWS calls per request: none (keys cached)")
        if r["other_aws_calls_during_warmup"]:
            emit(
                "    first use, in the warm-up: "
                + ", ".join(f"{k} x{v}" for k, v in r["other_aws_calls_during_warmup"].items())
            )
    emit(
        f"  The guard caches each account's auth state for {section['guard_state_ttl_s']:g} s "
        "per container: a warm /v1/me reads the profile once, plus the guard's state read "
        f"at most once per {section['guard_state_ttl_s']:g} s per account and container."
    )
    for note in section.get("notes", []):
        emit(f"  note: {note}")


# ------------------------------------------------------------------ standalone


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Warm in-process latency and AWS calls per request of sign-in and "
        "GET /v1/me on the local runtime (the requests section of `make bench`)."
    )
    p.add_argument("--template", default=str(ROOT / "template.yaml"))
    p.add_argument("--requests", type=int, default=DEFAULT_READ_REQUESTS, metavar="N")
    p.add_argument("--login-requests", type=int, default=DEFAULT_LOGIN_REQUESTS, metavar="N")
    p.add_argument("--stale-requests", type=int, default=DEFAULT_STALE_REQUESTS, metavar="N")
    p.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, metavar="N")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = p.parse_args(argv)
    try:
        section = run_request_bench(
            args.template,
            login_requests=args.login_requests,
            read_requests=args.requests,
            stale_requests=args.stale_requests,
            warmup=args.warmup,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except (RequestBenchError, ValueError) as exc:
        print(f"bench_requests: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(section, indent=2))
    else:
        print_request_report(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
