"""The sign-in lockout (docs/product.md, Rate limits; docs/decisions/0014): attempts are
counted before the password is verified, so parallel guesses cannot outrun it, and the lock
lasts 15 minutes from the fifth failure, whatever the clock's quarter hours.

The parallel tests run 20 truly concurrent sign-ins on threads against the emulation, as the
stock race of tests/integration/orders does: the emulation serialises each request as
DynamoDB serialises the writes to one item, the rest interleaves freely.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest
from support.auth_world import PASSWORD, AuthWorld

from auth import service
from auth.rules import passwords
from warung.errors import ApiError, RateLimited

NEW_PASSWORD = "es-teh-manis-siang-hari"


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the auth function verifies with Argon2 from now on, in order."""
    seen: list[str] = []
    lock = threading.Lock()
    real = passwords.verify_password

    def counting(stored_hash: str, password: str) -> passwords.PasswordCheck:
        with lock:
            seen.append(password)
        return real(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return seen


def in_parallel(attempts: list[Callable[[], object]]) -> list[int]:
    """Run every attempt at once on its own thread: the HTTP status each would answer."""

    def status(attempt: Callable[[], object]) -> int:
        try:
            attempt()
        except ApiError as error:
            return error.http_status
        return 200

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(status, attempts))


def sign_in(auth: AuthWorld, email: str, password: str) -> Callable[[], object]:
    return lambda: service.login(email, password, auth.meta("guess"))


def test_twenty_parallel_wrong_guesses_get_five_password_verifications(
    auth: AuthWorld, verifications: list[str]
) -> None:
    # given: an account nobody has guessed at yet
    account = auth.make_account()

    # when: 20 wrong guesses arrive at once
    outcomes = in_parallel(
        [sign_in(auth, account.email, f"guess-{n}-kopi-susu") for n in range(20)]
    )

    # then: five were verified (and failed); the rest were refused unverified
    assert len(verifications) == 5
    assert sorted(outcomes) == [401] * 5 + [429] * 15
    # and: the account is locked now, even for the right password
    with pytest.raises(RateLimited):
        service.login(account.email, PASSWORD, auth.meta("owner"))


def test_twenty_parallel_attempts_with_the_owner_among_them_stay_within_the_limit(
    auth: AuthWorld, verifications: list[str]
) -> None:
    # given: 19 guesses and the owner's right password, all at once
    account = auth.make_account()
    attempts = [sign_in(auth, account.email, f"guess-{n}-kopi-susu") for n in range(19)]
    attempts.insert(7, sign_in(auth, account.email, PASSWORD))

    outcomes = in_parallel(attempts)

    # then: at most five wrong passwords were verified, at most one sign-in succeeded
    wrong = [password for password in verifications if password != PASSWORD]
    assert len(wrong) <= 5
    assert outcomes.count(200) <= 1
    assert outcomes.count(401) == len(wrong)
    assert set(outcomes) <= {200, 401, 429}
    # a verified right password gives its attempt back: one verification more at most
    assert len(verifications) <= 5 + outcomes.count(200)


def test_twenty_parallel_wrong_current_passwords_get_five_verifications(
    auth: AuthWorld, verifications: list[str]
) -> None:
    account = auth.make_account()

    def change(n: int) -> Callable[[], object]:
        return lambda: service.change_password(
            account.user_id, f"guess-{n}-kopi-susu", NEW_PASSWORD, auth.meta("change")
        )

    outcomes = in_parallel([change(n) for n in range(20)])

    assert len(verifications) == 5
    assert sorted(outcomes) == [401] * 5 + [429] * 15


def quarter_hour_minus(clock: ModuleType, seconds: int) -> int:
    """A moment ``seconds`` before the next quarter hour (the old fixed windows' boundary)."""
    now: int = clock.epoch_s()
    return now - now % 900 + 900 - seconds


def fail(auth: AuthWorld, email: str, times: int) -> None:
    for n in range(times):
        status, _, body = auth.invoke(
            "POST", "/v1/auth/login", {"email": email, "password": f"wrong-{n}-kopi-susu"}
        )
        assert (status, body["code"]) == (401, "invalid_credentials")


def test_the_lock_lasts_fifteen_minutes_from_the_fifth_failure_across_a_quarter_hour(
    auth: AuthWorld, clock: ModuleType
) -> None:
    # given: four failures at 12:13:50 and the fifth at 12:14:50 (a quarter hour at 12:15)
    account = auth.make_account()
    fifth = quarter_hour_minus(clock, 10)
    clock.freeze(fifth - 60)
    fail(auth, account.email, 4)
    clock.freeze(fifth)
    fail(auth, account.email, 1)
    login = {"email": account.email, "password": PASSWORD}

    # when: the owner signs in at 12:15:10, past the quarter hour
    clock.freeze(fifth + 20)
    status, headers, body = auth.invoke("POST", "/v1/auth/login", login)

    # then: still locked, until 12:29:50
    assert (status, body["code"]) == (429, "rate_limited")
    assert headers["Retry-After"] == "880"
    clock.freeze(fifth + 899)
    status, headers, _ = auth.invoke("POST", "/v1/auth/login", login)
    assert (status, headers["Retry-After"]) == (429, "1")
    # and: from 12:29:50 the right password works again
    clock.freeze(fifth + 900)
    status, _, _ = auth.invoke("POST", "/v1/auth/login", login)
    assert status == 200


def test_five_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
    auth: AuthWorld, clock: ModuleType
) -> None:
    account = auth.make_account()
    start = quarter_hour_minus(clock, 300)
    clock.freeze(start)
    fail(auth, account.email, 4)

    clock.freeze(start + 900)  # the first failures are 15 minutes old
    fail(auth, account.email, 1)

    status, _, _ = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": PASSWORD}
    )
    assert status == 200


def test_a_right_password_does_not_wipe_the_failures_before_it(
    auth: AuthWorld, clock: ModuleType
) -> None:
    # given: four failures, then the owner signs in
    account = auth.make_account()
    clock.freeze(quarter_hour_minus(clock, 600))
    fail(auth, account.email, 4)
    status, _, _ = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": PASSWORD}
    )
    assert status == 200

    # when: one more failure
    fail(auth, account.email, 1)

    # then: that is the fifth: locked for 15 minutes
    status, headers, _ = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": PASSWORD}
    )
    assert (status, headers["Retry-After"]) == (429, "900")


def test_a_locked_account_can_still_reset_its_password(auth: AuthWorld, clock: ModuleType) -> None:
    # given: a locked account
    account = auth.make_account()
    clock.freeze(quarter_hour_minus(clock, 600))
    fail(auth, account.email, 5)
    status, _, _ = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": PASSWORD}
    )
    assert status == 429

    # when: its owner asks for a reset link and follows it
    issued = auth.record_secret_tokens()
    status, _, _ = auth.invoke("POST", "/v1/auth/password/forgot", {"email": account.email})
    assert status == 202
    status, _, _ = auth.invoke(
        "POST", "/v1/auth/password/reset", {"token": issued[-1], "new_password": NEW_PASSWORD}
    )

    # then: the password is reset, and the lock someone else's guesses set ends with it
    assert status == 204
    status, _, _ = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": NEW_PASSWORD}
    )
    assert status == 200
