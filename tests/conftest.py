"""Fixtures every part of the suite may use."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from warung import clock as warung_clock
from warung import readcache


@pytest.fixture
def clock() -> Iterator[ModuleType]:
    """The serving code's one clock (``warung.clock``), stopped at the real now: a test moves
    it with ``clock.freeze(moment)`` and ``clock.advance(seconds)``; it runs again after."""
    warung_clock.freeze(warung_clock.epoch_seconds())
    yield warung_clock
    warung_clock.restore()


@pytest.fixture(autouse=True)
def _fresh_read_cache() -> Iterator[None]:
    """Each test starts as a new container: nothing another test read is in the catalog's
    read cache (``warung.readcache``) of this process."""
    readcache.clear()
    yield
    readcache.clear()
