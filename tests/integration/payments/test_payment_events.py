"""What a verified provider event writes (docs/product.md, Payments), against the real tables: the
order paid once, its jobs in the outbox, never un-paid, late money refunded, wrong amounts
paying nothing, and every effect audited with the event's record in one transaction."""

from __future__ import annotations

import pytest
from support.payments_world import TOTAL, PaymentsWorld

import payments.repository
import payments.rules
from warung.ids import new_id
from warung.jobs import RefundPayment

Outcome = payments.rules.Outcome


def test_success_pays_the_order_and_the_payment(world: PaymentsWorld) -> None:
    shop = world.shop()

    receipt = world.apply(world.event(shop))

    assert (receipt.duplicate, receipt.outcome) == (False, Outcome.PAY)
    order = world.order(shop)
    assert (order["status"], order["payment_status"], order["version"]) == ("paid", "succeeded", 2)
    assert [entry["status"] for entry in order["status_history"]] == ["pending_payment", "paid"]
    assert order["status_history"][-1]["by"] == "system"
    assert "gsi4pk" not in order  # off the expiry worklist
    assert world.payment(shop)["status"] == "succeeded"
    assert world.pending_count(shop) == 0  # room for another unpaid order


def test_paid_order_enqueues_customer_and_owner_mail_and_the_merchant_webhook(
    world: PaymentsWorld,
) -> None:
    shop = world.shop()

    world.apply(world.event(shop))

    jobs = world.jobs(shop.order.correlation_id)  # the checkout's request id follows
    by_type = {job["job_type"]: job for job in jobs}
    assert sorted(by_type) == ["email.merchant_new_order", "email.order_paid", "webhook.deliver"]
    assert len(jobs) == 3  # the staff member gets no new-order e-mail
    assert by_type["email.order_paid"]["payload"]["to"] == shop.order.customer_email
    assert by_type["email.order_paid"]["payload"]["total"] == TOTAL
    assert by_type["email.merchant_new_order"]["payload"]["to"] == shop.owner_email
    hook = by_type["webhook.deliver"]["payload"]
    assert (hook["event"], hook["merchant_id"]) == ("order.paid", shop.order.merchant_id)
    assert hook["data"]["order_id"] == shop.order.order_id
    # every one of them carries the order's number, which the e-mails and the webhook show
    assert shop.order.number is not None
    assert hook["data"]["number"] == shop.order.number
    for kind in ("email.order_paid", "email.merchant_new_order"):
        payload = by_type[kind]["payload"]
        assert (payload["order_id"], payload["order_number"]) == (
            shop.order.order_id,
            shop.order.number,
        )


def test_same_event_twice_pays_once(world: PaymentsWorld) -> None:
    shop = world.shop()
    event = world.event(shop)

    first = world.apply(event)
    second = world.apply(event)

    assert (first.duplicate, second.duplicate) == (False, True)
    assert world.order(shop)["version"] == 2  # one status change
    assert len(world.jobs(shop.order.correlation_id)) == 3  # one set of jobs
    assert world.audit_actions(f"order:{shop.order.order_id}") == ["order.paid"]


