"""AWS clients for every function: one per service and execution environment.

botocore directly, not boto3: boto3's import (s3transfer and friends) is ~80 ms of cold
start that no function here needs. Every client honours ``AWS_ENDPOINT_URL`` (the local
emulation), uses the stage's region, short timeouts (API Gateway gives up after 29 s) and
the SDK's retries.

What a first request pays for its clients (docs/decisions/0023-first-request-imports.md):

- **One botocore session** for all of them. A session loads the endpoint and partition
  data and lists the services it knows once; a second session does it all again (~20 ms
  per client, more than creating a small client itself).
- **The layer's own botocore data directory**, ``botocore_models/``, and no other
  (docs/decisions/0032-botocore-data-directory.md): for each service a function calls, its
  model cut down to the operations it calls and its endpoint rule set, plus the endpoint
  and partition data of those services. botocore's own directory would have it list ~450
  services and read the endpoints of all of them before the first client: a first
  DynamoDB client took ~60 ms, now ~17 ms. SSM's whole model (1,360 shapes) for one
  ``GetParameter`` cost a signed-in request as much again. ``tools/botocore_models.py``
  writes the directory from the installed botocore; unit tests keep it equal to what that
  would write, and find there every service and operation the code calls. A service or an
  operation missing from it fails (``UnknownServiceError``, no client method): add it to
  that tool.

Under SnapStart the session's parsed models are part of the snapshot, and a restore drops
the clients and their credentials (``forget_clients``, called by ``warung.snapstart``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from warung.settings import get_settings

MODELS = Path(__file__).with_name("botocore_models")
_session_lock = threading.Lock()  # a botocore session is not safe to share while creating
_session: Any = None


def _botocore_session() -> Any:
    global _session  # noqa: PLW0603 - one session per execution environment
    with _session_lock:
        if _session is None:
            import botocore.session

            _session = botocore.session.get_session()
            _session.register_component("data_loader", _layer_data_loader())
        return _session


def _layer_data_loader() -> Any:
    """A botocore loader that reads the layer's data directory and nothing else (not
    botocore's own, nor ``~/.aws/models``)."""
    from botocore.loaders import Loader

    class LayerData(Loader):  # type: ignore[misc]  # botocore is untyped
        # botocore's own data, trimmed: endpoints resolve as from botocore's directory
        # (with another endpoints.json, the legacy endpoint would be fed to the rule sets)
        BUILTIN_DATA_PATH = str(MODELS)

    return LayerData(extra_search_paths=[str(MODELS)], include_default_search_paths=False)


def _create_client(service: str, read_timeout: int, max_attempts: int, **credentials: str) -> Any:
    from botocore.config import Config

    settings = get_settings()
    session = _botocore_session()
    with _session_lock:
        return session.create_client(
            service,
            region_name=settings.region,
            endpoint_url=settings.aws_endpoint_url,
            config=Config(
                connect_timeout=2,
                read_timeout=read_timeout,
                retries={"max_attempts": max_attempts, "mode": "adaptive"},
                tcp_keepalive=True,
            ),
            **credentials,
        )


@cache
def aws_client(service: str, *, read_timeout: int = 5, max_attempts: int = 4) -> Any:
    """The process-wide client of ``service`` (created on first use, then reused)."""
    return _create_client(service, read_timeout, max_attempts)


def prime_service_models(services: Iterable[str]) -> None:
    """Read and parse the models and endpoint rules of ``services`` into the shared session,
    without resolving credentials or opening a connection: a throwaway client with placeholder
    keys is built and dropped, so only what is the same for every environment stays."""
    for service in services:
        _create_client(
            service,
            5,
            1,
            aws_access_key_id="priming",
            aws_secret_access_key="priming",  # noqa: S106 - a placeholder, never sent
        )


def forget_clients() -> None:
    """Drop every client (their credentials and connection pools) and the session's resolved
    credentials, keeping the parsed service models: the next client resolves credentials
    afresh. For a SnapStart restore."""
    global _session  # noqa: PLW0603
    aws_client.cache_clear()
    with _session_lock:
        if _session is None:
            return
        import botocore.session

        fresh = botocore.session.get_session()
        fresh.register_component("data_loader", _session.get_component("data_loader"))
        _session = fresh
