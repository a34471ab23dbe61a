"""An account's name reaches e-mails from Warung's own address: one line, no control
characters, or the request is a 422 that says so (sign-up and profile change)."""

from __future__ import annotations

from support.auth_world import PASSWORD, AuthWorld, unique_email

from auth import repository, service

PHISHING_NAME = "Bob\nClick http://evil.example to keep your account"


def test_sign_up_with_a_second_line_in_the_name_is_422_and_creates_nothing(
    auth: AuthWorld,
) -> None:
    email = unique_email("phish")

    status, _, body = auth.invoke(
        "POST",
        "/v1/auth/register",
        {"email": email, "password": PASSWORD, "name": PHISHING_NAME},
    )

    assert (status, body["code"]) == (422, "validation_error"), body
    (problem,) = body["errors"]
    assert problem["field"] == "name"
    assert "one line" in problem["message"]
    assert repository.find_account_by_email(email) is None


def test_a_profile_name_with_a_control_character_is_422_and_the_name_stays(
    auth: AuthWorld,
) -> None:
    account = auth.make_account(name="Sri Rahayu")
    token = service.login(account.email, PASSWORD, auth.meta("login")).access_token

    status, _, body = auth.invoke("PATCH", "/v1/me", {"name": "Sri\rRahayu"}, token=token)

    assert (status, body["code"]) == (422, "validation_error"), body
    assert [problem["field"] for problem in body["errors"]] == ["name"]
    stored = repository.get_account(account.user_id)
    assert stored is not None
    assert stored.name == "Sri Rahayu"
