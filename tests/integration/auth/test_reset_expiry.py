"""Password reset links last one hour and work once."""

from __future__ import annotations

from types import ModuleType

import pytest
from support.auth_world import PASSWORD, AuthWorld, actions, unique_email

from auth import repository, service
from auth.rules import accounts as domain
from warung.dynamo import Transaction
from warung.errors import InvalidCredentials, InvalidToken

NEW_PASSWORD = "nasi-uduk-betawi-pagi"
HOUR = 3600


def reset_link_at(auth: AuthWorld, clock: ModuleType, moment: int) -> str:
    """A reset token asked for at ``moment`` (epoch seconds, the function's clock)."""
    account = auth.make_account()
    issued = auth.record_secret_tokens()
    clock.freeze(moment)
    service.forgot_password(account.email, auth.meta("forgot"))
    return issued[-1]


def refusal(token: str, auth: AuthWorld) -> InvalidToken:
    with pytest.raises(InvalidToken) as refused:
        service.reset_password(token, NEW_PASSWORD, auth.meta("reset"))
    return refused.value


def test_given_a_reset_link_when_used_59_minutes_59_seconds_later_then_accepted(
    clock: ModuleType, auth: AuthWorld
) -> None:
    asked = clock.epoch_s()
    token = reset_link_at(auth, clock, asked)
    record = repository.find_one_time_token("RESET", domain.token_digest(token))
    assert record is not None
    assert record["expires_at"] == asked + HOUR

    clock.freeze(asked + HOUR - 1)
    service.reset_password(token, NEW_PASSWORD, auth.meta("reset"))

    account = repository.get_account(record["user_id"])
    assert account is not None
    service.login(account.email, NEW_PASSWORD, auth.meta("login"))


@pytest.mark.parametrize("late", [0, 1], ids=["exactly-1h", "1h-and-1s"])
def test_given_a_reset_link_when_used_an_hour_or_more_later_then_400_invalid_token(
    clock: ModuleType, auth: AuthWorld, late: int
) -> None:
    asked = clock.epoch_s()
    token = reset_link_at(auth, clock, asked)
    record = repository.find_one_time_token("RESET", domain.token_digest(token))
    assert record is not None
    user_id = record["user_id"]

    clock.freeze(asked + HOUR + late)
    error = refusal(token, auth)

    assert (error.http_status, error.code) == (400, "invalid_token")
    # and: the password did not change, and nothing was audited as a reset
    account = repository.get_account(user_id)
    assert account is not None
    service.login(account.email, PASSWORD, auth.meta("login"))
    assert "auth.password_reset" not in actions(auth.by_resource(f"user:{user_id}"))


def test_given_a_reset_record_written_already_expired_when_used_then_400(
    clock: ModuleType,
    auth: AuthWorld,
) -> None:
    # The stored record decides, whatever the e-mail said: one that expired a second ago.
    account = auth.make_account()
    token = domain.new_secret_token()
    repository.add_one_time_token(
        Transaction(), "RESET", domain.token_digest(token), account.user_id, clock.epoch_s() - 1
    ).commit()

    error = refusal(token, auth)

    assert (error.http_status, error.code) == (400, "invalid_token")


def test_given_a_used_reset_link_when_used_again_then_400(
    clock: ModuleType, auth: AuthWorld
) -> None:
    token = reset_link_at(auth, clock, clock.epoch_s())
    service.reset_password(token, NEW_PASSWORD, auth.meta("reset"))

    error = refusal(token, auth)

    assert (error.http_status, error.code) == (400, "invalid_token")


def test_given_a_verification_token_when_used_as_a_reset_link_then_400(
    auth: AuthWorld,
) -> None:
    issued = auth.record_secret_tokens()
    service.register(unique_email("verify"), PASSWORD, "Sri", auth.meta("register"))

    error = refusal(issued[-1], auth)

    assert (error.http_status, error.code) == (400, "invalid_token")


def test_given_a_reset_through_the_api_when_the_link_expired_then_problem_400(
    clock: ModuleType, auth: AuthWorld
) -> None:
    asked = clock.epoch_s()
    token = reset_link_at(auth, clock, asked)
    clock.freeze(asked + HOUR)

    status, headers, body = auth.invoke(
        "POST", "/v1/auth/password/reset", {"token": token, "new_password": NEW_PASSWORD}
    )

    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "invalid_token"
    assert token not in str(body)


def test_given_a_reset_when_done_then_the_old_password_and_sessions_no_longer_work(
    auth: AuthWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = auth.make_account()
    before = service.login(account.email, PASSWORD, auth.meta("login"))
    issued = auth.record_secret_tokens()
    service.forgot_password(account.email, auth.meta("forgot"))

    service.reset_password(issued[-1], NEW_PASSWORD, auth.meta("reset"))

    with pytest.raises(InvalidCredentials):
        service.login(account.email, PASSWORD, auth.meta("old-password"))
    with pytest.raises(InvalidToken):
        service.refresh(before.refresh_token, auth.meta("refresh"))
