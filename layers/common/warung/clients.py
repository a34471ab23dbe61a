"""AWS clients for every function: one per service and execution environment.

botocore directly, not boto3: boto3's import (s3transfer and friends) is ~80 ms of cold
start that no function here needs. Every client honours ``AWS_ENDPOINT_URL`` (the local
emulation), uses the stage's region, short timeouts (API Gateway gives up after 29 s) and
the SDK's retries.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from warung.settings import get_settings


@cache
def aws_client(service: str, *, read_timeout: int = 5, max_attempts: int = 4) -> Any:
    """The process-wide client of ``service`` (created on first use, then reused)."""
    import botocore.session
    from botocore.config import Config

    settings = get_settings()
    return botocore.session.get_session().create_client(
        service,
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(
            connect_timeout=2,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "adaptive"},
            tcp_keepalive=True,
        ),
    )
