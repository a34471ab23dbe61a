"""Refresh tokens: rotated on every use, one use only even under a race, and
never beyond the session's 30 days."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from support.auth_world import PASSWORD, AuthWorld, actions

from auth import repository, service
from auth.rules import accounts as domain
from warung.dynamo import dynamodb_client
from warung.errors import ApiError, InvalidToken


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads released together; each result or the error it raised."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[index] = call()
        except ApiError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def session_of(refresh_token: str) -> str:
    record = repository.find_refresh_token(domain.token_digest(refresh_token))
    assert record is not None
    return str(record["session_id"])


@pytest.mark.parametrize("interleaving", ["both-read-before-either-writes", "free"])
def test_given_one_refresh_token_when_two_requests_present_it_at_once_then_at_most_one_pair(
    auth: AuthWorld, monkeypatch: pytest.MonkeyPatch, interleaving: str
) -> None:
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    session_id = session_of(pair.refresh_token)
    find = repository.find_refresh_token
    if interleaving == "both-read-before-either-writes":
        # The worst case: both requests see the token unspent before either rotates it.
        both_read = threading.Barrier(2)

        def find_then_wait(digest: str) -> Any:
            record = find(digest)
            both_read.wait(timeout=10)
            return record

        monkeypatch.setattr(repository, "find_refresh_token", find_then_wait)

    # when: the same refresh token, twice, at the same moment
    results = race(
        lambda: service.refresh(pair.refresh_token, auth.meta("tab-1")),
        lambda: service.refresh(pair.refresh_token, auth.meta("tab-2")),
    )
    monkeypatch.setattr(repository, "find_refresh_token", find)

    # then: at most one new pair (the emulation serialises writes as DynamoDB does, so
    # exactly one rotation commits); the other is refused as a reuse
    winners = [r for r in results if isinstance(r, service.TokenPair)]
    losers = [r for r in results if isinstance(r, ApiError)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert all(isinstance(e, InvalidToken) and e.http_status == 401 for e in losers)
    # and: the session has ended: the winner's new token does not refresh either
    stored = repository.get_session(session_id)
    assert stored is not None
    assert stored.revoked
    for winner in winners:
        with pytest.raises(InvalidToken):
            service.refresh(winner.refresh_token, auth.meta("after"))
    # and: the reuse is on record, once
    assert actions(auth.by_resource(f"session:{session_id}")) == ["auth.refresh_reused"]


def test_given_a_session_when_its_30_days_end_then_refresh_is_refused(
    auth: AuthWorld, clock: ModuleType
) -> None:
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    session = repository.get_session(session_of(pair.refresh_token))
    assert session is not None
    assert session.expires_at - session.created_ms // 1000 == 30 * 24 * 3600

    # when: the session's expiry has come
    clock.freeze(session.expires_at)
    with pytest.raises(InvalidToken) as refused:
        service.refresh(pair.refresh_token, auth.meta("day-30"))
    assert refused.value.http_status == 401

    # then: a second earlier it still rotates, and rotating does not extend the 30 days
    clock.freeze(session.expires_at - 1)
    rotated = service.refresh(pair.refresh_token, auth.meta("day-29"))
    clock.freeze(session.expires_at)
    with pytest.raises(InvalidToken):
        service.refresh(rotated.refresh_token, auth.meta("day-30-rotated"))
    successor = repository.find_refresh_token(domain.token_digest(rotated.refresh_token))
    assert successor is not None
    assert successor["expires_at_epoch"] == session.expires_at


def test_given_an_expired_session_through_the_api_then_401_invalid_token(
    auth: AuthWorld, clock: ModuleType
) -> None:
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    session = repository.get_session(session_of(pair.refresh_token))
    assert session is not None
    clock.freeze(session.expires_at + 1)

    status, _, body = auth.invoke("POST", "/v1/auth/refresh", {"refresh_token": pair.refresh_token})

    assert (status, body["code"]) == (401, "invalid_token")


def test_given_a_refresh_token_when_exchanged_then_three_dynamodb_calls(
    auth: AuthWorld,
) -> None:
    # The token's record, then its session and account together, then the rotation.
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    operations: list[str] = []

    def record(model: Any, **_: Any) -> None:
        operations.append(model.name)

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", record)
    try:
        rotated = service.refresh(pair.refresh_token, auth.meta("refresh"))
    finally:
        events.unregister("before-call.dynamodb", record)

    assert operations == ["GetItem", "BatchGetItem", "TransactWriteItems"]
    assert rotated.refresh_token != pair.refresh_token
    assert service.refresh(rotated.refresh_token, auth.meta("again")).access_token


def test_given_a_refresh_racing_a_logout_when_the_session_ends_first_then_not_a_reuse(
    auth: AuthWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One tab signs out while another refreshes: the refresh token was never spent, so
    # this is not a stolen token being replayed (no reuse entry, no reuse metric).
    from warung.observability import metrics

    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))
    session_id = session_of(pair.refresh_token)
    session_and_account = repository.session_and_account

    def read_then_other_tab_logs_out(sid: str, user_id: str) -> Any:
        read = session_and_account(sid, user_id)
        service.logout(
            pair.refresh_token, auth.meta("other-tab")
        )  # the other tab, between our read and our write
        return read

    monkeypatch.setattr(repository, "session_and_account", read_then_other_tab_logs_out)
    metrics.clear_metrics()

    with pytest.raises(InvalidToken) as refused:
        service.refresh(pair.refresh_token, auth.meta("refresh"))

    assert refused.value.http_status == 401
    record = repository.find_refresh_token(domain.token_digest(pair.refresh_token))
    assert record is not None
    assert record["spent"] is False
    assert "auth.refresh_reused" not in actions(auth.by_resource(f"session:{session_id}"))
    assert "RefreshTokenReuse" not in metrics.metric_set
