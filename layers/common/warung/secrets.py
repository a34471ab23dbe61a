"""Secrets Manager and SSM Parameter Store reads, cached in the execution environment.

A value is fetched on first use, not at import: a function that never paginates never
pays for the call. botocore directly (``warung.clients``), for the same cold-start reason
as ``warung.dynamo``: Powertools' parameters utility would import boto3 (and, through its
AppConfig provider, s3transfer), ~100 ms of a signed-in request's cold start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from warung.clients import aws_client

_TTL_SECONDS = 15 * 60  # rotation reaches every function within a quarter of an hour
_lock = threading.Lock()
_cache: dict[str, tuple[float, str]] = {}  # by secret ARN, or "ssm:" + parameter name


def get_secret(arn: str, *, max_age: float = _TTL_SECONDS) -> str:
    """The current ``SecretString`` of ``arn`` (cached for 15 minutes; a caller that has
    reason to think it changed may accept a younger copy only, ``max_age``)."""
    return _cached(
        arn,
        max_age,
        lambda: str(_secrets_client().get_secret_value(SecretId=arn)["SecretString"]),
    )


def get_parameter(name: str, *, max_age: float = _TTL_SECONDS, force: bool = False) -> str:
    """The value of the SSM parameter ``name`` (cached for ``max_age`` seconds; ``force``
    reads it again now)."""
    return _cached(
        f"ssm:{name}",  # no secret name has a colon, every ARN starts "arn:"
        max_age,
        lambda: str(_ssm_client().get_parameter(Name=name)["Parameter"]["Value"]),
        force=force,
    )


def _cached(key: str, max_age: float, fetch: Callable[[], str], *, force: bool = False) -> str:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
        if cached and not force and now - cached[0] < min(max_age, _TTL_SECONDS):
            return cached[1]
        value = fetch()
        _cache[key] = (now, value)
        return value


def clear_cache() -> None:
    """Forget every cached value (after a SnapStart restore: the cache's ages are measured on
    the monotonic clock, which does not count the time a snapshot waited)."""
    with _lock:
        _cache.clear()


def _secrets_client() -> Any:
    return aws_client("secretsmanager", max_attempts=3)


def _ssm_client() -> Any:
    return aws_client("ssm", max_attempts=3)
