"""Per-IP rate limits (docs/product.md) are ceilings, 300 sign-in attempts a minute and 300
registrations an hour by default; here set lower (as a stack parameter would) to see one
reached without hundreds of password hashes."""

from __future__ import annotations

from types import ModuleType

import pytest
from support.auth_world import PASSWORD, AuthWorld, unique_email, unique_ip

from auth import repository
from warung.settings import get_settings


@pytest.fixture(autouse=True)
def lower_ceilings(auth: AuthWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stage's per-address ceilings at 20 sign-ins a minute and 10 sign-ups an hour."""
    monkeypatch.setenv("RATE_LOGIN_ATTEMPTS_PER_IP", "20/60")
    monkeypatch.setenv("RATE_REGISTRATIONS_PER_IP", "10/3600")
    get_settings.cache_clear()


@pytest.fixture
def frozen_window(clock: ModuleType) -> int:
    """The limits' clock stands still: every attempt falls in one window, whatever the
    wall clock does while the test runs (a window boundary would reset the count)."""
    now: int = clock.epoch_s()
    clock.freeze(now)
    return now


def test_given_20_login_attempts_from_one_ip_when_the_21st_comes_then_429_with_retry_after(
    auth: AuthWorld, frozen_window: int, clock: ModuleType
) -> None:
    # given: 20 failed attempts within the minute, each for another address (so that no
    # account's own lockout is what refuses the next one)
    account = auth.make_account()
    for _ in range(20):
        status, _, body = auth.invoke(
            "POST", "/v1/auth/login", {"email": unique_email("guess"), "password": PASSWORD}
        )
        assert (status, body["code"]) == (401, "invalid_credentials")

    # when: the 21st, with the right password of a real account
    status, headers, body = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": PASSWORD}
    )

    # then: 429, with the seconds left in the minute
    assert (status, body["code"]) == (429, "rate_limited")
    assert headers["Retry-After"] == str(60 - frozen_window % 60)
    # and: another address is not limited by this one's attempts
    status, _, _ = auth.invoke(
        "POST",
        "/v1/auth/login",
        {"email": account.email, "password": PASSWORD},
        source_ip=unique_ip(),
    )
    assert status == 200
    # and: the next minute, this address may sign in again
    next_window = frozen_window - frozen_window % 60 + 60
    clock.freeze(next_window)
    status, _, _ = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": PASSWORD}
    )
    assert status == 200


def test_given_10_registrations_from_one_ip_when_the_11th_comes_then_429(
    auth: AuthWorld, frozen_window: int
) -> None:
    for _ in range(10):
        status, _, _ = auth.invoke(
            "POST",
            "/v1/auth/register",
            {"email": unique_email("signup"), "password": PASSWORD, "name": "Sri"},
        )
        assert status == 202

    eleventh = unique_email("signup")
    status, headers, body = auth.invoke(
        "POST", "/v1/auth/register", {"email": eleventh, "password": PASSWORD, "name": "Sri"}
    )

    assert (status, body["code"]) == (429, "rate_limited")
    assert headers["Retry-After"] == str(3600 - frozen_window % 3600)
    assert repository.find_account_by_email(eleventh) is None
