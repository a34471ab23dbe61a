"""Ending one session ends its access tokens within 30 s, and a stale cached state never
refuses what the fresh state allows (docs/product.md, Accounts and sign-in;
docs/decisions/0014).

As in test_revocation_cache: "container B" changes the account without telling the guard
cache of "container A", whose monotonic clock is moved by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from support.auth_world import PASSWORD, AuthWorld

from auth import repository, service
from warung import auth as guard
from warung.dynamo import Transaction
from warung.errors import EmailNotVerified, InvalidToken
from warung.ids import rfc3339, utc_now


@pytest.fixture
def container_a_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Set the monotonic clock that container A's guard cache reads (seconds)."""
    moment = SimpleNamespace(now=1_000.0)
    monkeypatch.setattr(guard, "time", SimpleNamespace(monotonic=lambda: moment.now))

    def set_to(seconds: float) -> None:
        moment.now = seconds

    return set_to


@pytest.fixture
def in_container_b(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changes made through ``service`` happen in another container: A's cache is not told."""
    monkeypatch.setattr(service, "forget_auth_state", lambda _user_id: None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(token: str) -> int:
    with pytest.raises(InvalidToken) as error:
        guard.authenticate(bearer(token))
    return error.value.http_status


# ---------------------------------------------------------------- ending one session


@pytest.mark.usefixtures("in_container_b")
def test_given_a_cached_token_when_its_session_logs_out_elsewhere_then_401_by_30s(
    auth: AuthWorld, container_a_clock: Callable[[float], None]
) -> None:
    # given: two sessions of one account, both verified by container A at t=1000 s
    account = auth.make_account()
    phone = service.login(account.email, PASSWORD, auth.meta("phone"))
    laptop = service.login(account.email, PASSWORD, auth.meta("laptop"))
    container_a_clock(1_000.0)
    guard.authenticate(bearer(phone.access_token))
    guard.authenticate(bearer(laptop.access_token))

    # when: the phone logs out through container B
    container_a_clock(1_000.5)
    service.logout(phone.refresh_token, auth.meta("logout"))

    # then: by the time A's cached state is 30 s old, the phone's access token is 401
    container_a_clock(1_030.0)
    assert refused(phone.access_token) == 401
    # and: the laptop's session goes on
    assert guard.authenticate(bearer(laptop.access_token)).session_id != ""


def test_given_the_container_that_logged_out_when_the_token_comes_back_then_401_at_once(
    auth: AuthWorld,
) -> None:
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    status, _, _ = auth.invoke("GET", "/v1/me", token=pair.access_token)
    assert status == 200

    status, _, _ = auth.invoke("POST", "/v1/auth/logout", {"refresh_token": pair.refresh_token})
    assert status == 204

    status, _, body = auth.invoke("GET", "/v1/me", token=pair.access_token)
    assert (status, body["code"]) == (401, "invalid_token")


@pytest.mark.usefixtures("in_container_b")
def test_given_a_cached_token_when_refresh_reuse_ends_its_session_elsewhere_then_401_by_30s(
    auth: AuthWorld, container_a_clock: Callable[[float], None]
) -> None:
    # given: a session that refreshed once; container A verified both access tokens
    account = auth.make_account()
    first = service.login(account.email, PASSWORD, auth.meta("login"))
    second = service.refresh(first.refresh_token, auth.meta("refresh"))
    container_a_clock(2_000.0)
    guard.authenticate(bearer(first.access_token))
    guard.authenticate(bearer(second.access_token))

    # when: the spent refresh token comes back (stolen), in container B
    with pytest.raises(InvalidToken):
        service.refresh(first.refresh_token, auth.meta("reuse"))

    # then: every access token of that session is 401 within 30 s
    container_a_clock(2_030.0)
    assert refused(first.access_token) == 401
    assert refused(second.access_token) == 401


def test_ended_sessions_are_listed_only_while_their_access_tokens_can_live(
    auth: AuthWorld, clock: ModuleType
) -> None:
    # given: a session ended a while ago
    account = auth.make_account()
    old = service.login(account.email, PASSWORD, auth.meta("old"))
    old_id = guard.authenticate(bearer(old.access_token)).session_id
    service.logout(old.refresh_token, auth.meta("logout-old"))
    listed = repository.get_account(account.user_id)
    assert listed is not None
    assert listed.revoked_sessions is not None
    assert list(listed.revoked_sessions) == [old_id]

    # when: another session ends after the first one's access tokens have all expired
    clock.advance(15 * 60 + 31)
    fresh = service.login(account.email, PASSWORD, auth.meta("new"))
    service.logout(fresh.refresh_token, auth.meta("logout-new"))

    # then: only the new one is listed (the account item does not grow without end)
    after = repository.get_account(account.user_id)
    assert after is not None
    assert after.revoked_sessions is not None
    assert len(after.revoked_sessions) == 1
    assert old_id not in after.revoked_sessions


# ---------------------------------------------------------------- stale refusals


def gate_check(gate: dict[str, Any], token: str) -> guard.Caller:
    """The guard of a route declared with ``gate`` (``guard.verified``, ...), for one request."""
    [middleware] = gate["middlewares"]
    request: Any = SimpleNamespace(current_event=SimpleNamespace(headers=bearer(token)))
    checked: guard.Caller = middleware.check(request)
    return checked


def verify_elsewhere(user_id: str) -> None:
    """The address is verified through another container (this one's cache is not told)."""
    tx = repository.update_account(
        Transaction(), user_id, {"email_verified": True}, updated_at=rfc3339(utc_now())
    )
    tx.commit()


def test_given_a_cached_unverified_state_when_verified_elsewhere_then_not_refused(
    auth: AuthWorld, container_a_clock: Callable[[float], None]
) -> None:
    # given: container A refused an unverified customer a moment ago (state cached)
    account = auth.make_account(verified=False)
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    container_a_clock(3_000.0)
    with pytest.raises(EmailNotVerified):
        gate_check(guard.verified, pair.access_token)

    # when: the customer follows the e-mail's link (another container) and retries at once
    verify_elsewhere(account.user_id)
    container_a_clock(3_001.0)

    # then: the route is open to them
    assert gate_check(guard.verified, pair.access_token).email_verified


@pytest.mark.usefixtures("in_container_b")
def test_given_a_cached_state_without_the_admin_role_when_granted_elsewhere_then_200(
    auth: AuthWorld,
) -> None:
    # given: an account refused the admin list (its state cached by this container)
    admin = auth.make_account(admin=True)
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    status, _, _ = auth.invoke("GET", "/v1/admin/users", token=pair.access_token)
    assert status == 403

    # when: an admin grants the role through another container
    service.administer(
        admin.user_id, account.user_id, roles=["admin"], disabled=None, meta=auth.meta("grant")
    )

    # then: the next request is served
    status, _, _ = auth.invoke("GET", "/v1/admin/users", token=pair.access_token)
    assert status == 200


@pytest.mark.usefixtures("in_container_b")
def test_given_a_cached_unverified_state_when_disabled_elsewhere_then_the_re_read_refuses_401(
    auth: AuthWorld, container_a_clock: Callable[[float], None]
) -> None:
    # The re-read only ever makes the answer fresher: a disabled account gets 401, not in.
    admin = auth.make_account(admin=True)
    account = auth.make_account(verified=False)
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    container_a_clock(4_000.0)
    with pytest.raises(EmailNotVerified):
        gate_check(guard.verified, pair.access_token)

    verify_elsewhere(account.user_id)
    service.administer(
        admin.user_id, account.user_id, roles=None, disabled=True, meta=auth.meta("disable")
    )

    container_a_clock(4_001.0)
    with pytest.raises(InvalidToken) as error:
        gate_check(guard.verified, pair.access_token)
    assert error.value.http_status == 401


def test_a_refusal_the_fresh_state_confirms_is_still_403(auth: AuthWorld) -> None:
    account = auth.make_account(verified=False)
    pair = service.login(account.email, PASSWORD, auth.meta("login"))

    for _ in range(2):
        with pytest.raises(EmailNotVerified) as error:
            gate_check(guard.verified, pair.access_token)
        assert error.value.http_status == 403
