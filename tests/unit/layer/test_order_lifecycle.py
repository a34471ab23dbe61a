"""The order's life cycle (docs/product.md): which status changes exist, who may make each, and what
each one sets off."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest

from warung.errors import Forbidden, InvalidTransition
from warung.ordering import lifecycle

# The layer types the tuple as plain strings; it is get_args(ActorKind), each an ActorKind.
ACTOR_KINDS = cast("tuple[lifecycle.ActorKind, ...]", lifecycle.ACTOR_KINDS)
Effects = lifecycle.Effects
FINAL_STATUSES = lifecycle.FINAL_STATUSES
OrderStatus = lifecycle.OrderStatus
TRANSITIONS = lifecycle.TRANSITIONS
allowed_targets = lifecycle.allowed_targets
check_transition = lifecycle.check_transition
effects = lifecycle.effects
history_entry = lifecycle.history_entry

ALLOWED = [
    # (from, to, who may)
    ("pending_payment", "paid", {"system"}),  # payment webhook
    ("pending_payment", "expired", {"system"}),  # scheduler, after 15 minutes
    ("pending_payment", "cancelled", {"customer"}),
    ("paid", "cancelled", {"customer"}),
    ("paid", "accepted", {"member", "admin"}),
    ("paid", "rejected", {"member", "admin"}),
    ("accepted", "preparing", {"member", "admin"}),
    ("preparing", "out_for_delivery", {"member", "admin"}),
    ("out_for_delivery", "delivered", {"member", "admin"}),
    # cash on delivery: the order starts placed, with the merchant at once
    ("placed", "cancelled", {"customer"}),
    ("placed", "accepted", {"member", "admin"}),
    ("placed", "rejected", {"member", "admin"}),
    ("out_for_delivery", "failed_delivery", {"member", "admin"}),  # cash on delivery only
]
CASH_ON_DELIVERY_ONLY = {("out_for_delivery", "failed_delivery")}
STATUSES = [status.value for status in OrderStatus]


def test_the_statuses_are_the_eleven_of_the_product_rules() -> None:
    assert STATUSES == [
        "pending_payment",
        "paid",
        "placed",
        "accepted",
        "preparing",
        "out_for_delivery",
        "delivered",
        "failed_delivery",
        "cancelled",
        "rejected",
        "expired",
    ]
    assert set(ACTOR_KINDS) == {"customer", "member", "admin", "system"}


def test_the_transition_table_is_exactly_the_spec() -> None:
    assert {(str(a), str(b)): set(who) for (a, b), who in TRANSITIONS.items()} == {
        (a, b): who for a, b, who in ALLOWED
    }


@pytest.mark.parametrize(
    ("current", "target", "actor"),
    [(a, b, actor) for a, b, who in ALLOWED for actor in sorted(who)],
)
def test_each_allowed_transition_passes_for_its_actors(
    current: str, target: str, actor: lifecycle.ActorKind
) -> None:
    cash = "cash_on_delivery"
    assert check_transition(current, target, actor, cash) is None
    assert check_transition(OrderStatus(current), OrderStatus(target), actor, cash) is None


def test_failed_delivery_exists_for_cash_on_delivery_orders_only() -> None:
    with pytest.raises(InvalidTransition):
        check_transition("out_for_delivery", "failed_delivery", "member")
    assert allowed_targets("out_for_delivery", "member") == ["delivered"]
    assert allowed_targets("out_for_delivery", "member", "cash_on_delivery") == [
        "delivered",
        "failed_delivery",
    ]


@pytest.mark.parametrize(
    ("current", "target", "actor"),
    [
        # the customer cannot progress their own order
        ("paid", "accepted", "customer"),
        ("out_for_delivery", "delivered", "customer"),
        # nor pay it or expire it by hand
        ("pending_payment", "paid", "customer"),
        ("pending_payment", "expired", "customer"),
        # members cannot cancel for the customer, pay or expire
        ("paid", "cancelled", "member"),
        ("pending_payment", "cancelled", "member"),
        ("pending_payment", "paid", "member"),
        ("pending_payment", "expired", "member"),
        # admin: member changes only
        ("paid", "cancelled", "admin"),
        ("pending_payment", "paid", "admin"),
        ("pending_payment", "expired", "admin"),
        # the system only pays and expires
        ("paid", "accepted", "system"),
        ("paid", "cancelled", "system"),
        ("pending_payment", "cancelled", "system"),
    ],
)
def test_an_existing_transition_by_the_wrong_actor_is_forbidden(
    current: str, target: str, actor: lifecycle.ActorKind
) -> None:
    with pytest.raises(Forbidden) as raised:
        check_transition(current, target, actor)
    assert raised.value.http_status == 403
    assert raised.value.code == "forbidden"


@pytest.mark.parametrize(
    ("current", "target", "actor"),
    [
        # skipping steps
        ("pending_payment", "accepted", "member"),
        ("paid", "preparing", "member"),
        ("paid", "delivered", "member"),
        ("accepted", "out_for_delivery", "member"),
        ("preparing", "delivered", "member"),
        # going back
        ("accepted", "paid", "member"),
        ("delivered", "out_for_delivery", "member"),
        ("paid", "pending_payment", "system"),
        # rejecting or cancelling once accepted
        ("accepted", "rejected", "member"),
        ("accepted", "cancelled", "customer"),
        ("preparing", "cancelled", "customer"),
        ("pending_payment", "rejected", "member"),
        # a late payment or expiry
        ("expired", "paid", "system"),
        ("cancelled", "paid", "system"),
        ("paid", "expired", "system"),
        # staying in place
        ("paid", "paid", "system"),
        ("cancelled", "cancelled", "customer"),
        # unknown statuses
        ("paid", "refunded", "member"),
        ("shipped", "delivered", "member"),
    ],
)
def test_a_transition_that_does_not_exist_is_invalid_for_anyone(
    current: str, target: str, actor: lifecycle.ActorKind
) -> None:
    for who in (actor, *ACTOR_KINDS):
        with pytest.raises(InvalidTransition) as raised:
            check_transition(current, target, who)
        assert raised.value.http_status == 409
        assert raised.value.code == "invalid_transition"


@pytest.mark.parametrize("method", ["online", "cash_on_delivery"])
def test_every_pair_of_statuses_is_allowed_forbidden_or_invalid_as_the_table_says(
    method: str,
) -> None:
    # An exhaustive sweep: 11 x 11 statuses x 4 kinds of actor, for each payment method.
    table = {
        (a, b): who
        for a, b, who in ALLOWED
        if method == "cash_on_delivery" or (a, b) not in CASH_ON_DELIVERY_ONLY
    }
    for current, target, actor in itertools.product(STATUSES, STATUSES, ACTOR_KINDS):
        if (current, target) not in table:
            with pytest.raises(InvalidTransition):
                check_transition(current, target, actor, method)
        elif actor not in table[(current, target)]:
            with pytest.raises(Forbidden):
                check_transition(current, target, actor, method)
        else:
            check_transition(current, target, actor, method)


@pytest.mark.parametrize(
    "final", ["delivered", "cancelled", "rejected", "expired", "failed_delivery"]
)
def test_final_statuses_have_no_way_out(final: str) -> None:
    assert final in FINAL_STATUSES
    for actor in ACTOR_KINDS:
        assert allowed_targets(final, actor) == []
        assert allowed_targets(final, actor, "cash_on_delivery") == []


def test_allowed_targets_lists_what_each_actor_may_do_next() -> None:
    assert allowed_targets("paid", "member") == ["accepted", "rejected"]
    assert allowed_targets("paid", "admin") == ["accepted", "rejected"]
    assert allowed_targets("paid", "customer") == ["cancelled"]
    assert allowed_targets("pending_payment", "system") == ["paid", "expired"]
    assert allowed_targets("pending_payment", "customer") == ["cancelled"]
    assert allowed_targets("pending_payment", "member") == []


# --- effects -------------------------------------------------------------------------------


def fx(
    *,
    stock: bool = False,
    refund: bool = False,
    owner: bool = False,
    webhook: lifecycle.MerchantWebhook | None = None,
) -> lifecycle.Effects:
    return Effects(
        releases_stock=stock,
        refunds=refund,
        notify_customer=True,
        notify_merchant_owner=owner,
        merchant_webhook=webhook,
    )


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("pending_payment", "paid", fx(owner=True, webhook="order.paid")),
        ("pending_payment", "expired", fx(stock=True)),
        # the merchant never heard of an unpaid order: no webhook
        ("pending_payment", "cancelled", fx(stock=True)),
        ("paid", "cancelled", fx(stock=True, refund=True, webhook="order.cancelled")),
        ("paid", "rejected", fx(stock=True, refund=True, webhook="order.cancelled")),
        ("paid", "accepted", fx()),
        ("accepted", "preparing", fx()),
        ("preparing", "out_for_delivery", fx()),
        ("out_for_delivery", "delivered", fx()),
        # cash on delivery: the merchant heard of it when placed; nothing was paid
        ("placed", "accepted", fx()),
        ("placed", "cancelled", fx(stock=True, webhook="order.cancelled")),
        ("placed", "rejected", fx(stock=True, webhook="order.cancelled")),
        ("out_for_delivery", "failed_delivery", fx(stock=True)),
    ],
)
def test_each_transition_sets_off_its_side_effects(
    current: str, target: str, expected: lifecycle.Effects
) -> None:
    assert effects(current, target) == expected


def test_only_a_paid_order_is_refunded() -> None:
    refunded = {(a, b) for a, b, _ in ALLOWED if effects(a, b).refunds}
    assert refunded == {("paid", "cancelled"), ("paid", "rejected")}


def test_stock_comes_back_whenever_an_order_ends_unfulfilled() -> None:
    released = {b for a, b, _ in ALLOWED if effects(a, b).releases_stock}
    assert released == {"cancelled", "rejected", "expired", "failed_delivery"}


def test_effects_of_a_transition_that_does_not_exist_is_an_error() -> None:
    with pytest.raises(InvalidTransition):
        effects("delivered", "cancelled")


# --- history -------------------------------------------------------------------------------


def test_history_entry_records_status_time_in_utc_and_actor() -> None:
    jakarta = timezone(timedelta(hours=7))
    at = datetime(2026, 11, 26, 15, 15, 30, 999_999, tzinfo=jakarta)
    assert history_entry(OrderStatus.PAID, at, "system") == {
        "status": "paid",
        "at": "2026-11-26T08:15:30Z",
        "by": "system",
    }
    entry = history_entry("accepted", datetime(2026, 11, 26, 8, 20, tzinfo=UTC), "usr_01")
    assert entry == {"status": "accepted", "at": "2026-11-26T08:20:00Z", "by": "usr_01"}


def test_history_entry_refuses_an_unknown_status() -> None:
    with pytest.raises(ValueError, match="refunded"):
        history_entry("refunded", datetime(2026, 11, 26, tzinfo=UTC), "system")
