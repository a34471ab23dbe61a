"""AWS clients for every function: one per service and execution environment.

botocore directly, not boto3: boto3's import (s3transfer and friends) is ~80 ms of cold
start that no function here needs. Every client honours ``AWS_ENDPOINT_URL`` (the local
emulation), uses the stage's region, short timeouts (API Gateway gives up after 29 s) and
the SDK's retries.

What a first request pays for its clients (docs/decisions/0023-first-request-imports.md):

- **One botocore session** for all of them. A session loads the endpoint and partition
  data and lists the services it knows once; a second session does it all again (~20 ms
  per client, more than creating a small client itself).
- **Trimmed service models** where a function calls one operation of a big service:
  ``botocore_models/`` holds SSM's model with ``GetParameter`` only (the JWK Set read),
  found before botocore's own. SSM's full model (1,360 shapes) made its client cost a
  signed-in request as much as the DynamoDB one; trimmed, it costs next to nothing.
  ``tools/botocore_models.py`` writes it from the installed botocore; unit tests keep it
  equal to what that would write, and find every SSM operation the code calls in it.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

from warung.settings import get_settings

MODELS = Path(__file__).with_name("botocore_models")
_creating = threading.Lock()  # a botocore session is not safe to share while creating


@cache
def aws_client(service: str, *, read_timeout: int = 5, max_attempts: int = 4) -> Any:
    """The process-wide client of ``service`` (created on first use, then reused)."""
    from botocore.config import Config

    settings = get_settings()
    with _creating:
        return _session().create_client(
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


@cache
def _session() -> Any:
    """The botocore session of every client, reading the layer's trimmed models first."""
    import botocore.session

    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(MODELS))
    return session
