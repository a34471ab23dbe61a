"""What a provider's event does (docs/product.md, Payments), for every event type, payment status,
order status and amount check: the pure decision of the payments function."""

from __future__ import annotations

import itertools

import pytest
from support.checks import refusal

from payments import rules as domain
from warung.errors import Conflict
from warung.ordering.lifecycle import OrderStatus

Outcome = domain.Outcome
EventFacts = domain.EventFacts
PaymentFacts = domain.PaymentFacts
OrderFacts = domain.OrderFacts

EVENT_TYPES = ("payment.succeeded", "payment.failed", "refund.succeeded")
PAYMENT_STATUSES = domain.PAYMENT_STATUSES
ORDER_STATUSES = tuple(str(status) for status in OrderStatus)
AMOUNT = 64_500


def event(
    kind: str, *, amount: int = AMOUNT, currency: str = "IDR", order_id: str = "o1"
) -> domain.EventFacts:
    return EventFacts(kind, "p1", order_id, amount, currency)


def payment(status: str) -> domain.PaymentFacts:
    return PaymentFacts(status=status, order_id="o1", amount=AMOUNT, currency="IDR")


def order(status: str = "pending_payment", payment_id: str = "p1") -> domain.OrderFacts:
    return OrderFacts(status=status, payment_id=payment_id)


def expected(kind: str, pay_status: str, order_status: str, matches: bool) -> str:
    """The payment rules of docs/product.md as a table, written out independently of the code."""
    if kind == "payment.succeeded":
        if pay_status in {"succeeded", "refund_pending", "refunded", "refund_manual"}:
            return "no_effect"
        if not matches:
            return "amount_mismatch"
        if pay_status in {"pending", "failed"} and order_status == "pending_payment":
            return "pay"
        if pay_status in {"cancelled", "expired"} or order_status in {
            "expired",
            "cancelled",
            "rejected",
        }:
            return "refund_late_payment"
        return "ignored"  # an open payment of an order paid otherwise: inconsistent
    if kind == "payment.failed":
        return "fail" if pay_status == "pending" else "no_effect"
    if pay_status == "refunded":
        return "no_effect"
    if pay_status != "refund_pending":
        return "ignored"
    return "refunded" if matches else "amount_mismatch"


@pytest.mark.parametrize(
    ("kind", "pay_status", "order_status", "matches"),
    list(itertools.product(EVENT_TYPES, PAYMENT_STATUSES, ORDER_STATUSES, (True, False))),
)
def test_every_combination_decides_as_the_table_says(
    kind: str, pay_status: str, order_status: str, matches: bool
) -> None:
    amount = AMOUNT if matches else AMOUNT - 1
    decision = domain.decide(event(kind, amount=amount), payment(pay_status), order(order_status))

    assert decision.outcome == expected(kind, pay_status, order_status, matches)
    # The payment moves exactly when the outcome says it does, and only forward.
    moves = {
        "pay": "succeeded",
        "refund_late_payment": "refund_pending",
        "fail": "failed",
        "refunded": "refunded",
    }
    assert decision.payment_status == moves.get(str(decision.outcome))
    assert decision.reason


def test_success_in_time_pays_the_order() -> None:
    decision = domain.decide(event("payment.succeeded"), payment("pending"), order())
    assert (decision.outcome, decision.payment_status) == (Outcome.PAY, "succeeded")


def test_success_after_a_failed_try_still_pays() -> None:
    decision = domain.decide(event("payment.succeeded"), payment("failed"), order())
    assert decision.outcome is Outcome.PAY


@pytest.mark.parametrize(
    ("amount", "currency"), [(AMOUNT - 1, "IDR"), (AMOUNT + 1, "IDR"), (0, "IDR"), (AMOUNT, "USD")]
)
def test_wrong_amount_or_currency_pays_nothing(amount: int, currency: str) -> None:
    decision = domain.decide(
        event("payment.succeeded", amount=amount, currency=currency), payment("pending"), order()
    )
    assert decision.outcome is Outcome.AMOUNT_MISMATCH
    assert not decision.changes_payment


@pytest.mark.parametrize(
    ("order_status", "payment_status"),
    [("expired", "expired"), ("cancelled", "cancelled"), ("expired", "pending")],
)
def test_money_for_an_order_that_ended_unpaid_goes_back(
    order_status: str, payment_status: str
) -> None:
    decision = domain.decide(
        event("payment.succeeded"), payment(payment_status), order(order_status)
    )
    assert (decision.outcome, decision.payment_status) == (
        Outcome.REFUND_LATE_PAYMENT,
        "refund_pending",
    )


def test_success_on_a_payment_already_paid_changes_nothing() -> None:
    decision = domain.decide(event("payment.succeeded"), payment("succeeded"), order("paid"))
    assert decision.outcome is Outcome.NO_EFFECT


@pytest.mark.parametrize("status", ["succeeded", "refund_pending", "refunded"])
def test_failure_after_success_never_unpays(status: str) -> None:
    decision = domain.decide(event("payment.failed"), payment(status), order("paid"))
    assert decision.outcome is Outcome.NO_EFFECT
    assert not decision.changes_payment


def test_failure_of_a_pending_payment_leaves_the_order_waiting() -> None:
    decision = domain.decide(event("payment.failed"), payment("pending"), order())
    assert (decision.outcome, decision.payment_status) == (Outcome.FAIL, "failed")


def test_refund_confirmation_ends_a_refund_pending_payment() -> None:
    decision = domain.decide(event("refund.succeeded"), payment("refund_pending"), order("expired"))
    assert (decision.outcome, decision.payment_status) == (Outcome.REFUNDED, "refunded")


def test_refund_nobody_asked_for_changes_nothing() -> None:
    decision = domain.decide(event("refund.succeeded"), payment("succeeded"), order("paid"))
    assert decision.outcome is Outcome.IGNORED


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_unknown_payment_is_ignored(kind: str) -> None:
    decision = domain.decide(event(kind), None, None)
    assert (decision.outcome, decision.reason) == (Outcome.IGNORED, "unknown payment")


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_event_naming_another_order_is_ignored(kind: str) -> None:
    decision = domain.decide(event(kind, order_id="o2"), payment("pending"), order())
    assert decision.outcome is Outcome.IGNORED
    assert "order" in decision.reason


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_payment_without_its_order_is_ignored(kind: str) -> None:
    decision = domain.decide(event(kind), payment("pending"), None)
    assert decision.outcome is Outcome.IGNORED


def test_order_paid_through_another_payment_is_not_paid_again() -> None:
    decision = domain.decide(
        event("payment.succeeded"), payment("pending"), order(payment_id="p-other")
    )
    assert decision.outcome is Outcome.IGNORED


# ---------------------------------------------------------------- the simulator


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_simulator_plays_open_payments(status: str) -> None:
    refused = refusal(lambda: domain.check_simulatable(status, "simulator", "simulator"))
    assert refused is None  # no 409


@pytest.mark.parametrize(
    "status", ["succeeded", "refund_pending", "refunded", "cancelled", "expired"]
)
def test_simulator_refuses_settled_payments(status: str) -> None:
    with pytest.raises(Conflict, match=status):
        domain.check_simulatable(status, "simulator", "simulator")


def test_simulator_refuses_another_providers_payment() -> None:
    with pytest.raises(Conflict, match="midtrans"):
        domain.check_simulatable("pending", "midtrans", "simulator")
