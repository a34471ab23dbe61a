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
import re
import time

from warung_local.emulation import aws_client
from warung_local.seed import run_seed_module
from warung_local.template import Template

log = logging.getLogger("warung_demo.seeders")

SIGNING_SECRET_ID, JWKS_PARAMETER_ID = "JwtSigningKeySecret", "JwksParameter"
_SIGNING_SECRET_NAME = re.compile(r"warung/[^/]+/jwt-signing-key")
_JWKS_PARAMETER_NAME = re.compile(r"/warung/[^/]+/jwks")


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
