"""Checkout keeps a sharded promo code's definition for a few seconds per container
(docs/decisions/0034): the flash sale's code is not read on every checkout, while whether
it is on still comes from its counters, read each time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from support.orders_world import NEAR, customer, merchant_with, meta

import orders.repository
import orders.rules.promo_shards
import orders.service
from warung.dynamo import dynamodb_client
from warung.errors import ValidationFailed
from warung.store.orders import Order


@pytest.fixture
def definition_reads() -> Iterator[list[str]]:
    """The promo code items (``PROMO#<code>``, sort key ``PROMO``) each BatchGetItem asked for."""
    asked: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        for request in params["RequestItems"].values():
            asked.extend(k["pk"]["S"] for k in request["Keys"] if k.get("sk") == {"S": "PROMO"})

    events = dynamodb_client().meta.events
    events.register("before-parameter-build.dynamodb.BatchGetItem", record)
    yield asked
    events.unregister("before-parameter-build.dynamodb.BatchGetItem", record)


def _checkout(product: str, code: str) -> Order:
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    body = {"delivery_address": NEAR, "promo_code": code}
    return orders.service.checkout(buyer, body, meta())[0]


def test_checkouts_read_a_sharded_codes_definition_once_per_ttl_and_its_counters_say_if_on(
    clock: ModuleType, definition_reads: list[str]
) -> None:
    code = f"KILAT{uuid.uuid4().hex[:6].upper()}"
    made = orders.service.create_promo(
        "admin", {"code": code, "type": "fixed", "value": 5000, "usage_limit": 4000}, meta()
    )
    assert made.shards == 4
    _, _, product = merchant_with(stock=None)

    placed = [_checkout(product, code) for _ in range(2)]
    assert [o.discount for o in placed] == [5000, 5000]
    assert definition_reads.count(f"PROMO#{code}") == 1

    clock.advance(orders.rules.promo_shards.DEFINITION_TTL_S)
    assert _checkout(product, code).discount == 5000
    assert definition_reads.count(f"PROMO#{code}") == 2

    # switched off while this container keeps the definition: refused at once
    orders.service.set_promo_active("admin", code, False, meta())
    before = definition_reads.count(f"PROMO#{code}")
    with pytest.raises(ValidationFailed) as refused:
        _checkout(product, code)
    assert refused.value.errors[0].field == "promo_code"
    # by the counters it read: the kept definition was not read again
    assert definition_reads.count(f"PROMO#{code}") == before
