"""Refunds of Midtrans payments by the payments context's own consumer (payments.refunds),
against the Midtrans stand-in: a refundable method is refunded and confirmed by Midtrans's
notification; a bank transfer, which Midtrans cannot refund, becomes refund_manual for an
operator, once however often the job runs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from support.events import FakeContext
from support.midtrans import call, notify, open_page, pay, signed
from support.payments_world import PaymentsWorld, Shop

import payments.refunds
from midtrans_standin import StandIn
from warung.dynamo import Transaction
from warung.ids import rfc3339, utc_now
from warung.settings import get_settings


def paid_order(world: PaymentsWorld, midtrans: StandIn, payment_type: str) -> Shop:
    shop = world.shop(provider="midtrans")
    status, _ = notify(world, pay(midtrans, open_page(world, shop)["action_url"], payment_type))
    assert status == 200
    assert world.payment(shop)["status"] == "succeeded"
    return shop


def rejected(world: PaymentsWorld, shop: Shop) -> None:
    """What the merchant's rejection of a paid order writes for its payment."""
    Transaction().update(
        get_settings().table_name,
        {"pk": f"PAYMENT#{shop.payment.payment_id}", "sk": "PAYMENT"},
        "SET #status = :refund, updated_at = :at",
        names={"#status": "status"},
        values={":refund": "refund_pending", ":at": rfc3339(utc_now())},
    ).commit()


def refund_job(shop: Shop) -> dict[str, Any]:
    """The SQS event the outbox relay sends the refund consumer."""
    message = {
        "job_id": f"job_{uuid.uuid4().hex[:10]}",
        "job_type": "payment.refund",
        "payload": {
            "provider": "midtrans",
            "payment_id": shop.payment.payment_id,
            "order_id": shop.order.order_id,
            "amount": shop.payment.amount,
            "currency": "IDR",
        },
        "correlation_id": shop.order.correlation_id,
        "created_at": rfc3339(utc_now()),
    }
    return {
        "Records": [
            {
                "messageId": uuid.uuid4().hex,
                "receiptHandle": "r",
                "body": json.dumps(message),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:payment-refunds",
                "awsRegion": "ap-southeast-1",
            }
        ]
    }


def test_a_qris_payment_is_refunded_through_midtrans_and_confirmed_by_its_notification(
    world: PaymentsWorld, midtrans: StandIn
) -> None:
    shop = paid_order(world, midtrans, "qris")
    rejected(world, shop)

    answer = payments.refunds.handler(refund_job(shop), FakeContext())

    assert answer == {"batchItemFailures": []}
    (record,) = call(midtrans, "GET", "/_standin/transactions")["transactions"]
    assert record["transaction_status"] == "refund"
    assert world.payment(shop)["status"] == "refund_pending"  # until Midtrans says so
    confirmation = signed(world, {k: v for k, v in record.items() if k not in ("token", "expiry")})
    status, _ = notify(world, confirmation)
    assert status == 200
    assert world.payment(shop)["status"] == "refunded"
    assert "email.refund" in world.job_types(shop.order.correlation_id)


def test_a_bank_transfer_becomes_refund_manual_once_for_an_operator(
    world: PaymentsWorld, midtrans: StandIn
) -> None:
    shop = paid_order(world, midtrans, "bank_transfer")
    rejected(world, shop)

    first = payments.refunds.handler(refund_job(shop), FakeContext())
    again = payments.refunds.handler(refund_job(shop), FakeContext())

    assert first == again == {"batchItemFailures": []}
    assert world.payment(shop)["status"] == "refund_manual"
    assert world.order(shop)["payment_status"] == "refund_manual"
    manual = [
        entry
        for entry in world.audit(f"payment:{shop.payment.payment_id}")
        if entry["action"] == "payment.refund_manual"
    ]
    assert len(manual) == 1
    assert manual[0]["changes"]["amount"] == shop.payment.amount
    (record,) = call(midtrans, "GET", "/_standin/transactions")["transactions"]
    assert record["transaction_status"] == "settlement"  # Midtrans refunded nothing


def test_a_refund_midtrans_cannot_take_now_is_retried(
    world: PaymentsWorld, midtrans: StandIn
) -> None:
    shop = paid_order(world, midtrans, "qris")
    rejected(world, shop)
    midtrans.stop()  # Midtrans unreachable

    # the batch fails: SQS delivers it again later (then its dead-letter queue keeps it)
    with pytest.raises(BatchProcessingError, match="All records failed"):
        payments.refunds.handler(refund_job(shop), FakeContext())

    assert world.payment(shop)["status"] == "refund_pending"
