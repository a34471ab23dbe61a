#!/usr/bin/env python3
"""First-request cold start per route family: import plus one request, in a fresh process.

`make bench` times the import of each handler. A user's cold start is more than that: the
first request also pays for what a function defers (its AWS clients, the JWK Set read,
JWT/cryptography, Argon2, Jinja2). This probe counts both, per route family, and sets them
against a bare handler (tools/warung_bench/baseline/app.py: boto3 and a DynamoDB client)
doing its import plus one GetItem.

How it measures:

* The world: a `LocalRuntime` of template.yaml in this process (free ports, demo data
  seeded, event sources not started). It only prepares, untimed: it signs the demo
  accounts in, fills the cart before a checkout, places the order a webhook pays. Its
  emulation (moto, on loopback) is what every timed process talks to.
* Each sample is a fresh interpreter (`python -I`) of the developer environment (.venv),
  with the function's package (from ``--code``: given twice, two trees are compared in
  the same interleaved rounds) and
  the layer on `sys.path`, and exactly the environment the local runtime gives that
  function. The child times, in nanoseconds: the import of the handler module, the first
  request, and a second ("warm") request of the same route; and the time spent inside
  botocore's `Endpoint._send` (the wait on the emulation, hooked when botocore loads, not
  imported before), which is subtracted. For sign-in, the time in Argon2's `verify` is
  reported apart.
* Rounds are interleaved (baseline, family 1, family 2, ..., baseline, ...), the first
  round is a warm-up (bytecode written, page cache filled) and is discarded, and the
  figures are medians over rounds. The headline is the median over rounds of
  (import + first request - emulation wait) / (the same for the baseline of that round).
* Each child also says which of a few modules it ended with (boto3, asyncio,
  botocore.docs, s3transfer, Powertools parameters), so a regression shows by name.

What transfers to Lambda is the ratio and the list of modules, not the milliseconds: the
developer's CPython (not the runtime's 3.13) and a busy two-core machine are neither.

    .venv/bin/python tools/warung_bench/first_request_probe.py --rounds 7 [--json]
    .venv/bin/python tools/warung_bench/first_request_probe.py --code OLD --code . # compared
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(__file__).resolve().parents[1]
# This tree's tools and layer first, as `make` puts them (PYTHONPATH=tools:layers/common),
# whatever the environment's own path file points at.
for _folder in (ROOT / "layers" / "common", TOOLS):
    sys.path.insert(0, str(_folder))

MARK = "@@first-request"
WATCHED_MODULES = (
    "boto3",
    "s3transfer",
    "asyncio",
    "botocore.docs",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.event_handler.appsync",
    "jwt",
    "cryptography",
)
CHILD_TIMEOUT_S = 180
DEFAULT_ROUNDS = 7
SEARCH_QUERY = "nasi"

# Runs in each timed child. Before t0 only builtin/frozen modules are imported, and a
# meta-path hook that wraps botocore's send and Argon2's verify once they load.
CHILD_CODE = f"""
import sys, time, importlib, importlib.abc, importlib.machinery, json
handler_path = sys.argv[1]
sys.path[0:0] = sys.argv[2:]
spent = {{"send": 0, "argon2": 0}}

def timed(function, counter):
    def wrapper(*args, **kwargs):
        started = time.perf_counter_ns()
        try:
            return function(*args, **kwargs)
        finally:
            spent[counter] += time.perf_counter_ns() - started
    return wrapper

HOOKS = {{
    "botocore.endpoint": ("Endpoint", "_send", "send"),
    "argon2._password_hasher": ("PasswordHasher", "verify", "argon2"),
}}

class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in HOOKS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module
        cls, attr, counter = HOOKS[name]
        def exec_module(module):
            original(module)
            owner = getattr(module, cls)
            setattr(owner, attr, timed(getattr(owner, attr), counter))
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Hook())

class Context:
    function_name = "first-request-probe"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:ap-southeast-1:123456789012:function:probe"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/probe"
    log_stream_name = "probe"
    def get_remaining_time_in_millis(self):
        return 29000

