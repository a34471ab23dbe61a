"""A transaction's conflict errors are often module-level constants: each failed commit
must raise a new instance, or tracebacks and causes chain across requests."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from warung.dynamo import Transaction
from warung.errors import FieldError, InsufficientStock

SOLD_OUT = InsufficientStock("Sold out.", errors=[FieldError("items.0.quantity", "none left")])


class CancellingClient:
    def transact_write_items(self, **_: Any) -> None:
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                "CancellationReasons": [{"Code": "ConditionalCheckFailed"}],
            },
            "TransactWriteItems",
        )


def _failed_commit() -> InsufficientStock:
    tx = Transaction().put(
        "t", {"pk": "a"}, condition="attribute_not_exists(pk)", conflict=SOLD_OUT
    )
    with pytest.raises(InsufficientStock) as raised:
        tx.commit(client=CancellingClient())
    return raised.value


def test_each_failed_commit_raises_its_own_copy_of_the_conflict() -> None:
    first, second = _failed_commit(), _failed_commit()

    assert first is not second
    assert first is not SOLD_OUT
    assert (second.detail, second.http_status, second.code) == (
        "Sold out.",
        409,
        "insufficient_stock",
    )
    assert [e.as_dict() for e in second.errors] == [
        {"field": "items.0.quantity", "message": "none left"}
    ]
    assert SOLD_OUT.__traceback__ is None
    assert SOLD_OUT.__cause__ is None
