"""forgot-password and resend-verification do the same work whether or not the address has
an account that may get the e-mail: the same DynamoDB calls, on the same tables, with keys
and stored items of the same shapes, and the same public answer. (Timing is not measured.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from support.auth_world import AuthWorld, unique_email

from auth import repository
from warung.dynamo import Transaction, dynamodb_client
from warung.settings import get_settings


def _key_shape(key: dict[str, Any]) -> str:
    """``USER#…/PROFILE``: a key with its ids left out (a rate-limit key keeps its rule)."""
    parts = []
    for name in ("pk", "sk"):
        value = str(next(iter(key[name].values()))) if name in key else ""
        if value.isdigit():  # a rate-limit window's start
            parts.append("N")
            continue
        head, *rest = value.split("#")
        kept = [head, rest[0]] if head == "RL" and rest else [head]
        parts.append("#".join(kept) + ("#…" if len(rest) > len(kept) - 1 else ""))
    return "/".join(parts)


def _item_shape(item: dict[str, Any]) -> tuple[str, ...]:
    shape = []
    for name, value in sorted(item.items()):
        ((kind, inner),) = value.items()
        if kind == "M":  # a job's payload: its fields
            shape.append(f"{name}:{{{','.join(sorted(inner))}}}")
        else:
            shape.append(f"{name}:{kind}")
    return tuple(shape)


def _describe(operation: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    tables = {get_settings().table_name: "main", get_settings().audit_table_name: "audit"}
    if operation == "TransactWriteItems":
        steps: list[tuple[Any, ...]] = [(operation,)]
        for entry in params["TransactItems"]:
            ((kind, step),) = entry.items()
            body = step.get("Item") or step["Key"]
            steps.append(
                (kind, tables.get(step["TableName"], "?"), _key_shape(body), _item_shape(body))
            )
        return steps
    if operation in {"GetItem", "UpdateItem", "PutItem", "DeleteItem"}:
        body = params.get("Item") or params["Key"]
        return [(operation, tables.get(params["TableName"], "?"), _key_shape(body))]
    if operation == "BatchGetItem":
        return [
            (operation, tables.get(table, "?"), tuple(_key_shape(k) for k in request["Keys"]))
            for table, request in params["RequestItems"].items()
        ]
    return [(operation, tables.get(params.get("TableName", ""), "?"))]


@contextmanager
def dynamodb_calls() -> Iterator[list[tuple[Any, ...]]]:
    """Every call the function makes on its DynamoDB client while inside, described."""
    calls: list[tuple[Any, ...]] = []
    client = dynamodb_client()

    def note(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.extend(_describe(model.name, params))

    client.meta.events.register("provide-client-params.dynamodb.*", note)
    try:
        yield calls
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.*", note)


def _post(auth: AuthWorld, path: str, email: str) -> tuple[tuple[Any, ...], list[Any]]:
    with dynamodb_calls() as calls:
        status, _, body = auth.invoke("POST", path, {"email": email})
    return (status, body), calls


def _disabled(auth: AuthWorld) -> str:
    account = auth.make_account(unique_email("disabled"))
    repository.update_account(
        Transaction(), account.user_id, {"disabled": True}, updated_at="2026-12-01T00:00:00Z"
    ).commit()
    return account.email


FORGOT_OTHERS = {
    "unknown": lambda auth: unique_email("nobody"),
    "disabled": _disabled,
}
RESEND_OTHERS = {
    "unknown": lambda auth: unique_email("nobody"),
    "verified": lambda auth: auth.make_account(unique_email("verified"), verified=True).email,
    "disabled": _disabled,
}


@pytest.mark.parametrize("other", sorted(FORGOT_OTHERS))
def test_forgot_password_does_the_same_work_for_an_account_and_for_none(
    auth: AuthWorld, other: str
) -> None:
    account = auth.make_account(unique_email("known"))
    stranger = FORGOT_OTHERS[other](auth)

    known_answer, known_calls = _post(auth, "/v1/auth/password/forgot", account.email)
    other_answer, other_calls = _post(auth, "/v1/auth/password/forgot", stranger)

    assert known_answer == other_answer
    assert known_answer[0] == 202
    assert other_calls == known_calls
    # The work is the real one: a token and its e-mail job, within the address's limit.
    writes = [call for call in known_calls if call[0] == "Put"]
    assert [(call[1], call[2]) for call in writes] == [
        ("main", "OTT#…/RESET"),
        ("main", "OUTBOX#…/JOB"),
    ]


@pytest.mark.parametrize("other", sorted(RESEND_OTHERS))
def test_resend_verification_does_the_same_work_for_an_unverified_account_and_any_other(
    auth: AuthWorld, other: str
) -> None:
    account = auth.make_account(unique_email("unverified"), verified=False)
    stranger = RESEND_OTHERS[other](auth)

    known_answer, known_calls = _post(auth, "/v1/auth/resend-verification", account.email)
    other_answer, other_calls = _post(auth, "/v1/auth/resend-verification", stranger)

    assert known_answer == other_answer
    assert known_answer[0] == 202
    assert other_calls == known_calls
    assert [call[2] for call in known_calls if call[0] == "Put"] == [
        "OTT#…/VERIFY",
        "OUTBOX#…/JOB",
    ]


def test_an_unknown_address_gets_a_decoy_token_that_can_never_be_spent(auth: AuthWorld) -> None:
    issued = auth.record_secret_tokens()
    stranger = unique_email("nobody")

    status, _, _ = auth.invoke("POST", "/v1/auth/password/forgot", {"email": stranger})
    decoy = issued[-1]

    assert status == 202
    reset = auth.invoke(
        "POST",
        "/v1/auth/password/reset",
        {"token": decoy, "new_password": "teh-manis-sore-hari-2"},
    )
    verify = auth.invoke("POST", "/v1/auth/verify-email", {"token": decoy})
    assert (reset[0], reset[2]["code"]) == (400, "invalid_token")
    assert (verify[0], verify[2]["code"]) == (400, "invalid_token")
