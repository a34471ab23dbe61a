#!/usr/bin/env python3
"""What a function's first AWS clients cost, in a fresh interpreter: the layer's against a
bare handler's (docs/decisions/0032-botocore-data-directory.md).

Each sample is a fresh ``python -I`` (by default the ``make bench`` environment's CPython
3.13, which has only what the Lambda runtime ships) with a tree's ``layers/common`` first
on its path and the built layer's dependencies after it. It times, in nanoseconds:
``import botocore.session``, the first DynamoDB client, an SSM client, and one GetItem sent
to a stand-in endpoint in this process (a loopback HTTP server answering ``{}``), so the
figures are botocore's work, not a network's. The bare handler (``import boto3``,
``boto3.client("dynamodb")``, one GetItem) is timed in the same rounds. Rounds are
interleaved (each tree, then the bare handler), the first is a warm-up and is dropped,
and the figures are medians over rounds.

    .venv/bin/python tools/warung_bench/client_probe.py --code /work/main --code . --rounds 9
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-bench" / "bin" / "python"
DEPENDENCIES = ROOT / ".aws-sam" / "bench" / "CommonLayer" / "python"

LAYER = """
import json, sys, time
sys.path[0:0] = sys.argv[1:3]
from warung.settings import get_settings
get_settings()  # read once at cold start by every function; not what is timed here
t = [time.perf_counter_ns()]
import botocore.session
t.append(time.perf_counter_ns())
from warung import clients
dynamodb = clients.aws_client("dynamodb")
t.append(time.perf_counter_ns())
clients.aws_client("ssm")
t.append(time.perf_counter_ns())
dynamodb.get_item(TableName="warung", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
t.append(time.perf_counter_ns())
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""

BARE = """
import json, sys, time
t = [time.perf_counter_ns()]
import boto3
t.append(time.perf_counter_ns())
dynamodb = boto3.client("dynamodb")
t.append(time.perf_counter_ns())
t.append(time.perf_counter_ns())
dynamodb.get_item(TableName="warung", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
t.append(time.perf_counter_ns())
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""

STEPS = ("import", "first client (dynamodb)", "ssm client", "GetItem")


class _Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:  # quiet: one line per request otherwise
        return


@contextmanager
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def sample(code: Path | None, endpoint: str, cache: str, python: Path, deps: Path) -> list[int]:
    """One fresh interpreter's timings (ns) of ``STEPS``; the bare handler when no code."""
    environment = {
        "AWS_REGION": "ap-southeast-1",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": endpoint,
    }
    script, paths = (BARE, []) if code is None else (LAYER, [code / "layers/common", deps])
    command = [str(python), "-I", "-X", f"pycache_prefix={cache}", "-c", script]
    done = subprocess.run(
        [*command, *map(str, paths)], env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(done.stderr)
    timings: list[int] = json.loads(done.stdout.strip().splitlines()[-1])
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--code", action="append", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--python", type=Path, default=PYTHON)
    parser.add_argument("--dependencies", type=Path, default=DEPENDENCIES)
    args = parser.parse_args(argv)
    variants: list[Path | None] = [*(code.resolve() for code in args.code), None]
    runs: dict[Path | None, list[list[int]]] = {variant: [] for variant in variants}
    with stand_in() as endpoint, tempfile.TemporaryDirectory() as cache:
        for round_ in range(args.rounds + 1):
            for variant in variants:
                timings = sample(variant, endpoint, cache, args.python, args.dependencies)
                if round_:  # the first round writes bytecode and fills the page cache
                    runs[variant].append(timings)
    first = runs[variants[0]]
    for variant, samples in runs.items():
        name = "bare handler (boto3)" if variant is None else str(variant)
        medians = [statistics.median(s[i] for s in samples) / 1e6 for i in range(len(STEPS))]
        totals = statistics.median(sum(s) for s in samples) / 1e6
        steps = ", ".join(f"{step} {ms:.1f}" for step, ms in zip(STEPS, medians, strict=True))
        print(f"{name}: {steps}; total {totals:.1f} ms (medians of {len(samples)})")
        if variant is not None and samples is not first:
            # paired: this tree's clients and GetItem against the first tree's, round by round
            paired = [sum(b[1:]) - sum(a[1:]) for a, b in zip(first, samples, strict=True)]
            change = statistics.median(paired) / 1e6
            print(f"  clients + GetItem against the first tree: {change:+.1f} ms (paired)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
