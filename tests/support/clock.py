"""The wall clock, for end-to-end tests that cannot move the clock of the API under test."""

from __future__ import annotations

import time


def room_in_window(window_s: int, needed_s: float = 30.0) -> None:
    """Return when the fixed rate-limit window running now has ``needed_s`` seconds left.

    Rate limits count in windows aligned to the epoch (a 15-minute window starts at :00,
    :15, :30 and :45). Hits that straddle a boundary land in two windows and the limit is
    never reached: a test that counts hits would then pass or fail by the time of day. It
    waits out the few seconds before a boundary instead (at most ``needed_s``).
    """
    left = window_s - time.time() % window_s
    if left < needed_s:
        time.sleep(left + 0.5)
