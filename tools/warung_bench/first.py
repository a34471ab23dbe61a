"""`make bench`, first-request section: what a user's cold start costs, import and first
request together, route family by route family, against a bare handler that reads once.

How it measures:

* A `LocalRuntime` of template.yaml runs in the bench's process: its emulation (moto's
  server on a free loopback port), the tables, keys and secrets, and the demo data. Before
  the rounds, untimed, one more merchant next to the delivery address gets one product, and
  the demo customer signs in.
* For each route family a fresh `python3.13 -I -B` process of the runtime environment
  (.venv-bench: boto3 only) imports the built handler, laid out as in Lambda exactly as the
  import section does (warung_bench.cold: the build, host wheels swapped in for timing on
  another architecture), with the function's environment pointed at that emulation. It
  then handles the family's first event and, after any untimed preparing event, one more
  (warm). The events are API Gateway proxy events built by the local gateway's own
  `build_proxy_event` (the worker's: an SQS batch of one e-mail job, as the sample event
  in events/worker).
* Waiting on the emulation is measured in the child at botocore's send: a finder on
  `sys.meta_path` wraps `botocore.endpoint.Endpoint._send` as botocore is first imported
  (nothing is imported before the timed import), and sums its wall time per request. That
  time is the emulation's, which is neither DynamoDB's latency nor the function's work, so
  the ratios subtract it.
* The baseline (tools/warung_bench/baseline/getitem.py: boto3, a DynamoDB client, one
  GetItem of the demo customer's profile) runs in the same rounds, interleaved: baseline,
  then every family, round after round, after one untimed warm-up round. Each figure is the
  median over rounds; each ratio is the median over rounds of the ratio within a round.
* Login verifies the password with Argon2 (19 MiB, 2 passes) by design: the child times
  the auth function's own `verify_password` alone (three times after the requests, the
  median), and login's ratio is also given without it: "login <= 1.3x + Argon2".

Columns: import ms (import of the handler module until the handler is resolved); first ms
(the first invocation, its emulation wait included) and its emulation wait; warm ms (the
invocation after it); deferred ms (first minus warm: what the import left to the first
request); import ratio and first-request ratio (import + first - emulation wait, over the
baseline's import + GetItem - its emulation wait).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIRST_RATIO_TARGET = 1.3
ARGON2_REPEATS = 3
RESULT_MARK = "@@warung-first"
CHILD_TIMEOUT_S = 120
BASELINE_HANDLER = "getitem.handler"
BASELINE_FILE = Path(__file__).resolve().parent / "baseline" / "getitem.py"
# The shape's floor: Powertools, pydantic and a plain botocore client, nothing of the project.
FLOOR_HANDLER = "floor.handler"
FLOOR_FILE = Path(__file__).resolve().parent / "baseline" / "floor.py"

# Environment variables the Lambda runtime owns: the child keeps the import section's values
# of these (its task root, the runtime's paths, dummy credentials), and takes every other
# one (table names, ARNs, the emulation's endpoint and region) from the local runtime.
_RUNTIME_OWNED_PREFIXES = ("AWS_LAMBDA_", "LAMBDA_", "_", "AWS_XRAY_")
_RUNTIME_OWNED = frozenset(
    {
        "PATH",
        "LANG",
        "LD_LIBRARY_PATH",
        "TZ",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    }
)

# Runs in each child. Before the timed import: only builtin and frozen modules, the spec
# file read as text, and the finder that will time botocore's sends once botocore loads.
CHILD_CODE = f"""
import sys, time, importlib
spec_path, handler = sys.argv[1], sys.argv[2]
sys.path[0:0] = sys.argv[3:]
with open(spec_path, encoding="utf-8") as fh:
    raw_spec = fh.read()
waited = [0, 0]

def _time_sends(module):
    endpoint = module.Endpoint
    send = endpoint._send
    def _send(self, request):
        started = time.perf_counter_ns()
        try:
            return send(self, request)
        finally:
            waited[0] += time.perf_counter_ns() - started
            waited[1] += 1
    endpoint._send = _send

class _EndpointWatch:
    def find_spec(self, name, path=None, target=None):
        if name != "botocore.endpoint":
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            found = find(name, path, target) if find is not None else None
            if found is not None:
                break
        else:
            return None
        execute = found.loader.exec_module
        def exec_module(module):
            execute(module)
            _time_sends(module)
        found.loader.exec_module = exec_module
        return found

sys.meta_path.insert(0, _EndpointWatch())
module_name, _, attr = handler.rpartition(".")
t0 = time.perf_counter_ns()
module = importlib.import_module(module_name)
fn = getattr(module, attr)
t1 = time.perf_counter_ns()
import json

