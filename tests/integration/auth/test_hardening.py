"""Closing the gaps an attacker with a stolen token or an admin mistake would use."""

from __future__ import annotations

import pytest
from support.auth_world import PASSWORD, AuthWorld, actions

from auth import service
from warung.errors import InvalidCredentials, InvalidToken, RateLimited


def test_wrong_current_passwords_lock_the_account_like_sign_ins(auth: AuthWorld) -> None:
    account = auth.make_account()
    for attempt in range(5):
        with pytest.raises(InvalidCredentials):
            service.change_password(
                account.user_id, f"guess-number-{attempt}", "teh-manis-sore-hari", auth.meta("g")
            )
    with pytest.raises(RateLimited) as locked:
        service.change_password(account.user_id, PASSWORD, "teh-manis-sore-hari", auth.meta("g6"))
    assert locked.value.retry_after > 0
    assert (
        actions(auth.audit_entries("by_actor", f"ACTOR#{account.user_id}")).count(
            "auth.password_change_failed"
        )
        == 5
    )


def test_disabling_ends_sessions_for_good(auth: AuthWorld) -> None:
    admin = auth.make_account(admin=True)
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    service.administer(
        admin.user_id, account.user_id, roles=None, disabled=True, meta=auth.meta("off")
    )
    service.administer(
        admin.user_id, account.user_id, roles=None, disabled=False, meta=auth.meta("on")
    )

    with pytest.raises(InvalidToken):
        service.refresh(pair.refresh_token, auth.meta("old-session"))
    status, _, body = auth.invoke("GET", "/v1/me", token=pair.access_token)
    assert status == 401
    assert body["code"] == "invalid_token"
    assert service.login(account.email, PASSWORD, auth.meta("again")).access_token


def test_logout_is_audited_and_a_logout_race_is_not_reuse(auth: AuthWorld) -> None:
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    service.logout(pair.refresh_token, auth.meta("logout"))
    assert "auth.logout" in actions(auth.audit_entries("by_actor", f"ACTOR#{account.user_id}"))
    with pytest.raises(InvalidToken):
        service.refresh(pair.refresh_token, auth.meta("after-logout"))
    assert "auth.refresh_reused" not in actions(
        auth.audit_entries("by_actor", f"ACTOR#{account.user_id}")
    )


def test_reset_link_sent_before_the_password_changed_is_stale(auth: AuthWorld) -> None:
    account = auth.make_account()
    tokens = auth.record_secret_tokens()
    service.forgot_password(account.email, auth.meta("forgot-1"))
    service.forgot_password(account.email, auth.meta("forgot-2"))
    first, second = tokens[-2:]
    service.reset_password(second, "teh-manis-sore-hari", auth.meta("reset-2"))
    with pytest.raises(InvalidToken):
        service.reset_password(first, "kopi-susu-malam-hari", auth.meta("reset-1"))
    # and: the stale link changed nothing: the password is the one the fresh link set
    with pytest.raises(InvalidCredentials):
        service.login(account.email, "kopi-susu-malam-hari", auth.meta("stale-password"))
    assert service.login(account.email, "teh-manis-sore-hari", auth.meta("fresh")).access_token
