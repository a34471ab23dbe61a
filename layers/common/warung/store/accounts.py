"""Accounts, their e-mail reservations, sessions, refresh tokens and one-time tokens."""

from __future__ import annotations

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