spec = json.loads(raw_spec)

class Context:
    function_name = spec["function_name"]
    function_version = "$LATEST"
    invoked_function_arn = ":".join(
        ("arn:aws:lambda", spec["region"], "123456789012:function", spec["function_name"]))
    memory_limit_in_mb = spec["memory"]
    log_group_name = "/aws/lambda/" + spec["function_name"]
    log_stream_name = "bench"
    identity = None
    client_context = None
    def __init__(self, n):
        self.aws_request_id = "bench-%d-%d" % (time.time_ns(), n)
        self._deadline = time.monotonic() + 30
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

restore_ms = None
if spec.get("restore"):
    # SnapStart, as the runtime does it: the before-snapshot hooks at publish time (untimed:
    # no user waits on them), then, in a restored environment, the after-restore hooks.
    import snapshot_restore_py as hooks

    for func, args, kwargs in hooks.get_before_snapshot():
        func(*args, **kwargs)
    started = time.perf_counter_ns()
    for func, args, kwargs in hooks.get_after_restore():
        func(*args, **kwargs)
    restore_ms = (time.perf_counter_ns() - started) / 1e6
steps = []
for n, step in enumerate(spec["steps"]):
    wait0, calls0 = waited
    started = time.perf_counter_ns()
    payload = fn(step["event"], Context(n))
    ended = time.perf_counter_ns()
    steps.append({{
        "kind": step["kind"],
        "ms": (ended - started) / 1e6,
        "wait_ms": (waited[0] - wait0) / 1e6,
        "aws_calls": waited[1] - calls0,
        "payload": payload,
    }})
