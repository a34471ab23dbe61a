"""A promo code's uses counted on sharded counters (docs/decisions/0029), against the
emulation: exact under parallel checkouts, given back to the counter they came from, summed
in the admin views; and a code stored before counters were sharded still counts on its own
item. Like the other race tests, the parallel callers go through the emulation's request
lock, which serialises each request as DynamoDB serialises writes to an item."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from support.orders_world import NEAR, customer, merchant_with, meta

import orders.repository
import orders.service
from warung.auth import Caller
from warung.dynamo import Transaction, dynamodb_client, from_item, to_item
from warung.errors import ApiError, ValidationFailed
from warung.ids import rfc3339, utc_now
from warung.settings import get_settings
from warung.store.orders import Order
from warung.store.promos import (
    Promo,
    promo_customer_key,
    promo_item,
    promo_key,
    promo_shard_key,
    promo_use_key,
)

USED_UP = "This promo code has reached its usage limit."


def _code(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6].upper()}"


def _stored(key: dict[str, str]) -> dict[str, Any] | None:
    raw = dynamodb_client().get_item(
        TableName=get_settings().table_name, Key=to_item(key), ConsistentRead=True
    )
    return from_item(raw["Item"]) if "Item" in raw else None


def _used(key: dict[str, str], attribute: str = "used") -> int:
    return int((_stored(key) or {}).get(attribute, 0))


def _set_used(code: str, counts: list[int]) -> None:
    """Given: the code's counters have counted these uses already (a day of the sale)."""
    for shard, count in enumerate(counts):
        dynamodb_client().update_item(
            TableName=get_settings().table_name,
            Key=to_item(promo_shard_key(code, shard)),
            UpdateExpression="SET used = :n",
            ExpressionAttributeValues=to_item({":n": count}),
        )


def _buyer_with_cart(product: str) -> Caller:
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    return buyer


def _checkout(who: Caller, code: str, shuffle: Any = None) -> Order:
    body = {"delivery_address": NEAR, "promo_code": code}
    if shuffle is None:
        return orders.service.checkout(who, body, meta())[0]
    return orders.service.checkout(who, body, meta(), shuffle=shuffle)[0]


def _attempt(who: Caller, code: str) -> Order | ApiError:
    try:
        return _checkout(who, code)
    except ApiError as error:
        return error


def test_fifty_parallel_checkouts_for_the_last_ten_uses_of_a_sharded_code_place_exactly_ten() -> (
    None
):
    code = _code("FLASH")
    made = orders.service.create_promo(
        "admin", {"code": code, "type": "fixed", "value": 5000, "usage_limit": 4000}, meta()
    )
    assert made.shards == 4
    # 10 uses left, on two of the four counters (1,000 each): 3 on shard 0, 7 on shard 2
    _set_used(code, [997, 1000, 993, 1000])
    _, _, product = merchant_with(stock=None)
    buyers = [_buyer_with_cart(product) for _ in range(50)]

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(lambda b: _attempt(b, code), buyers))

    placed = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if not isinstance(o, Order)]
    assert len(placed) == 10
    assert all(o.discount == 5000 for o in placed)
    # the same error as a code used up on one counter: 422 on promo_code, same words
    assert {type(e) for e in refused} == {ValidationFailed}
    assert {(e.http_status, e.errors[0].field, e.errors[0].message) for e in refused} == {
        (422, "promo_code", USED_UP)
    }
    assert sorted(o.promo_shard for o in placed if o.promo_shard is not None) == [0] * 3 + [2] * 7
    assert [_used(promo_shard_key(code, n)) for n in range(4)] == [1000] * 4
    listed = orders.repository.get_promo(code)
    assert listed is not None
    assert listed.used == 4000


def test_a_code_of_ten_uses_has_one_counter_and_gives_exactly_ten() -> None:
    code = _code("TEN")
    made = orders.service.create_promo(
        "admin", {"code": code, "type": "fixed", "value": 1000, "usage_limit": 10}, meta()
    )
    assert made.shards == 1
    _, _, product = merchant_with(stock=None)
    buyers = [_buyer_with_cart(product) for _ in range(15)]

    with ThreadPoolExecutor(max_workers=15) as pool:
        outcomes = list(pool.map(lambda b: _attempt(b, code), buyers))

    assert len([o for o in outcomes if isinstance(o, Order)]) == 10
    assert _used(promo_shard_key(code, 0)) == 10
    assert _stored(promo_shard_key(code, 1)) is None


