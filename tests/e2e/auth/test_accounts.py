"""Accounts end to end: sign-up, verification, sign-in, profile, through real HTTP."""

from __future__ import annotations

import pytest
from support.accounts import PASSWORD, register, verified_login
from support.clock import room_in_window
from support.http import call, token_in, unique_email, wait_for_mail


@pytest.mark.usefixtures("local_only")
def test_register_verify_login_and_me_shows_the_verified_address(api_url: str) -> None:
    email = unique_email("story")
    reply = call(
        api_url,
        "POST",
        "/v1/auth/register",
        {"email": email, "password": PASSWORD, "name": "Sri Rahayu"},
    )
    assert reply.status == 202

    mails = wait_for_mail(api_url, email)
    assert len(mails) == 1
    assert mails[0]["subject"] == "Confirm your e-mail address for Warung"
    verify = call(api_url, "POST", "/v1/auth/verify-email", {"token": token_in(mails[0])})
    assert (verify.status, verify.body) == (200, {"email_verified": True})

    login = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert login.status == 200
    assert login.body["token_type"] == "Bearer"
    assert 0 < login.body["expires_in"] <= 900
    assert login.header("Cache-Control") == "no-store"

    me = call(api_url, "GET", "/v1/me", token=login.body["access_token"])
    assert me.status == 200
    assert me.body["email"] == email
    assert me.body["email_verified"] is True
    assert me.body["roles"] == ["customer"]
    assert me.body["memberships"] == []
    assert me.header("Cache-Control") == "no-store"


@pytest.mark.usefixtures("local_only")
def test_existing_address_gets_the_same_answer_and_no_second_account(api_url: str) -> None:
    email = unique_email("twice")
    first = call(
        api_url, "POST", "/v1/auth/register", {"email": email, "password": PASSWORD, "name": "A"}
    )
    again = call(
        api_url,
        "POST",
        "/v1/auth/register",
        {"email": email.upper(), "password": "another-long-passphrase", "name": "B"},
    )
    assert (first.status, first.body) == (again.status, again.body)
    assert len(wait_for_mail(api_url, email, count=2, timeout_s=4)) == 1


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("a" * 9, "9 characters"),
        ("b" * 129, "129 characters"),
        ("password1234", "common"),
        ("qwertyuiop", "keyboard walk"),
    ],
)
def test_weak_passwords_are_422_naming_the_field(api_url: str, password: str, why: str) -> None:
    reply = call(
        api_url,
        "POST",
        "/v1/auth/register",
        {"email": unique_email(), "password": password, "name": "X"},
    )
    assert reply.status == 422, why
    assert reply.body["code"] == "validation_error"
    assert {e["field"] for e in reply.body["errors"]} == {"password"}


def test_password_equal_to_the_email_is_422(api_url: str) -> None:
    email = unique_email("same")
    reply = call(
        api_url, "POST", "/v1/auth/register", {"email": email, "password": email, "name": "X"}
    )
    assert reply.status == 422
    assert reply.body["code"] == "validation_error"
    assert {e["field"] for e in reply.body["errors"]} == {"password"}
    assert any("e-mail address" in e["message"] for e in reply.body["errors"])


@pytest.mark.parametrize(
    "field", [{"role": "admin"}, {"roles": ["admin"]}, {"email_verified": True}]
)
def test_mass_assignment_is_422(api_url: str, field: dict[str, object]) -> None:
    reply = call(
        api_url,
        "POST",
        "/v1/auth/register",
        {"email": unique_email(), "password": PASSWORD, "name": "X", **field},
    )
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == list(field)


@pytest.mark.usefixtures("local_only")
def test_wrong_password_and_unknown_email_look_the_same(api_url: str) -> None:
    email, _ = verified_login(api_url)
    wrong = call(
        api_url, "POST", "/v1/auth/login", {"email": email, "password": "not-the-password-1"}
    )
    unknown = call(
        api_url,
        "POST",
        "/v1/auth/login",
        {"email": unique_email("nobody"), "password": "not-the-password-1"},
    )
    assert wrong.status == unknown.status == 401
    assert wrong.body["code"] == unknown.body["code"] == "invalid_credentials"
    assert wrong.body["detail"] == unknown.body["detail"]