argon2_ms = None
if spec.get("argon2"):
    passwords = importlib.import_module(spec["argon2"]["module"])
    secret = spec["argon2"]["password"]
    stored = passwords.hash_password(secret)
    times = []
    for _ in range({ARGON2_REPEATS}):
        started = time.perf_counter_ns()
        if not passwords.verify_password(stored, secret).ok:
            raise SystemExit("argon2: the password did not verify")
        times.append((time.perf_counter_ns() - started) / 1e6)
    argon2_ms = sorted(times)[len(times) // 2]
result = {{"import_ms": (t1 - t0) / 1e6, "modules": len(sys.modules), "steps": steps,
          "argon2_ms": argon2_ms, "restore_ms": restore_ms}}
sys.stdout.flush()
sys.__stdout__.write("\\n{RESULT_MARK} " + json.dumps(result, default=str) + "\\n")
sys.__stdout__.flush()
"""


class FirstRequestError(Exception):
    """A family's child failed, or one of its requests did not succeed."""


# ------------------------------------------------------------------ arithmetic


@dataclass(frozen=True)
class Sample:
    """One fresh process: its import, first and warm request, and the emulation waits."""

    import_ms: float
    first_ms: float
    first_wait_ms: float
    warm_ms: float
    warm_wait_ms: float
    argon2_ms: float | None = None
    restore_ms: float | None = None  # the after-restore hooks, when restored from a snapshot

    @property
    def first_total_ms(self) -> float:
        """Import plus the first request, less the time spent waiting on the emulation."""
        return self.import_ms + self.first_ms - self.first_wait_ms

    @property
    def restored_total_ms(self) -> float:
        """After a SnapStart restore: the after-restore hooks plus the first request, less
        the emulation's time (the import and priming were done before the snapshot)."""
        return (self.restore_ms or 0.0) + self.first_ms - self.first_wait_ms

    @property
    def deferred_ms(self) -> float:
        """What the first request costs more than a warm one (emulation waits taken out)."""
        return (self.first_ms - self.first_wait_ms) - (self.warm_ms - self.warm_wait_ms)


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def paired_ratios(
    samples: Sequence[Sample | None],
    baselines: Sequence[Sample | None],
    of: Callable[[Sample], float],
) -> list[float]:
    """Per round, ``of(sample) / of(baseline)`` of the same round (rounds where either is
    missing, or the baseline's figure is not positive, are left out)."""
    ratios = []
    for sample, base in zip(samples, baselines, strict=True):
        if sample is None or base is None:
            continue
        denominator = of(base)
        if denominator > 0:
            ratios.append(of(sample) / denominator)
    return ratios


def family_row(
    name: str,
    request: str,
    samples: Sequence[Sample | None],
    baselines: Sequence[Sample | None],
) -> dict[str, Any]:
    """The report's row of one family: medians over rounds and the paired ratios."""
    ok = [s for s in samples if s is not None]

    def med(of: Callable[[Sample], float]) -> float | None:
        return median([of(s) for s in ok])

    import_ratio = median(paired_ratios(samples, baselines, lambda s: s.import_ms))
    first_ratio = median(paired_ratios(samples, baselines, lambda s: s.first_total_ms))
    argon2 = median([s.argon2_ms for s in ok if s.argon2_ms is not None])
    row: dict[str, Any] = {
        "name": name,
        "request": request,
        "rounds": len(ok),
        "import_ms": med(lambda s: s.import_ms),
        "first_ms": med(lambda s: s.first_ms),
        "first_wait_ms": med(lambda s: s.first_wait_ms),
        "warm_ms": med(lambda s: s.warm_ms),
        "warm_wait_ms": med(lambda s: s.warm_wait_ms),
        "deferred_ms": med(lambda s: s.deferred_ms),
        "first_total_ms": med(lambda s: s.first_total_ms),
        "import_ratio": import_ratio,
        "first_ratio": first_ratio,
        "argon2_ms": argon2,
        "first_ratio_without_argon2": None,
    }
    if argon2 is not None:
        # The baseline has no Argon2: its own total stays the denominator.
        row["first_ratio_without_argon2"] = median(
            [
                (s.first_total_ms - (s.argon2_ms or 0.0)) / b.first_total_ms
                for s, b in zip(samples, baselines, strict=True)
                if s is not None and b is not None and b.first_total_ms > 0
            ]
        )
    row["status"] = verdict(row)
    return row


def restored_row(
    name: str, samples: Sequence[Sample | None], baselines: Sequence[Sample | None]
) -> dict[str, Any]:
    """The row of a family restored from a snapshot: its after-restore hooks and first
    request, and their total against the baseline's plain cold start (import + GetItem)."""
    ok = [s for s in samples if s is not None]
    return {
        "name": name,
        "rounds": len(ok),
        "restore_ms": median([s.restore_ms or 0.0 for s in ok]),
        "first_ms": median([s.first_ms for s in ok]),
        "first_wait_ms": median([s.first_wait_ms for s in ok]),
        "restored_total_ms": median([s.restored_total_ms for s in ok]),
        "restored_ratio": median(paired_ratios(samples, baselines, _restored_or_cold)),
    }


def _restored_or_cold(sample: Sample) -> float:
    """A restored sample's total, or a baseline's cold total (it has no snapshot)."""
    return sample.restored_total_ms if sample.restore_ms is not None else sample.first_total_ms


def format_restored(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The after-restore table, as lines of text."""

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    w = max(16, *(len(r["name"]) for r in rows))
    lines = [f"{'family':<{w}}  {'hooks':>5}  {'first':>6}  {'(emu)':>5}  {'total':>6}  x bare"]
    for r in rows:
        ratio = "-" if r["restored_ratio"] is None else f"{r['restored_ratio']:.2f}x"
        if r.get("error"):
            ratio += f"  {r['error'].splitlines()[0][:80]}"
        lines.append(
            f"{r['name']:<{w}}  {ms(r['restore_ms']):>5}  {ms(r['first_ms']):>6}  "
            f"{ms(r['first_wait_ms']):>5}  {ms(r['restored_total_ms']):>6}  {ratio}"
        )
    return lines


def verdict(row: dict[str, Any]) -> str:
    """PASS when the first-request ratio (login: without its Argon2 time) is within target."""
    ratio = row.get("first_ratio_without_argon2") or row.get("first_ratio")
    if ratio is None:
        return "ERROR"
    return "PASS" if ratio <= FIRST_RATIO_TARGET else "OVER"


def sample_of(result: dict[str, Any]) -> Sample:
    """A child's result as a Sample: its "first" and its last "warm" step."""
    steps = result["steps"]
    first = next(s for s in steps if s["kind"] == "first")
    warm = [s for s in steps if s["kind"] == "warm"][-1]
    return Sample(
        import_ms=float(result["import_ms"]),
        first_ms=float(first["ms"]),
        first_wait_ms=float(first["wait_ms"]),
        warm_ms=float(warm["ms"]),
        warm_wait_ms=float(warm["wait_ms"]),
        argon2_ms=None if result.get("argon2_ms") is None else float(result["argon2_ms"]),
        restore_ms=None if result.get("restore_ms") is None else float(result["restore_ms"]),
    )


# ------------------------------------------------------------------ families


@dataclass
class Steps:
    """What one child runs: its events, with what the parent does before and after."""

    steps: list[dict[str, Any]]
    after: Callable[[list[dict[str, Any]]], None] | None = None
    argon2: dict[str, str] | None = None


@dataclass
class Family:
    """A route family: the function that serves it and how to make its events."""

    name: str
    function_id: str
    request: str
    prepare: Callable[[], Steps]
    samples: list[Sample | None] = field(default_factory=list)
    error: str | None = None
    restore: bool = False  # measured after a SnapStart restore instead of a plain cold start


def _step(kind: str, event: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "event": event}


def _body(step: dict[str, Any]) -> dict[str, Any]:
    payload = step.get("payload") or {}
    with contextlib.suppress(ValueError, TypeError):
        body = json.loads(payload.get("body") or "{}")
        return body if isinstance(body, dict) else {}
    return {}


def email_job_event(to: str, order: dict[str, Any], merchant_name: str) -> dict[str, Any]:
    """An SQS batch of one order-status e-mail job, as the outbox relay enqueues it (the
    shape of events/worker/order-status-email-job.json, with a fresh job and message id)."""
    job_id = uuid.uuid4().hex.upper()[:26]
    body = {
        "job_id": job_id,
        "job_type": "email.order_status",
        "payload": {
            "to": to,
            "name": "Bench Customer",
            "order_id": order["id"],
            "order_number": order.get("number") or "WRG-BENC-H000",
            "merchant_name": merchant_name,
            "status": "accepted",
        },
        "correlation_id": str(uuid.uuid4()),
        "created_at": "2026-11-26T08:15:00Z",
    }
    attribute = {"stringListValues": [], "binaryListValues": [], "dataType": "String"}
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"bench-{job_id}",
                "body": json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795681500000",
                    "SenderId": "AROAEXAMPLE:warung-local-outbox-relay",
                    "ApproximateFirstReceiveTimestamp": "1795681500100",
                },
                "messageAttributes": {
                    "job_type": {**attribute, "stringValue": "email.order_status"},
                    "correlation_id": {**attribute, "stringValue": body["correlation_id"]},
                },
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:warung-local-jobs",
                "awsRegion": "ap-southeast-1",
            }
        ]
    }