@pytest.mark.parametrize("ending", ["expired", "cancelled"])
def test_a_released_use_goes_back_to_the_counter_it_came_from(ending: str) -> None:
    code = _code("BACK")
    orders.service.create_promo(
        "admin",
        {"code": code, "type": "fixed", "value": 2000, "usage_limit": 2000, "per_user_limit": 1},
        meta(),
    )
    _set_used(code, [5, 5])
    _, _, product = merchant_with(stock=None)
    buyer = _buyer_with_cart(product)

    order = _checkout(buyer, code, shuffle=lambda shards: shards.reverse())  # shard 1 first

    assert order.promo_shard == 1
    stored = orders.repository.get_order(order.order_id)
    assert stored is not None
    assert stored.promo_shard == 1
    assert [_used(promo_shard_key(code, n)) for n in range(2)] == [5, 6]
    assert _used(promo_customer_key(code, buyer.user_id), "uses") == 1

    if ending == "expired":
        later = utc_now() + timedelta(minutes=get_settings().order_payment_minutes + 1)
        orders.service.expire_due(later, meta())
    else:
        orders.service.cancel(buyer, order.order_id, meta())

    ended = orders.repository.get_order(order.order_id)
    assert ended is not None
    assert ended.status == ending
    assert [_used(promo_shard_key(code, n)) for n in range(2)] == [5, 5]
    assert _used(promo_customer_key(code, buyer.user_id), "uses") == 0
    # the customer's one use is theirs again
    orders.service.set_cart_item(buyer.user_id, product, 1)
    assert _checkout(buyer, code).discount == 2000


def test_the_admin_views_show_the_uses_of_every_counter_and_switching_off_reaches_them() -> None:
    code = _code("SUM")
    orders.service.create_promo(
        "admin", {"code": code, "type": "percent", "value": 10, "usage_limit": 3500}, meta()
    )
    _set_used(code, [1, 2, 3, 4])

    listed, _ = orders.service.list_promos("admin", limit=100, cursor=None)
    assert [p.used for p in listed if p.code == code] == [10]
    switched = orders.service.set_promo_active("admin", code, False, meta())
    assert (switched.used, switched.active) == (10, False)
    assert [_stored(promo_shard_key(code, n)) or {} for n in range(4)] == [
        {**promo_shard_key(code, n), "entity": "promo_shard", "code": code, "shard": n}
        | {"used": n + 1, "active": False}
        for n in range(4)
    ]
    _, _, product = merchant_with(stock=None)
    with pytest.raises(ValidationFailed) as refused:
        _checkout(_buyer_with_cart(product), code)
    assert refused.value.errors[0].message == "This promo code is no longer active."


def test_a_code_stored_before_counters_were_sharded_keeps_counting_on_its_own_item() -> None:
    code = _code("OLD")
    now = rfc3339(utc_now())
    old = Promo(
        code=code,
        kind="fixed",
        value=3000,
        usage_limit=2,
        per_user_limit=1,
        used=1,
        created_at=now,
        updated_at=now,
    )
    Transaction().put(get_settings().table_name, promo_item(old)).commit()
    assert "shards" not in (_stored(promo_key(code)) or {})
    _, _, product = merchant_with(stock=None)
    buyer, other = _buyer_with_cart(product), _buyer_with_cart(product)

    order = _checkout(buyer, code)

    assert (order.discount, order.promo_shard) == (3000, None)
    assert _used(promo_key(code)) == 2
    assert _used(promo_use_key(code, buyer.user_id), "uses") == 1
    assert _stored(promo_shard_key(code, 0)) is None
    with pytest.raises(ValidationFailed) as used_up:
        _checkout(other, code)
    assert used_up.value.errors[0].message == USED_UP

    orders.service.cancel(buyer, order.order_id, meta())

    assert _used(promo_key(code)) == 1
    assert _used(promo_use_key(code, buyer.user_id), "uses") == 0
    promo = orders.repository.get_promo(code)
    assert promo is not None
    assert promo.used == 1
    assert _checkout(other, code).promo_shard is None
