"""The admin function against the emulation's tables, created from the real template under
a stage of its own (``adminit``), with the function's environment from the template and an
access-token signing key made as the local runtime makes it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.admin_world import AdminWorld
from support.stacks import clear_parameter_caches, provision_stage, reset_function_caches, run_as

STAGE = "adminit"


@pytest.fixture(scope="module")
def admin_stack(app_stack: Any) -> Any:
    from warung_demo.seeders import signing_key

    template = provision_stage(app_stack.endpoint_url, STAGE)
    signing_key(template, app_stack.endpoint_url)
    clear_parameter_caches()
    return template


@pytest.fixture
def world(
    app_stack: Any, admin_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AdminWorld]:
    """The admin function's process environment, pointed at the emulation."""
    extra = {
        # Tokens for the guard are issued here as the auth function would.
        "JWT_SIGNING_SECRET_ID": admin_stack.functions["AuthFunction"].environment[
            "JWT_SIGNING_SECRET_ID"
        ],
    }
    run_as(admin_stack, "AdminFunction", app_stack.endpoint_url, monkeypatch, extra)
    yield AdminWorld()
    reset_function_caches(app_stack.endpoint_url)
