"""Opening hours (``opening_hours``, ``open_now``, ``409 merchant_closed``).

Hours are Asia/Jakarta wall-clock time: UTC+7 all year (no daylight saving), so a fixed
offset needs no time-zone database in the Lambda image. Shared by the catalog (``open_now``)
and checkout, so that a merchant shown as open takes the order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
JAKARTA = timezone(timedelta(hours=7), "WIB")
_INTERVAL = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")


def span(interval: str) -> tuple[int, int] | None:
    """``"HH:MM-HH:MM"`` as minutes since midnight (start, end), or ``None`` when it is not
    a valid interval (end after start; ``24:00`` allowed as the end)."""
    match = _INTERVAL.match(interval)
    if not match:
        return None
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    if end > 24 * 60 or end <= start:
        return None
    return start, end


def open_at(
    is_open: bool, opening_hours: Mapping[str, Sequence[str]] | None, moment: datetime
) -> bool:
    """Taking orders at ``moment``: switched open and, if it has hours, within them."""
    if not is_open:
        return False
    if opening_hours is None:
        return True
    local = moment.astimezone(JAKARTA)
    minute = local.hour * 60 + local.minute
    for interval in opening_hours.get(WEEKDAYS[local.weekday()], []):
        bounds = span(interval)
        if bounds and bounds[0] <= minute < bounds[1]:
            return True
    return False
