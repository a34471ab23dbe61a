#!/usr/bin/env python3
"""`make bench`: cold-start import time and deployment size of every Lambda function.

For each function of template.yaml this measures the import of its handler module
against a baseline handler that only imports boto3 and creates a DynamoDB client
(tools/warung_bench/baseline/app.py), and reports the ratio; then the first request of
each route family, import included, against that handler's import plus one GetItem
(warung_bench.first), and the cost per 1,000 orders of one order's journey
(warung_bench.cost), both on one local runtime (warung_bench.journey; --no-first-request,
--no-cost skip them); then the warm latency, the AWS
calls and the DynamoDB read and write units per request of sign-in, a token-verified read,
the public catalog reads (search, one product, merchants near a point), checkout and the
payment provider's webhook (warung_bench.warm, in-process on the local runtime;
--no-requests skips it); then the zipped size of each layer and function as `sam deploy`
would upload them.

How it measures:

* `sam build` first (unless --no-build), so that code and dependencies are laid out
  exactly as they are deployed: `.aws-sam/build/<Function>/` is LAMBDA_TASK_ROOT
  (/var/task) and `.aws-sam/build/<Layer>/python` is /opt/python.
* Each sample is a fresh `python3.13 -I -B` process of a separate "runtime"
  environment (.venv-bench, made from requirements-bench.txt: boto3 only, as the
  Lambda runtime ships it), so nothing comes from the developer's site-packages.
  sys.path is laid out as in Lambda: task root, the layers' python dirs, then the
  runtime's site-packages. -B: nothing writes .pyc files into the build, since
  Lambda's /var/task and /opt are read-only too.
* The environment is Lambda's: the variables the runtime sets (dummy credentials
  included) plus the function's own Environment from the template (Globals merged,
  intrinsics resolved to local values by warung_local.template).
* The timed figure is measured inside the child: from just before
  `importlib.import_module(<module>)` to just after the handler attribute is
  resolved. Interpreter start is the same for every target and is not in it; the
  process wall time (spawn to exit) is reported next to it for information.
* Samples are interleaved, round after round (baseline, fn1, fn2, baseline, ...),
  one warm-up round is discarded, and medians are taken. Since absolute times drift
  between runs, the headline is the ratio to the baseline: the median over rounds
  of (function time / baseline time of the same round).
* `sam build` downloads arm64 (aarch64) wheels. On a machine of another
  architecture, native extensions of those wheels cannot be loaded, so for timing
  only, a copy of the build gets the same distributions at the same versions for
  the host (listed in the output). Sizes are always those of the real build.

The requests section is measured in this process (the developer's environment, not
the runtime one): see the docstring of warung_bench.warm. Only its calls per
request transfer to Lambda and DynamoDB, not its milliseconds.

Exit status: 0 when the report was produced (even with figures over target), 1 when
a handler failed to import or the requests section could not be measured, 2 when the
bench could not run (build, setup, template).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))

RUNTIME_PY = "python3.13"
PYENV_VERSION = "3.11.7:3.12.1:3.13.0"
MIN_ROUNDS = 3  # fewer than DEFAULT_ROUNDS: a quick, indicative run (ROUNDS=3)
DEFAULT_ROUNDS = 9
RATIO_TARGET = 1.5
LAYER_TARGET_MB = 10.0
UNZIPPED_LIMIT_MB = 250.0  # Lambda: function + all its layers, unzipped
ZIPPED_LIMIT_MB = 50.0  # Lambda: direct upload of a zip
CHILD_TIMEOUT_S = 120
MB = 1024 * 1024
BASELINE_DIR = Path(__file__).resolve().parent / "baseline"
RESULT_MARK = "@@warung-bench"
BOTO_DISTS = ("boto3", "botocore", "s3transfer")

# Runs inside each timed child. Only builtin/frozen modules are imported before t0.
CHILD_CODE = f"""
import sys, time, importlib
handler = sys.argv[1]
sys.path[0:0] = sys.argv[2:]
module_name, _, attr = handler.rpartition(".")
module_name = module_name.replace("/", ".")
t0 = time.perf_counter_ns()
module = importlib.import_module(module_name)
fn = getattr(module, attr)
t1 = time.perf_counter_ns()
if not callable(fn):
    raise TypeError(f"handler {{handler}} is not callable")
sys.stdout.flush()
sys.__stdout__.write(f"\\n{RESULT_MARK} {{t1 - t0}} {{len(sys.modules)}}\\n")
sys.__stdout__.flush()
"""


class BenchError(Exception):
    """The bench could not run (exit status 2)."""


def log(msg: str = "") -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ environment


def subprocess_env() -> dict[str, str]:
    """The developer's environment with python3.13 reachable through pyenv shims."""
    env = dict(os.environ)
    env["PYENV_VERSION"] = PYENV_VERSION
    return env


