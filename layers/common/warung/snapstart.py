"""Lambda SnapStart: what an execution environment primes before its snapshot is taken, and
what it makes its own again after a restore (docs/decisions/0025-snapstart.md).

One snapshot starts many execution environments, at any later time. It may therefore hold
what is the same everywhere and for long: imported modules, the settings, the routes'
pydantic validators, parsed botocore service models. It must not carry on what has to differ
per environment or that time makes stale:

- the ``random`` generator's state (retry jitter) and the last id's random part
  (``warung.ids``): two environments would draw the same numbers;
- caches aged on the monotonic clock (secrets, auth state, the JWK Set's refetch timer): the
  paused time is not counted, so a value cached before the snapshot would look fresh;
- AWS clients, with their credentials and connection pools.

The hooks are registered through ``snapshot_restore_py``, which Lambda's Python runtime
provides. Where it is absent (the local runtime, a bare test run) nothing is registered and
nothing calls the hooks: a plain cold start needs neither.
"""

from __future__ import annotations

import importlib
import random
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from warung import clients, ids
from warung.settings import get_settings

Register = Callable[..., Any]

DEFAULT_SERVICES = ("dynamodb", "secretsmanager")
DEFAULT_MODULES = ("warung.tokens",)  # token verification: cryptography's EC

_lock = threading.Lock()
_registered = False
_app: Any = None
_services: tuple[str, ...] = DEFAULT_SERVICES
_modules: tuple[str, ...] = DEFAULT_MODULES


def install(
    app: Any = None,
    *,
    services: Sequence[str] = DEFAULT_SERVICES,
    modules: Sequence[str] = DEFAULT_MODULES,
) -> bool:
    """Register :func:`before_snapshot` and :func:`after_restore` with the runtime, once per
    process; what to prime: ``app`` (a resolver: its routes' validators), the botocore
    ``services`` the function calls and the ``modules`` its requests import on first use.

    ``False`` (and nothing registered) where the runtime's hook library is absent.
    """
    global _registered, _app, _services, _modules  # noqa: PLW0603 - once per process
    registrars = _registrars()
    if registrars is None:
        return False
    with _lock:
        _app, _services, _modules = app, tuple(services), tuple(modules)
        if not _registered:
            register_before_snapshot, register_after_restore = registrars
            register_before_snapshot(before_snapshot)
            register_after_restore(after_restore)
            _registered = True
    return True


def _registrars() -> tuple[Register, Register] | None:
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return None
    return register_before_snapshot, register_after_restore


def before_snapshot() -> None:
    """Prime what is safe to share: settings, modules, route validators, service models.

    No secret is read and no AWS call is made: both would need credentials in the snapshot,
    and their values would be stale by the time an environment is restored.
    """
    get_settings()
    for name in _modules:
        importlib.import_module(name)
    if _app is not None:
        _prime_routes(_app)
    _build_deferred_models()
    clients.prime_service_models(_services)


def _prime_routes(app: Any) -> None:
    """Build every route's request and response validators, which the resolver otherwise
    builds on each route's first request (the OpenAPI document is made and dropped)."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    app.get_openapi_schema(security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")})


def _build_deferred_models() -> None:
    """Build the models that a plain cold start builds on first use (``warung.models.ApiModel``,
    job payloads: docs/decisions/0033-build-on-first-use.md), each imported one: in a snapshot
    they cost nothing, and a restored environment's first request finds them built. (The
    OpenAPI document builds schemas of its own, not the models' validators.)"""
    from pydantic import BaseModel

    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            generic = model.__pydantic_generic_metadata__["parameters"]  # Page[T] itself
            if not model.__pydantic_complete__ and not generic:
                model.model_rebuild(raise_errors=False)


def after_restore() -> None:
    """Make this environment's state its own: fresh randomness, no id sequence carried on,
    no cache aged on the paused monotonic clock, new AWS clients and credentials."""
    random.seed()  # from os.urandom: each restored environment draws its own jitter
    ids.forget_last_id()
    clients.forget_clients()
    # Only what this environment had loaded: a restore imports nothing new.
    secrets = sys.modules.get("warung.secrets")
    if secrets is not None:
        secrets.clear_cache()
    auth = sys.modules.get("warung.auth")
    if auth is not None:
        auth.forget_all_auth_states()
    tokens = sys.modules.get("warung.tokens")
    if tokens is not None:
        tokens.clear_caches()
