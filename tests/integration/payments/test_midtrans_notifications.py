"""Midtrans Snap through the payments function, against the local stand-in of Midtrans
(tools/midtrans_standin), which speaks Midtrans's wire format: the payment page opened for
exactly the order's total, notifications verified (signature_key) and confirmed with the
status API before anything changes, duplicates acting once, and a create that times out
opened again later with the same idempotency key (docs/decisions/0020-midtrans-snap.md)."""

from __future__ import annotations

from typing import Any

import pytest
from support.midtrans import call, notify, open_page, pay, signed
from support.payments_world import TOTAL, PaymentsWorld

from midtrans_standin import StandIn


def test_reading_the_payment_opens_the_midtrans_page_for_exactly_the_order_total(
    world: PaymentsWorld, midtrans: StandIn
) -> None:
    shop = world.shop(provider="midtrans")

    payment = open_page(world, shop)

    assert payment["action_url"].startswith(f"{midtrans.url}/snap/v4/redirection/")
    (made,) = call(midtrans, "GET", "/_standin/transactions")["transactions"]
    assert (made["order_id"], made["gross_amount"], made["currency"]) == (
        shop.order.order_id,
        f"{TOTAL}.00",
        "IDR",
    )
    assert (made["expiry"]["unit"], made["expiry"]["duration"]) == ("minutes", 15)
    assert world.payment(shop)["action_url"] == payment["action_url"]
    assert open_page(world, shop)["action_url"] == payment["action_url"]
    assert call(midtrans, "GET", "/_standin/transactions")["creates"] == 1


def test_paying_on_the_page_and_the_signed_notification_pay_the_order(
    world: PaymentsWorld, midtrans: StandIn
) -> None:
    shop = world.shop(provider="midtrans")
    notification = pay(midtrans, open_page(world, shop)["action_url"])

    status, answer = notify(world, notification)

    assert (status, answer) == (200, {"received": True, "duplicate": False})
    assert world.order(shop)["status"] == "paid"
    assert world.payment(shop)["status"] == "succeeded"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda n: {**n, "signature_key": "0" * 128}, id="forged-signature"),
        pytest.param(lambda n: {**n, "gross_amount": "1.00"}, id="altered-amount"),
        pytest.param(lambda n: {**n, "order_id": "ord_someone_else"}, id="altered-order"),
        pytest.param(lambda n: {k: v for k, v in n.items() if k != "signature_key"}, id="unsigned"),
    ],
)
def test_a_forged_or_altered_notification_is_400_and_changes_nothing(
    world: PaymentsWorld, midtrans: StandIn, tamper: Any
) -> None:
    shop = world.shop(provider="midtrans")
    notification = pay(midtrans, open_page(world, shop)["action_url"])

    status, answer = notify(world, tamper(notification))

    assert status == 400
    assert answer["code"] == "invalid_signature"
    assert world.order(shop)["status"] == "pending_payment"
    assert world.payment(shop)["status"] == "pending"
    assert world.audit_actions(f"payment:{shop.payment.payment_id}") == []


def test_a_genuine_notification_the_status_api_contradicts_changes_nothing_and_is_audited(
    world: PaymentsWorld, midtrans: StandIn
) -> None:
    shop = world.shop(provider="midtrans")
    open_page(world, shop)  # Midtrans holds the transaction, still pending
    claim = signed(
        world,
        {
            "order_id": shop.order.order_id,
            "status_code": "200",
            "gross_amount": f"{TOTAL}.00",
            "transaction_status": "settlement",
            "transaction_id": "4f1c0d1e-claimed",
            "payment_type": "qris",
            "currency": "IDR",
        },
    )

    status, _ = notify(world, claim)

    assert status == 200  # authentic: Midtrans would only retry a refusal
    assert world.order(shop)["status"] == "pending_payment"
    assert world.payment(shop)["status"] == "pending"
    (entry,) = world.audit(f"payment:{shop.payment.payment_id}")
    assert entry["action"] == "payment.notification_disputed"
    assert entry["changes"]["claimed"]["status"] == "settlement"
    assert entry["changes"]["provider_record"]["status"] == "pending"


def test_duplicate_notifications_have_one_effect(world: PaymentsWorld, midtrans: StandIn) -> None:
    shop = world.shop(provider="midtrans")
    notification = pay(midtrans, open_page(world, shop)["action_url"])

    first = notify(world, notification)
    second = notify(world, notification)

    assert first == (200, {"received": True, "duplicate": False})
    assert second == (200, {"received": True, "duplicate": True})
    assert world.job_types(shop.order.correlation_id) == [
        "email.merchant_new_order",
        "email.order_paid",
        "webhook.deliver",
    ]
    assert world.audit_actions(f"order:{shop.order.order_id}") == ["order.paid"]


def test_a_create_that_times_out_leaves_the_order_waiting_and_a_retry_opens_no_second_one(
    world: PaymentsWorld, midtrans: StandIn
) -> None:
    shop = world.shop(provider="midtrans")
    # Midtrans makes the transaction but answers after the adapter stopped waiting, twice.
    call(midtrans, "POST", "/_standin/delay", {"create_s": 3.0, "times": 2})

    late = open_page(world, shop)

    assert late["action_url"] is None
    assert late["status"] == "pending"
    assert world.order(shop)["status"] == "pending_payment"
    again = open_page(world, shop)
    assert again["action_url"].startswith(f"{midtrans.url}/snap/v4/redirection/")
    listing = call(midtrans, "GET", "/_standin/transactions")
    assert listing["creates"] == 1
    assert [t["order_id"] for t in listing["transactions"]] == [shop.order.order_id]