def find_python313(explicit: str | None) -> str:
    env = subprocess_env()
    exe = explicit or shutil.which(RUNTIME_PY, path=env.get("PATH"))
    if not exe:
        raise BenchError(f"{RUNTIME_PY} not found on PATH (pyenv: PYENV_VERSION={PYENV_VERSION})")
    out = subprocess.run(
        [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0 or out.stdout.strip() != "3.13":
        raise BenchError(f"{exe} is not a working Python 3.13: {out.stdout}{out.stderr}".strip())
    return exe


def ensure_runtime(venv: Path, requirements: Path, python313: str) -> Path:
    """The runtime environment (boto3 only), created or refreshed when needed."""
    py = venv / "bin" / "python"
    stamp = venv / ".bench-requirements.sha256"
    want = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if py.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return py
    log(f"== creating the runtime environment {venv.name} ({RUNTIME_PY} + {requirements.name})")
    if venv.exists():
        shutil.rmtree(venv)
    env = subprocess_env()
    for cmd in (
        [python313, "-m", "venv", str(venv)],
        [
            str(py),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
        ],
    ):
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise BenchError(f"`{' '.join(cmd)}` failed:\n{res.stdout}{res.stderr}")
    stamp.write_text(want + "\n")
    return py


def runtime_info(py: Path) -> dict[str, Any]:
    code = (
        "import json, sys, sysconfig\n"
        "from pip._vendor.packaging.tags import sys_tags\n"
        "import boto3, botocore\n"
        "print(json.dumps({'tags': [str(t) for t in sys_tags()], 'boto3': boto3.__version__,"
        " 'botocore': botocore.__version__, 'purelib': sysconfig.get_paths()['purelib'],"
        " 'version': sys.version.split()[0]}))"
    )
    res = subprocess.run([str(py), "-I", "-c", code], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise BenchError(f"the runtime environment is broken (delete .venv-bench):\n{res.stderr}")
    info: dict[str, Any] = json.loads(res.stdout)
    return info


# ------------------------------------------------------------------ sam build


def sam_build(sam: Path, project: Path, template: Path, cached: bool) -> None:
    if not sam.exists():
        raise BenchError(f"SAM CLI not found at {sam} (use --sam PATH)")
    cmd = [str(sam), "build", "--parallel", "--template-file", str(template)]
    if cached:
        cmd.append("--cached")
    log(f"== {' '.join(['sam', *cmd[1:]])}")
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=project,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    trailer = False
    for line in proc.stdout:
        lines.append(line)
        text = line.rstrip()
        if text.startswith("Commands you can use next"):
            trailer = True
        if trailer or not text or text.startswith(("Built Artifacts", "Built Template", "=====")):
            continue
        log(f"   sam| {text}")
    code = proc.wait()
    if code != 0:
        raise BenchError(f"sam build failed (exit {code})")
    log(f"   sam build took {time.perf_counter() - started:.1f} s")


# ------------------------------------------------------------------ targets


@dataclass
class Target:
    """One thing to time: the baseline or a function, laid out as in Lambda."""

    name: str
    handler: str
    task_root: Path
    layer_roots: list[Path]  # each is what /opt is for that layer, in template order
    env: dict[str, str]
    is_baseline: bool = False
    import_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    modules: int = 0
    error: str | None = None

    def sys_path(self) -> list[str]:
        # Lambda extracts layers into /opt in order, later ones overwriting earlier
        # ones; the closest equivalent with separate dirs is the reverse order.
        paths = [str(self.task_root)]
        for root in reversed(self.layer_roots):
            for sub in (root / "python" / "lib" / "python3.13" / "site-packages", root / "python"):
                if sub.is_dir():
                    paths.append(str(sub))
        return paths


def lambda_env(
    *,
    name: str,
    handler: str,
    memory: int,
    task_root: Path,
    layer_roots: Sequence[Path],
    runtime_py: Path,
    purelib: str,
    region: str,
    own: dict[str, str],
    log_format: str | None,
    log_level: str | None,
    tracing: bool,
    scratch: Path,
) -> dict[str, str]:
    """The function's environment plus what the Lambda runtime sets (which wins, as there)."""
    ld = [str(task_root), str(task_root / "lib"), *(str(r / "lib") for r in layer_roots)]
    env: dict[str, str] = {
        "PATH": f"{runtime_py.parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "LD_LIBRARY_PATH": ":".join(ld),
    }
    env.update(own)
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": purelib,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "_HANDLER": handler,
            "TZ": ":UTC",
            "AWS_ACCESS_KEY_ID": "ASIABENCHDUMMYKEY000",
            "AWS_SECRET_ACCESS_KEY": "bench-dummy-secret-access-key",
            "AWS_SESSION_TOKEN": "bench-dummy-session-token",
            # Not Lambda's, but keeps botocore away from the developer's ~/.aws files.
            "AWS_CONFIG_FILE": str(scratch / "aws-config-absent"),
            "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "aws-credentials-absent"),
        }
    )
    if log_format:
        env["AWS_LAMBDA_LOG_FORMAT"] = log_format
        if log_format.upper() == "JSON" and log_level:
            env["AWS_LAMBDA_LOG_LEVEL"] = log_level
    if tracing:
        env.update(
            {
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
                "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
                "_AWS_XRAY_DAEMON_PORT": "2000",
            }
        )
    return env


def load_functions(
    template: Path, overrides: dict[str, str]
) -> tuple[Any, dict[str, Any], dict[Path, str]]:
    """The template's functions (warung_local) and a map layer content dir -> logical id."""
    try:
        from warung_local.template import load_template, merge_globals  # noqa: F401
    except ImportError as exc:
        raise BenchError(f"cannot import warung_local.template from {TOOLS}: {exc}") from exc
    tpl = load_template(template, parameter_overrides=overrides)
    functions = dict(tpl.functions)
    layers: dict[Path, str] = {}
    for lid, res in tpl.resources_of_type("AWS::Serverless::LayerVersion").items():
        content = tpl.resolve((res.get("Properties") or {}).get("ContentUri"))
        if isinstance(content, str):
            layers[(tpl.base_dir / content).resolve()] = lid
    return tpl, functions, layers


def function_settings(tpl: Any, lid: str) -> tuple[str | None, str | None, bool]:
    """LoggingConfig format and level, and whether tracing is active (Globals merged)."""
    from warung_local.template import merge_globals

    raw = (tpl.document["Resources"][lid].get("Properties")) or {}
    glob = (tpl.document.get("Globals") or {}).get("Function") or {}
    props = merge_globals(glob, raw)
    logging_cfg = tpl.resolve(props.get("LoggingConfig")) or {}
    tracing = str(tpl.resolve(props.get("Tracing")) or "").lower() == "active"
    fmt = logging_cfg.get("LogFormat")
    level = logging_cfg.get("ApplicationLogLevel")
    return (str(fmt) if fmt else None), (str(level) if level else None), tracing


# ------------------------------------------------------------------ foreign wheels


@dataclass
class Dist:
    name: str
    version: str
    site: Path
    dist_info: Path


def _expand_tag(tag: str) -> list[str]:
    parts = tag.split("-")
    if len(parts) != 3:
        return [tag]
    return ["-".join(p) for p in itertools.product(*(part.split(".") for part in parts))]


def site_dirs(root: Path, is_layer: bool) -> list[Path]:
    if not is_layer:
        return [root]
    return [
        d
        for d in (root / "python", root / "python" / "lib" / "python3.13" / "site-packages")
        if d.is_dir()
    ]


def foreign_dists(sites: Iterable[Path], supported: set[str]) -> list[Dist]:
    """Installed wheels that the runtime interpreter of this machine cannot load."""
    found = []
    for site in sites:
        for info in sorted(site.glob("*.dist-info")):
            wheel = info / "WHEEL"
            if not wheel.is_file():
                continue
            tags = [
                t
                for line in wheel.read_text(errors="replace").splitlines()
                if line.startswith("Tag:")
                for t in _expand_tag(line.split(":", 1)[1].strip())
            ]
            if not tags or any(t in supported for t in tags):
                continue
            meta: dict[str, str] = {}
            for line in (info / "METADATA").read_text(errors="replace").splitlines():
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                meta.setdefault(key.strip().lower(), value.strip())
            found.append(Dist(meta.get("name", info.name), meta.get("version", "?"), site, info))
    return found


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def host_copy(src: Path, dst: Path, dists: list[Dist], runtime_py: Path) -> None:  # noqa: C901 - a script step; the bench becomes a package later
    """A copy of a built dir whose foreign wheels are replaced by host ones."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
    by_site: dict[Path, list[Dist]] = {}
    for dist in dists:
        site = dst / dist.site.relative_to(src)
        record = site / dist.dist_info.name / "RECORD"
        touched: set[Path] = set()
        for line in record.read_text(errors="replace").splitlines():
            rel = line.split(",", 1)[0]
            if not rel:
                continue
            path = (site / rel).resolve()
            if site.resolve() in path.parents and path.is_file():
                path.unlink()
                touched.add(path.parent)
        shutil.rmtree(site / dist.dist_info.name, ignore_errors=True)
        for folder in sorted(touched, key=lambda p: len(p.parts), reverse=True):
            empty = folder
            while empty != site and empty.is_dir() and not any(empty.iterdir()):
                empty.rmdir()
                empty = empty.parent
        by_site.setdefault(site, []).append(dist)
    for site, group in by_site.items():
        with tempfile.TemporaryDirectory(prefix="bench-wheels-") as tmp:
            cmd = [
                str(runtime_py),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-compile",
                "--only-binary=:all:",
                "--target",
                tmp,
                *(f"{d.name}=={d.version}" for d in group),
            ]
            res = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                raise BenchError(f"cannot get host wheels for timing:\n{res.stdout}{res.stderr}")
            for item in Path(tmp).iterdir():
                target = site / item.name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
                shutil.move(str(item), target)


# ------------------------------------------------------------------ timing


def child_cmd(runtime_py: Path, target: Target, *flags: str) -> list[str]:
    return [
        str(runtime_py),
        "-I",
        "-B",
        *flags,
        "-c",
        CHILD_CODE,
        target.handler,
        *target.sys_path(),
    ]


def import_profile(runtime_py: Path, target: Target, top: int) -> list[tuple[str, float]]:
    """One extra, untimed run with -X importtime: self time (ms) per top-level package."""
    res = subprocess.run(
        child_cmd(runtime_py, target, "-X", "importtime"),
        cwd=target.task_root,
        env=target.env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    per_pkg: dict[str, float] = {}
    for line in res.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3:
            continue
        pkg = fields[2].strip().split(".")[0]
        per_pkg[pkg] = per_pkg.get(pkg, 0.0) + int(fields[0]) / 1000
    return sorted(per_pkg.items(), key=lambda kv: kv[1], reverse=True)[:top]


def run_child(runtime_py: Path, target: Target) -> tuple[float, float, int]:
    cmd = child_cmd(runtime_py, target)
    started = time.perf_counter()
    try:
        res = subprocess.run(
            cmd,
            cwd=target.task_root,
            env=target.env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"no result after {CHILD_TIMEOUT_S} s") from exc
    wall = (time.perf_counter() - started) * 1000
    marks = [line for line in res.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if res.returncode != 0 or not marks:
        raise RuntimeError(
            f"exit status {res.returncode}\n--- stderr ---\n{res.stderr.rstrip()}"
            + (f"\n--- stdout ---\n{res.stdout.rstrip()}" if res.stdout.strip() else "")
        )
    _, ns, modules = marks[-1].split()
    return int(ns) / 1e6, wall, int(modules)


def measure(
    runtime_py: Path, targets: list[Target], rounds: int, warmup: int
) -> list[list[float | None]]:
    """Interleaved rounds; returns the import times per round (None where it failed)."""
    per_round: list[list[float | None]] = []
    total = warmup + rounds
    for r in range(total):
        row: list[float | None] = []
        for target in targets:
            if target.error is not None:
                row.append(None)
                continue
            try:
                imp, wall, modules = run_child(runtime_py, target)
            except RuntimeError as exc:
                target.error = str(exc)
                if target.is_baseline:
                    raise BenchError(f"the baseline failed to run: {exc}") from exc
                row.append(None)
                continue
            target.modules = modules
            row.append(imp)
            if r >= warmup:
                target.import_ms.append(imp)
                target.wall_ms.append(wall)
        if r >= warmup:
            per_round.append(row)
        label = "warm-up" if r < warmup else f"round {r - warmup + 1}/{rounds}"
        log(
            f"   {label}: "
            + "  ".join(
                f"{t.name} {v:.0f} ms" if v is not None else f"{t.name} FAILED"
                for t, v in zip(targets, row, strict=True)
            )
        )
    return per_round


# ------------------------------------------------------------------ sizes


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def zipped_size(path: Path) -> int:
    """Size of the deflated zip of a directory's contents, as `sam deploy` uploads it."""
    with tempfile.TemporaryFile() as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for root, dirs, files in os.walk(path, followlinks=True):
                dirs.sort()
                for name in sorted(files):
                    full = Path(root) / name
                    zf.write(full, full.relative_to(path).as_posix())
        fh.seek(0, os.SEEK_END)
        return fh.tell()


def fmt_size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.2f} MB"
    return f"{n / 1024:.1f} KB" if n < 10 * 1024 else f"{n / 1024:.0f} KB"