out = sys.__stdout__
module_name, _, attr = handler_path.rpartition(".")
t0 = time.perf_counter_ns()
module = importlib.import_module(module_name)
handler = getattr(module, attr)
t1 = time.perf_counter_ns()
sys.stdout = sys.stderr  # the function's own log lines must not mix with the report
out.write("{MARK} " + json.dumps({{"import_ns": t1 - t0, "send_ns": spent["send"]}}) + "\\n")
out.flush()
for line in sys.stdin:
    request = json.loads(line)
    if request is None:
        break
    spent["send"] = spent["argon2"] = 0
    started = time.perf_counter_ns()
    if request.get("call"):
        target = module
        for part in request["call"].split("."):
            target = getattr(target, part)
        result = target(**request.get("kwargs", {{}}))
    elif request.get("profile"):
        import cProfile
        profiler = cProfile.Profile()
        result = profiler.runcall(handler, request["event"], Context())
        profiler.dump_stats(request["profile"])
    else:
        result = handler(request["event"], Context())
    elapsed = time.perf_counter_ns() - started
    watched = [name for name in request.get("watch", []) if name in sys.modules]
    out.write("{MARK} " + json.dumps({{
        "ns": elapsed, "send_ns": spent["send"], "argon2_ns": spent["argon2"],
        "result": result, "modules": watched,
    }}, default=str) + "\\n")
    out.flush()
