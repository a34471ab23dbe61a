"""The merchant's and the operator's side of orders, against the emulation's tables: a
merchant's order list, moving an order along, and promo-code administration."""

from __future__ import annotations

import uuid
from types import ModuleType

import pytest
from support.audit import audit_actions, audit_entries
from support.orders_world import NEAR, customer, merchant_with, meta, order_of, pay

import orders.service
from warung.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from warung.ordering.numbers import new_order_number

# ---------------------------------------------------------------- a merchant's orders


def test_a_merchant_lists_its_own_orders_newest_first_by_status_and_in_pages() -> None:
    owner, merchant_id, product = merchant_with(stock=None)
    _, _, elsewhere = merchant_with(stock=None)
    first, second = customer(), customer()
    placed = [order_of(first, product), order_of(second, product), order_of(first, product)]
    order_of(second, elsewhere)  # another merchant's order
    pay(placed[1])

    listed, cursor = orders.service.merchant_orders(
        owner, merchant_id, status=None, limit=10, cursor=None
    )
    assert [o.order_id for o in listed] == [o.order_id for o in reversed(placed)]
    assert cursor is None

    paid, _ = orders.service.merchant_orders(
        owner, merchant_id, status="paid", limit=10, cursor=None
    )
    assert [(o.order_id, o.status) for o in paid] == [(placed[1].order_id, "paid")]

    page_one, cursor = orders.service.merchant_orders(
        owner, merchant_id, status=None, limit=2, cursor=None
    )
    assert cursor is not None
    page_two, end = orders.service.merchant_orders(
        owner, merchant_id, status=None, limit=2, cursor=cursor
    )
    assert [o.order_id for o in page_one + page_two] == [o.order_id for o in reversed(placed)]
    assert end is None


def test_a_cursor_of_one_merchant_list_is_refused_on_another() -> None:
    owner, merchant_id, product = merchant_with(stock=None)
    other_owner, other_id, other_product = merchant_with(stock=None)
    buyer = customer()
    for _ in range(3):
        order_of(buyer, product)
    order_of(buyer, other_product)
    _, cursor = orders.service.merchant_orders(
        owner, merchant_id, status=None, limit=1, cursor=None
    )

    with pytest.raises(BadRequest) as refused:
        orders.service.merchant_orders(other_owner, other_id, status=None, limit=1, cursor=cursor)
    assert [e.field for e in refused.value.errors] == ["cursor"]


def test_a_merchant_finds_its_order_by_number_however_the_number_is_typed() -> None:
    owner, merchant_id, product = merchant_with(stock=None)
    buyer = customer()
    wanted, other = order_of(buyer, product), order_of(buyer, product)
    assert wanted.number is not None
    assert other.number != wanted.number

    for typed in (
        wanted.number,
        wanted.number.lower(),
        wanted.number.replace("-", ""),
        wanted.number[4:].lower(),
    ):
        found, cursor = orders.service.merchant_orders(
            owner, merchant_id, status=None, limit=20, cursor=None, number=typed
        )
        assert [(o.order_id, o.number) for o in found] == [(wanted.order_id, wanted.number)]
        assert cursor is None


def test_a_number_filter_combines_with_the_status_filter() -> None:
    owner, merchant_id, product = merchant_with(stock=None)
    order = order_of(customer(), product)
    pay(order)

    def listed(status: str) -> list[str]:
        found, _ = orders.service.merchant_orders(
            owner, merchant_id, status=status, limit=20, cursor=None, number=order.number
        )
        return [o.order_id for o in found]

    assert listed("paid") == [order.order_id]
    assert listed("pending_payment") == []


def test_another_merchants_number_or_an_unknown_one_gives_an_empty_list() -> None:
    owner, merchant_id, product = merchant_with(stock=None)
    _, _, elsewhere = merchant_with(stock=None)
    buyer = customer()
    order_of(buyer, product)
    theirs = order_of(buyer, elsewhere)

    for number in (theirs.number, new_order_number()):
        found, cursor = orders.service.merchant_orders(
            owner, merchant_id, status=None, limit=20, cursor=None, number=number
        )
        assert (found, cursor) == ([], None)


@pytest.mark.parametrize("typed", ["", "12345", "WRG-0000-0000", "WRG-7K4Q-2M9XX", "ORD-7K4Q-2M9X"])
def test_a_number_that_is_not_an_order_number_is_a_422_naming_the_parameter(typed: str) -> None:
    owner, merchant_id, _ = merchant_with(stock=None)

    with pytest.raises(ValidationFailed) as refused:
        orders.service.merchant_orders(
            owner, merchant_id, status=None, limit=20, cursor=None, number=typed
        )

    assert [e.field for e in refused.value.errors] == ["number"]
    assert "WRG-7K4Q-2M9X" in refused.value.errors[0].message


def test_a_cursor_of_the_whole_list_is_refused_with_a_number() -> None:
    owner, merchant_id, product = merchant_with(stock=None)
    buyer = customer()
    first, _ = order_of(buyer, product), order_of(buyer, product)
    _, cursor = orders.service.merchant_orders(
        owner, merchant_id, status=None, limit=1, cursor=None
    )
    assert cursor is not None

    with pytest.raises(BadRequest) as refused:
        orders.service.merchant_orders(
            owner, merchant_id, status=None, limit=1, cursor=cursor, number=first.number
        )
    assert [e.field for e in refused.value.errors] == ["cursor"]


