"""The asynchronous path on the real template: outbox → stream → relay → queue → worker.

The runtime runs in-process with its event sources stopped, with the template's own retry
settings; tests drive the relay and the worker one poll at a time and fast-forward the
backoff delays the worker asks for, so nothing depends on timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.pipeline import Pipeline

from warung import clients
from warung.settings import get_settings
from warung_local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(
        ROOT / "template.yaml",
        port=0,
        emulator_port=0,
        seed=False,
        start_sources=False,
    ) as running:
        yield running


@pytest.fixture
def pipeline(runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The pipeline, with this process configured as a function of the stack (a producer)."""
    for name, value in runtime.template.functions["PlatformFunction"].environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", runtime.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", runtime.template.region)
    get_settings.cache_clear()
    clients.aws_client.cache_clear()
    pipe = Pipeline(runtime)
    pipe.drain()  # start from a quiet pipeline
    # The emulation's state is process-wide: jobs of other test modules (outbox entries
    # written by layer tests, say) may have been dead-lettered here; a receive shows at most
    # 10 messages, so theirs could hide this test's.
    pipe.clear_dead_letters()
    pipe.visibility_requests.clear()
    yield pipe
    pipe.close()
    get_settings.cache_clear()
    clients.aws_client.cache_clear()