def has_boto(layer_root: Path) -> list[str]:
    names = set()
    for site in site_dirs(layer_root, True):
        for dist in BOTO_DISTS:
            if (site / dist).is_dir():
                names.add(dist)
    return sorted(names)


# ------------------------------------------------------------------ warm requests


def request_section(
    args: argparse.Namespace, template: Path, functions: dict[str, Any]
) -> dict[str, Any]:
    """The warm requests section (warung_bench.warm), or why it is missing."""
    from warung_bench.warm import (
        AUTH_FUNCTION,
        DEFAULT_CATALOG_MERCHANTS,
        DEFAULT_CATALOG_PRODUCTS,
        DEFAULT_STALE_REQUESTS,
        RequestBenchError,
        run_request_bench,
    )

    if args.no_requests:
        return {"skipped": "--no-requests"}
    if AUTH_FUNCTION not in functions:
        return {"skipped": f"{AUTH_FUNCTION} is not among the functions benched"}
    log(
        f"== warm requests: {AUTH_FUNCTION} in-process on the local runtime "
        f"({args.login_requests} sign-ins, {args.requests} GET /v1/me, "
        f"{args.catalog_requests} of each catalog read over {DEFAULT_CATALOG_MERCHANTS} x "
        f"{DEFAULT_CATALOG_PRODUCTS} products added first, {args.order_requests} checkouts "
        "and payment webhooks)"
    )
    try:
        return run_request_bench(
            template,
            login_requests=args.login_requests,
            read_requests=args.requests,
            stale_requests=min(args.requests, DEFAULT_STALE_REQUESTS),
            catalog_requests=args.catalog_requests,
            order_requests=args.order_requests,
            progress=log,
        )
    except RequestBenchError as exc:
        return {"error": str(exc)}


