"""Midtrans's published example notifications (tests/fixtures/midtrans/README.md names their
sources) replayed through Warung's verifier and decision table: signature_key over the
strings exactly as received, compared in constant time; a status read as Midtrans
documents it; the decision that follows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from payments import rules as domain
from warung.errors import InvalidSignature
from warung.ordering.midtrans import MidtransProvider, rupiah, signature, status_kind

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "midtrans"
KEY = "SB-Mid-server-test-key-not-a-real-one"


def published(name: str) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    fields["signature_key"] = signature(
        fields["order_id"], fields["status_code"], fields["gross_amount"], KEY
    )
    return fields


def verifier() -> MidtransProvider:
    return MidtransProvider(KEY, app_base="https://app.invalid", api_base="https://api.invalid")


def body(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize("name", ["bank_transfer_pending", "bank_transfer_settlement"])
def test_published_notifications_signed_as_midtrans_specifies_are_accepted(name: str) -> None:
    fields = published(name)

    notification = verifier().verify_notification({}, body(fields))

    assert notification.order_id == "test-transaction-321"
    assert notification.claimed_amount == "24145.00"  # the string as received
    assert notification.claimed_status == fields["transaction_status"]
    assert notification.transaction_id == fields["transaction_id"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("order_id", "test-transaction-322"),
        ("status_code", "200"),
        ("gross_amount", "24145"),  # same number, another string: another signature
        ("gross_amount", "1.00"),
        ("signature_key", "0" * 128),
    ],
)
def test_any_signed_field_altered_is_refused(field: str, value: str) -> None:
    fields = {**published("bank_transfer_pending"), field: value}

    with pytest.raises(InvalidSignature):
        verifier().verify_notification({}, body(fields))


def test_a_notification_signed_with_another_key_is_refused() -> None:
    fields = published("bank_transfer_settlement")
    fields["signature_key"] = signature(
        fields["order_id"], fields["status_code"], fields["gross_amount"], "another-key"
    )

    with pytest.raises(InvalidSignature):
        verifier().verify_notification({}, body(fields))


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"order_id": "x"}'])
def test_a_body_that_is_not_a_signed_notification_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidSignature):
        verifier().verify_notification({}, raw)


@pytest.mark.parametrize(
    ("transaction_status", "fraud_status", "kind"),
    [
        ("settlement", "accept", "paid"),
        ("capture", "accept", "paid"),
        ("capture", "challenge", "pending"),
        ("pending", "", "pending"),
        ("deny", "", "failed"),
        ("cancel", "", "failed"),
        ("expire", "", "failed"),
        ("failure", "", "failed"),
        ("refund", "", "refunded"),
        ("partial_refund", "", "partially_refunded"),
        ("something_new", "", "unknown"),
    ],
)
def test_midtrans_statuses_are_read_as_documented(
    transaction_status: str, fraud_status: str, kind: str
) -> None:
    assert status_kind(transaction_status, fraud_status) == kind


@pytest.mark.parametrize(
    ("text", "whole"), [("24145.00", 24145), ("24145", 24145), ("24145.50", None), ("x", None)]
)
def test_gross_amounts_are_whole_rupiah_or_nothing(text: str, whole: int | None) -> None:
    assert rupiah(text) == whole


def facts(name: str, *, paid_amount: int = 24145) -> domain.Decision | None:
    """The decision for the published notification, as its confirmed record."""
    fields = published(name)
    kind = domain.event_type_of(status_kind(fields["transaction_status"], fields["fraud_status"]))
    if kind is None:
        return None
    amount = rupiah(fields["gross_amount"])
    assert amount is not None
    return domain.decide(
        domain.EventFacts(kind, "p1", fields["order_id"], amount, fields["currency"]),
        domain.PaymentFacts(
            status="pending", order_id=fields["order_id"], amount=paid_amount, currency="IDR"
        ),
        domain.OrderFacts(status="pending_payment", payment_id="p1"),
    )


def test_the_published_pending_notification_decides_nothing() -> None:
    assert facts("bank_transfer_pending") is None


def test_the_published_settlement_pays_an_order_of_that_total() -> None:
    decision = facts("bank_transfer_settlement")

    assert decision is not None
    assert decision.outcome is domain.Outcome.PAY


def test_the_published_settlement_of_another_amount_pays_nothing() -> None:
    decision = facts("bank_transfer_settlement", paid_amount=24_000)

    assert decision is not None
    assert decision.outcome is domain.Outcome.AMOUNT_MISMATCH
