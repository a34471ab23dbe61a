"""Demo data for the local runtime: the project's seeders, run at each start of `dev`.

A seeder is a function `(template, endpoint_url) -> list[str]` that writes demo data into
the emulation and returns lines to print (e.g. the demo accounts). The project names its
seeders, in order, as `"module:function"` strings in the `seeders` list of its
`[tool.warung_local]` settings (`warung_local.config`). A seeder must be idempotent: `dev`
runs every seeder at each start, against tables that may already hold its data (kept from
the previous run, see `warung_local.persistence`), and it should then write nothing.

`run_seed_module` is the usual way to write one: it runs `python -m <module> seed-demo
--endpoint <emulation>` in a process of its own, so that the application's code imports
with its own settings, which must not leak into the runtime's process (the functions'
environments are swapped in per invocation).
"""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from warung_local.config import ConfigError
from warung_local.template import Template

log = logging.getLogger("warung_local.seed")

Seeder = Callable[[Template, str], list[str]]

SEED_TIMEOUT_S = 120.0


def load_seeder(spec: str) -> Seeder:
    """The function a `"module:function"` string names (ConfigError when there is none)."""
    module_name, _, function_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"seeder {spec!r}: cannot import {module_name}: {exc}") from exc
    seeder = getattr(module, function_name, None)
    if not callable(seeder):
        raise ConfigError(f"seeder {spec!r}: {module_name} has no function {function_name}")
    found: Seeder = seeder
    return found


def run_seeders(template: Template, endpoint_url: str, seeders: Sequence[str]) -> list[str]:
    """Run the seeders in order; the lines they report, for the startup banner."""
    functions = [load_seeder(spec) for spec in seeders]  # every name checked before any runs
    lines: list[str] = []
    for seeder in functions:
        lines.extend(seeder(template, endpoint_url))
    if not functions:
        log.info("no seeders configured: no demo data")
    return lines


def project_import_path() -> list[str]:
    """The folders this process imports the project from (PYTHONPATH, a `.pth` file or
    pytest's `pythonpath`), without the interpreter's own: what a seed process needs."""
    own = {Path(prefix).resolve() for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    folders: list[str] = []
    for entry in sys.path:
        if not entry:
            continue
        folder = Path(entry).resolve()
        if not folder.is_dir() or any(folder.is_relative_to(prefix) for prefix in own):
            continue
        if str(folder) not in folders:
            folders.append(str(folder))
    return folders


def run_seed_module(module: str, endpoint_url: str, what: str, cwd: Path) -> list[str]:
    """Run `python -m <module> seed-demo --endpoint <endpoint_url>` in `cwd`; the lines it
    printed, or one line saying that `what` was not created (its error goes to the log)."""
    inherited = os.environ.get("PYTHONPATH", "")
    path = os.pathsep.join([*project_import_path(), *([inherited] if inherited else [])])
    try:
        result = subprocess.run(
            [sys.executable, "-m", module, "seed-demo", "--endpoint", endpoint_url],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": path},
            capture_output=True,
            text=True,
            check=False,
            timeout=SEED_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        log.error(
            "%s not created: `python -m %s seed-demo` took over %.0f s",
            what,
            module,
            SEED_TIMEOUT_S,
        )
        return [f"{what}: not created (see the log above)"]
    if result.returncode != 0:
        log.error("%s not created:\n%s", what, result.stderr[-2000:])
        return [f"{what}: not created (see the log above)"]
    return result.stdout.strip().splitlines()
