"""Integration tests run against the embedded emulation, with the tables, queues and secrets
created from the real template.yaml so that they cannot drift from what is deployed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from warung.settings import get_settings
from warung_local.emulation import Emulation
from warung_local.provision import provision
from warung_local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stack:
    """The application's resources in the emulation."""

    endpoint_url: str
    template: Template
    # the emulation itself: a test may let it answer Lambda Invoke (support/opener.py)
    emulation: Emulation

    def env(self, function_id: str = "PlatformFunction") -> dict[str, str]:
        """The environment a function of the template gets locally."""
        return dict(self.template.functions[function_id].environment)


@pytest.fixture(scope="session")
def app_stack() -> Iterator[Stack]:
    with Emulation() as emulation:
        template = load_template(ROOT / "template.yaml", {"Stage": "local"})
        template = template.with_physical(provision(template, emulation.endpoint_url))
        yield Stack(emulation.endpoint_url, template, emulation)


@pytest.fixture
def app_env(app_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The process environment of a deployed function, pointed at the emulation."""
    for name, value in app_stack.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", app_stack.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", app_stack.template.region)
    _clear_caches()
    yield app_stack
    _clear_caches()


def _clear_caches() -> None:
    from warung import clients, secrets

    get_settings.cache_clear()
    clients.aws_client.cache_clear()
    secrets._cache.clear()
