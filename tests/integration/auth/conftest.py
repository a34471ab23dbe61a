"""Integration tests of the auth function: its own modules (``service``, ``repository``,
``domain``, ``app``) against the emulation's tables created from the real template, with
the environment the template gives the function and a signing key made the way the local
runtime makes it (``warung_ops.signing_keys.rotate``, through the seeder), under a
stage name of their own (see ``auth_stack``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.auth_world import AuthWorld
from support.stacks import clear_parameter_caches, reset_function_caches

HERE = Path(__file__).resolve().parent

STAGE = "authit"


@dataclass(frozen=True)
class AuthStack:
    """The real template provisioned in the emulation under a stage of its own."""

    endpoint_url: str
    template: Any
    signing_kid: str


@pytest.fixture(scope="session")
def auth_stack(app_stack: Any) -> AuthStack:
    """The template's tables, secrets and parameters under their own names (``authit``).

    moto's state is shared by the whole session: under the ``local`` names, what these
    tests write (outbox jobs on the main table's stream, accounts, counters) would reach
    the tests that run the local pipeline on those tables after them, and the reverse.
    The signing key is made as the local runtime makes it (the seeder, which runs
    ``warung_ops.signing_keys.rotate``).
    """
    from warung_demo.seeders import signing_key
    from warung_ops import signing_keys

    from warung_local.emulation import aws_client
    from warung_local.provision import provision
    from warung_local.template import load_template

    endpoint = app_stack.endpoint_url
    template = load_template(HERE.parents[2] / "template.yaml", {"Stage": STAGE})
    template = template.with_physical(provision(template, endpoint))
    signing_key(template, endpoint)
    state = signing_keys.read_state(
        aws_client("secretsmanager", endpoint),
        aws_client("ssm", endpoint),
        template.functions["AuthFunction"].environment["JWT_SIGNING_SECRET_ID"],
        template.functions["AuthFunction"].environment["JWKS_PARAMETER_NAME"],
    )
    assert state.signing_kid is not None
    clear_parameter_caches()  # nothing read before the key existed may be served
    return AuthStack(endpoint, template, str(state.signing_kid))


@pytest.fixture
def auth(auth_stack: AuthStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuthWorld]:
    """The process environment of the auth function (the template's), at the emulation."""
    for name, value in auth_stack.template.functions["AuthFunction"].environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STAGE", "local")  # what the settings call a stage; names are authit
    monkeypatch.setenv("AWS_ENDPOINT_URL", auth_stack.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", auth_stack.template.region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", auth_stack.template.region)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    reset_function_caches(auth_stack.endpoint_url)
    world = AuthWorld(auth_stack.endpoint_url, auth_stack.signing_kid, monkeypatch)
    yield world
    reset_function_caches(auth_stack.endpoint_url)
