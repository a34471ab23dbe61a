"""Opaque, tamper-proof pagination cursors.

A cursor wraps DynamoDB's ``LastEvaluatedKey`` with the *scope* of the list it belongs to
(route, filters, caller) and an HMAC-SHA256 over both, keyed by a secret from Secrets
Manager. A forged cursor, or one taken from another list or another user, is a ``400``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from warung.errors import BadRequest, FieldError
from warung.settings import get_settings

_VERSION = "1"


def encode_cursor(
    last_key: dict[str, Any] | None, scope: str, key: bytes | None = None
) -> str | None:
    """The cursor for the page after ``last_key``, or ``None`` when there is none."""
    if not last_key:
        return None
    payload = json.dumps({"v": _VERSION, "s": scope, "k": last_key}, separators=(",", ":"))
    raw = payload.encode()
    mac = hmac.new(key or _signing_key(), raw, hashlib.sha256).digest()
    return _b64(mac + raw)


def decode_cursor(
    cursor: str | None, scope: str, key: bytes | None = None
) -> dict[str, Any] | None:
    """The ``ExclusiveStartKey`` inside ``cursor``; ``400`` when it is not ours for ``scope``."""
    if cursor is None or cursor == "":
        return None
    try:
        blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise _invalid() from None
    mac, raw = blob[:32], blob[32:]
    expected = hmac.new(key or _signing_key(), raw, hashlib.sha256).digest()
    if len(mac) != 32 or not hmac.compare_digest(mac, expected):
        raise _invalid()
    payload = json.loads(raw)
    if payload.get("v") != _VERSION or payload.get("s") != scope:
        raise _invalid()
    last_key: dict[str, Any] = payload["k"]
    return last_key


def list_scope(route: str, caller: str | None = None, **filters: Any) -> str:
    """A stable description of one list: the same filters and caller give the same scope."""
    parts = [route, caller or "-"] + [f"{k}={filters[k]}" for k in sorted(filters)]
    return "|".join(parts)


def _signing_key() -> bytes:
    from warung.secrets import get_secret  # only list endpoints need it

    settings = get_settings()
    if not settings.cursor_secret_arn:
        raise RuntimeError("CURSOR_SECRET_ARN is not configured")
    return get_secret(settings.cursor_secret_arn).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _invalid() -> BadRequest:
    return BadRequest(
        "The cursor is not valid for this list.",
        errors=[FieldError("cursor", "Invalid or foreign cursor; start again without it.")],
    )
