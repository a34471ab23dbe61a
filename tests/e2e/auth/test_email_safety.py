"""What e-mails from Warung's address carry, end to end: no text smuggled in through a name,
and no name at all in the mail that goes to an address nobody has confirmed yet."""

from __future__ import annotations

import pytest
from support.accounts import PASSWORD
from support.http import call, token_in, unique_email, wait_for_mail


def test_a_name_with_a_second_line_is_a_422_naming_the_field(api_url: str) -> None:
    reply = call(
        api_url,
        "POST",
        "/v1/auth/register",
        {"email": unique_email("phish"), "password": PASSWORD, "name": "Bob\nClick http://evil"},
    )

    assert reply.status == 422
    assert reply.body["code"] == "validation_error"
    assert [e["field"] for e in reply.body["errors"]] == ["name"]
    assert "one line" in reply.body["errors"][0]["message"]


@pytest.mark.usefixtures("local_only")
def test_the_verification_mail_has_no_name_and_a_link_that_works(api_url: str) -> None:
    email = unique_email("noname")
    reply = call(
        api_url,
        "POST",
        "/v1/auth/register",
        {"email": email, "password": PASSWORD, "name": "Sri Wahyuningsih"},
    )
    assert reply.status == 202

    (mail,) = wait_for_mail(api_url, email)

    assert "Wahyuningsih" not in mail["subject"]
    assert "Wahyuningsih" not in mail["text"]
    assert "Wahyuningsih" not in mail["html"]
    verify = call(api_url, "POST", "/v1/auth/verify-email", {"token": token_in(mail)})
    assert (verify.status, verify.body) == (200, {"email_verified": True})


@pytest.mark.usefixtures("local_only")
def test_forgot_password_for_an_address_without_an_account_mails_nobody(api_url: str) -> None:
    email = unique_email("nobody")

    reply = call(api_url, "POST", "/v1/auth/password/forgot", {"email": email})

    assert reply.status == 202
    assert wait_for_mail(api_url, email, timeout_s=4) == []
