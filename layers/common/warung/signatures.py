"""The ``Warung-Signature`` scheme, shared by merchant webhooks and the payment provider's
webhook (docs/product.md, Payments)::

    Warung-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

Standard library only, and no network modules: verifying a signature must not cost the
delivery machinery's imports (``warung.webhooks``) on a cold start.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

from warung.errors import InvalidSignature

SIGNATURE_HEADER: Final = "Warung-Signature"
SIGNATURE_TOLERANCE_S: Final = 300

_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# Room for a handful of v1 values during a key rotation, not for a denial of service.
_MAX_SIGNATURE_HEADER = 1024


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    if not secret:
        raise ValueError("a webhook signing secret must not be empty")
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Warung-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def verify_signature(  # noqa: C901 - each malformed part of the header is its own refusal
    header: str | None,
    body: bytes,
    secret: str,
    *,
    now: int,
    tolerance_s: int = SIGNATURE_TOLERANCE_S,
) -> None:
    """Accept a signed ``body`` or raise :class:`InvalidSignature` (400).

    Refused: a missing or malformed header, a timestamp more than ``tolerance_s`` from ``now``
    in either direction (replays, and clocks far ahead), and a MAC that does not match. Several
    ``v1=`` values may be present while a sender rotates its secret; one match is enough.
    Unknown schemes (``v0=``, a future ``v2=``) are ignored.
    """
    if not header:
        raise InvalidSignature(f"The {SIGNATURE_HEADER} header is missing.")
    if len(header) > _MAX_SIGNATURE_HEADER:
        raise InvalidSignature(f"The {SIGNATURE_HEADER} header is malformed.")
    timestamps: list[str] = []
    candidates: list[str] = []
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator:
            raise InvalidSignature(f"The {SIGNATURE_HEADER} header is malformed.")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            candidates.append(value)
    if (
        len(timestamps) != 1
        or not _TIMESTAMP.fullmatch(timestamps[0])
        or not candidates
        or not all(_HEX_SHA256.fullmatch(candidate) for candidate in candidates)
    ):
        raise InvalidSignature(f"The {SIGNATURE_HEADER} header is malformed.")
    timestamp = int(timestamps[0])
    if abs(now - timestamp) > tolerance_s:
        raise InvalidSignature(f"The signature timestamp is more than {tolerance_s} s from now.")
    expected = _mac(secret, body, timestamp)
    matched = False
    for candidate in candidates:
        # Compare every candidate, constant time each: timing says nothing about which matched.
        matched |= hmac.compare_digest(expected, candidate.lower())
    if not matched:
        raise InvalidSignature("The signature does not match the body.")