"""


class ProbeError(Exception):
    """A child failed, or a measured request did not succeed."""


# ------------------------------------------------------------------ one timed process


@dataclass
class Sample:
    """One fresh process: import, first request, warm request (nanoseconds)."""

    import_ns: int
    first_ns: int
    first_send_ns: int
    warm_ns: int
    warm_send_ns: int
    argon2_ns: int
    modules: list[str]

    @property
    def first_total_ms(self) -> float:
        """Import plus first request, less the wait on the emulation."""
        return (self.import_ns + self.first_ns - self.first_send_ns) / 1e6

    @property
    def deferred_ms(self) -> float:
        """What the first request costs beyond a warm one (emulation wait subtracted)."""
        return ((self.first_ns - self.first_send_ns) - (self.warm_ns - self.warm_send_ns)) / 1e6


class Child:
    """A fresh interpreter that imports one handler and answers requests one at a time."""

    def __init__(
        self, handler: str, paths: Sequence[str], env: dict[str, str], log: Path | None = None
    ) -> None:
        # The function's log lines, and with a log file given, `-X importtime`'s lines too.
        self.log = open(log, "w+") if log else tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        options = ["-X", "importtime"] if log else []
        self.proc = subprocess.Popen(
            [sys.executable, "-I", *options, "-c", CHILD_CODE, handler, *paths],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        self.handler = handler
        self.started = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(MARK):
                found: dict[str, Any] = json.loads(line[len(MARK) :])
                return found
        self.proc.wait(timeout=CHILD_TIMEOUT_S)
        self.log.seek(0)
        raise ProbeError(f"{self.handler}: the child ended early:\n{self.log.read()[-3000:]}")

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        message = {"watch": list(WATCHED_MODULES), **message}
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.write("null\n")
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ------------------------------------------------------------------ the families


@dataclass
class Family:
    """A route family: the function that serves it and how to make its two requests."""

    name: str
    function_id: str
    make_event: Callable[[], dict[str, Any]]
    before_each: Callable[[], None] | None = None
    after_each: Callable[[dict[str, Any]], None] | None = None
    samples: list[Sample] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)


def _status_ok(result: Any, family: str) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise ProbeError(f"{family}: the handler returned {result!r}")
    if "statusCode" in result and not 200 <= int(result["statusCode"]) < 300:
        body = str(result.get("body"))[:500]
        raise ProbeError(f"{family}: HTTP {result['statusCode']}: {body}")
    if result.get("batchItemFailures"):
        raise ProbeError(f"{family}: the job failed: {result}")
    return result


def _body(result: dict[str, Any]) -> dict[str, Any]:
    try:
        body: dict[str, Any] = json.loads(result.get("body") or "{}")
    except ValueError:
        body = {}
    return body


@contextlib.contextmanager
def artefact_paths(code: Path) -> Iterator[dict[str, list[str]]]:
    """Per function package, the paths of its process: a folder holding only that package
    (as the built artefact does), then the layer."""
    with tempfile.TemporaryDirectory(prefix="first-request-") as tmp:
        paths: dict[str, list[str]] = {}
        for package in sorted((code / "functions").iterdir()):
            if not (package / "__init__.py").is_file():
                continue
            root = Path(tmp) / package.name
            root.mkdir()
            (root / package.name).symlink_to(package, target_is_directory=True)
            paths[package.name] = [str(root), str(code / "layers" / "common")]
        baseline = Path(tmp) / "_baseline"
        baseline.mkdir()
        (baseline / "app.py").symlink_to(TOOLS / "warung_bench" / "baseline" / "app.py")
        paths["_baseline"] = [str(baseline)]
        yield paths


def run_probe(
    codes: Sequence[Path] = (ROOT,),
    rounds: int = DEFAULT_ROUNDS,
    only: Sequence[str] = (),
    say: Callable[[str], None] = lambda _msg: None,
    importtime: Path | None = None,
) -> dict[str, Any]:
    """Measure every family (or ``only`` those) of each code tree, interleaved, for
    ``rounds`` rounds plus one warm-up; ratios against the same round's baseline."""
    from warung_bench import warm
    from warung_local.runtime import LocalRuntime

    sink = warm._Sink()
    with contextlib.redirect_stdout(sink):
        runtime = LocalRuntime(
            ROOT / "template.yaml", port=0, emulator_port=0, seed=True, start_sources=False
        )
        runtime.start()
    samples: dict[tuple[int, str], list[Sample]] = {}
    ratios: dict[tuple[int, str], list[float]] = {}
    base_samples: list[Sample] = []
    try:
        recorder = warm.CallRecorder()
        bench = warm.RequestBench(runtime, recorder, sink)
        with contextlib.redirect_stdout(sink):
            world = _prepare_world(bench)
        families = _families(bench, world)
        if only:
            families = [f for f in families if f.name in only]
        baseline_env = dict(runtime.functions["PlatformFunction"].environment)
        table = baseline_env.get("TABLE_NAME", "")
        with contextlib.ExitStack() as stack:
            trees = [stack.enter_context(artefact_paths(code)) for code in codes]
            for round_no in range(rounds + 1):
                say(f"   round {round_no}{' (warm-up)' if round_no == 0 else ''}")
                base = _baseline_sample(trees[0]["_baseline"], baseline_env, table)
                for family in families:
                    function = runtime.functions[family.function_id]
                    package = function.spec.handler.split(".", 1)[0]
                    for n, paths in enumerate(trees):
                        log = None
                        if importtime is not None and round_no == rounds:
                            label = family.name.replace(" ", "_").replace("/", "")
                            log = importtime / f"{n}-{label}.txt"
                        with contextlib.redirect_stdout(sink):
                            sample = _family_sample(
                                family,
                                function.spec.handler,
                                paths[package],
                                function.environment,
                                log,
                            )
                        if round_no:
                            samples.setdefault((n, family.name), []).append(sample)
                            ratios.setdefault((n, family.name), []).append(
                                sample.first_total_ms / base.first_total_ms
                            )
                if round_no:
                    base_samples.append(base)
    finally:
        with contextlib.redirect_stdout(sink):
            runtime.stop()
    results: dict[str, Any] = {
        "rounds": rounds,
        "python": sys.version.split()[0],
        "baseline": _summary(base_samples),
        "codes": [],
    }
    for n, code in enumerate(codes):
        rows = []
        for family in families:
            row = _summary(samples[n, family.name])
            row["name"] = family.name
            row["ratio"] = round(statistics.median(ratios[n, family.name]), 2)
            rows.append(row)
        results["codes"].append({"code": str(code), "families": rows})
    return results


def _summary(samples: Sequence[Sample]) -> dict[str, Any]:
    def median(of: Callable[[Sample], float]) -> float:
        return round(statistics.median(of(s) for s in samples), 1)

    return {
        "import_ms": median(lambda s: s.import_ns / 1e6),
        "first_request_ms": median(lambda s: (s.first_ns - s.first_send_ns) / 1e6),
        "warm_request_ms": median(lambda s: (s.warm_ns - s.warm_send_ns) / 1e6),
        "emulation_wait_ms": median(lambda s: s.first_send_ns / 1e6),
        "deferred_ms": median(lambda s: s.deferred_ms),
        "first_total_ms": median(lambda s: s.first_total_ms),
        "argon2_ms": median(lambda s: s.argon2_ns / 1e6),
        "modules": sorted({m for s in samples for m in s.modules}),
    }


