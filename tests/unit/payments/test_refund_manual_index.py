"""The refund_manual index is sparse: a payment carries its keys only while a person must
refund it, keyed by when it got there (newest first in the admin's list)."""

from __future__ import annotations

from warung.store.payments import Payment, payment_item, status_index


def payment(status: str) -> Payment:
    return Payment(
        payment_id="p-1",
        order_id="o-1",
        customer_id="c-1",
        merchant_id="m-1",
        amount=24145,
        provider="midtrans",
        status=status,
        created_at="2026-12-04T09:00:00Z",
        updated_at="2026-12-04T09:30:00Z",
    )


def test_a_refund_manual_payment_is_in_the_admins_partition_from_when_it_got_there() -> None:
    item = payment_item(payment("refund_manual"))

    assert (item["gsi2pk"], item["gsi2sk"]) == (
        "PAYSTATUS#refund_manual",
        "2026-12-04T09:30:00Z#p-1",
    )


def test_no_other_status_is_indexed() -> None:
    for status in ("pending", "succeeded", "refund_pending", "refunded", "due_on_delivery"):
        assert "gsi2pk" not in payment_item(payment(status))
        assert status_index("p-1", status, "2026-12-04T09:30:00Z") == {}
