"""The payments function against the emulation's tables, created from the real template
under a stage of its own (``payit``), with the function's environment from the template and
an access-token signing key made as the local runtime makes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.midtrans import midtrans_stage
from support.payments_world import PaymentsWorld
from support.stacks import (
    clear_parameter_caches,
    provision_stage,
    reset_function_caches,
    run_as,
)

from midtrans_standin import StandIn

ROOT = Path(__file__).resolve().parents[3]
STAGE = "payit"


@pytest.fixture(scope="module")
def payments_stack(app_stack: Any) -> Any:
    from warung_demo.seeders import signing_key

    template = provision_stage(app_stack.endpoint_url, STAGE)
    signing_key(template, app_stack.endpoint_url)
    clear_parameter_caches()
    return template


@pytest.fixture
def world(
    app_stack: Any, payments_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PaymentsWorld]:
    """The payments function's process environment, pointed at the emulation."""
    extra = {
        "PAYMENT_PROVIDER": "simulator",
        # Tokens for the guard are issued here as the auth function would.
        "JWT_SIGNING_SECRET_ID": payments_stack.functions["AuthFunction"].environment[
            "JWT_SIGNING_SECRET_ID"
        ],
    }
    run_as(payments_stack, "PaymentsFunction", app_stack.endpoint_url, monkeypatch, extra)
    yield PaymentsWorld(monkeypatch)
    reset_function_caches(app_stack.endpoint_url)


@pytest.fixture
def midtrans(world: PaymentsWorld, payments_stack: Any) -> Iterator[StandIn]:
    """This stage on Midtrans, its hosts those of a stand-in of Midtrans."""
    yield from midtrans_stage(world, payments_stack)