def _baseline_sample(paths: list[str], env: dict[str, str], table: str) -> Sample:
    child = Child("app.handler", paths, env)
    try:
        key = {"pk": {"S": "PROBE#none"}, "sk": {"S": "PROBE#none"}}
        call = {"call": "client.get_item", "kwargs": {"TableName": table, "Key": key}}
        first = child.request(call)
        warm_ = child.request(call)
    finally:
        child.close()
    return Sample(
        import_ns=child.started["import_ns"],
        first_ns=first["ns"],
        first_send_ns=first["send_ns"],
        warm_ns=warm_["ns"],
        warm_send_ns=warm_["send_ns"],
        argon2_ns=0,
        modules=first["modules"],
    )


def _family_sample(
    family: Family, handler: str, paths: list[str], env: dict[str, str], log: Path | None = None
) -> Sample:
    child = Child(handler, paths, env, log)
    answers = []
    try:
        for _ in range(2):
            if family.before_each is not None:
                family.before_each()
            answer = child.request({"event": family.make_event()})
            result = _status_ok(answer["result"], family.name)
            if family.after_each is not None:
                family.after_each(_body(result))
            answers.append(answer)
    finally:
        child.close()
    first, warm_ = answers
    return Sample(
        import_ns=child.started["import_ns"],
        first_ns=first["ns"],
        first_send_ns=first["send_ns"],
        warm_ns=warm_["ns"],
        warm_send_ns=warm_["send_ns"],
        argon2_ns=first["argon2_ns"],
        modules=warm_["modules"],
    )


# ------------------------------------------------------------------ the world


def _prepare_world(bench: Any) -> dict[str, Any]:
    """Untimed: tokens of the demo accounts, a merchant next to the delivery address with
    one product (stock not tracked), and a product the search finds."""
    from warung_bench import warm

    owner = bench.sign_in(warm.DEMO_OWNER_EMAIL)
    admin = bench.sign_in(warm.DEMO_ADMIN_EMAIL)
    customer = bench.sign_in(warm.DEMO_EMAIL)
    lat, lon = (float(v) for v in warm.NEAR_POINT.split(","))
    merchant_id = warm.open_merchant(bench, owner, admin, 98, lat + 0.002, lon - 0.001)
    product = {
        "name": "Nasi Goreng Probe",
        "description": "The product the probe orders.",
        "price": 25_000,
        "category": "food",
        "tags": ["nasi"],
        "stock": None,
    }
    path = f"/v1/merchants/{merchant_id}/products"
    product_id = str(bench.send("POST", path, owner, product)["id"])
    bench.send("DELETE", "/v1/cart", customer)
    bench.send("PUT", f"/v1/cart/items/{product_id}", customer, {"quantity": 2})
    payments = bench.runtime.functions[warm.PAYMENTS_FUNCTION]
    secret = warm.payment_webhook_secret(bench.runtime, payments)
    return {
        "customer": customer,
        "product_id": product_id,
        "webhook_secret": secret,
        "payments": payments,
    }


