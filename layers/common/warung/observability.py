"""Logging and metrics, set up once per function.

Tracing is Lambda's and API Gateway's active X-Ray tracing, with no SDK in the code: see
docs/decisions/0002-tracing-without-the-xray-sdk.md for why and what it costs.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

__all__ = ["MetricUnit", "bind_request", "entry_point", "logger", "mask_email", "metrics"]

F = TypeVar("F", bound=Callable[..., Any])

# Powertools reads POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL and
# POWERTOOLS_METRICS_NAMESPACE from the function's environment (template.yaml).
logger = Logger(use_rfc3339=True)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Warung")
# A request that records no business metric is normal, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")

_EMAIL = re.compile(r"^([^@]{1,2})[^@]*(@.*)$")


def mask_email(email: str) -> str:
    """An address fit for a log line: ``cu***@example.com``; never log a full address."""
    match = _EMAIL.match(email)
    return f"{match.group(1)}***{match.group(2)}" if match else "***"


def bind_request(request_id: str, **fields: Any) -> None:
    """Attach the correlation id (and other keys) to every log line of this invocation."""
    logger.set_correlation_id(request_id)
    if fields:
        logger.append_keys(**fields)


def entry_point(handler: F, *, correlation_id_path: str | None = None) -> F:
    """The decorator stack of every Lambda entry point: log context (cold start, request
    id, optional correlation id from the event) and metrics flushed at the end."""
    with_metrics = metrics.log_metrics(capture_cold_start_metric=True)(handler)
    wrapped: F = logger.inject_lambda_context(
        correlation_id_path=correlation_id_path, clear_state=True
    )(with_metrics)
    return wrapped
