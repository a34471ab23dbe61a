"""The application's resources under a stage of a test's own, and a function's process
environment pointed at them: what integration tests of one function start from.

A test module that needs empty partitions (exact listings, counts) provisions its own
stage from the real template.yaml in the shared emulation; its functions then run in this
process with the environment the template gives them, as after a cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from warung.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


def provision_stage(endpoint_url: str, stage: str) -> Any:
    """The template loaded for ``stage``, its tables, queues and secrets created."""
    from warung_local.provision import provision
    from warung_local.template import load_template

    template = load_template(ROOT / "template.yaml", {"Stage": stage})
    return template.with_physical(provision(template, endpoint_url))


def clear_parameter_caches() -> None:
    """The layer's cached secrets and SSM parameters (``warung.secrets``) dropped: the next
    read of a signing key or of the JWK Set goes to the stores again."""
    from warung import secrets

    secrets._cache.clear()


def reset_function_caches(endpoint_url: str) -> None:
    """What a cold start gives a function: no cached settings, keys, secrets, auth state
    or metrics. AWS clients (slow to make) are kept while they point at this emulation."""
    from warung import auth, clients, secrets, tokens
    from warung.observability import metrics

    get_settings.cache_clear()
    if clients.aws_client.cache_info().currsize and (
        clients.aws_client("dynamodb").meta.endpoint_url != endpoint_url
    ):
        clients.aws_client.cache_clear()
    secrets._cache.clear()
    tokens.clear_caches()
    with auth._cache_lock:
        auth._state_cache.clear()
    metrics.clear_metrics()


def new_account(name: str = "Sri", *, verified: bool = True) -> Any:
    """A new account (auth's own domain and repository write it), e-mail unique."""
    import uuid

    from auth import repository
    from warung.dynamo import Transaction
    from warung.ids import new_id, rfc3339, utc_now
    from warung.store.accounts import Account

    made = Account(
        user_id=new_id(),
        email=f"a-{uuid.uuid4().hex[:10]}@example.test",
        name=name,
        password_hash="not-used",
        created_at=rfc3339(utc_now()),
        email_verified=verified,
    )
    repository.add_account(Transaction(), made).commit()
    return made


def run_as(
    stack: Any,
    function_id: str,
    endpoint_url: str,
    monkeypatch: pytest.MonkeyPatch,
    extra: Mapping[str, str] | None = None,
) -> None:
    """This process's environment as ``function_id``'s in ``stack``, on the emulation."""
    for name, value in stack.functions[function_id].environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STAGE", "local")  # what the settings call a stage; names are the test's
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", stack.region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", stack.region)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in (extra or {}).items():
        monkeypatch.setenv(name, value)
    reset_function_caches(endpoint_url)
