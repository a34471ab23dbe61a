"""Checkout, status changes and expiry against the emulation's tables (created from the real
template, under a stage of their own), with truly concurrent callers: the emulation
serialises each request as DynamoDB serialises writes to an item, but the reads and
writes of different checkouts interleave freely."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support.stacks import new_account, provision_stage, reset_function_caches, run_as

import catalog.service.merchants
import catalog.service.products
import orders.expiry
import orders.repository
import orders.service
from warung.auth import Caller
from warung.context import RequestMeta
from warung.dynamo import Transaction, dynamodb_client, from_item
from warung.errors import ApiError, Conflict, InsufficientStock, ValidationFailed
from warung.ids import rfc3339, utc_now
from warung.settings import get_settings

ROOT = Path(__file__).resolve().parents[3]

STAGE = "ordersit"
MONAS = {"lat": -6.1754, "lon": 106.8272}
NEAR = {
    "line1": "Jl. Thamrin 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.195,
    "lon": 106.823,
}


@pytest.fixture(scope="module")
def orders_stack(app_stack: Any) -> Any:
    return provision_stage(app_stack.endpoint_url, STAGE)


@pytest.fixture(autouse=True)
def world(app_stack: Any, orders_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    run_as(orders_stack, "OrdersFunction", app_stack.endpoint_url, monkeypatch)
    yield
    reset_function_caches(app_stack.endpoint_url)


def meta() -> RequestMeta:
    return RequestMeta(f"req-{uuid.uuid4().hex[:8]}", "203.0.113.9", "orders-it/1.0")


def customer() -> Caller:
    made = new_account("Budi")
    return Caller(made.user_id, "s", frozenset({"customer"}), True, {})


def merchant_with(stock: int | None, price: int = 25000) -> tuple[Caller, str, str]:
    owner = customer()
    body = {
        "name": "Warung Bu Sri",
        "description": "",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. Sabang 10", "city": "Jakarta", "postal_code": "10160"},
        "location": MONAS,
    }
    merchant = catalog.service.merchants.open_merchant(owner.user_id, body, meta())
    catalog.service.merchants.change_status("admin", merchant.merchant_id, "active", meta())
    product = catalog.service.products.add_product(
        owner.user_id,
        merchant.merchant_id,
        {"name": "Nasi Goreng", "price": price, "category": "food", "stock": stock},
        meta(),
    )
    member = Caller(
        owner.user_id, "s", frozenset({"customer"}), True, {merchant.merchant_id: "owner"}
    )
    return member, merchant.merchant_id, product.product_id


def product_item(product_id: str) -> dict[str, Any]:
    raw = dynamodb_client().get_item(
        TableName=get_settings().table_name,
        Key={"pk": {"S": f"PRODUCT#{product_id}"}, "sk": {"S": "PRODUCT"}},
        ConsistentRead=True,
    )["Item"]
    return from_item(raw)


def stock_of(product_id: str) -> Any:
    return product_item(product_id).get("stock")


def place(who: Caller, promo_code: str | None = None) -> Any:
    body: dict[str, Any] = {"delivery_address": NEAR}
    if promo_code:
        body["promo_code"] = promo_code
    return orders.service.checkout(who, body, meta())[0]


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
    from warung.order_lifecycle import OrderStatus
    from warung.orders import change_status

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
    assert final.status == winners[0].status
    assert [h["status"] for h in final.status_history] == ["pending_payment", "paid", final.status]


def test_an_unpaid_order_expires_after_its_window_and_its_stock_returns() -> None:
    _, _, product = merchant_with(stock=3)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 2)
    order = place(buyer)
    assert stock_of(product) == 1
    schedule = {"id": "evt-1", "detail-type": "Scheduled Event", "source": "aws.events"}

    class Context:
        aws_request_id = "ctx"
        function_name = "order-expiry"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:ap-southeast-1:123456789012:function:x"

    fourteen = utc_now() + timedelta(minutes=14)
    assert orders.expiry.handler({**schedule, "time": rfc3339(fourteen)}, Context()) == {
        "expired": 0
    }
    assert orders.repository.get_order(order.order_id).status == "pending_payment"

    sixteen = utc_now() + timedelta(minutes=16)
    result = orders.expiry.handler({**schedule, "time": rfc3339(sixteen)}, Context())
    assert result["expired"] >= 1
    expired = orders.repository.get_order(order.order_id)
    assert expired.status == "expired"
    assert [h["by"] for h in expired.status_history] == [buyer.user_id, "system"]
    assert expired.status_history[-1]["at"] == rfc3339(sixteen)  # the schedule's time
    assert stock_of(product) == 3
    # the product's representation changed: a new version, stamped with the change
    assert (product_item(product)["version"], product_item(product)["updated_at"]) == (
        3,
        rfc3339(sixteen),
    )
    assert orders.repository.get_payment_status(order.payment_id) == "expired"
    # off the worklist: a later run finds nothing of it
    again = orders.expiry.handler({**schedule, "time": rfc3339(sixteen)}, Context())
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
        dynamodb_client()
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
    from warung.order_lifecycle import OrderStatus
    from warung.orders import change_status
    from warung.store.payments import payment_key

    tx = Transaction()
    change_status(
        tx, order, OrderStatus.PAID, by="system", at=rfc3339(utc_now()), payment_status="succeeded"
    )
    tx.update(
        get_settings().table_name,
        payment_key(order.payment_id),
        "SET #s = :s",
        names={"#s": "status"},
        values={":s": "succeeded"},
    )
    tx.commit()

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
    assert _audit_actions(f"order:{order.order_id}") == ["order.created", "order.rejected"]


def _audit_actions(resource: str) -> list[str]:
    response = dynamodb_client().query(
        TableName=get_settings().audit_table_name,
        IndexName="by_resource",
        KeyConditionExpression="resource_pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RES#{resource}"}},
    )
    return [from_item(i)["action"] for i in sorted(response["Items"], key=lambda i: i["sk"]["S"])]


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

    assert switched["active"] is False
    with pytest.raises(ValidationFailed) as refused:
        orders.service.quote(buyer.user_id, NEAR, code)
    assert refused.value.errors[0].field == "promo_code"
