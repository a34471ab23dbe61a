"""Identifiers, timestamps and configuration."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType

import pytest

from warung.ids import id_time_ms, new_id, rfc3339, utc_now
from warung.settings import get_settings


def test_ids_are_unique_opaque_and_sort_by_creation_time() -> None:
    first = new_id()
    time.sleep(0.002)
    later = [new_id() for _ in range(1000)]
    assert len(set(later)) == 1000
    assert all(len(i) == 26 and i.isalnum() for i in later)
    assert all(first < i for i in later)


def test_ids_made_while_the_clock_stands_still_keep_the_order_they_were_made_in(
    clock: ModuleType,
) -> None:
    clock.freeze(datetime(2026, 12, 5, 20, 0, tzinfo=UTC))
    made = [new_id() for _ in range(500)]
    assert made == sorted(made)
    assert len(set(made)) == 500
    assert {id_time_ms(i) for i in made} == {clock.epoch_ms()}
    # and the next millisecond's ids come after them, in their own order again
    clock.advance(0.001)
    later = [new_id() for _ in range(3)]
    assert made[-1] < later[0] < later[1] < later[2]


def test_the_one_clock_reads_as_seconds_milliseconds_and_utc(clock: ModuleType) -> None:
    clock.freeze(datetime(2026, 12, 5, 20, 0, 30, 250000, tzinfo=UTC))
    assert clock.epoch_s() == 1796500830
    assert clock.epoch_ms() == 1796500830250
    assert clock.now() == datetime(2026, 12, 5, 20, 0, 30, 250000, tzinfo=UTC)
    assert utc_now() == clock.now()
    clock.advance(90)
    assert rfc3339(clock.now()) == "2026-12-05T20:02:00Z"


def test_rfc3339_is_utc_with_a_z() -> None:
    jakarta = timezone(timedelta(hours=7))
    assert rfc3339(datetime(2026, 11, 26, 15, 15, tzinfo=jakarta)) == "2026-11-26T08:15:00Z"
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("TABLE_NAME", "warung-prod-main")
    monkeypatch.setenv("APP_VERSION", "1.2.3")
    get_settings.cache_clear()
    settings = get_settings()
    assert (settings.stage, settings.table_name, settings.app_version) == (
        "prod",
        "warung-prod-main",
        "1.2.3",
    )
    assert settings.is_production
    assert settings.service_name == "unit"


def test_unknown_stage_fails_at_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "staging")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="invalid configuration"):
        get_settings()
