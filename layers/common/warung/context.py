"""Who is asking, from where: the request facts that audit entries and jobs carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestMeta:
    """The request id (also the correlation id), the caller's address and user agent."""

    request_id: str
    source_ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> RequestMeta:
        """Read from an API Gateway REST proxy event (the gateway's view, not headers)."""
        context = event.get("requestContext") or {}
        identity = context.get("identity") or {}
        return cls(
            request_id=str(context.get("requestId") or "unknown"),
            source_ip=identity.get("sourceIp"),
            user_agent=(identity.get("userAgent") or "")[:512] or None,
        )
