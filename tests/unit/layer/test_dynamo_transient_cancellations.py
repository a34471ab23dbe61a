"""Real DynamoDB cancels a transaction that meets another one on the same item at the same
moment (reason ``TransactionConflict``), or that it throttles; nothing was written, so the
commit tries the same writes again. Only when that keeps happening does the client see a 409
with Retry-After, never a 500. A failed condition is never retried."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from warung import dynamo
from warung.dynamo import Transaction
from warung.errors import Conflict, InsufficientStock

SOLD_OUT = InsufficientStock("Sold out.")


def _cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


class ScriptedClient:
    """Answers each TransactWriteItems call with the next outcome: an error, or success."""

    def __init__(self, *outcomes: ClientError | None) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[dict[str, Any]] = []

    def transact_write_items(self, **request: Any) -> None:
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    taken: list[float] = []
    monkeypatch.setattr(dynamo, "_pause", taken.append)
    return taken


def _transaction() -> Transaction:
    return (
        Transaction()
        .update("t", {"pk": "product"}, "SET stock = stock - :n", values={":n": 1})
        .put("t", {"pk": "order"}, condition="attribute_not_exists(pk)", conflict=SOLD_OUT)
    )


def test_a_transaction_conflict_is_tried_again_and_commits(pauses: list[float]) -> None:
    client = ScriptedClient(_cancelled("TransactionConflict", "None"), None)

    _transaction().commit(client=client)

    assert len(client.requests) == 2
    assert client.requests[0]["TransactItems"] == client.requests[1]["TransactItems"]
    assert len(pauses) == 1
    assert 0 < pauses[0] <= dynamo.TRANSIENT_PAUSE_S


def test_throttling_reasons_are_tried_again_too(pauses: list[float]) -> None:
    client = ScriptedClient(
        _cancelled("None", "ThrottlingError"), _cancelled("ProvisionedThroughputExceeded"), None
    )

    _transaction().commit(client=client)

    assert len(client.requests) == 3
    assert pauses[1] > dynamo.TRANSIENT_PAUSE_S / 2  # the pause grows


def test_a_caller_token_is_kept_on_every_attempt(pauses: list[float]) -> None:
    client = ScriptedClient(_cancelled("TransactionConflict"), None)

    _transaction().commit(client=client, token="checkout-01J")

    assert [r["ClientRequestToken"] for r in client.requests] == ["checkout-01J"] * 2


def test_lasting_contention_is_a_409_with_retry_after_not_a_500(pauses: list[float]) -> None:
    attempts = dynamo.TRANSIENT_ATTEMPTS
    client = ScriptedClient(*[_cancelled("TransactionConflict", "None")] * attempts)

    with pytest.raises(Conflict) as raised:
        _transaction().commit(client=client)

    assert len(client.requests) == attempts
    assert raised.value.http_status == 409
    assert raised.value.code == "conflict"
    assert raised.value.headers == {"Retry-After": "1"}


def test_a_failed_condition_is_never_tried_again(pauses: list[float]) -> None:
    client = ScriptedClient(_cancelled("TransactionConflict", "ConditionalCheckFailed"))

    with pytest.raises(InsufficientStock):
        _transaction().commit(client=client)

    assert len(client.requests) == 1
    assert pauses == []
