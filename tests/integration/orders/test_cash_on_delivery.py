"""Cash on delivery against the emulation's tables (docs/product.md, "Cash on delivery"):
checkout, the ceiling and the merchant's switch, one undelivered order at a time, failed
deliveries giving stock back and taking cash on delivery away, and an admin giving it back."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from support.audit import audit_actions, audit_entries
from support.orders_world import NEAR, customer, merchant_with, meta, stock_of
from support.whole_models import whole_dynamodb_client

import auth.service
import catalog.service.merchants
import orders.repository
import orders.service
from warung.auth import Caller
from warung.dynamo import from_item
from warung.errors import ApiError
from warung.settings import get_settings
from warung.store.orders import Order

COD = {"delivery_address": NEAR, "payment_method": "cash_on_delivery"}
DAY = 24 * 3600


def cod_order(who: Caller, product_id: str, quantity: int = 1) -> Order:
    orders.service.set_cart_item(who.user_id, product_id, quantity)
    return orders.service.checkout(who, COD, meta())[0]


def refused(who: Caller, product_id: str, quantity: int = 1) -> ApiError:
    orders.service.set_cart_item(who.user_id, product_id, quantity)
    with pytest.raises(ApiError) as raised:
        orders.service.checkout(who, COD, meta())
    return raised.value


def move(owner: Caller, order: Order, *targets: str) -> Order:
    for target in targets:
        order = orders.service.change_order_status(owner, order.order_id, target, None, meta())
    return order


def fail_delivery(owner: Caller, order: Order) -> Order:
    return move(owner, order, "accepted", "preparing", "out_for_delivery", "failed_delivery")


def outbox_jobs(correlation_id: str) -> list[dict[str, Any]]:
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


def test_a_cod_order_is_placed_with_the_merchant_at_once_and_collected_on_delivery() -> None:
    owner, _, product = merchant_with(stock=5)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 2)
    checkout_meta = meta()

    order, payment = orders.service.checkout(buyer, COD, checkout_meta)

    assert (order.status, order.payment_method) == ("placed", "cash_on_delivery")
    assert (payment.status, order.payment_status) == ("due_on_delivery", "due_on_delivery")
    assert stock_of(product) == 3
    jobs = outbox_jobs(checkout_meta.request_id)
    by_type = {job["job_type"]: job["payload"] for job in jobs}
    assert by_type["webhook.deliver"]["event"] == "order.placed"
    assert by_type["webhook.deliver"]["data"]["payment_method"] == "cash_on_delivery"
    assert by_type["email.merchant_new_order"]["order_number"] == order.number
    assert by_type["email.merchant_new_order"]["payment_method"] == "cash_on_delivery"
    assert by_type["email.order_status"]["status"] == "placed"
    assert "payment.refund" not in by_type

    delivered = move(owner, order, "accepted", "preparing", "out_for_delivery", "delivered")

    assert delivered.status == "delivered"
    assert orders.repository.get_payment_status(order.payment_id) == "collected"
    assert orders.service.order_for(buyer, order.order_id).payment_status == "collected"
    assert audit_actions(f"order:{order.order_id}") == [
        "order.created",
        "order.accepted",
        "order.preparing",
        "order.out_for_delivery",
        "order.delivered",
    ]
    # delivered: the customer may order with cash on delivery again
    assert cod_order(buyer, product).status == "placed"


def test_an_online_checkout_is_unchanged_by_default() -> None:
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    order, payment = orders.service.checkout(buyer, {"delivery_address": NEAR}, meta())
    assert (order.status, order.payment_method, payment.status) == (
        "pending_payment",
        "online",
        "pending",
    )


def test_a_second_undelivered_cod_order_is_refused_until_the_first_ends() -> None:
    owner, _, product = merchant_with(stock=None)
    buyer = customer()
    first = cod_order(buyer, product)

    error = refused(buyer, product)

    assert (error.http_status, error.code) == (409, "cod_order_open")
    move(owner, first, "rejected")
    assert cod_order(buyer, product).status == "placed"


def test_cancelled_or_rejected_cod_orders_give_stock_back_and_need_no_refund() -> None:
    owner, _, product = merchant_with(stock=3)
    buyer = customer()
    cancelled_meta = meta()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    order = orders.service.checkout(buyer, COD, cancelled_meta)[0]

    cancelled = orders.service.cancel(buyer, order.order_id, meta())

    assert cancelled.status == "cancelled"
    assert stock_of(product) == 3
    assert orders.repository.get_payment_status(order.payment_id) == "cancelled"
    types = [job["job_type"] for job in outbox_jobs(cancelled_meta.request_id)]
    assert "payment.refund" not in types
    assert types.count("webhook.deliver") == 2  # order.placed, then order.cancelled

    rejected = move(owner, cod_order(buyer, product), "rejected")
    assert rejected.status == "rejected"
    assert orders.repository.get_payment_status(rejected.payment_id) == "cancelled"
    assert stock_of(product) == 3


def test_a_cod_order_above_the_ceiling_is_refused() -> None:
    _, _, product = merchant_with(stock=None, price=150_000)
    buyer = customer()

    error = refused(buyer, product, quantity=2)  # 300.000 before delivery and tax

    assert (error.http_status, error.code) == (422, "cod_limit_exceeded")
    assert "300.000" in error.detail


def test_a_merchant_that_turned_cod_off_refuses_it() -> None:
    owner, merchant_id, product = merchant_with(stock=None)
    changed = catalog.service.merchants.update_merchant(
        owner, merchant_id, {"accepts_cash_on_delivery": False}, meta()
    )
    assert changed.accepts_cash_on_delivery is False

    error = refused(customer(), product)

    assert (error.http_status, error.code) == (422, "cod_not_accepted")


def test_a_failed_delivery_gives_stock_back_and_frees_the_slot() -> None:
    owner, _, product = merchant_with(stock=4)
    buyer = customer()
    order = cod_order(buyer, product, quantity=3)
    assert stock_of(product) == 1

    failed = fail_delivery(owner, order)

    assert failed.status == "failed_delivery"
    assert stock_of(product) == 4
    assert orders.repository.get_payment_status(order.payment_id) == "failed"
    assert audit_actions(f"order:{order.order_id}")[-1] == "order.failed_delivery"
    assert cod_order(buyer, product).status == "placed"  # one failure: still allowed


def test_an_online_order_cannot_be_marked_failed_delivery() -> None:
    from support.orders_world import order_of, pay

    owner, _, product = merchant_with(stock=None)
    order = order_of(customer(), product)
    pay(order)
    order = move(owner, orders.service.order_for(owner, order.order_id), "accepted")
    order = move(owner, order, "preparing", "out_for_delivery")
    with pytest.raises(ApiError) as raised:
        move(owner, order, "failed_delivery")
    assert (raised.value.http_status, raised.value.code) == (409, "invalid_transition")


def test_two_failed_deliveries_in_90_days_revoke_cod_until_an_admin_restores_it(
    clock: ModuleType,
) -> None:
    owner, _, product = merchant_with(stock=None)
    buyer = customer()
    fail_delivery(owner, cod_order(buyer, product))
    clock.advance(89 * DAY)
    second = fail_delivery(owner, cod_order(buyer, product))

    error = refused(buyer, product)

    assert (error.http_status, error.code) == (403, "cod_not_available")
    revoking = audit_entries(f"order:{second.order_id}")[-1]
    assert revoking["changes"]["cash_on_delivery_revoked"] is True
    # paying online still works
    assert orders.service.checkout(buyer, {"delivery_address": NEAR}, meta())[0].status == (
        "pending_payment"
    )

    auth.service.administer(
        "admin-1", buyer.user_id, roles=None, disabled=None, cash_on_delivery=True, meta=meta()
    )

    assert cod_order(buyer, product).status == "placed"
    restored = audit_entries(f"user:{buyer.user_id}")[-1]
    assert restored["action"] == "admin.user_updated"
    assert restored["changes"]["cash_on_delivery"] == {"from": False, "to": True}


def test_failures_more_than_90_days_apart_do_not_revoke_cod(clock: ModuleType) -> None:
    owner, _, product = merchant_with(stock=None)
    buyer = customer()
    fail_delivery(owner, cod_order(buyer, product))
    clock.advance(90 * DAY + 1)
    fail_delivery(owner, cod_order(buyer, product))

    assert cod_order(buyer, product).status == "placed"
