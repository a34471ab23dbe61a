"""Schedule expressions: parsing and next fire times (UTC)."""

from __future__ import annotations

import datetime as dt

import pytest

from warung_local.schedule import Cron, Rate, ScheduleError, next_fire_time, parse_expression

THURSDAY = dt.datetime(2026, 11, 26, 8, 15, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(1 day)", 86400),
    ],
)
def test_rates_parse_to_periods(expression: str, seconds: int) -> None:
    assert parse_expression(expression) == Rate(seconds)


def test_rate_ticks_count_from_the_start() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    assert next_fire_time("rate(5 minutes)", start, start) == start + dt.timedelta(minutes=5)
    later = start + dt.timedelta(minutes=12)
    assert next_fire_time("rate(5 minutes)", later, start) == start + dt.timedelta(minutes=15)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 8 * * ? *)", dt.datetime(2026, 11, 27, 8, 0)),  # daily at 08:00
        ("cron(*/15 * * * ? *)", dt.datetime(2026, 11, 26, 8, 30)),  # steps
        ("cron(10,20 8 * * ? *)", dt.datetime(2026, 11, 26, 8, 20)),  # lists
        ("cron(0 9-17 ? * MON-FRI *)", dt.datetime(2026, 11, 26, 9, 0)),  # ranges, names
        ("cron(0 0 ? * 1 *)", dt.datetime(2026, 11, 29, 0, 0)),  # 1 is Sunday
        ("cron(30 2 1 JAN,JUL ? *)", dt.datetime(2027, 1, 1, 2, 30)),
        ("cron(0 12 29 2 ? 2028)", dt.datetime(2028, 2, 29, 12, 0)),  # leap day, year field
    ],
)
def test_cron_next_fire_times(expression: str, expected: dt.datetime) -> None:
    assert next_fire_time(expression, THURSDAY) == expected.replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 8 * * * *)",  # both day fields set
        "cron(0 8 * *)",  # too few fields
        "cron(0 8 L * ? *)",  # L is not supported locally
        "cron(61 * * * ? *)",
        "rate(0 minutes)",
        "rate(2 minute)",
        "every 5 minutes",
    ],
)
def test_unsupported_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_expression(expression)


def test_cron_parses_each_field() -> None:
    cron = Cron.parse("0/20 8 ? * 2-6 *")

    assert cron.minutes == frozenset({0, 20, 40})
    assert cron.hours == frozenset({8})
    assert cron.days_of_week == frozenset({2, 3, 4, 5, 6})
    assert cron.days_of_month is None
    assert cron.years is None
