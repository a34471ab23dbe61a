"""Secrets Manager reads, cached for the life of the execution environment.

The value is fetched on first use, not at import: a function that never paginates never
pays for the call. botocore directly, for the same cold-start reason as ``warung.dynamo``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from warung.clients import aws_client

_TTL_SECONDS = 15 * 60  # rotation reaches every function within a quarter of an hour
_lock = threading.Lock()
_cache: dict[str, tuple[float, str]] = {}


def get_secret(arn: str, *, max_age_s: float = _TTL_SECONDS) -> str:
    """The current ``SecretString`` of ``arn`` (cached for 15 minutes; a caller that has
    reason to think it changed may accept a younger copy only, ``max_age_s``)."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(arn)
        if cached and now - cached[0] < min(max_age_s, _TTL_SECONDS):
            return cached[1]
        value = str(_secrets_client().get_secret_value(SecretId=arn)["SecretString"])
        _cache[arn] = (now, value)
        return value


def clear_cache() -> None:
    """Forget every cached value (after a SnapStart restore: the cache's ages are measured on
    the monotonic clock, which does not count the time a snapshot waited)."""
    with _lock:
        _cache.clear()


def _secrets_client() -> Any:
    return aws_client("secretsmanager", max_attempts=3)