def test_duplicate_that_slips_past_the_precheck_is_stopped_by_the_conditional_record(
    world: PaymentsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = world.shop()
    event = world.event(shop)
    world.apply(event)
    # Two deliveries racing: both read "not seen" before either committed.
    real_read = payments.repository.event_payment_order

    def read_as_not_seen_yet(*args: str) -> tuple[bool, object, object]:
        seen, payment, order = real_read(*args)
        assert seen  # recorded by the first delivery: only the conditional put stops this one
        return False, payment, order

    monkeypatch.setattr(payments.repository, "event_payment_order", read_as_not_seen_yet)

    again = world.apply(event)

    assert again.duplicate
    assert world.order(shop)["version"] == 2
    assert len(world.jobs(shop.order.correlation_id)) == 3


def test_event_record_expires_after_30_days(world: PaymentsWorld) -> None:
    shop = world.shop()
    event = world.event(shop)

    world.apply(event)

    record = world.stored(f"EVENT#simulator#{event.id}", "EVENT")
    assert record is not None
    assert record["outcome"] == "pay"
    assert record["payment_id"] == shop.payment.payment_id
    days = (record["expires_at_epoch"] - int(_epoch(record["received_at"]))) / 86_400
    assert days == 30


def test_second_success_with_another_event_id_changes_nothing(world: PaymentsWorld) -> None:
    shop = world.shop()
    world.apply(world.event(shop))

    receipt = world.apply(world.event(shop))

    assert receipt.outcome is Outcome.NO_EFFECT
    assert world.order(shop)["version"] == 2
    assert len(world.jobs(shop.order.correlation_id)) == 3


def test_failure_after_success_never_unpays(world: PaymentsWorld) -> None:
    shop = world.shop()
    world.apply(world.event(shop))

    receipt = world.apply(world.event(shop, "payment.failed"))

    assert receipt.outcome is Outcome.NO_EFFECT
    assert (world.order(shop)["status"], world.payment(shop)["status"]) == ("paid", "succeeded")
    assert "payment.event_ignored" in world.audit_actions(f"payment:{shop.payment.payment_id}")


def test_failure_marks_the_payment_failed_and_leaves_the_order_waiting(
    world: PaymentsWorld,
) -> None:
    shop = world.shop()

    receipt = world.apply(world.event(shop, "payment.failed"))

    assert receipt.outcome is Outcome.FAIL
    order = world.order(shop)
    assert (order["status"], order["payment_status"]) == ("pending_payment", "failed")
    assert "gsi4pk" in order  # still expires on time
    assert world.payment(shop)["status"] == "failed"
    assert world.audit_actions(f"payment:{shop.payment.payment_id}") == ["payment.failed"]
    assert world.jobs(shop.order.correlation_id) == []


def test_retry_after_a_failure_pays(world: PaymentsWorld) -> None:
    shop = world.shop()
    world.apply(world.event(shop, "payment.failed"))

    receipt = world.apply(world.event(shop))

    assert receipt.outcome is Outcome.PAY
    assert world.order(shop)["status"] == "paid"


@pytest.mark.parametrize(("amount", "currency"), [(TOTAL - 1, "IDR"), (TOTAL, "USD")])
def test_wrong_amount_or_currency_pays_nothing_and_is_audited(
    world: PaymentsWorld, amount: int, currency: str
) -> None:
    shop = world.shop()

    receipt = world.apply(world.event(shop, amount=amount, currency=currency))

    assert receipt.outcome is Outcome.AMOUNT_MISMATCH
    assert world.order(shop)["status"] == "pending_payment"
    assert world.payment(shop)["status"] == "pending"
    assert world.jobs(shop.order.correlation_id) == []
    (entry,) = world.audit(f"payment:{shop.payment.payment_id}")
    assert entry["action"] == "payment.amount_mismatch"
    assert (entry["actor_id"], entry["actor_type"]) == ("system", "system")
    assert entry["changes"]["expected"] == {"amount": TOTAL, "currency": "IDR"}
    assert entry["changes"]["received"] == {"amount": amount, "currency": currency}


@pytest.mark.parametrize("order_status", ["expired", "cancelled"])
def test_late_success_on_an_order_that_ended_unpaid_is_refunded(
    world: PaymentsWorld, order_status: str
) -> None:
    # The orders function closes the payment of an order that ends unpaid with its status.
    shop = world.shop(order_status=order_status, payment_status=order_status)

    receipt = world.apply(world.event(shop))

    assert receipt.outcome is Outcome.REFUND_LATE_PAYMENT
    order = world.order(shop)
    assert (order["status"], order["payment_status"]) == (order_status, "refund_pending")
    assert world.payment(shop)["status"] == "refund_pending"
    (job,) = world.jobs(shop.order.correlation_id)
    assert job["job_type"] == RefundPayment.job_type
    assert job["payload"] == {
        "provider": "simulator",
        "payment_id": shop.payment.payment_id,
        "order_id": shop.order.order_id,
        "amount": TOTAL,
        "currency": "IDR",
    }
    actions = world.audit_actions(f"payment:{shop.payment.payment_id}")
    assert actions == ["payment.refund_requested"]


def test_refund_confirmation_refunds_and_mails_the_customer(world: PaymentsWorld) -> None:
    shop = world.shop(order_status="expired", payment_status="expired")
    world.apply(world.event(shop))

    receipt = world.apply(world.event(shop, "refund.succeeded"))

    assert receipt.outcome is Outcome.REFUNDED
    assert world.payment(shop)["status"] == "refunded"
    assert world.order(shop)["payment_status"] == "refunded"
    mails = [j for j in world.jobs(shop.order.correlation_id) if j["job_type"] == "email.refund"]
    assert len(mails) == 1
    assert mails[0]["payload"]["to"] == shop.order.customer_email
    assert mails[0]["payload"]["amount"] == TOTAL
    assert mails[0]["payload"]["order_number"] == shop.order.number
    assert "payment.refunded" in world.audit_actions(f"payment:{shop.payment.payment_id}")


def test_refund_of_a_payment_cancelled_by_the_customer_after_paying(world: PaymentsWorld) -> None:
    # The orders function moved the paid order to cancelled and the payment to refund_pending.
    shop = world.shop(order_status="cancelled", payment_status="refund_pending")

    receipt = world.apply(world.event(shop, "refund.succeeded"))

    assert receipt.outcome is Outcome.REFUNDED
    assert world.payment(shop)["status"] == "refunded"
    assert world.job_types(shop.order.correlation_id) == ["email.refund"]


def test_unknown_payment_is_recorded_and_audited_but_changes_nothing(
    world: PaymentsWorld,
) -> None:
    shop = world.shop()
    ghost = new_id("pay_")

    receipt = world.apply(world.event(shop, payment_id=ghost))

    assert (receipt.duplicate, receipt.outcome) == (False, Outcome.IGNORED)
    assert world.order(shop)["status"] == "pending_payment"
    (entry,) = world.audit(f"payment:{ghost}")
    assert (entry["action"], entry["changes"]["reason"]) == (
        "payment.event_ignored",
        "unknown payment",
    )


def test_event_naming_another_order_pays_nothing(world: PaymentsWorld) -> None:
    shop, other = world.shop(), world.shop()

    receipt = world.apply(world.event(shop, order_id=other.order.order_id))

    assert receipt.outcome is Outcome.IGNORED
    assert world.order(shop)["status"] == "pending_payment"
    assert world.order(other)["status"] == "pending_payment"


def test_order_that_moved_meanwhile_is_read_again(
    world: PaymentsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = world.shop()
    real_read = payments.repository.event_payment_order
    reads: list[str] = []

    def first_read_then_expired(*args: str) -> object:
        found = real_read(*args)
        if not reads:
            world.expire(shop)  # the scheduler expires the order right after our first read
            reads.append("first")
        else:
            reads.append("again")
        return found

    def no_single_reads(*_: str) -> object:
        raise AssertionError("a retry reads the payment and the order in one batch")

    monkeypatch.setattr(payments.repository, "event_payment_order", first_read_then_expired)
    monkeypatch.setattr(payments.repository, "get_payment", no_single_reads)
    monkeypatch.setattr(payments.repository, "get_order", no_single_reads)

    receipt = world.apply(world.event(shop))

    assert reads == ["first", "again"]
    assert receipt.outcome is Outcome.REFUND_LATE_PAYMENT
    assert world.order(shop)["status"] == "expired"
    assert world.payment(shop)["status"] == "refund_pending"


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
