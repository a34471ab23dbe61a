"""Accounts and sessions (the records and their stored forms), e-mail reservations,
refresh tokens and one-time tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

USERS_PARTITION = "USERS"  # gsi2: every account, newest first (admin list)
ADMINS_PARTITION = "ROLE#admin"  # gsi1: admins only (sparse)


def user_key(user_id: str) -> dict[str, str]:
    """An account's profile (also read by the auth guard, the catalog and checkout)."""
    return {"pk": f"USER#{user_id}", "sk": "PROFILE"}


def user_partition(user_id: str) -> str:
    """The partition of an account's own items (profile, cart, unpaid-order count)."""
    return f"USER#{user_id}"


def account_index(created_at: str, user_id: str, *, admin: bool) -> dict[str, str]:
    """The profile's index attributes: every account in gsi2, admins also in gsi1."""
    order = f"{created_at}#{user_id}"
    fields = {"gsi2pk": USERS_PARTITION, "gsi2sk": order}
    if admin:
        fields |= {"gsi1pk": ADMINS_PARTITION, "gsi1sk": order}
    return fields


def email_key(email: str) -> dict[str, str]:
    """The item that reserves a (normalised) address for one account."""
    return {"pk": f"EMAIL#{email}", "sk": "UNIQUE"}


def one_time_token_key(kind: str, digest: str) -> dict[str, str]:
    """A one-time token (``VERIFY`` or ``RESET``) by the SHA-256 of its secret."""
    return {"pk": f"OTT#{digest}", "sk": kind}


def session_key(session_id: str) -> dict[str, str]:
    """A sign-in session."""
    return {"pk": f"SESSION#{session_id}", "sk": "SESSION"}


def session_index(user_id: str, created_ms: int) -> dict[str, str]:
    """A session's place among its account's sessions (gsi1, oldest first)."""
    return {"gsi1pk": user_partition(user_id), "gsi1sk": f"SESSION#{created_ms}"}


def refresh_token_key(digest: str) -> dict[str, str]:
    """A refresh token by the SHA-256 of its secret."""
    return {"pk": f"REFRESH#{digest}", "sk": "TOKEN"}


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Account:
    """A user account as the auth function sees it."""

    user_id: str
    email: str
    name: str
    password_hash: str
    created_at: str
    phone: str | None = None
    email_verified: bool = False
    disabled: bool = False
    roles: frozenset[str] = frozenset()
    tokens_valid_after_ms: int = 0
    memberships: dict[str, str] = field(default_factory=dict)
    # Sessions ended lately, whose access tokens the guard refuses (id -> epoch second when
    # the entry may go); None until the account first ends one.
    revoked_sessions: dict[str, int] | None = None

    def role_list(self) -> list[str]:
        """Every account is a customer; global roles come on top."""
        return ["customer", *sorted(self.roles)]


@dataclass(frozen=True)
class Session:
    """One signed-in device: a chain of refresh tokens, 30 days at most."""

    session_id: str
    user_id: str
    created_ms: int
    expires_at: int
    revoked: bool = False

    def usable(self, now: int, account: Account) -> bool:
        """Not revoked, not past its 30 days, not ended by "sign out everywhere"."""
        return (
            not self.revoked
            and now < self.expires_at
            and not account.disabled
            and self.created_ms > account.tokens_valid_after_ms
        )


def account_item(account: Account) -> dict[str, Any]:
    """The stored form of an account, with its index keys."""
    return {
        **user_key(account.user_id),
        "entity": "user",
        "id": account.user_id,
        "email": account.email,
        "name": account.name,
        "phone": account.phone,
        "password_hash": account.password_hash,
        "email_verified": account.email_verified,
        "disabled": account.disabled,
        "roles": sorted(account.roles),
        "tokens_valid_after_ms": account.tokens_valid_after_ms,
        "memberships": account.memberships,
        "created_at": account.created_at,
        "updated_at": account.created_at,
        # Admin list of every account, newest first.
        **account_index(account.created_at, account.user_id, admin="admin" in account.roles),
    }


def account_from(item: Mapping[str, Any]) -> Account:
    """A stored profile as an :class:`Account`."""
    return Account(
        user_id=item["id"],
        email=item["email"],
        name=item["name"],
        password_hash=item["password_hash"],
        created_at=item["created_at"],
        phone=item.get("phone"),
        email_verified=bool(item.get("email_verified", False)),
        disabled=bool(item.get("disabled", False)),
        roles=frozenset(item.get("roles") or ()),
        tokens_valid_after_ms=int(item.get("tokens_valid_after_ms") or 0),
        memberships=dict(item.get("memberships") or {}),
        revoked_sessions=(
            {str(sid): int(until) for sid, until in item["revoked_sessions"].items()}
            if isinstance(item.get("revoked_sessions"), Mapping)
            else None
        ),
    )


def session_from(session_id: str, item: Mapping[str, Any]) -> Session:
    """A stored session as a :class:`Session`."""
    return Session(
        session_id=session_id,
        user_id=item["user_id"],
        created_ms=int(item["created_ms"]),
        expires_at=int(item["expires_at"]),
        revoked=bool(item.get("revoked", False)),
    )
