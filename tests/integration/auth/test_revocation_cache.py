"""Revocation reaches every container within 60 s (docs/product.md), although each container's
guard caches an account's auth state for 30 s.

Two containers are simulated in one process: "container B" changes the account without
touching the cache (as another process would not), "container A" authenticates through
``warung.auth`` with its cache, and A's monotonic clock is moved by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import jwt
import pytest
from support.auth_world import PASSWORD, AuthWorld

from auth import service
from warung import auth as guard
from warung.errors import Forbidden, InvalidToken


@pytest.fixture
def container_a_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Set the monotonic clock that container A's guard cache reads (seconds)."""
    clock = SimpleNamespace(now=1_000.0)
    monkeypatch.setattr(guard, "time", SimpleNamespace(monotonic=lambda: clock.now))

    def set_to(seconds: float) -> None:
        clock.now = seconds

    return set_to


@pytest.fixture
def in_container_b(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changes made through ``service`` happen in another container: A's cache is not told."""
    monkeypatch.setattr(service, "forget_auth_state", lambda _user_id: None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.usefixtures("in_container_b")
def test_given_a_cached_token_when_an_admin_disables_the_account_elsewhere_then_refused_by_30s(
    auth: AuthWorld, container_a_clock: Callable[[float], None]
) -> None:
    admin = auth.make_account(admin=True)
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    assert jwt.get_unverified_header(pair.access_token)["kid"] == auth.signing_kid

    # given: container A verified the token at t=1000 s (state cached)
    container_a_clock(1_000.0)
    assert guard.authenticate(bearer(pair.access_token)).user_id == account.user_id

    # when: container B disables the account a moment later
    container_a_clock(1_000.5)
    service.administer(
        admin.user_id, account.user_id, roles=None, disabled=True, meta=auth.meta("disable")
    )

    # then: A keeps serving its cached state until the entry is 30 s old...
    container_a_clock(1_029.999)
    assert guard.authenticate(bearer(pair.access_token)).user_id == account.user_id
    # ...and refuses from the moment it is: at most 30 s after the change, well within 60
    container_a_clock(1_030.0)
    with pytest.raises(InvalidToken) as refused:
        guard.authenticate(bearer(pair.access_token))
    assert refused.value.http_status == 401
    # and: stays refused (the fresh state is cached now)
    container_a_clock(1_031.0)
    with pytest.raises(InvalidToken):
        guard.authenticate(bearer(pair.access_token))


@pytest.mark.usefixtures("in_container_b")
def test_given_a_cached_token_when_signed_out_everywhere_elsewhere_then_refused_by_30s(
    auth: AuthWorld, container_a_clock: Callable[[float], None]
) -> None:
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    container_a_clock(2_000.0)
    guard.authenticate(bearer(pair.access_token))

    service.logout_everywhere(account.user_id, auth.meta("logout-all"))

    container_a_clock(2_029.9)
    guard.authenticate(bearer(pair.access_token))
    container_a_clock(2_030.0)
    with pytest.raises(InvalidToken):
        guard.authenticate(bearer(pair.access_token))


@pytest.mark.usefixtures("in_container_b")
def test_given_a_cached_admin_when_their_role_is_removed_elsewhere_then_gone_by_30s(
    auth: AuthWorld, container_a_clock: Callable[[float], None]
) -> None:
    remover = auth.make_account(admin=True)
    admin = auth.make_account(admin=True)
    pair = service.login(admin.email, PASSWORD, auth.meta("login"))
    container_a_clock(3_000.0)
    assert guard.authenticate(bearer(pair.access_token)).is_admin

    service.administer(
        remover.user_id, admin.user_id, roles=["customer"], disabled=None, meta=auth.meta("demote")
    )

    container_a_clock(3_029.0)
    assert guard.authenticate(bearer(pair.access_token)).is_admin
    container_a_clock(3_030.0)
    assert not guard.authenticate(bearer(pair.access_token)).is_admin


def test_given_the_container_that_made_the_change_when_asked_then_refused_at_once(
    auth: AuthWorld, container_a_clock: Callable[[float], None]
) -> None:
    # The admin's own container drops its cached entry: no 30 s there.
    admin = auth.make_account(admin=True)
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    container_a_clock(5_000.0)
    guard.authenticate(bearer(pair.access_token))

    service.administer(
        admin.user_id, account.user_id, roles=None, disabled=True, meta=auth.meta("disable")
    )

    with pytest.raises(InvalidToken):
        guard.authenticate(bearer(pair.access_token))


def test_given_a_disabled_account_when_it_signs_in_then_403_and_refresh_401(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)
    account = auth.make_account()
    before = service.login(account.email, PASSWORD, auth.meta("login"))
    service.administer(
        admin.user_id, account.user_id, roles=None, disabled=True, meta=auth.meta("disable")
    )

    with pytest.raises(Forbidden) as refused:
        service.login(account.email, PASSWORD, auth.meta("login-disabled"))
    assert refused.value.http_status == 403
    with pytest.raises(InvalidToken) as ended:
        service.refresh(before.refresh_token, auth.meta("refresh-disabled"))
    assert ended.value.http_status == 401

    # and: through the API, the same answers, and the access token is refused on /v1/me
    status, _, body = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": PASSWORD}
    )
    assert (status, body["code"]) == (403, "forbidden")
    status, _, body = auth.invoke(
        "POST", "/v1/auth/refresh", {"refresh_token": before.refresh_token}
    )
    assert (status, body["code"]) == (401, "invalid_token")
    status, _, body = auth.invoke("GET", "/v1/me", token=before.access_token)
    assert (status, body["code"]) == (401, "invalid_token")
