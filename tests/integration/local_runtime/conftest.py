"""Shared fixtures of the local runtime's integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from warung_local.emulation import Emulation


@pytest.fixture(scope="session")
def emulation() -> Iterator[Emulation]:
    """One embedded emulation for the whole session (moto's state is process-wide anyway)."""
    with Emulation() as running:
        yield running
