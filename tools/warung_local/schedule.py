"""EventBridge schedule expressions: `rate(...)` and six-field `cron(...)`, in UTC.

Supported cron syntax: `*`, numbers, names (JAN-DEC, SUN-SAT), lists `a,b`, ranges
`a-b`, steps `*/n` and `a-b/n`, and `?` in day-of-month or day-of-week. As in
EventBridge, day-of-week 1 is Sunday. `L`, `W` and `#` are rejected (not needed yet).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    name: i
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


class ScheduleError(ValueError):
    """The expression is not a supported schedule expression."""


def _parse_field(
    text: str, low: int, high: int, names: dict[str, int] | None = None
) -> frozenset[int] | None:
    """The values a cron field allows; None for `*` or `?` (anything)."""
    if text in {"*", "?"}:
        return None
    values: set[int] = set()
    for item in text.split(","):
        part, step = item, 1
        if "/" in item:
            part, step_text = item.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"bad step in {text!r}")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise ScheduleError(f"{text!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    upper = text.upper()
    if names and upper in names:
        return names[upper]
    if not text.isdigit():
        # L, W and # land here too: not supported locally.
        raise ScheduleError(f"unsupported cron value {text!r}")
    return int(text)


@dataclass(frozen=True)
class Cron:
    """A parsed six-field EventBridge cron expression."""

    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days_of_month: frozenset[int] | None
    months: frozenset[int] | None
    days_of_week: frozenset[int] | None  # 1 = Sunday
    years: frozenset[int] | None

    @classmethod
    def parse(cls, fields_text: str) -> Cron:
        """Parse the inside of `cron(...)`."""
        fields = fields_text.split()
        if len(fields) != 6:
            raise ScheduleError(
                "cron needs six fields: minutes hours day-of-month month day-of-week year"
            )
        minute, hour, dom, month, dow, year = fields
        if dom != "?" and dow != "?":
            raise ScheduleError("one of day-of-month and day-of-week must be '?'")
        return cls(
            _parse_field(minute, 0, 59),
            _parse_field(hour, 0, 23),
            _parse_field(dom, 1, 31),
            _parse_field(month, 1, 12, _MONTHS),
            _parse_field(dow, 1, 7, _DAYS),
            _parse_field(year, 1970, 2199),
        )

    def _day_matches(self, day: dt.datetime) -> bool:
        if self.days_of_month is not None and day.day not in self.days_of_month:
            return False
        # isoweekday: Monday 1 .. Sunday 7; EventBridge: Sunday 1 .. Saturday 7.
        return self.days_of_week is None or (day.isoweekday() % 7) + 1 in self.days_of_week

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first time strictly after `moment` (UTC) that the expression fires."""
        t = moment.astimezone(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        limit = t + dt.timedelta(days=366 * 5)
        while t < limit:
            if self.years is not None and t.year not in self.years:
                t = dt.datetime(t.year + 1, 1, 1, tzinfo=dt.UTC)
            elif self.months is not None and t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(day=1)
            elif not self._day_matches(t):
                t = t.replace(hour=0, minute=0) + dt.timedelta(days=1)
            elif self.hours is not None and t.hour not in self.hours:
                t = t.replace(minute=0) + dt.timedelta(hours=1)
            elif self.minutes is not None and t.minute not in self.minutes:
                t += dt.timedelta(minutes=1)
            else:
                return t
        raise ScheduleError("the expression never fires in the next five years")


@dataclass(frozen=True)
class Rate:
    """A parsed `rate(n unit)` expression."""

    seconds: int

    def next_after(self, moment: dt.datetime, start: dt.datetime) -> dt.datetime:
        """The first tick after `moment`, counting periods from `start`."""
        elapsed = (moment - start).total_seconds()
        periods = int(elapsed // self.seconds) + 1 if elapsed >= 0 else 1
        return start + dt.timedelta(seconds=periods * self.seconds)


def parse_expression(expression: str) -> Rate | Cron:
    """Parse `rate(...)` or `cron(...)`."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if count < 1:
            raise ScheduleError("a rate must be at least 1")
        if (count == 1) != (not rate.group(2).endswith("s")):
            raise ScheduleError(f"say 'rate(1 {unit})' or 'rate(n {unit}s)'")
        return Rate(count * _UNIT_SECONDS[unit])
    cron = _CRON.match(text)
    if cron:
        return Cron.parse(cron.group(1))
    raise ScheduleError(f"unsupported schedule expression {expression!r}")


def next_fire_time(
    expression: str, after: dt.datetime, start: dt.datetime | None = None
) -> dt.datetime:
    """When `expression` next fires after `after` (rates count from `start`, default `after`)."""
    parsed = parse_expression(expression)
    if isinstance(parsed, Rate):
        return parsed.next_after(after, start or after)
    return parsed.next_after(after)