# ------------------------------------------------------------------ first request and cost


def runtime_sections(
    args: argparse.Namespace,
    project: Path,
    targets: list[Target],
    runtime_py: Path,
    scratch: Path,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first-request section and the cost of 1,000 orders, on one local runtime
    (warung_bench.journey), or why they are missing."""
    from warung_bench.journey import ChildLayout, run_runtime_sections

    def layout(t: Target) -> ChildLayout:
        return ChildLayout(t.handler, t.sys_path(), t.task_root, dict(t.env))

    layouts = {t.name: layout(t) for t in targets if not t.is_baseline and t.error is None}
    try:
        return run_runtime_sections(
            (project / args.template).resolve(),
            layouts,
            layout(targets[0]),
            runtime_py,
            scratch,
            args.rounds,
            args.warmup,
            log,
            first=not args.no_first_request,
            cost=not args.no_cost,
        )
    except Exception as exc:  # the runtime's own start-up errors: reported, not a traceback
        return {"error": f"the local runtime failed: {exc}"}, {"error": "not measured"}


# ------------------------------------------------------------------ main


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from warung_bench.warm import (
        DEFAULT_CATALOG_REQUESTS,
        DEFAULT_LOGIN_REQUESTS,
        DEFAULT_ORDER_REQUESTS,
        DEFAULT_READ_REQUESTS,
        DEFAULT_STALE_REQUESTS,
    )

    p = argparse.ArgumentParser(
        description="Cold-start import time (vs a boto3 baseline) and zipped sizes "
        "of the template's functions."
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"timed rounds (>= {MIN_ROUNDS}; default {DEFAULT_ROUNDS})",
    )
    p.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    p.add_argument("--no-build", action="store_true", help="use the existing .aws-sam/build")
    p.add_argument("--no-cache", action="store_true", help="sam build without --cached")
    p.add_argument(
        "--sam",
        default=str(ROOT / ".venv-sam" / "bin" / "sam"),
        help="SAM CLI (default .venv-sam/bin/sam)",
    )
    p.add_argument(
        "--python", help=f"{RUNTIME_PY} to create the runtime env with (default: found on PATH)"
    )
    p.add_argument(
        "--project-dir",
        default=str(ROOT),
        help="project root holding template.yaml (default: this repo)",
    )
    p.add_argument(
        "--template", default="template.yaml", help="template, relative to the project dir"
    )
    p.add_argument(
        "--stage",
        default="local",
        help="Stage parameter used to resolve the environment (default local)",
    )
    p.add_argument(
        "--region", default=None, help="AWS_REGION of the children (default: the local runtime's)"
    )
    p.add_argument(
        "--function",
        action="append",
        dest="functions",
        metavar="LOGICAL_ID",
        help="only this function (repeatable)",
    )
    p.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=10,
        default=0,
        metavar="N",
        help="also show the N packages (default 10) that cost most import time, "
        "per target (one extra -X importtime run)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print machine-readable JSON on stdout instead of the table",
    )
    p.add_argument(
        "--no-first-request",
        action="store_true",
        help="skip the first-request section (import + one request per route family)",
    )
    p.add_argument(
        "--no-cost",
        action="store_true",
        help="skip the cost per 1,000 orders (one order's journey on the local runtime)",
    )
    p.add_argument(
        "--no-requests",
        action="store_true",
        help="skip the warm requests section (sign-in, GET /v1/me, catalog reads, checkout "
        "and the payment webhook on the local runtime)",
    )
    p.add_argument(
        "--requests",
        type=int,
        default=DEFAULT_READ_REQUESTS,
        metavar="N",
        help=f"timed GET /v1/me requests, per guard-cache case (default {DEFAULT_READ_REQUESTS};"
        f" the cache-expired case takes at most {DEFAULT_STALE_REQUESTS})",
    )
    p.add_argument(
        "--login-requests",
        type=int,
        default=DEFAULT_LOGIN_REQUESTS,
        metavar="N",
        help=f"timed sign-ins (default {DEFAULT_LOGIN_REQUESTS}; Argon2 makes each ~50 ms)",
    )
    p.add_argument(
        "--catalog-requests",
        type=int,
        default=DEFAULT_CATALOG_REQUESTS,
        metavar="N",
        help="timed requests of each catalog read: search, one product, merchants near a "
        f"point (default {DEFAULT_CATALOG_REQUESTS}; 0 skips them and their data set)",
    )
    p.add_argument(
        "--order-requests",
        type=int,
        default=DEFAULT_ORDER_REQUESTS,
        metavar="N",
        help="timed checkouts, and as many payment webhooks, each on an order prepared "
        f"untimed (default {DEFAULT_ORDER_REQUESTS}; 0 skips them)",
    )
    args = p.parse_args(argv)
    if args.rounds < MIN_ROUNDS:
        p.error(f"--rounds must be at least {MIN_ROUNDS}")
    if args.warmup < 0:
        p.error("--warmup cannot be negative")
    if args.requests < 1 or args.login_requests < 1:
        p.error("--requests and --login-requests must be at least 1")
    if args.catalog_requests < 0:
        p.error("--catalog-requests cannot be negative")
    if args.order_requests < 0:
        p.error("--order-requests cannot be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        log(f"bench: error: {exc}")
        return 2


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    project = Path(args.project_dir).resolve()
    template = (project / args.template).resolve()
    build_dir = project / ".aws-sam" / "build"
    if not template.is_file():
        raise BenchError(f"no template at {template}")

    python313 = find_python313(args.python)
    runtime_py = ensure_runtime(ROOT / ".venv-bench", ROOT / "requirements-bench.txt", python313)
    info = runtime_info(runtime_py)
    supported = set(info["tags"])

    if not args.no_build:
        sam_build(Path(args.sam), project, template, cached=not args.no_cache)
    elif not build_dir.is_dir():
        raise BenchError(f"--no-build, but there is no {build_dir}")

    try:
        tpl, functions, layer_ids = load_functions(template, {"Stage": args.stage})
    except BenchError:
        raise
    except Exception as exc:  # the loader's own errors
        raise BenchError(f"cannot load {template}: {exc}") from exc
    if args.functions:
        unknown = sorted(set(args.functions) - set(functions))
        if unknown:
            raise BenchError(f"no such function in the template: {', '.join(unknown)}")
        functions = {k: v for k, v in functions.items() if k in args.functions}
    region = args.region or getattr(tpl, "region", None) or "us-east-1"

    scratch = Path(tempfile.mkdtemp(prefix="warung-bench-"))
    try:
        return _run(
            args,
            project,
            build_dir,
            tpl,
            functions,
            layer_ids,
            runtime_py,
            info,
            supported,
            region,
            scratch,
            started,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _layers_of(
    functions: dict[str, Any], layer_ids: dict[Path, str], build_dir: Path, problems: list[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Each function's layers by logical id, and every layer used, in first-use order."""
    # Layers used by the functions, by logical id, in first-use order.
    fn_layers: dict[str, list[str]] = {}
    all_layers: list[str] = []
    for lid, spec in functions.items():
        ids = []
        for content in spec.layers:
            layer_id = layer_ids.get(Path(content).resolve())
            if layer_id is None:
                problems.append(
                    f"{lid}: layer {content} is not a layer of this template; not laid out"
                )
                continue
            ids.append(layer_id)
            if layer_id not in all_layers:
                all_layers.append(layer_id)
        fn_layers[lid] = ids
    for lid in [*functions, *all_layers]:
        if not (build_dir / lid).is_dir():
            raise BenchError(f"{build_dir / lid} is missing: run without --no-build")

    return fn_layers, all_layers


def _timing_roots(
    project: Path,
    build_dir: Path,
    ids: list[str],
    layers: list[str],
    supported: set[str],
    runtime_py: Path,
) -> tuple[dict[str, Path], list[str]]:
    """Where each function and layer is timed from: the build, or a copy of it whose wheels
    for another architecture are swapped for the host's (timing only); and what was swapped."""
    # Host stand-ins for wheels of another architecture (timing only).
    bench_dir = project / ".aws-sam" / "bench"
    timing_root: dict[str, Path] = {}
    swapped: list[str] = []
    for lid in ids:
        src = build_dir / lid
        dists = foreign_dists(site_dirs(src, lid in layers), supported)
        if dists:
            host_copy(src, bench_dir / lid, dists, runtime_py)
            timing_root[lid] = bench_dir / lid
            swapped.extend(f"{lid}: {d.name} {d.version}" for d in dists)
        else:
            timing_root[lid] = src
    if swapped:
        log(
            f"== {len(swapped)} wheel(s) built for another architecture were swapped "
            "for host wheels "
            f"of the same version, for timing only ({platform.machine()} host):"
        )
        for item in swapped:
            log(f"   {item}")

    return timing_root, swapped


def _targets(
    functions: dict[str, Any],
    fn_layers: dict[str, list[str]],
    timing_root: dict[str, Path],
    tpl: Any,
    common: dict[str, Any],
    scratch: Path,
) -> list[Target]:
    """The baseline, then every function, laid out as in Lambda."""
    # The baseline runs from a scratch copy so that nothing (no .pyc) is shared with the repo.
    base_root = scratch / "baseline-task"
    base_root.mkdir()
    shutil.copy2(BASELINE_DIR / "app.py", base_root / "app.py")
    targets = [
        Target(
            name="baseline",
            handler="app.handler",
            task_root=base_root,
            layer_roots=[],
            is_baseline=True,
            env=lambda_env(
                name="warung-bench-baseline",
                handler="app.handler",
                memory=512,
                task_root=base_root,
                layer_roots=[],
                own={},
                log_format=None,
                log_level=None,
                tracing=False,
                **common,
            ),
        )
    ]
    for lid, spec in functions.items():
        task_root = timing_root[lid]
        layer_roots = [timing_root[x] for x in fn_layers[lid]]
        log_format, log_level, tracing = function_settings(tpl, lid)
        targets.append(
            Target(
                name=lid,
                handler=spec.handler,
                task_root=task_root,
                layer_roots=layer_roots,
                env=lambda_env(
                    name=spec.name,
                    handler=spec.handler,
                    memory=spec.memory,
                    task_root=task_root,
                    layer_roots=layer_roots,
                    own=dict(spec.environment),
                    log_format=log_format,
                    log_level=log_level,
                    tracing=tracing,
                    **common,
                ),
            )
        )

    return targets


def _rows(
    targets: list[Target],
    per_round: list[list[float | None]],
    profiles: dict[str, list[tuple[str, float]]],
) -> tuple[list[dict[str, Any]], bool]:
    """The report's row of each target, and whether one failed to import."""
    base = targets[0]
    base_med = median(base.import_ms)
    rows = []
    failed = False
    for i, t in enumerate(targets):
        ratios = []
        for row in per_round:
            num, den = row[i], row[0]
            if num is not None and den:
                ratios.append(num / den)
        med = median(t.import_ms)
        ratio = median(ratios) if not t.is_baseline else 1.0
        if t.error is not None:
            failed = True
        rows.append(
            {
                "name": t.name,
                "handler": t.handler if not t.is_baseline else "boto3 + dynamodb client",
                "baseline": t.is_baseline,
                "samples": len(t.import_ms),
                "import_ms_median": med,
                "import_ms_min": min(t.import_ms) if t.import_ms else None,
                "import_ms_max": max(t.import_ms) if t.import_ms else None,
                "process_ms_median": median(t.wall_ms),
                "ratio": ratio,
                "ratio_vs_medians": med / base_med if med is not None and base_med else None,
                "target_ratio": None if t.is_baseline else RATIO_TARGET,
                "status": None
                if t.is_baseline
                else (
                    "ERROR"
                    if t.error is not None
                    else ("PASS" if ratio is not None and ratio <= RATIO_TARGET else "OVER")
                ),
                "modules_loaded": t.modules,
                "import_profile_ms": [
                    {"package": k, "self_ms": round(v, 1)} for k, v in profiles.get(t.name, [])
                ],
                "error": t.error,
            }
        )

    return rows, failed


def _sizes(
    build_dir: Path,
    functions: dict[str, Any],
    fn_layers: dict[str, list[str]],
    all_layers: list[str],
) -> list[dict[str, Any]]:
    """Zipped and unzipped sizes of every layer and function, against Lambda's limits."""
    sizes: list[dict[str, Any]] = []
    for lid in all_layers:
        root = build_dir / lid
        zipped = zipped_size(root)
        boto = has_boto(root)
        ok = zipped < LAYER_TARGET_MB * MB and not boto
        sizes.append(
            {
                "name": lid,
                "kind": "layer",
                "zipped_bytes": zipped,
                "unzipped_bytes": dir_size(root),
                "target": f"< {LAYER_TARGET_MB:g} MB zipped, no boto3",
                "boto_in_layer": boto,
                "status": "PASS" if ok else "OVER",
            }
        )
    layer_unzipped = {s["name"]: s["unzipped_bytes"] for s in sizes}
    for lid in functions:
        root = build_dir / lid
        zipped = zipped_size(root)
        unzipped = dir_size(root)
        total = unzipped + sum(layer_unzipped[x] for x in fn_layers[lid])
        ok = zipped < ZIPPED_LIMIT_MB * MB and total < UNZIPPED_LIMIT_MB * MB
        sizes.append(
            {
                "name": lid,
                "kind": "function",
                "zipped_bytes": zipped,
                "unzipped_bytes": unzipped,
                "unzipped_with_layers_bytes": total,
                "layers": fn_layers[lid],
                "target": f"< {ZIPPED_LIMIT_MB:g} MB zipped, "
                f"< {UNZIPPED_LIMIT_MB:g} MB unzipped with layers",
                "status": "PASS" if ok else "OVER",
            }
        )

    return sizes


def _run(
    args: argparse.Namespace,
    project: Path,
    build_dir: Path,
    tpl: Any,
    functions: dict[str, Any],
    layer_ids: dict[Path, str],
    runtime_py: Path,
    info: dict[str, Any],
    supported: set[str],
    region: str,
    scratch: Path,
    started: float,
) -> int:
    problems: list[str] = []
    fn_layers, all_layers = _layers_of(functions, layer_ids, build_dir, problems)

    timing_root, swapped = _timing_roots(
        project, build_dir, [*all_layers, *functions], all_layers, supported, runtime_py
    )

    common = {
        "runtime_py": runtime_py,
        "purelib": info["purelib"],
        "region": region,
        "scratch": scratch,
    }
    targets = _targets(functions, fn_layers, timing_root, tpl, common, scratch)

    log(
        f"== timing {len(targets) - 1} function(s) against the baseline: {args.rounds} rounds "
        f"(+{args.warmup} warm-up), Python {info['version']}, boto3 {info['boto3']}"
    )
    per_round = measure(runtime_py, targets, args.rounds, args.warmup)

    profiles: dict[str, list[tuple[str, float]]] = {}
    if args.profile:
        log("== import profile (-X importtime, one extra untimed run per target)")
        for t in targets:
            if t.error is None:
                profiles[t.name] = import_profile(runtime_py, t, args.profile)

    rows, failed = _rows(targets, per_round, profiles)

    requests_section = request_section(args, (project / args.template).resolve(), functions)
    if requests_section.get("error"):
        failed = True

    # After the warm requests: the emulation's data outlives a runtime in this process, and
    # the warm requests are measured on the demo data alone, as before.
    first_section, cost_section = runtime_sections(args, project, targets, runtime_py, scratch)
    failed = failed or bool(first_section.get("error") or cost_section.get("error"))

    log("== zipping the build for sizes")
    sizes = _sizes(build_dir, functions, fn_layers, all_layers)

    elapsed = time.perf_counter() - started
    report = {
        "metric": "import_ms: time inside a fresh process from just before importing "
        "the handler module "
        "to just after resolving the handler attribute (interpreter start excluded); "
        "process_ms: spawn to exit of that process, for information",
        "ratio": "median over rounds of function import_ms / baseline import_ms of the same round",
        "rounds": args.rounds,
        "warmup_rounds": args.warmup,
        "python": info["version"],
        "boto3": info["boto3"],
        "botocore": info["botocore"],
        "host_machine": platform.machine(),
        "host_wheels_swapped_for_timing": swapped,
        "stage": args.stage,
        "region": region,
        "functions": rows,
        "first_request": first_section,
        "cost": cost_section,
        "requests": requests_section,
        "sizes": sizes,
        "problems": problems,
        "elapsed_s": round(elapsed, 1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    if requests_section.get("error"):
        log(f"\n!! warm requests not measured: {requests_section['error']}")
    for t in targets:
        if t.error is not None:
            log(f"\n!! {t.name} ({t.handler}) failed to import:\n{t.error}")
    for item in problems:
        log(f"!! {item}")
    return 1 if failed else 0


def print_report(report: dict[str, Any]) -> None:
    from warung_bench.cost import print_cost_report
    from warung_bench.first import print_first_report
    from warung_bench.warm import print_request_report

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    rows = report["functions"]
    w = max(12, *(len(r["name"]) for r in rows))
    hw = max(10, *(len(r["handler"]) for r in rows))
    print()
    print(
        f"Cold-start import time: median of {report['rounds']} interleaved rounds "
        f"(+{report['warmup_rounds']} warm-up), "
        f"fresh Python {report['python']} process per sample, "
        f"boto3 {report['boto3']} from the runtime env"
    )
    print(
        "  import ms = inside the process, from just before `import <module>` to the handler "
        "attribute resolved (interpreter start excluded)"
    )
    print(
        "  ratio     = median over rounds of (function / baseline of the same round);  "
        "process ms = spawn to exit, for information"
    )
    print()
    print(
        f"{'function':<{w}}  {'handler':<{hw}}  {'import ms':>9}  {'min..max':>13}  {'ratio':>6}  "
        f"{'target':>7}  {'status':<6}  {'process ms':>10}  {'modules':>7}"
    )
    for r in rows:
        rng = (
            "-"
            if r["import_ms_min"] is None
            else f"{r['import_ms_min']:.0f}..{r['import_ms_max']:.0f}"
        )
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        target = "" if r["baseline"] else f"<= {r['target_ratio']:.1f}x"
        print(
            f"{r['name']:<{w}}  {r['handler']:<{hw}}  {ms(r['import_ms_median']):>9}  "
            f"{rng:>13}  {ratio:>6}  {target:>7}  {r['status'] or '':<6}  "
            f"{ms(r['process_ms_median']):>10}  {r['modules_loaded']:>7}"
        )
    for r in rows:
        if r["import_profile_ms"]:
            print(
                f"  {r['name']}: import self time by package (one -X importtime run, ms): "
                + ", ".join(f"{p['package']} {p['self_ms']:.0f}" for p in r["import_profile_ms"])
            )
    if report["host_wheels_swapped_for_timing"]:
        print(
            f"  (timed with host-architecture wheels in place of the arm64 ones: "
            f"{', '.join(report['host_wheels_swapped_for_timing'])})"
        )
    print()
    print_first_report(report["first_request"])
    print()
    print_cost_report(report["cost"])
    print()
    print_request_report(report["requests"])
    print()
    print(
        "Deployment packages (.aws-sam/build, deflate-zipped as sam deploy uploads them; "
        "1 MB = 1024 KB)"
    )
    sizes = report["sizes"]
    w = max(12, *(len(s["name"]) for s in sizes)) if sizes else 12
    print(
        f"{'package':<{w}}  {'kind':<8}  {'zipped':>10}  {'unzipped':>10}  {'target':<45}  status"
    )
    for s in sizes:
        note = ""
        if s.get("boto_in_layer"):
            note = f"  (layer bundles {', '.join(s['boto_in_layer'])}: the runtime ships it)"
        if s["kind"] == "function" and s.get("layers"):
            note = f"  (with layers: {fmt_size(s['unzipped_with_layers_bytes'])} unzipped)"
        print(
            f"{s['name']:<{w}}  {s['kind']:<8}  {fmt_size(s['zipped_bytes']):>10}  "
            f"{fmt_size(s['unzipped_bytes']):>10}  {s['target']:<45}  {s['status']}{note}"
        )
    print()
    print(f"bench took {report['elapsed_s']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
