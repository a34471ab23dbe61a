"""The expiry worklist over its shards (docs/decisions/0027-sharded-expiry-worklist.md):
unpaid orders on many shards all expire and give their stock back, and an order written
before the shards (on the one gsi3 ``PENDING`` partition) still expires."""

from __future__ import annotations

from datetime import timedelta

from support.events import FakeContext
from support.orders_world import customer, merchant_with, order_of, stock_of

import orders.expiry
import orders.repository
from warung.dynamo import dynamodb_client, from_item, to_item
from warung.ids import rfc3339, utc_now
from warung.settings import get_settings
from warung.store.orders import order_key

SCHEDULE = {"id": "evt-shards", "detail-type": "Scheduled Event", "source": "aws.events"}


def _context() -> FakeContext:
    return FakeContext(
        function_name="order-expiry",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:ap-southeast-1:123456789012:function:x",
        aws_request_id="ctx",
    )


def _expire_at(minutes: int) -> dict[str, int]:
    moment = rfc3339(utc_now() + timedelta(minutes=minutes))
    return orders.expiry.handler({**SCHEDULE, "time": moment}, _context())


def _stored(order_id: str) -> dict[str, object]:
    raw = dynamodb_client().get_item(
        TableName=get_settings().table_name, Key=to_item(order_key(order_id)), ConsistentRead=True
    )["Item"]
    return from_item(raw)


def _status(order_id: str) -> str:
    order = orders.repository.get_order(order_id)
    assert order is not None
    return order.status


def _worklist_entries(partition: str, index: str = "gsi4") -> list[dict[str, object]]:
    response = dynamodb_client().query(
        TableName=get_settings().table_name,
        IndexName=index,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": f"{index}pk"},
        ExpressionAttributeValues=to_item({":pk": partition}),
    )
    return [from_item(item) for item in response["Items"]]


def test_unpaid_orders_on_many_shards_all_expire_and_give_their_stock_back() -> None:
    _, _, product = merchant_with(stock=40)
    placed = [order_of(customer(), product) for _ in range(20)]
    assert stock_of(product) == 20
    shards = {str(_stored(order.order_id)["gsi4pk"]) for order in placed}
    assert len(shards) > 4  # 20 orders over 16 shards
    # the worklist holds keys only: the order itself is read from the table
    first = placed[0].order_id
    (entry,) = [
        e
        for e in _worklist_entries(str(_stored(first)["gsi4pk"]))
        if str(e["gsi4sk"]).endswith(first)
    ]
    assert set(entry) == {"pk", "sk", "gsi4pk", "gsi4sk"}

    _expire_at(14)  # a minute before their window ends: none of them
    assert {_status(o.order_id) for o in placed} == {"pending_payment"}

    assert _expire_at(16)["expired"] >= 20

    assert {_status(o.order_id) for o in placed} == {"expired"}
    assert stock_of(product) == 40
    # every shard's entries are gone with their orders
    left = {str(e["gsi4sk"]).rsplit("#", 1)[1] for s in shards for e in _worklist_entries(s)}
    assert left.isdisjoint(o.order_id for o in placed)


def test_an_order_written_before_the_shards_still_expires() -> None:
    _, _, product = merchant_with(stock=3)
    order = order_of(customer(), product, quantity=2)
    # given the order as the code of before the shards stored it: on gsi3's one partition
    dynamodb_client().update_item(
        TableName=get_settings().table_name,
        Key=to_item(order_key(order.order_id)),
        UpdateExpression="SET gsi3pk = :pk, gsi3sk = :sk REMOVE gsi4pk, gsi4sk",
        ExpressionAttributeValues=to_item(
            {":pk": "PENDING", ":sk": f"{order.expires_at}#{order.order_id}"}
        ),
    )
    assert stock_of(product) == 1

    assert _expire_at(16)["expired"] >= 1

    expired = orders.repository.get_order(order.order_id)
    assert expired is not None
    assert expired.status == "expired"
    assert stock_of(product) == 3
    stored = _stored(order.order_id)
    assert "gsi3pk" not in stored
    assert "gsi3sk" not in stored
    assert all(
        not str(e["gsi3sk"]).endswith(order.order_id)
        for e in _worklist_entries("PENDING", index="gsi3")
    )
