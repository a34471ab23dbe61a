"""Verification links are idempotent for a verified account, and every token sent in a body
that is not a live one (malformed, unknown, used, expired) is `400 invalid_token`, never a
422 (docs/api-guide.md, "Errors")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
from support.auth_world import PASSWORD, AuthWorld, actions, unique_email

from auth import repository, service
from auth.rules import accounts as domain
from warung.dynamo import Transaction, dynamodb_client
from warung.errors import InvalidToken
from warung.store.accounts import Account

DAY = 24 * 3600
# What changes the table: a request that only reads makes none of these calls.
WRITES = {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}

# (route, the body with a token in it) for every route that takes a token in its body.
TOKEN_ROUTES: dict[str, Callable[[str], dict[str, str]]] = {
    "/v1/auth/verify-email": lambda token: {"token": token},
    "/v1/auth/password/reset": lambda token: {"token": token, "new_password": "teh-manis-sore"},
    "/v1/auth/refresh": lambda token: {"refresh_token": token},
    "/v1/auth/logout": lambda token: {"refresh_token": token},
}
MALFORMED = {
    "short": "abc",
    "one-too-short": "A" * 15,
    "one-too-long": "A" * 513,
    "space-inside": "abcdefgh ijklmnopqrstuvwxyz",
    "bad-characters": "abcdefghijklmnop+/=",
    "not-ascii": "tökenTOKENtokenTOKEN",
    "empty": "",
}


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """The DynamoDB operations made inside the block, in order."""
    made: list[str] = []

    def record(model: Any, **_: Any) -> None:
        made.append(model.name)

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", record)
    try:
        yield made
    finally:
        events.unregister("before-call.dynamodb", record)


def signed_up(auth: AuthWorld) -> tuple[Account, str]:
    """A new account through sign-up, and the token of its verification e-mail."""
    issued = auth.record_secret_tokens()
    service.register(unique_email("verify"), PASSWORD, "Sri", auth.meta("register"))
    token = issued[-1]
    record = repository.find_one_time_token("VERIFY", domain.token_digest(token))
    assert record is not None
    account = repository.get_account(record["user_id"])
    assert account is not None
    return account, token


def verify(auth: AuthWorld, token: Any) -> tuple[int, Any]:
    status, _, body = auth.invoke("POST", "/v1/auth/verify-email", {"token": token})
    return status, body


# ---------------------------------------------------------------- a link used again


def test_given_a_used_link_of_a_verified_account_when_used_again_then_200_and_nothing_written(
    auth: AuthWorld,
) -> None:
    account, token = signed_up(auth)
    resource = f"user:{account.user_id}"
    with dynamodb_calls() as first_calls:
        first = verify(auth, token)
    # what a first verification writes: one transaction (the link spent, the account
    # verified, its audit entry); no e-mail job goes with it
    assert first == (200, {"email_verified": True})
    assert [c for c in first_calls if c in WRITES] == ["TransactWriteItems"]
    assert actions(auth.by_resource(resource)).count("user.email_verified") == 1
    verified = repository.get_account(account.user_id)
    assert verified is not None
    assert verified.email_verified
    audit_before = auth.by_resource(resource)

    with dynamodb_calls() as second_calls:
        second = verify(auth, token)

    assert second == first
    assert [c for c in second_calls if c in WRITES] == []
    assert repository.get_account(account.user_id) == verified  # not even updated_at
    assert auth.by_resource(resource) == audit_before


def test_given_a_verified_account_when_another_of_its_links_is_used_then_200_and_nothing_written(
    auth: AuthWorld,
) -> None:
    # Sign-up sends one link, "send it again" another; the user clicks both.
    account, first_link = signed_up(auth)
    issued = auth.record_secret_tokens()
    service.resend_verification(account.email, auth.meta("resend"))
    second_link = issued[-1]
    assert verify(auth, second_link) == (200, {"email_verified": True})
    audit_before = auth.by_resource(f"user:{account.user_id}")

    with dynamodb_calls() as calls:
        again = verify(auth, first_link)

    assert again == (200, {"email_verified": True})
    assert [c for c in calls if c in WRITES] == []
    assert auth.by_resource(f"user:{account.user_id}") == audit_before


def test_given_a_used_link_whose_account_is_not_verified_when_used_then_400_invalid_token(
    auth: AuthWorld,
) -> None:
    account, token = signed_up(auth)
    service.verify_email(token, auth.meta("verify"))
    # however it came about (an operator's fix, say), the account is unverified again
    repository.update_account(
        Transaction(), account.user_id, {"email_verified": False}, updated_at="2026-11-26T08:00:00Z"
    ).commit()

    with pytest.raises(InvalidToken) as refused:
        service.verify_email(token, auth.meta("again"))
    status, body = verify(auth, token)

    assert (refused.value.http_status, refused.value.code) == (400, "invalid_token")
    assert (status, body["code"]) == (400, "invalid_token")
    unverified = repository.get_account(account.user_id)
    assert unverified is not None
    assert not unverified.email_verified


def test_given_a_used_link_when_its_24_hours_are_over_then_400_even_for_a_verified_account(
    auth: AuthWorld, clock: ModuleType
) -> None:
    issued_at = clock.epoch_s()
    clock.freeze(issued_at)
    _, token = signed_up(auth)
    assert verify(auth, token)[0] == 200

    clock.freeze(issued_at + DAY - 1)
    assert verify(auth, token) == (200, {"email_verified": True})
    clock.freeze(issued_at + DAY)
    status, body = verify(auth, token)

    assert (status, body["code"]) == (400, "invalid_token")


def test_given_one_link_when_sent_twice_at_once_then_both_answer_200_and_one_entry(
    auth: AuthWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A double click: the first request spends the link while the second is about to.
    account, token = signed_up(auth)
    spend = repository.spend_one_time_token
    first_click: list[Any] = []

    def the_other_click_lands_first(tx: Transaction, *args: Any) -> Transaction:
        monkeypatch.setattr(repository, "spend_one_time_token", spend)
        first_click.append(verify(auth, token))
        return spend(tx, *args)

    monkeypatch.setattr(repository, "spend_one_time_token", the_other_click_lands_first)

    second_click = verify(auth, token)

    assert first_click == [(200, {"email_verified": True})]
    assert second_click == (200, {"email_verified": True})
    entries = actions(auth.by_resource(f"user:{account.user_id}"))
    assert entries.count("user.email_verified") == 1


# ---------------------------------------------------------------- malformed and unknown tokens


@pytest.mark.parametrize("route", list(TOKEN_ROUTES))
@pytest.mark.parametrize("token", list(MALFORMED.values()), ids=list(MALFORMED))
def test_given_a_malformed_token_on_any_token_route_then_400_invalid_token_without_a_read(
    auth: AuthWorld, route: str, token: str
) -> None:
    with dynamodb_calls() as calls:
        status, headers, body = auth.invoke("POST", route, TOKEN_ROUTES[route](token))

    assert (status, body["code"]) == (400, "invalid_token")
    assert headers["Content-Type"] == "application/problem+json"
    assert "errors" not in body
    # a token of another shape was never issued: nothing to look up
    assert [c for c in calls if c in {"GetItem", "BatchGetItem", "Query"}] == []


@pytest.mark.parametrize("route", list(TOKEN_ROUTES))
def test_given_an_unknown_token_on_any_token_route_then_400_invalid_token(
    auth: AuthWorld, route: str
) -> None:
    never_issued = domain.new_secret_token()

    status, _, body = auth.invoke("POST", route, TOKEN_ROUTES[route](never_issued))

    assert (status, body["code"]) == (400, "invalid_token")
    assert never_issued not in str(body)


@pytest.mark.parametrize("route", list(TOKEN_ROUTES))
@pytest.mark.parametrize(
    "body", [{}, {"token": 42, "refresh_token": 42}], ids=["missing", "not-a-string"]
)
def test_given_no_token_string_at_all_then_422_naming_the_field(
    auth: AuthWorld, route: str, body: dict[str, Any]
) -> None:
    # Not a token problem: the body does not have the field the contract asks for.
    field = "refresh_token" if "refresh" in route or "logout" in route else "token"
    sent = {field: body[field]} if body else {}
    if route.endswith("/reset"):
        sent["new_password"] = "teh-manis-sore"

    status, _, answer = auth.invoke("POST", route, sent)

    assert (status, answer["code"]) == (422, "validation_error")
    assert [error["field"] for error in answer["errors"]] == [field]


def test_given_a_token_with_surrounding_spaces_then_it_is_the_token(auth: AuthWorld) -> None:
    _, token = signed_up(auth)

    assert verify(auth, f"  {token}\n") == (200, {"email_verified": True})


def test_given_a_live_refresh_token_when_logged_out_twice_then_204_both_times(
    auth: AuthWorld,
) -> None:
    account = auth.make_account()
    pair = service.login(account.email, PASSWORD, auth.meta("login"))

    first = auth.invoke("POST", "/v1/auth/logout", {"refresh_token": pair.refresh_token})
    again = auth.invoke("POST", "/v1/auth/logout", {"refresh_token": pair.refresh_token})

    assert (first[0], again[0]) == (204, 204)
    status, _, body = auth.invoke("POST", "/v1/auth/refresh", {"refresh_token": pair.refresh_token})
    assert (status, body["code"]) == (401, "invalid_token")
