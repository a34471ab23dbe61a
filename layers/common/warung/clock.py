"""The one clock of the serving code.

Every "now" a function reads (token lifetimes, one-time links, rate-limit windows, webhook
signatures, ids, audit and order times) comes from here, so that a test sets time in one
place: ``clock.freeze(moment)`` or ``with clock.frozen(moment):``, then ``clock.advance``.
Code that is given an explicit time (a schedule event's ``time``, a ``now=`` argument) uses
that instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_source: Callable[[], float] = time.time  # seconds since the epoch


def epoch_seconds() -> float:
    """Seconds since the epoch, with their fraction."""
    return _source()


def epoch_s() -> int:
    """Whole seconds since the epoch (token ``iat``/``exp``, TTLs, signature timestamps)."""
    return int(_source())


def epoch_ms() -> int:
    """Milliseconds since the epoch (ids, session and revocation marks)."""
    return int(_source() * 1000)


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.fromtimestamp(_source(), UTC)


# ---------------------------------------------------------------- for tests


def freeze(moment: datetime | float) -> None:
    """Stop the clock at ``moment`` (a timezone-aware datetime or epoch seconds)."""
    global _source  # noqa: PLW0603 - the clock is process-wide by design
    seconds = moment.timestamp() if isinstance(moment, datetime) else float(moment)
    _source = lambda: seconds  # noqa: E731 - a constant source


def advance(seconds: float) -> None:
    """Move a frozen clock on by ``seconds`` (freeze first)."""
    freeze(_source() + seconds)


def restore() -> None:
    """Back to the system's clock."""
    global _source  # noqa: PLW0603
    _source = time.time


@contextmanager
def frozen(moment: datetime | float) -> Iterator[None]:
    """The clock stands at ``moment`` inside the block, and runs again after it."""
    freeze(moment)
    try:
        yield
    finally:
        restore()