def _families(bench: Any, world: dict[str, Any]) -> list[Family]:  # noqa: C901 - one per family
    from warung_bench import warm

    customer = world["customer"]
    auth = ("Authorization", f"Bearer {customer}")
    order_body = {"delivery_address": warm.DELIVERY_ADDRESS}
    placed: dict[str, Any] = {}

    def fill_cart() -> None:
        bench.send("PUT", f"/v1/cart/items/{world['product_id']}", customer, {"quantity": 2})

    def checkout_event() -> dict[str, Any]:
        key = ("Idempotency-Key", f"probe-{uuid.uuid4().hex}")
        event: dict[str, Any] = bench.event(
            "POST", "/v1/orders", body=order_body, headers=[auth, key]
        )
        return event

    def cancel(order: dict[str, Any]) -> None:
        bench.send("POST", f"/v1/orders/{order['id']}/cancel", customer)

    def place_order() -> None:
        fill_cart()
        key = ("Idempotency-Key", f"probe-{uuid.uuid4().hex}")
        placed["order"] = bench.send("POST", "/v1/orders", customer, order_body, headers=[key])

    def webhook_event() -> dict[str, Any]:
        from warung_bench.warm import signed_payment_succeeded

        body, header, signature = signed_payment_succeeded(
            world["payments"], world["webhook_secret"], placed["order"], prefix="evt_probe"
        )
        event: dict[str, Any] = bench.event(
            "POST", "/v1/payments/webhook", raw_body=body, headers=[(header, signature)]
        )
        return event

    def email_job_event() -> dict[str, Any]:
        event: dict[str, Any] = json.loads(
            (ROOT / "events" / "worker" / "order-status-email-job.json").read_text()
        )
        for record in event["Records"]:
            job = json.loads(record["body"])
            job["job_id"] = f"probe-{uuid.uuid4().hex}"  # a job runs once: a new one each time
            record["body"] = json.dumps(job)
            record["messageId"] = str(uuid.uuid4())
        return event

    def login_event() -> dict[str, Any]:
        event: dict[str, Any] = bench.login_event()
        return event

    def get(path: str, *headers: tuple[str, str], query: Sequence[tuple[str, str]] = ()) -> Any:
        return lambda: bench.event("GET", path, headers=list(headers), query=list(query))

    search = bench.call(bench.event("GET", "/v1/products", query=[("q", SEARCH_QUERY)]))[1]
    if not search.get("items"):
        raise ProbeError(f"the search for {SEARCH_QUERY!r} found nothing")
    product_id = search["items"][0]["id"]
    return [
        Family("health", "PlatformFunction", get("/v1/health")),
        Family(
            "catalog search",
            "CatalogFunction",
            get("/v1/products", query=[("q", SEARCH_QUERY)]),
        ),
        Family("catalog product", "CatalogFunction", get(f"/v1/products/{product_id}")),
        Family("auth login", "AuthFunction", login_event),
        Family("auth GET /v1/me", "AuthFunction", get("/v1/me", auth)),
        Family("orders cart", "OrdersFunction", get("/v1/cart", auth), before_each=fill_cart),
        Family(
            "orders quote",
            "OrdersFunction",
            lambda: bench.event("POST", "/v1/cart/quote", body=order_body, headers=[auth]),
            before_each=fill_cart,
        ),
        Family(
            "orders checkout",
            "OrdersFunction",
            checkout_event,
            before_each=fill_cart,
            after_each=cancel,
        ),
        Family("payments webhook", "PaymentsFunction", webhook_event, before_each=place_order),
        Family("worker e-mail job", "WorkerFunction", email_job_event),
    ]


# ------------------------------------------------------------------ report


def print_report(results: dict[str, Any], out: Any = None) -> None:
    """Per code tree: import, first request, deferred, total, ratio, modules."""
    out = out or sys.stdout
    base = results["baseline"]
    out.write(
        f"first-request cold start ({results['rounds']} rounds, medians, emulation wait "
        f"subtracted; CPython {results['python']})\n"
        f"baseline (boto3 + DynamoDB client, one GetItem): import {base['import_ms']} ms, "
        f"first request {base['first_request_ms']} ms, total {base['first_total_ms']} ms\n"
    )
    for tree in results["codes"]:
        out.write(
            f"\ncode: {tree['code']}\n\n"
            "| route family | import ms | first request ms | deferred ms | total ms | ratio "
            "| argon2 ms | boto3 / asyncio |\n"
            "|---|---:|---:|---:|---:|---:|---:|---|\n"
        )
        for row in tree["families"]:
            flags = " / ".join(
                "yes" if name in row["modules"] else "no" for name in ("boto3", "asyncio")
            )
            out.write(
                f"| {row['name']} | {row['import_ms']} | {row['first_request_ms']} | "
                f"{row['deferred_ms']} | {row['first_total_ms']} | {row['ratio']:.2f}x | "
                f"{row['argon2_ms'] or ''} | {flags} |\n"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument(
        "--code",
        type=Path,
        action="append",
        help="a tree whose functions and layer are timed (repeat to compare; default: this one)",
    )
    parser.add_argument("--only", action="append", default=[], help="a family name")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--importtime",
        type=Path,
        help="a folder: the last round's children run with -X importtime, one log per family",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run_probe(
        [code.resolve() for code in args.code or [ROOT]],
        args.rounds,
        args.only,
        say=lambda msg: print(msg, file=sys.stderr, flush=True),
        importtime=args.importtime,
    )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        buffer = io.StringIO()
        print_report(results, buffer)
        print(buffer.getvalue(), end="")
    print(f"   took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
