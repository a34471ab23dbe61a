"""Demo data for the local runtime.

A seeder is a function `(template, endpoint_url) -> list[str]` that writes demo data
into the emulation and returns lines to print (e.g. the demo accounts). It must be
idempotent: `dev` runs every seeder at each start, against tables that may already
hold its data.

Registered here: the access-token signing key (`signing_key`), the demo accounts
(`demo_accounts`, through the auth function's own code) and the demo owner's merchants
with their menus (`demo_merchant`, through the catalog function's own code): demo data
goes through the application's own logic rather than invent a layout here.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from warung_local.emulation import aws_client
from warung_local.template import Template

log = logging.getLogger("warung_local.seed")

Seeder = Callable[[Template, str], list[str]]

SEEDERS: list[Seeder] = []


def register(seeder: Seeder) -> Seeder:
    """Add a seeder (usable as a decorator); seeders run in registration order."""
    SEEDERS.append(seeder)
    return seeder


def seed(template: Template, endpoint_url: str) -> list[str]:
    """Run every registered seeder; the lines they report, for the startup banner."""
    lines: list[str] = []
    for seeder in SEEDERS:
        lines.extend(seeder(template, endpoint_url))
    if not SEEDERS:
        log.info("no demo data to seed yet")
    return lines


# ------------------------------------------------------------------ signing key

SIGNING_SECRET_ID, JWKS_PARAMETER_ID = "JwtSigningKeySecret", "JwksParameter"
_SIGNING_SECRET_NAME = re.compile(r"warung/[^/]+/jwt-signing-key")
_JWKS_PARAMETER_NAME = re.compile(r"/warung/[^/]+/jwks")


@register
def signing_key(template: Template, endpoint_url: str) -> list[str]:
    """Create the access-token signing key if the template's secret holds none yet.

    The template creates the secret without a key (`{"kid": null}`) and an empty JWK Set;
    in AWS an operator runs `make rotate-signing-key` once, locally this does.
    """
    secret = next(
        (
            s
            for lid, s in template.secrets.items()
            if lid == SIGNING_SECRET_ID or _SIGNING_SECRET_NAME.fullmatch(s.name)
        ),
        None,
    )
    parameter = next(
        (
            p
            for lid, p in template.ssm_parameters.items()
            if lid == JWKS_PARAMETER_ID or _JWKS_PARAMETER_NAME.fullmatch(p.name)
        ),
        None,
    )
    if secret is None or parameter is None:
        return []
    from warung_ops.signing_keys import read_state, rotate  # the operator command's logic

    secrets_client = aws_client("secretsmanager", endpoint_url)
    ssm_client = aws_client("ssm", endpoint_url)
    secret_id = template.secret_arn(secret.logical_id)
    state = read_state(secrets_client, ssm_client, secret_id, parameter.name)
    if state.signing_kid is not None:
        log.info("signing key %s already present", state.signing_kid)
        return []
    kid = rotate(secrets_client, ssm_client, secret_id, parameter.name, now=int(time.time()))
    return [f"signing key {kid} created"]


# ------------------------------------------------------------------ demo accounts


@register
def demo_accounts(template: Template, endpoint_url: str) -> list[str]:
    """The demo accounts (docs/product.md), created through the auth function's own code.

    Runs `python -m warung_ops.accounts seed-demo` in its own process: it imports the auth
    function's modules and the layer with this emulation's settings, which must not leak into the
    runtime's process (the functions' environments are swapped in per invocation).
    """
    if "AuthFunction" not in template.functions:
        return []
    return _run_seed_script("warung_ops.accounts", endpoint_url, "demo accounts")


# ------------------------------------------------------------------ demo merchant


@register
def demo_merchant(template: Template, endpoint_url: str) -> list[str]:
    """The demo owner's active merchants and their menus (docs/product.md), through the catalog
    function's own code.

    Runs `python -m warung_demo.merchants seed-demo` in its own process, for the same reason as the
    demo accounts; it runs after them (the owner must exist).
    """
    if "CatalogFunction" not in template.functions or "AuthFunction" not in template.functions:
        return []
    return _run_seed_script("warung_demo.merchants", endpoint_url, "demo merchant")


def _run_seed_script(module: str, endpoint_url: str, what: str) -> list[str]:
    """Run `python -m <module> seed-demo` against the emulation; the lines it printed."""
    root = Path(__file__).resolve().parents[2]
    path = os.pathsep.join([str(root / "tools"), str(root / "layers" / "common")])
    result = subprocess.run(
        [sys.executable, "-m", module, "seed-demo", "--endpoint", endpoint_url],
        cwd=root,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        log.error("%s not created:\n%s", what, result.stderr[-2000:])
        return [f"{what}: not created (see the log above)"]
    return result.stdout.strip().splitlines()
