"""Sessions end to end: rotation, reuse detection, logout, logout-all, password reset."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from support.accounts import PASSWORD, verified_login
from support.clock import room_in_window
from support.http import Reply, call, token_in, unique_email, wait_for_mail

pytestmark = pytest.mark.usefixtures("local_only")


def refresh(api: str, token: str) -> Reply:
    return call(api, "POST", "/v1/auth/refresh", {"refresh_token": token})


def test_refresh_rotates_and_reuse_ends_the_whole_session(api_url: str) -> None:
    _, pair = verified_login(api_url)
    first = refresh(api_url, pair["refresh_token"])
    assert first.status == 200
    assert first.body["refresh_token"] != pair["refresh_token"]
    newest = first.body["refresh_token"]

    reused = refresh(api_url, pair["refresh_token"])  # the spent one, again
    assert (reused.status, reused.body["code"]) == (401, "invalid_token")
    # The newest token of that session stops working too.
    assert refresh(api_url, newest).status == 401


def test_logout_ends_that_session_only(api_url: str) -> None:
    email, phone = verified_login(api_url)
    laptop = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD}).body
    assert (
        call(api_url, "POST", "/v1/auth/logout", {"refresh_token": phone["refresh_token"]}).status
        == 204
    )
    assert refresh(api_url, phone["refresh_token"]).status == 401
    assert refresh(api_url, laptop["refresh_token"]).status == 200


def test_logout_all_ends_every_session_and_access_token(api_url: str) -> None:
    email, phone = verified_login(api_url)
    laptop = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD}).body
    ended = call(api_url, "POST", "/v1/auth/logout-all", token=phone["access_token"])
    assert ended.status == 204
    for pair in (phone, laptop):
        assert refresh(api_url, pair["refresh_token"]).status == 401
        assert call(api_url, "GET", "/v1/me", token=pair["access_token"]).status == 401
    # Signing in again works at once.
    again = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert call(api_url, "GET", "/v1/me", token=again.body["access_token"]).status == 200


def forge(
    access_token: str,
    *,
    header: dict[str, object] | None = None,
    claims: dict[str, object] | None = None,
    signature: str | None = None,
) -> str:
    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    def unb64(part: str) -> dict[str, object]:
        decoded: dict[str, object] = json.loads(
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        )
        return decoded

    h, c, s = access_token.split(".")
    new_h = b64({**unb64(h), **header}) if header else h
    new_c = b64({**unb64(c), **claims}) if claims else c
    return f"{new_h}.{new_c}.{s if signature is None else signature}"


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: forge(t, header={"alg": "none"}, signature=""), id="alg-none"),
        pytest.param(lambda t: forge(t, signature=""), id="stripped-signature"),
        pytest.param(lambda t: forge(t, claims={"sub": "someone-else"}), id="altered-claims"),
        pytest.param(lambda t: forge(t, header={"kid": "unknown-kid"}), id="unknown-kid"),
        pytest.param(lambda t: forge(t, claims={"exp": 1}), id="expired"),
        pytest.param(
            lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),
            id="altered-signature",
        ),
    ],
)
def test_tampered_access_tokens_are_401(api_url: str, mangle: Callable[[str], str]) -> None:
    _, pair = verified_login(api_url)
    token = mangle(str(pair["access_token"]))
    reply = call(api_url, "GET", "/v1/me", token=token)
    assert (reply.status, reply.body["code"]) == (401, "invalid_token")


def test_refresh_token_is_not_an_access_token(api_url: str) -> None:
    _, pair = verified_login(api_url)
    reply = call(api_url, "GET", "/v1/me", token=str(pair["refresh_token"]))
    assert reply.status == 401
    assert reply.body["code"] == "invalid_token"


def test_jwks_lists_the_key_that_signs_access_tokens(api_url: str) -> None:
    _, pair = verified_login(api_url)
    kid = json.loads(base64.urlsafe_b64decode(str(pair["access_token"]).split(".")[0] + "=="))[
        "kid"
    ]
    jwks = call(api_url, "GET", "/.well-known/jwks.json")
    assert jwks.status == 200
    assert kid in [key["kid"] for key in jwks.body["keys"]]
    assert all("d" not in key for key in jwks.body["keys"])  # public parts only


def test_password_reset_is_single_use_ends_sessions_and_uses_the_configured_url(
    api_url: str,
) -> None:
    email, pair = verified_login(api_url)
    reply = call(
        api_url,
        "POST",
        "/v1/auth/password/forgot",
        {"email": email},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert reply.status == 202
    mail = wait_for_mail(api_url, email, count=2)[-1]
    assert "reset" in mail["subject"].lower()
    assert "evil.example" not in mail["text"] + mail["html"]
    assert "http://localhost:5173/reset-password?token=" in mail["text"]
    token = token_in(mail)

    new_password = "teh-manis-sore-hari"
    assert (
        call(
            api_url,
            "POST",
            "/v1/auth/password/reset",
            {"token": token, "new_password": new_password},
        ).status
        == 204
    )
    again = call(
        api_url,
        "POST",
        "/v1/auth/password/reset",
        {"token": token, "new_password": "another-fine-passphrase"},
    )
    assert (again.status, again.body["code"]) == (400, "invalid_token")
    assert refresh(api_url, pair["refresh_token"]).status == 401  # all sessions ended
    assert call(api_url, "GET", "/v1/me", token=pair["access_token"]).status == 401
    assert (
        call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD}).status
        == 401
    )
    assert (
        call(api_url, "POST", "/v1/auth/login", {"email": email, "password": new_password}).status
        == 200
    )


def test_forgot_password_answers_202_for_unknown_addresses_too(api_url: str) -> None:
    email = unique_email("ghost")
    reply = call(api_url, "POST", "/v1/auth/password/forgot", {"email": email})
    assert reply.status == 202
    assert wait_for_mail(api_url, email, timeout_s=3) == []


def test_password_change_needs_the_current_one_and_ends_sessions(api_url: str) -> None:
    email, pair = verified_login(api_url)
    token = str(pair["access_token"])
    wrong = call(
        api_url,
        "POST",
        "/v1/auth/password/change",
        {"current_password": "nope-nope-nope", "new_password": "teh-manis-sore-hari"},
        token=token,
    )
    assert wrong.status == 401
    assert wrong.body["code"] == "invalid_credentials"
    changed = call(
        api_url,
        "POST",
        "/v1/auth/password/change",
        {"current_password": PASSWORD, "new_password": "teh-manis-sore-hari"},
        token=token,
    )
    assert changed.status == 204
    assert call(api_url, "GET", "/v1/me", token=token).status == 401
    assert (
        call(
            api_url, "POST", "/v1/auth/login", {"email": email, "password": "teh-manis-sore-hari"}
        ).status
        == 200
    )


def test_reset_emails_are_limited_to_three_per_hour_but_the_answer_stays_202(api_url: str) -> None:
    room_in_window(3600, needed_s=60)  # all four requests in one hour's window
    email, _ = verified_login(api_url)  # the verification e-mail is the first of three
    for _ in range(4):
        assert call(api_url, "POST", "/v1/auth/password/forgot", {"email": email}).status == 202
    assert len(wait_for_mail(api_url, email, count=4, timeout_s=5)) == 3


def test_no_log_line_holds_a_password_a_token_or_a_whole_address(
    api_url: str, runtime_log: Path
) -> None:
    email, pair = verified_login(api_url)
    refreshed = refresh(api_url, pair["refresh_token"]).body
    call(api_url, "POST", "/v1/auth/login", {"email": email, "password": "wrong-password-here"})
    call(api_url, "GET", "/v1/me", token=refreshed["access_token"])
    log = runtime_log.read_text(encoding="utf-8", errors="replace")
    for secret in (
        PASSWORD,
        "wrong-password-here",
        pair["access_token"],
        pair["refresh_token"],
        refreshed["refresh_token"],
        email,
    ):
        assert str(secret) not in log
