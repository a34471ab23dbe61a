"""Account rules, as plain functions: no DynamoDB, no HTTP."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import timedelta

from warung.errors import Conflict, FieldError, InvalidToken, ValidationFailed
from warung.store.accounts import Account

SESSION_LIFETIME = timedelta(days=30)
VERIFICATION_LIFETIME = timedelta(hours=24)
RESET_LIFETIME = timedelta(hours=1)
GLOBAL_ROLES = frozenset({"admin"})  # "customer" is every account's, never stored

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
# The shape of every opaque token this API issues (new_secret_token makes 43 of these
# characters), with room to grow: anything else was never issued and is refused like an
# unknown token (400 invalid_token), without a read.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,512}$"  # noqa: S105 - a shape, not a secret
_TOKEN = re.compile(TOKEN_PATTERN)


def normalise_email(raw: str) -> str:
    """The canonical form of an address: trimmed, NFKC, lower case; 422 when malformed."""
    email = unicodedata.normalize("NFKC", raw).strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValidationFailed(
            "The e-mail address is not valid.",
            errors=[FieldError("email", "Enter an e-mail address like name@example.com.")],
        )
    return email


def new_secret_token() -> str:
    """An unguessable opaque token (refresh, verification, reset): 256 random bits."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored instead of a token: its SHA-256 (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def presented_digest(token: str) -> str | None:
    """The digest to look a presented token up by, or ``None`` when ``token`` does not have
    the shape of a token this API issues (it cannot be one of ours: no need to look)."""
    return token_digest(token) if _TOKEN.fullmatch(token) else None


def subject_digest(email: str) -> str:
    """A stable pseudonym of an address for audit entries about unknown accounts."""
    return hashlib.sha256(email.encode()).hexdigest()[:16]


class SpentRefreshToken(InvalidToken):
    """The refresh token was already exchanged: reuse (or a race with a second use)."""


class EndedSessionsChanged(Conflict):
    """The account's list of ended sessions was created meanwhile: read it and try again."""


def new_roles(actor_id: str, target: Account, requested: Sequence[str]) -> frozenset[str]:
    """The global roles ``target`` will hold; an admin may not drop their own admin role."""
    roles = frozenset(requested) - {"customer"}
    unknown = roles - GLOBAL_ROLES
    if unknown:
        raise ValidationFailed(
            "Unknown role.",
            errors=[FieldError("roles", f"Allowed: admin, customer; not {sorted(unknown)}.")],
        )
    if actor_id == target.user_id and "admin" in target.roles and "admin" not in roles:
        raise Conflict("You cannot remove your own admin role; ask another admin.")
    return roles


def cannot_disable_self(actor_id: str, target: Account, disabled: bool | None) -> None:
    """An admin disabling their own account would lock the platform out; refuse it."""
    if disabled and actor_id == target.user_id:
        raise Conflict("You cannot disable your own account.")