@pytest.mark.usefixtures("local_only")
def test_sixth_failed_login_locks_the_account_even_with_the_right_password(api_url: str) -> None:
    email, _ = verified_login(api_url)
    room_in_window(900)  # the five failures and the sixth attempt in one lockout window
    for attempt in range(5):
        reply = call(
            api_url,
            "POST",
            "/v1/auth/login",
            {"email": email, "password": f"wrong-password-{attempt}"},
        )
        assert reply.status == 401, attempt
    locked = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert locked.status == 429
    assert locked.body["code"] == "rate_limited"
    assert 0 < int(locked.header("Retry-After") or 0) <= 900


@pytest.mark.usefixtures("local_only")
def test_unverified_account_may_sign_in_and_see_itself(api_url: str) -> None:
    email = unique_email("unverified")
    assert register(api_url, email) == 202
    login = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert login.status == 200
    me = call(api_url, "GET", "/v1/me", token=login.body["access_token"])
    assert me.body["email_verified"] is False


@pytest.mark.usefixtures("local_only")
def test_a_verification_link_used_again_answers_the_same_and_changes_nothing(
    api_url: str,
) -> None:
    email = unique_email("again")
    register(api_url, email)
    token = token_in(wait_for_mail(api_url, email)[0])
    first = call(api_url, "POST", "/v1/auth/verify-email", {"token": token})

    again = call(api_url, "POST", "/v1/auth/verify-email", {"token": token})

    assert (first.status, first.body) == (200, {"email_verified": True})
    assert (again.status, again.body) == (first.status, first.body)
    login = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    me = call(api_url, "GET", "/v1/me", token=login.body["access_token"])
    assert me.body["email_verified"] is True
    # and: no e-mail follows either use (only the sign-up's)
    assert len(wait_for_mail(api_url, email, count=2, timeout_s=3)) == 1


TOKEN_BODIES = {
    "/v1/auth/verify-email": "token",
    "/v1/auth/password/reset": "token",
    "/v1/auth/refresh": "refresh_token",
    "/v1/auth/logout": "refresh_token",
}


@pytest.mark.parametrize("route", list(TOKEN_BODIES))
@pytest.mark.parametrize(
    "token",
    ["x", "x" * 15, "x" * 600, "not a token at all!", "x" * 43],
    ids=["short", "15-chars", "600-chars", "bad-characters", "unknown"],
)
def test_a_malformed_or_unknown_token_is_400_invalid_token_never_422(
    api_url: str, route: str, token: str
) -> None:
    body = {TOKEN_BODIES[route]: token}
    if route.endswith("/reset"):
        body["new_password"] = "teh-manis-sore-hari"

    reply = call(api_url, "POST", route, body)

    assert (reply.status, reply.body["code"]) == (400, "invalid_token")
    assert reply.header("Content-Type") == "application/problem+json"


@pytest.mark.usefixtures("local_only")
def test_profile_update_changes_only_name_and_phone(api_url: str) -> None:
    _, pair = verified_login(api_url)
    token = str(pair["access_token"])
    reply = call(
        api_url, "PATCH", "/v1/me", {"name": "Sri R.", "phone": "+6281234567890"}, token=token
    )
    assert reply.status == 200
    assert (reply.body["name"], reply.body["phone"]) == ("Sri R.", "+6281234567890")
    sneaky = call(api_url, "PATCH", "/v1/me", {"email": "other@example.com"}, token=token)
    assert sneaky.status == 422
    assert call(api_url, "GET", "/v1/me", token=token).body["name"] == "Sri R."


def test_me_without_a_token_is_401(api_url: str) -> None:
    reply = call(api_url, "GET", "/v1/me")
    assert (reply.status, reply.body["code"]) == (401, "unauthorized")


def test_anonymous_caller_gets_401_before_any_validation(api_url: str) -> None:
    reply = call(api_url, "PATCH", "/v1/me", {"nonsense": True})
    assert reply.status == 401
    assert reply.body["code"] == "unauthorized"
