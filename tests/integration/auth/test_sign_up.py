"""Sign-up: an address already registered gets the same answer, and nothing
about its account changes."""

from __future__ import annotations

from typing import Any

from support.auth_world import PASSWORD, AuthWorld, unique_email

from auth import repository
from auth.rules import passwords
from warung.dynamo import dynamodb_client


def test_given_a_registered_address_when_signed_up_again_then_same_202_and_nothing_changes(
    auth: AuthWorld,
) -> None:
    issued = auth.record_secret_tokens()
    email = unique_email("twice")
    status, _, body = auth.invoke(
        "POST", "/v1/auth/register", {"email": email, "password": PASSWORD, "name": "Sri"}
    )
    assert (status, body["status"]) == (202, "accepted")
    account = repository.find_account_by_email(email)
    assert account is not None
    assert len(issued) == 1  # the verification link
    operations: list[str] = []

    def record(model: Any, **_: Any) -> None:
        operations.append(model.name)

    # when: the same address, spelled otherwise, with another password and name
    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", record)
    try:
        status_again, _, body_again = auth.invoke(
            "POST",
            "/v1/auth/register",
            {"email": f" {email.upper()}", "password": "another-long-passphrase", "name": "Budi"},
        )
    finally:
        events.unregister("before-call.dynamodb", record)

    # then: the same answer as the first time, and no second verification link
    assert (status_again, body_again) == (status, body)
    assert len(issued) == 1
    # and: the account is untouched (its name, its password)
    stored = repository.find_account_by_email(email)
    assert stored is not None
    assert stored == account
    assert passwords.verify_password(stored.password_hash, PASSWORD).ok
    # and: the per-IP limit, then one read of the address's reservation; no write
    assert operations == ["UpdateItem", "GetItem"]
