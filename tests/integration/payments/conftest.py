"""The payments function against the emulation's tables, created from the real template
under a stage of its own (``payit``), with the function's environment from the template and
an access-token signing key made as the local runtime makes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from payments_support import PaymentsWorld

from warung.settings import get_settings

ROOT = Path(__file__).resolve().parents[3]
STAGE = "payit"


@pytest.fixture(scope="module")
def payments_stack(app_stack: Any) -> Any:
    from aws_lambda_powertools.utilities import parameters

    from warung_local.provision import provision
    from warung_local.seed import signing_key
    from warung_local.template import load_template

    template = load_template(ROOT / "template.yaml", {"Stage": STAGE})
    template = template.with_physical(provision(template, app_stack.endpoint_url))
    signing_key(template, app_stack.endpoint_url)
    parameters.clear_caches()
    return template


@pytest.fixture
def world(
    app_stack: Any, payments_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PaymentsWorld]:
    """The payments function's process environment, pointed at the emulation."""
    for name, value in payments_stack.functions["PaymentsFunction"].environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STAGE", "local")  # what the settings call a stage; names are payit
    monkeypatch.setenv("PAYMENT_SIMULATOR", "true")
    # Tokens for the guard are issued here as the auth function would.
    monkeypatch.setenv("JWT_SIGNING_SECRET_ARN", payments_stack.secret_arn("JwtSigningKeySecret"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", app_stack.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", payments_stack.region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", payments_stack.region)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    _reset(app_stack.endpoint_url)
    yield PaymentsWorld(monkeypatch)
    _reset(app_stack.endpoint_url)


def _reset(endpoint_url: str) -> None:
    """What a cold start gives the function: no cached settings, secrets, keys, state or
    metrics (AWS clients already at this emulation are kept: they are slow to make)."""
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    from warung import auth, clients, secrets, tokens
    from warung.observability import metrics

    get_settings.cache_clear()
    if clients.aws_client.cache_info().currsize and (
        clients.aws_client("dynamodb").meta.endpoint_url != endpoint_url
    ):
        clients.aws_client.cache_clear()
    secrets._cache.clear()
    tokens.clear_caches()
    if any(p.client.meta.endpoint_url != endpoint_url for p in DEFAULT_PROVIDERS.values()):
        parameters.clear_caches()
    with auth._cache_lock:
        auth._state_cache.clear()
    metrics.clear_metrics()
