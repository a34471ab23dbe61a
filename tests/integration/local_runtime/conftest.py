"""Shared fixtures of the local runtime's integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from warung_local.emulation import Emulation
from warung_local.runtime import LocalRuntime

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "local_runtime"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"
INVOKE_TEMPLATE = Path(__file__).resolve().parent / "invoke_app" / "template.yaml"


@pytest.fixture(scope="session")
def emulation() -> Iterator[Emulation]:
    """One embedded emulation for the whole session (moto's state is process-wide anyway)."""
    with Emulation() as running:
        yield running


@pytest.fixture(scope="session")
def fixture_runtime() -> Iterator[LocalRuntime]:
    """The fixture application on free ports; sources are driven by the tests themselves."""
    with LocalRuntime(
        FIXTURE_TEMPLATE, port=0, emulator_port=0, seed=False, start_sources=False
    ) as runtime:
        yield runtime


@pytest.fixture(scope="session")
def invoke_runtime() -> Iterator[LocalRuntime]:
    """The Lambda Invoke application (`invoke_app/`) on free ports: its emulation runs its
    functions for Lambda Invoke, as `dev`'s does."""
    with LocalRuntime(
        INVOKE_TEMPLATE, port=0, emulator_port=0, seed=False, start_sources=False
    ) as runtime:
        yield runtime
