"""Checkout, status changes and expiry against the emulation's tables (created from the real
template, under a stage of their own), with truly concurrent callers: the emulation
serialises each request as DynamoDB serialises writes to an item, but the reads and
writes of different checkouts interleave freely."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from support.audit import audit_actions, audit_entries
from support.events import FakeContext
from support.orders_world import (
    NEAR,
    customer,
    merchant_with,
    meta,
    pay,
    place,
    stock_of,
)
from support.whole_models import whole_dynamodb_client

import catalog.service.products
import orders.expiry
import orders.repository
import orders.service
from warung.auth import Caller
from warung.dynamo import Transaction, dynamodb_client, from_item, get_item, to_item
from warung.errors import ApiError, Conflict, InsufficientStock, OrderNumberTaken, ValidationFailed
from warung.ids import rfc3339, utc_now
from warung.ordering.numbers import new_order_number
from warung.settings import get_settings
from warung.store.orders import order_number_key
from warung.store.products import stock_key


def attempt(who: Caller, promo_code: str | None = None) -> Any:
    try:
        return place(who, promo_code)
    except ApiError as error:
        return error


def test_twenty_customers_race_for_the_last_five_units() -> None:
    _, _, product = merchant_with(stock=5)
    buyers = [customer() for _ in range(20)]
    for buyer in buyers:
        orders.service.set_cart_item(buyer.user_id, product, 1)

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, buyers))

    placed = [o for o in outcomes if not isinstance(o, ApiError)]
    refused = [o for o in outcomes if isinstance(o, ApiError)]
    assert len(placed) == 5
    assert {type(e) for e in refused} == {InsufficientStock}
    assert stock_of(product) == 0


def test_a_promo_with_one_use_gives_one_discount_under_ten_parallel_checkouts() -> None:
    code = f"ONCE{uuid.uuid4().hex[:6].upper()}"
    orders.service.create_promo(
        "admin", {"code": code, "type": "fixed", "value": 5000, "usage_limit": 1}, meta()
    )
    _, _, product = merchant_with(stock=None)
    buyers = [customer() for _ in range(10)]
    for buyer in buyers:
        orders.service.set_cart_item(buyer.user_id, product, 1)

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(lambda b: attempt(b, code), buyers))

    placed = [o for o in outcomes if not isinstance(o, ApiError)]
    assert [o.discount for o in placed] == [5000]
    refused = [o for o in outcomes if isinstance(o, ApiError)]
    assert len(refused) == 9
    assert all(isinstance(e, ValidationFailed) for e in refused)
    assert all(e.errors[0].field == "promo_code" for e in refused)


def test_two_racing_moves_of_one_order_cannot_both_win() -> None:
    owner, _, product = merchant_with(stock=None)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    order = place(buyer)
    # paid by the provider (as the payments function does)
    from warung.ordering.lifecycle import OrderStatus
    from warung.ordering.status import change_status

    tx = Transaction()
    change_status(
        tx, order, OrderStatus.PAID, by="system", at=rfc3339(utc_now()), payment_status="succeeded"
    )
    tx.commit()

    def move(target: str) -> Any:
        try:
            return orders.service.change_order_status(owner, order.order_id, target, None, meta())
        except ApiError as error:
            return error

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(move, ["accepted", "rejected"] * 3))
    winners = [o for o in outcomes if not isinstance(o, ApiError)]
    assert len(winners) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, ApiError))
    final = orders.repository.get_order(order.order_id)
    assert final is not None
    assert final.status == winners[0].status
    assert [h["status"] for h in final.status_history] == ["pending_payment", "paid", final.status]


def test_an_unpaid_order_expires_after_its_window_and_its_stock_returns() -> None:
    _, _, product = merchant_with(stock=3)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 2)
    order = place(buyer)
    assert stock_of(product) == 1
    schedule = {"id": "evt-1", "detail-type": "Scheduled Event", "source": "aws.events"}

    def context() -> FakeContext:
        return FakeContext(
            function_name="order-expiry",
            memory_limit_in_mb=512,
            invoked_function_arn="arn:aws:lambda:ap-southeast-1:123456789012:function:x",
            aws_request_id="ctx",
        )

    fourteen = utc_now() + timedelta(minutes=14)
    # (orders other tests of this stage left unpaid a while ago may be due by then: not
    # this one)
    orders.expiry.handler({**schedule, "time": rfc3339(fourteen)}, context())
    waiting = orders.repository.get_order(order.order_id)
    assert waiting is not None
    assert waiting.status == "pending_payment"

    sixteen = utc_now() + timedelta(minutes=16)
    result = orders.expiry.handler({**schedule, "time": rfc3339(sixteen)}, context())
    assert result["expired"] >= 1
    expired = orders.repository.get_order(order.order_id)
    assert expired is not None
    assert expired.status == "expired"
    assert [h["by"] for h in expired.status_history] == [buyer.user_id, "system"]
    (expiry_entry,) = [
        e for e in audit_entries(f"order:{order.order_id}") if e["action"] == "order.expired"
    ]
    assert (expiry_entry["actor_id"], expiry_entry["actor_type"]) == ("system", "system")
    assert "ip_hash" not in expiry_entry  # a schedule has no caller address
    assert expired.status_history[-1]["at"] == rfc3339(sixteen)  # the schedule's time
    assert stock_of(product) == 3
    # the product's representation changed: a new version, stamped with the change
    seen, _ = catalog.service.products.product_for(product, None)
    assert (seen.version, seen.updated_at) == (3, rfc3339(sixteen))
    assert orders.repository.get_payment_status(order.payment_id) == "expired"
    # off the worklist: a later run finds nothing of it
    again = orders.expiry.handler({**schedule, "time": rfc3339(sixteen)}, context())
    assert again == {"expired": 0}


def _depth(traceback: Any) -> int:
    frames = 0
    while traceback is not None:
        frames, traceback = frames + 1, traceback.tb_next
    return frames


def test_a_sixth_unpaid_order_is_refused_and_cancelling_one_frees_a_slot() -> None:
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    placed = []
    for _ in range(5):
        orders.service.set_cart_item(buyer.user_id, product, 1)
        placed.append(place(buyer))
    orders.service.set_cart_item(buyer.user_id, product, 1)
    with pytest.raises(Conflict) as first:
        place(buyer)
    with pytest.raises(Conflict) as second:
        place(buyer)
    assert "5 orders awaiting payment" in second.value.detail
    # each refusal is its own error: a shared instance would carry the first request's
    # traceback into the second's
    assert second.value is not first.value
    assert _depth(second.value.__traceback__) == _depth(first.value.__traceback__)
    orders.service.cancel(buyer, placed[0].order_id, meta())
    assert place(buyer).status == "pending_payment"


def _outbox_jobs(correlation_id: str) -> list[dict[str, Any]]:
    # A test may look at the whole (small, private) table; request paths never Scan.
    pages = (
        whole_dynamodb_client()
        .get_paginator("scan")
        .paginate(
            TableName=get_settings().table_name,
            FilterExpression="begins_with(pk, :outbox) AND correlation_id = :cid",
            ExpressionAttributeValues={":outbox": {"S": "OUTBOX#"}, ":cid": {"S": correlation_id}},
        )
    )
    return [from_item(item) for page in pages for item in page["Items"]]


def test_a_rejected_paid_order_refunds_gives_stock_back_and_its_jobs_follow_the_checkout() -> None:
    owner, _, product = merchant_with(stock=4)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 3)
    checkout_meta = meta()
    order = orders.service.checkout(buyer, {"delivery_address": NEAR}, checkout_meta)[0]
    pay(order)

    rejected = orders.service.change_order_status(
        owner, order.order_id, "rejected", "Habis", meta()
    )

    assert (rejected.status, rejected.reason) == ("rejected", "Habis")
    assert stock_of(product) == 4
    assert orders.repository.get_payment_status(order.payment_id) == "refund_pending"
    jobs = {job["job_type"]: job for job in _outbox_jobs(checkout_meta.request_id)}
    assert set(jobs) == {"email.order_status", "webhook.deliver", "payment.refund"}
    assert jobs["payment.refund"]["payload"]["amount"] == order.total
    assert jobs["webhook.deliver"]["payload"]["event"] == "order.cancelled"
    assert jobs["webhook.deliver"]["payload"]["data"]["number"] == order.number
    assert jobs["email.order_status"]["payload"]["order_number"] == order.number
    assert audit_actions(f"order:{order.order_id}") == ["order.created", "order.rejected"]


def test_a_switched_off_promo_code_no_longer_applies() -> None:
    code = f"OFF{uuid.uuid4().hex[:6].upper()}"
    orders.service.create_promo(
        "admin", {"code": code.lower(), "type": "percent", "value": 10}, meta()
    )
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    assert orders.service.quote(buyer.user_id, NEAR, code).breakdown.discount == 2500

    switched = orders.service.set_promo_active("admin", code, False, meta())

    assert switched.active is False
    with pytest.raises(ValidationFailed) as refused:
        orders.service.quote(buyer.user_id, NEAR, code)
    assert refused.value.errors[0].field == "promo_code"


# ---------------------------------------------------------------- order numbers


class Draws:
    """Checkout's source of order numbers, scripted: the numbers given, in turn; ``before``
    runs on each draw (checkout draws after its reads, just before its transaction)."""

    def __init__(self, *numbers: str, before: Callable[[], object] | None = None) -> None:
        self.numbers = list(numbers)
        self.before = before
        self.drawn: list[str] = []

    def __call__(self) -> str:
        if self.before is not None:
            self.before()
        number = self.numbers[len(self.drawn)]
        self.drawn.append(number)
        return number


def take_number(number: str) -> None:
    """Another order of another merchant has ``number`` already."""
    dynamodb_client().put_item(
        TableName=get_settings().table_name,
        Item=to_item(
            {
                **order_number_key(number),
                "entity": "order_number",
                "order_id": "ord_someone_else",
                "merchant_id": "mer_someone_else",
            }
        ),
    )


def number_item(number: str) -> dict[str, Any] | None:
    return get_item(order_number_key(number), table=get_settings().table_name)


def test_checkout_gives_the_order_the_number_it_drew_and_claims_it() -> None:
    _, merchant_id, product = merchant_with(stock=3)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    number = new_order_number()

    order = orders.service.checkout(
        buyer, {"delivery_address": NEAR}, meta(), draw_number=Draws(number)
    )[0]

    assert order.number == number
    stored = orders.repository.get_order(order.order_id)
    assert stored is not None
    assert stored.number == number
    claim = number_item(number)
    assert claim is not None
    assert (claim["order_id"], claim["merchant_id"]) == (order.order_id, merchant_id)
    assert audit_entries(f"order:{order.order_id}")[0]["changes"]["number"] == number


def test_a_number_taken_already_is_drawn_again_and_the_order_gets_the_next() -> None:
    _, _, product = merchant_with(stock=3)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 2)
    taken, free = new_order_number(), new_order_number()
    take_number(taken)
    draws = Draws(taken, free)

    order = orders.service.checkout(buyer, {"delivery_address": NEAR}, meta(), draw_number=draws)[0]

    assert draws.drawn == [taken, free]
    assert order.number == free
    stored = orders.repository.get_order(order.order_id)
    assert stored is not None
    assert stored.number == free
    # the taken number still names the order that had it; the new one names this order
    assert (number_item(taken) or {})["order_id"] == "ord_someone_else"
    assert (number_item(free) or {})["order_id"] == order.order_id
    # one order, placed once: its stock taken once, one audit entry, the cart emptied
    mine, _ = orders.service.customer_orders(buyer, status=None, limit=10, cursor=None)
    assert [o.order_id for o in mine] == [order.order_id]
    assert stock_of(product) == 1
    assert audit_actions(f"order:{order.order_id}") == ["order.created"]
    assert orders.service.view_cart(buyer.user_id).lines == []


def test_when_every_number_drawn_is_taken_the_checkout_is_refused_and_changes_nothing() -> None:
    _, _, product = merchant_with(stock=3)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    taken = [new_order_number() for _ in range(orders.service.MAX_NUMBER_DRAWS)]
    for number in taken:
        take_number(number)
    draws = Draws(*taken, new_order_number())

    with pytest.raises(OrderNumberTaken) as refused:
        orders.service.checkout(buyer, {"delivery_address": NEAR}, meta(), draw_number=draws)

    assert draws.drawn == taken  # a bounded number of draws
    assert (refused.value.http_status, refused.value.code) == (409, "conflict")
    assert "try again" in refused.value.detail
    assert stock_of(product) == 3
    assert orders.service.customer_orders(buyer, status=None, limit=10, cursor=None)[0] == []
    assert len(orders.service.view_cart(buyer.user_id).lines) == 1  # the cart is kept
    assert all((number_item(n) or {})["order_id"] == "ord_someone_else" for n in taken)


def test_a_checkout_short_of_stock_is_refused_for_it_before_any_number_is_drawn() -> None:
    _, _, product = merchant_with(stock=1)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    draws = Draws(new_order_number())
    dynamodb_client().update_item(
        TableName=get_settings().table_name,
        Key=to_item(stock_key(product)),
        UpdateExpression="SET stock = :none",
        ExpressionAttributeValues=to_item({":none": 0}),
    )

    with pytest.raises(InsufficientStock):
        orders.service.checkout(buyer, {"delivery_address": NEAR}, meta(), draw_number=draws)

    assert draws.drawn == []


def test_stock_lost_to_a_race_is_reported_as_such_even_when_the_number_was_taken_too() -> None:
    # Between checkout's reads and its transaction another customer buys the last unit, and
    # the number drawn is taken: both conditions fail. The customer is told about the stock
    # (retrying with another number would not help), and no second number is drawn.
    _, _, product = merchant_with(stock=1)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    taken = new_order_number()
    take_number(taken)

    def sold_meanwhile() -> None:
        dynamodb_client().update_item(
            TableName=get_settings().table_name,
            Key=to_item(stock_key(product)),
            UpdateExpression="SET stock = :none",
            ExpressionAttributeValues=to_item({":none": 0}),
        )

    draws = Draws(taken, new_order_number(), before=sold_meanwhile)

    with pytest.raises(InsufficientStock):
        orders.service.checkout(buyer, {"delivery_address": NEAR}, meta(), draw_number=draws)

    assert draws.drawn == [taken]
    assert orders.service.customer_orders(buyer, status=None, limit=10, cursor=None)[0] == []


def test_a_cart_changed_during_checkout_is_reported_as_such_even_with_a_taken_number(
    clock: ModuleType,
) -> None:
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    taken = new_order_number()
    take_number(taken)

    def changed_in_another_tab() -> None:
        clock.advance(2)  # a cart's version is its time of change, to the second
        orders.service.set_cart_item(buyer.user_id, product, 2)

    draws = Draws(taken, new_order_number(), before=changed_in_another_tab)

    with pytest.raises(Conflict) as refused:
        orders.service.checkout(buyer, {"delivery_address": NEAR}, meta(), draw_number=draws)

    assert not isinstance(refused.value, OrderNumberTaken)
    assert "cart changed" in refused.value.detail
    assert draws.drawn == [taken]