def check_step(family: str, step: dict[str, Any]) -> None:
    """A step's answer must be a success: 2xx, or an SQS batch without failures."""
    payload = step.get("payload")
    if not isinstance(payload, dict):
        raise FirstRequestError(f"{family}: {step['kind']} answered {payload!r}")
    if "statusCode" in payload:
        status = int(payload["statusCode"])
        if not 200 <= status < 300:
            body = str(payload.get("body"))[:400]
            raise FirstRequestError(f"{family}: {step['kind']} answered HTTP {status}: {body}")
    elif payload.get("batchItemFailures"):
        raise FirstRequestError(f"{family}: {step['kind']} failed its job: {payload}")


# ------------------------------------------------------------------ children


def child_env(import_env: dict[str, str], function_env: dict[str, str]) -> dict[str, str]:
    """The import section's Lambda-like environment, with the function's own variables as
    the local runtime resolved them (tables, ARNs, the emulation's endpoint and region)."""
    env = dict(import_env)
    for key, value in function_env.items():
        if key in _RUNTIME_OWNED or key.startswith(_RUNTIME_OWNED_PREFIXES):
            continue
        env[key] = value
    return env


def run_child(
    runtime_py: Path,
    handler: str,
    sys_path: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    spec: dict[str, Any],
    scratch: Path,
) -> dict[str, Any]:
    """One fresh process: import, the spec's steps; its result."""
    with tempfile.NamedTemporaryFile(
        "w", suffix=".json", dir=scratch, delete=False, encoding="utf-8"
    ) as fh:
        json.dump(spec, fh)
        spec_file = fh.name
    cmd = [str(runtime_py), "-I", "-B", "-c", CHILD_CODE, spec_file, handler, *sys_path]
    try:
        res = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise FirstRequestError(f"no result after {CHILD_TIMEOUT_S} s") from exc
    finally:
        Path(spec_file).unlink(missing_ok=True)
    marks = [line for line in res.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if res.returncode != 0 or not marks:
        raise FirstRequestError(
            f"exit status {res.returncode}\n--- stderr ---\n{res.stderr.rstrip()[-3000:]}"
            + (f"\n--- stdout ---\n{res.stdout.rstrip()[-2000:]}" if res.stdout.strip() else "")
        )
    result: dict[str, Any] = json.loads(marks[-1][len(RESULT_MARK) :])
    return result


def format_table(section: dict[str, Any]) -> list[str]:
    """The first-request table, as lines of text."""

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    def ratio(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}x"

    rows = [section["baseline"], *([section["floor"]] if section.get("floor") else [])]
    rows += section["families"]
    w = max(16, *(len(r["name"]) for r in rows))
    lines = [
        f"{'family':<{w}}  {'import':>6}  {'first':>6}  {'(emu)':>5}  {'warm':>5}  "
        f"{'(emu)':>5}  {'deferred':>8}  {'import x':>8}  {'first x':>7}  status"
    ]
    for r in rows:
        note = ""
        if r.get("argon2_ms") is not None:
            note = (
                f"  ({ratio(r['first_ratio_without_argon2'])} without Argon2 verify "
                f"{ms(r['argon2_ms'])} ms)"
            )
        if r.get("error"):
            note = f"  {r['error'].splitlines()[0][:80]}"
        lines.append(
            f"{r['name']:<{w}}  {ms(r['import_ms']):>6}  {ms(r['first_ms']):>6}  "
            f"{ms(r['first_wait_ms']):>5}  {ms(r['warm_ms']):>5}  {ms(r['warm_wait_ms']):>5}  "
            f"{ms(r['deferred_ms']):>8}  {ratio(r['import_ratio']):>8}  "
            f"{ratio(r['first_ratio']):>7}  {r.get('status') or '':<6}{note}"
        )
    return lines


def print_first_report(section: dict[str, Any], out: Any = None) -> None:
    """The first-request section, as text."""
    import sys

    out = out or sys.stdout
    if section.get("skipped") or section.get("error"):
        why = section.get("skipped") or f"NOT MEASURED: {section.get('error')}"
        print(f"First request (import + one request, fresh process): {why}", file=out)
        return
    print(
        f"First request: fresh Python {section['python']} process per family and round, "
        f"median of {section['rounds']} interleaved rounds (+{section['warmup_rounds']} "
        f"warm-up), against the emulation at {section['emulation_endpoint']}",
        file=out,
    )
    print(
        "  ms: import = the handler module; first / warm = one invocation each, (emu) = of "
        "which waiting on the emulation (botocore's send); deferred = first - warm, waits "
        "taken out",
        file=out,
    )
    print(
        "  import x = import / baseline's import;  first x = (import + first - emu) / "
        "(baseline's import + GetItem - emu), median of per-round ratios; target "
        f"<= {FIRST_RATIO_TARGET:g}x (login: <= {FIRST_RATIO_TARGET:g}x + Argon2)",
        file=out,
    )
    print(file=out)
    for line in format_table(section):
        print(line, file=out)
    if section.get("restored"):
        print(file=out)
        print(
            "After a SnapStart restore (the prod functions, decisions/0025): the before-snapshot "
            "hooks run after the import, untimed (publish time); then the after-restore hooks "
            "and the first request, timed, less the emulation's time. x bare = that total / the "
            "bare handler's plain cold start (import + GetItem). The restore itself happens "
            "in Lambda and is not in these figures.",
            file=out,
        )
        for line in format_restored(section["restored"]):
            print(line, file=out)
    print(f"  first-request section took {section['elapsed_s']:.0f} s", file=out)


def measure_rounds(
    families: Sequence[Family],
    run_baseline: Callable[[], Sample],
    run_family: Callable[[Family], Sample],
    rounds: int,
    warmup: int,
    progress: Callable[[str], None],
) -> list[Sample | None]:
    """Interleaved rounds (baseline, then every family); the baseline's samples. A family
    that fails once is not run again (its error kept)."""
    baselines: list[Sample | None] = []
    for r in range(warmup + rounds):
        base = run_baseline()
        row = [f"baseline {base.first_total_ms:.0f}"]
        kept = r >= warmup
        if kept:
            baselines.append(base)
        for family in families:
            if family.error is not None:
                if kept:
                    family.samples.append(None)
                continue
            try:
                sample: Sample | None = run_family(family)
            except FirstRequestError as exc:
                family.error = str(exc)
                sample = None
            if kept:
                family.samples.append(sample)
            row.append(
                f"{family.name} {sample.first_total_ms:.0f}" if sample else f"{family.name} FAILED"
            )
        label = "warm-up" if not kept else f"round {r - warmup + 1}/{rounds}"
        progress(f"   {label} (import + first - emu, ms): " + "  ".join(row))
    return baselines


def elapsed_since(started: float) -> float:
    """Seconds since ``started`` (time.perf_counter), to one decimal."""
    return round(time.perf_counter() - started, 1)
