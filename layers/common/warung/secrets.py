"""Secrets Manager reads, cached for the life of the execution environment.

The value is fetched on first use, not at import: a function that never paginates never
pays for the call. botocore directly, for the same cold-start reason as ``warung.dynamo``.
"""

from __future__ import annotations

import threading
import time
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config

from warung.settings import get_settings

_TTL_SECONDS = 15 * 60  # rotation reaches every function within a quarter of an hour
_lock = threading.Lock()
_cache: dict[str, tuple[float, str]] = {}


def get_secret(arn: str) -> str:
    """The current ``SecretString`` of ``arn`` (cached for 15 minutes)."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(arn)
        if cached and now - cached[0] < _TTL_SECONDS:
            return cached[1]
        value = str(_secrets_client().get_secret_value(SecretId=arn)["SecretString"])
        _cache[arn] = (now, value)
        return value


@cache
def _secrets_client() -> Any:
    settings = get_settings()
    return botocore.session.get_session().create_client(
        "secretsmanager",
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3}),
    )
