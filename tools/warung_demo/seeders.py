"""Warung's seeders for the local runtime, named in pyproject.toml's `[tool.warung_local]`.

They run in this order at each start of `make dev` (see `warung_local.seed`):

1. `signing_key`: the access-token signing key, which an operator creates once in AWS
   (`make rotate-signing-key`); locally this does.
2. `demo_accounts`: the demo accounts (README, "Demo data"), through the auth function's own
   code (`python -m warung_ops.accounts seed-demo`).
3. `demo_merchants`: the demo owner's active merchants and their menus, through the catalog
   function's own code (`python -m warung_demo.merchants seed-demo`).

Each finds what a previous start left (the local data is kept across restarts) and then
writes nothing. Demo data goes through the application's own logic rather than invent a
layout here.
"""

from __future__ import annotations

import logging
import time

from warung_local.emulation import aws_client
from warung_local.seed import run_seed_module
from warung_local.template import Template

log = logging.getLogger("warung_demo.seeders")


def signing_key(template: Template, endpoint_url: str) -> list[str]:
    """The stage's first access-token signing key, with its secret and parameter, when it
    has none yet: what `make deploy` does in AWS (`signing_keys ensure`), done locally."""
    from warung_ops.signing_keys import ensure, parameter_name, secret_name

    stage = str(template.parameters.get("Stage", "local"))
    kid = ensure(
        aws_client("secretsmanager", endpoint_url),
        aws_client("ssm", endpoint_url),
        secret_name(stage),
        parameter_name(stage),
        now=int(time.time()),
    )
    if kid is None:
        log.info("signing key already present")
        return []
    return [f"signing key {kid} created"]


def demo_accounts(template: Template, endpoint_url: str) -> list[str]:
    """The demo accounts (admin, owner, customer), created through the auth function's code."""
    if "AuthFunction" not in template.functions:
        return []
    return run_seed_module("warung_ops.accounts", endpoint_url, "demo accounts", template.base_dir)


def demo_merchants(template: Template, endpoint_url: str) -> list[str]:
    """The demo owner's active merchants and their menus, through the catalog function's code.

    Runs after `demo_accounts`: the owner must exist.
    """
    if "CatalogFunction" not in template.functions or "AuthFunction" not in template.functions:
        return []
    return run_seed_module(
        "warung_demo.merchants", endpoint_url, "demo merchants", template.base_dir
    )
