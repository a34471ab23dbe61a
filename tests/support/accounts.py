"""Accounts for end-to-end tests: register, verify through the e-mail, sign in."""

from __future__ import annotations

from typing import Any

from support.http import call, token_in, unique_email, wait_for_mail

PASSWORD = "kopi-tubruk-pagi-hari"


def register(api: str, email: str, password: str = PASSWORD, **extra: object) -> int:
    return call(
        api,
        "POST",
        "/v1/auth/register",
        {"email": email, "password": password, "name": "Sri", **extra},
    ).status


def verified_login(api: str, email: str | None = None) -> tuple[str, dict[str, Any]]:
    """A new verified account signed in: (email, token pair)."""
    email = email or unique_email()
    assert register(api, email) == 202
    token = token_in(wait_for_mail(api, email)[0])
    assert call(api, "POST", "/v1/auth/verify-email", {"token": token}).status == 200
    login = call(api, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    return email, login.body
