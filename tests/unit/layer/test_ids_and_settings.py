"""Identifiers, timestamps and configuration."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from warung.ids import new_id, rfc3339
from warung.settings import get_settings


def test_ids_are_unique_opaque_and_sort_by_creation_time() -> None:
    first = new_id()
    time.sleep(0.002)
    later = [new_id() for _ in range(1000)]
    assert len(set(later)) == 1000
    assert all(len(i) == 26 and i.isalnum() for i in later)
    assert all(first < i for i in later)


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
