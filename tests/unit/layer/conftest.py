"""Unit tests of the shared layer run with a known, local configuration."""

from collections.abc import Iterator

import pytest

from warung.settings import get_settings


@pytest.fixture(autouse=True)
def local_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example.test")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "unit")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "WarungTest")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
