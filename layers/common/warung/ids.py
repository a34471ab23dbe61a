"""Identifiers and timestamps in the forms the API promises."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

from warung import clock

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_RANDOM_BITS = 80
_last = (0, 0)  # (ms, random part) of the last id this process made
_last_lock = threading.Lock()


def new_id(prefix: str = "") -> str:
    """A 26-character, time-ordered, opaque id (ULID layout: 48-bit ms time, 80 random bits).

    Time order makes "newest first" a plain key order in DynamoDB. Ids made by one process
    in the same millisecond (or while a test holds the clock still) follow each other: the
    next takes the last one's random part plus one, as ULID's monotonic mode does, so that
    their order is the order they were made in, never a coin toss.
    """
    global _last  # noqa: PLW0603 - the process's last id, under the lock
    millis, random = clock.epoch_ms(), int.from_bytes(os.urandom(10), "big")
    with _last_lock:
        last_ms, last_random = _last
        if millis == last_ms and last_random + 1 < 1 << _RANDOM_BITS:
            random = last_random + 1
        _last = (millis, random)
    return prefix + _id_text((millis << _RANDOM_BITS) | random)


def forget_last_id() -> None:
    """Forget the last id's random part (after a SnapStart restore: environments restored from
    one snapshot must not continue the same sequence)."""
    global _last  # noqa: PLW0603 - the process's last id, under the lock
    with _last_lock:
        _last = (0, 0)


def _id_text(value: int) -> str:
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def id_bytes(value: str) -> bytes | None:
    """The 16 bytes of an id made by :func:`new_id` (no prefix), for compact encodings such
    as pagination cursors; ``None`` for any other string, a lower-case spelling included, so
    that :func:`id_from_bytes` always gives back exactly ``value``."""
    if len(value) != 26 or value[0] > "7":  # 26 digits of 5 bits hold 128 bits: 0..7 first
        return None
    number = 0
    for char in value:
        digit = _CROCKFORD.find(char)
        if digit < 0:
            return None
        number = number * 32 + digit
    return number.to_bytes(16, "big")


def id_from_bytes(data: bytes) -> str:
    """The id whose :func:`id_bytes` are ``data`` (16 bytes)."""
    if len(data) != 16:
        raise ValueError("an id is 16 bytes")
    return _id_text(int.from_bytes(data, "big"))


def id_time_ms(value: str) -> int:
    """The creation time (epoch ms) inside an id made by :func:`new_id` (prefix stripped)."""
    body = value[-26:]
    if len(body) != 26:
        raise ValueError("not an id made by new_id")
    millis = 0
    for char in body[:10]:
        digit = _CROCKFORD.find(char.upper())
        if digit < 0:
            raise ValueError("not an id made by new_id")
        millis = millis * 32 + digit
    return millis


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC (from :mod:`warung.clock`)."""
    return clock.now()


def rfc3339(moment: datetime) -> str:
    """``2026-11-26T08:15:00Z``: RFC 3339, UTC, whole seconds, as the API shows time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_precise(moment: datetime) -> str:
    """Like :func:`rfc3339` with microseconds, for keys that must sort by time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