# ---------------------------------------------------------------- moving an order along


def test_the_merchant_takes_a_paid_order_to_the_door_one_step_at_a_time() -> None:
    owner, _, product = merchant_with(stock=None)
    buyer = customer()
    order = order_of(buyer, product)
    pay(order)

    with pytest.raises(InvalidTransition):  # no skipping steps
        orders.service.change_order_status(owner, order.order_id, "delivered", None, meta())
    for status in ("accepted", "preparing", "out_for_delivery", "delivered"):
        moved = orders.service.change_order_status(owner, order.order_id, status, None, meta())
        assert moved.status == status

    seen = orders.service.order_for(buyer, order.order_id)
    assert [h["status"] for h in seen.status_history] == [
        "pending_payment",
        "paid",
        "accepted",
        "preparing",
        "out_for_delivery",
        "delivered",
    ]
    assert [h["by"] for h in seen.status_history[2:]] == [owner.user_id] * 4
    assert audit_actions(f"order:{order.order_id}")[-4:] == [
        "order.accepted",
        "order.preparing",
        "order.out_for_delivery",
        "order.delivered",
    ]


def test_an_unpaid_order_cannot_be_accepted_and_only_the_merchant_moves_it() -> None:
    owner, _, product = merchant_with(stock=None)
    stranger, _, _ = merchant_with(stock=None)
    buyer = customer()
    order = order_of(buyer, product)

    with pytest.raises(InvalidTransition):
        orders.service.change_order_status(owner, order.order_id, "accepted", None, meta())
    pay(order)
    with pytest.raises(Forbidden):  # the customer sees the order but does not move it
        orders.service.change_order_status(buyer, order.order_id, "accepted", None, meta())
    with pytest.raises(NotFound):  # another merchant's owner does not even see it
        orders.service.change_order_status(stranger, order.order_id, "accepted", None, meta())
    assert orders.service.order_for(buyer, order.order_id).status == "paid"


def test_a_rejection_keeps_its_reason() -> None:
    owner, _, product = merchant_with(stock=None)
    order = order_of(customer(), product)
    pay(order)

    rejected = orders.service.change_order_status(
        owner, order.order_id, "rejected", "Kompor rusak", meta()
    )

    assert (rejected.status, rejected.reason) == ("rejected", "Kompor rusak")
    with pytest.raises(InvalidTransition):  # rejected is final
        orders.service.change_order_status(owner, order.order_id, "accepted", None, meta())


# ---------------------------------------------------------------- promo codes


def _code(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6].upper()}"


def test_an_admin_creates_lists_and_switches_promo_codes(clock: ModuleType) -> None:
    # The older code sorts after the newer one by name: only "newest first" lists them as
    # asserted. An hour ahead of the real now, they are the newest of the stage's codes.
    first, second = _code("ZHEMAT"), _code("AONGKIR")
    clock.freeze(clock.epoch_seconds() + 3600)
    made = orders.service.create_promo(
        "admin-1",
        {"code": first.lower(), "type": "percent", "value": 15, "max_discount": 20000},
        meta(),
    )
    clock.advance(60)
    orders.service.create_promo(
        "admin-1", {"code": second, "type": "fixed", "value": 5000, "min_subtotal": 30000}, meta()
    )
    clock.advance(60)

    assert (made.code, made.kind, made.value, made.used, made.active) == (
        first,
        "percent",
        15,
        0,
        True,
    )
    listed, _ = orders.service.list_promos("admin-1", limit=100, cursor=None)
    codes = [p.code for p in listed]
    assert codes[:2] == [second, first]  # newest first

    switched = orders.service.set_promo_active("admin-1", first, False, meta())
    assert switched.active is False
    assert audit_actions(f"promo:{first}") == ["promo.created", "promo.updated"]
    assert {e["actor_type"] for e in audit_entries(f"promo:{first}")} == {"admin"}


def test_a_promo_code_is_unique_whatever_its_case() -> None:
    code = _code("SAMA")
    orders.service.create_promo("admin-1", {"code": code, "type": "percent", "value": 5}, meta())

    with pytest.raises(Conflict):
        orders.service.create_promo(
            "admin-1", {"code": code.lower(), "type": "fixed", "value": 1000}, meta()
        )


def test_switching_an_unknown_code_is_404_and_a_bad_definition_422() -> None:
    with pytest.raises(NotFound):
        orders.service.set_promo_active("admin-1", _code("NONE"), False, meta())
    with pytest.raises(ValidationFailed):
        orders.service.create_promo(
            "admin-1", {"code": _code("BAD"), "type": "percent", "value": 150}, meta()
        )


def test_a_fixed_code_applies_from_its_minimum_subtotal() -> None:
    code = _code("MIN")
    orders.service.create_promo(
        "admin-1",
        {"code": code, "type": "fixed", "value": 5000, "min_subtotal": 50000},
        meta(),
    )
    _, _, product = merchant_with(stock=None, price=25000)
    buyer = customer()

    orders.service.set_cart_item(buyer.user_id, product, 1)
    with pytest.raises(ValidationFailed) as below:
        orders.service.quote(buyer.user_id, NEAR, code)
    orders.service.set_cart_item(buyer.user_id, product, 2)
    quoted = orders.service.quote(buyer.user_id, NEAR, code)

    assert below.value.errors[0].field == "promo_code"
    assert (quoted.breakdown.subtotal, quoted.breakdown.discount) == (50000, 5000)
