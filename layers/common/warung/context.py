"""Who is asking, from where: the request facts that audit entries, jobs and rate limits carry.

The caller's address is API Gateway's view (``requestContext.identity.sourceIp``), except
behind the stage's CloudFront distribution (docs/decisions/0024-cache-in-front.md), where
that view is an edge server's address. There the client's address is the one CloudFront
itself writes into ``CloudFront-Viewer-Address``, believed only when the request also
carries the origin secret that CloudFront adds (``X-Origin-Verify``): a client can send
either header, but only CloudFront knows the secret. Anything else a request says about
its origin (``X-Forwarded-For``, a viewer address without the secret) is ignored.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

VIEWER_ADDRESS_HEADER = "cloudfront-viewer-address"
"""Added by CloudFront: the viewer's ``address:port`` (IPv6 addresses unbracketed)."""

ORIGIN_VERIFY_HEADER = "x-origin-verify"
"""Added by CloudFront to every origin request: the stage's origin secret."""


class OriginSecret(Protocol):
    """Gives the stage's origin secret (``None``: no CloudFront in front); ``fresh`` asks for
    a recent copy, after a request's secret did not match (the secret may have been rotated)."""

    def __call__(self, *, fresh: bool = False) -> str | None: ...


@dataclass(frozen=True)
class RequestMeta:
    """The request id (also the correlation id), the caller's address and user agent."""

    request_id: str
    source_ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def from_event(
        cls, event: Mapping[str, Any], origin_secret: OriginSecret | None = None
    ) -> RequestMeta:
        """Read from an API Gateway REST proxy event.

        ``origin_secret`` gives the stage's origin secret (``None`` where there is no
        CloudFront in front): it is asked only when the event carries a viewer address.
        """
        context = event.get("requestContext") or {}
        identity = context.get("identity") or {}
        return cls(
            request_id=str(context.get("requestId") or "unknown"),
            source_ip=client_ip(event, origin_secret),
            user_agent=(identity.get("userAgent") or "")[:512] or None,
        )


def client_ip(event: Mapping[str, Any], origin_secret: OriginSecret | None = None) -> str | None:
    """The client's address: CloudFront's viewer address when the request carries the
    origin secret, else API Gateway's ``sourceIp`` (the TCP peer it saw)."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    source_ip = identity.get("sourceIp")
    viewer = _header(event, VIEWER_ADDRESS_HEADER)
    if viewer is None or origin_secret is None:
        return source_ip
    presented = _header(event, ORIGIN_VERIFY_HEADER)
    if not presented:
        return source_ip
    if not _same(presented, origin_secret()) and not _same(presented, origin_secret(fresh=True)):
        return source_ip
    return viewer_address(viewer) or source_ip


def _same(presented: str, expected: str | None) -> bool:
    return bool(expected) and hmac.compare_digest(presented.encode(), str(expected).encode())


def viewer_address(value: str) -> str | None:
    """The address of a ``CloudFront-Viewer-Address`` value (``203.0.113.7:46532``,
    ``2001:db8::1:46532``), or ``None`` when it is not one."""
    host, separator, port = value.strip().rpartition(":")
    if not separator or not port.isdigit():
        return None
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def _header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name and value is not None:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == name and values:
            return str(values[-1])
    return None
