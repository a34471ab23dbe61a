"""The key-heat recorder of `make simulate`: a known request becomes the keys and units an
operator reads in the report, index writes included."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from warung_sim.recorder import (
    IndexSchema,
    KeyHeatRecorder,
    TableSchema,
    index_writes,
    query_partition,
    schema_from_description,
)

MAIN = TableSchema(
    "warung-local-main",
    "main",
    "pk",
    "sk",
    (
        IndexSchema("gsi1", "gsi1pk", "gsi1sk"),
        IndexSchema("gsi3", "gsi3pk", "gsi3sk"),
    ),
)


class Images:
    """Items by key, as a table would hold them (wire form)."""

    def __init__(self, items: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        self.items = items or {}

    def image(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        assert table == MAIN.name
        return self.items.get((key["pk"]["S"], key["sk"]["S"]))


def s(value: str) -> dict[str, str]:
    return {"S": value}


def order_item(size_padding: int = 0, *, pending: bool = True) -> dict[str, Any]:
    item = {
        "pk": s("ORDER#1"),
        "sk": s("ORDER"),
        "gsi1pk": s("CUSTOMER#c1"),
        "gsi1sk": s("1"),
        "status": s("pending_payment" if pending else "paid"),
        "notes": s("x" * size_padding),
    }
    if pending:
        item |= {"gsi3pk": s("PENDING"), "gsi3sk": s("2026-12-07T05:15:00Z#1")}
    return item


def recorder(images: Images | None = None) -> KeyHeatRecorder:
    return KeyHeatRecorder({MAIN.name: MAIN}, images or Images(), function="OrdersFunction")


def test_get_item_is_recorded_on_its_partition_with_its_read_units() -> None:
    # given an item of 5,000 bytes read with a strongly consistent GetItem
    item = {"pk": s("PROMO#KILAT"), "sk": s("PROMO"), "blob": s("x" * 5000)}
    request = {"TableName": MAIN.name, "Key": {"pk": item["pk"], "sk": item["sk"]}}
    request["ConsistentRead"] = True  # type: ignore[assignment]
    # when the recorder sees it
    [access] = recorder().accesses_of("GetItem", request, {"Item": item})
    # then it is one read of PROMO#KILAT costing two 4 KB blocks
    assert (access.where, access.pk, access.sk, access.kind) == (
        "main",
        "PROMO#KILAT",
        "PROMO",
        "read",
    )
    assert access.units == 2.0
    assert access.function == "OrdersFunction"


def test_query_on_an_index_is_recorded_on_the_index_partition() -> None:
    request = {
        "TableName": MAIN.name,
        "IndexName": "gsi3",
        "KeyConditionExpression": "#pk = :pk AND #sk < :before",
        "ExpressionAttributeNames": {"#pk": "gsi3pk", "#sk": "gsi3sk"},
        "ExpressionAttributeValues": {":pk": s("PENDING"), ":before": s("2026")},
        "Limit": 100,
    }
    [access] = recorder().accesses_of("Query", request, {"Items": [order_item()]})
    assert (access.where, access.pk, access.kind, access.units) == (
        "main.gsi3",
        "PENDING",
        "read",
        0.5,
    )
    assert access.items == 1
    assert access.to_end


def test_query_partition_reads_the_key_condition() -> None:
    request = {
        "KeyConditionExpression": "begins_with(sk, :p) AND pk = :v",
        "ExpressionAttributeValues": {":v": s("SEARCH#nasi"), ":p": s("0")},
    }
    assert query_partition(request, "pk") == "SEARCH#nasi"


def test_new_order_put_costs_the_table_and_each_index_it_enters() -> None:
    # given no order yet, and a put of an unpaid order (in gsi1 and gsi3) inside a transaction
    images = Images()
    rec = recorder(images)
    item = order_item()
    request = {"TransactItems": [{"Put": {"TableName": MAIN.name, "Item": item}}]}
    rec.before_call(
        _model("TransactWriteItems"), {"body": json.dumps(request).encode()}, ctx := _context()
    )
    images.items[("ORDER#1", "ORDER")] = item  # the write happened
    rec.after_call(_Response(200), {}, _model("TransactWriteItems"), ctx)
    by_where = {(a.where, a.pk): a.units for a in rec.accesses}
    # then the order costs 2 units (transactional), each index entry 1 (not doubled)
    assert by_where == {
        ("main", "ORDER#1"): 2.0,
        ("main.gsi1", "CUSTOMER#c1"): 1.0,
        ("main.gsi3", "PENDING"): 1.0,
    }
    assert rec.calls[("OrdersFunction", "dynamodb", "TransactWriteItems")] == 1


def test_paying_an_order_removes_it_from_the_worklist_at_the_cost_of_its_size() -> None:
    # given a pending order of about 1.5 KB, updated to paid (its gsi3 keys removed)
    before, after = order_item(1500), order_item(1500, pending=False)
    writes = index_writes(MAIN, before, after)
    # then gsi3 gets one delete of the whole projected entry (2 KB blocks), gsi1 one update
    assert ("gsi3", "PENDING", "2026-12-07T05:15:00Z#1", 2.0) in writes
    assert ("gsi1", "CUSTOMER#c1", "1", 2.0) in writes
    assert len(writes) == 2


def test_an_index_key_change_costs_two_index_writes_and_no_change_none() -> None:
    before = order_item()
    moved = {**before, "gsi1pk": s("CUSTOMER#c2")}
    # gsi1: the old entry deleted and the new one put; gsi3 (all attributes): one update
    assert [w[:2] for w in index_writes(MAIN, before, moved)] == [
        ("gsi1", "CUSTOMER#c1"),
        ("gsi1", "CUSTOMER#c2"),
        ("gsi3", "PENDING"),
    ]
    assert index_writes(MAIN, before, dict(before)) == []


def test_keys_only_index_ignores_other_attribute_changes() -> None:
    table = TableSchema("t", "t", "pk", "sk", (IndexSchema("i", "ipk", "isk", "KEYS_ONLY"),))
    before = {"pk": s("A"), "sk": s("B"), "ipk": s("X"), "isk": s("1"), "n": s("old")}
    assert index_writes(table, before, {**before, "n": s("new")}) == []


def test_a_refused_write_is_recorded_as_refused_without_index_writes() -> None:
    images = Images({("PROMO#KILAT", "PROMO"): {"pk": s("PROMO#KILAT"), "sk": s("PROMO")}})
    rec = recorder(images)
    request = {
        "TableName": MAIN.name,
        "Key": {"pk": s("PROMO#KILAT"), "sk": s("PROMO")},
        "UpdateExpression": "ADD used :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    rec.before_call(_model("UpdateItem"), {"body": json.dumps(request).encode()}, ctx := _context())
    rec.after_call(
        _Response(400),
        {"Error": {"Code": "ConditionalCheckFailedException"}},
        _model("UpdateItem"),
        ctx,
    )
    [access] = rec.accesses
    assert (access.pk, access.ok, access.kind) == ("PROMO#KILAT", False, "write")


def test_nothing_is_recorded_while_recording_is_off() -> None:
    rec = recorder()
    rec.recording = False
    request = {"TableName": MAIN.name, "Key": {"pk": s("A"), "sk": s("B")}}
    rec.before_call(_model("GetItem"), {"body": json.dumps(request).encode()}, ctx := _context())
    rec.after_call(_Response(200), {}, _model("GetItem"), ctx)
    assert rec.accesses == []
    assert not rec.calls


def test_install_hooks_new_clients_and_uninstall_restores_botocore() -> None:
    import botocore.session

    original = botocore.session.Session.create_client
    rec = recorder()
    rec.install()
    try:
        assert botocore.session.Session.create_client is not original
    finally:
        rec.uninstall()
    assert botocore.session.Session.create_client is original


def test_schema_from_description_reads_keys_and_projections() -> None:
    described = {
        "TableName": "warung-local-audit",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_action",
                "KeySchema": [
                    {"AttributeName": "action_pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["actor_id"]},
            }
        ],
    }
    schema = schema_from_description(described, "audit")
    assert schema.index("by_action") == IndexSchema(
        "by_action", "action_pk", "sk", "INCLUDE", ("actor_id",)
    )


# ---------------------------------------------------------------- botocore's call shapes


class _Service:
    service_name = "dynamodb"


class _Model:
    def __init__(self, name: str) -> None:
        self.name = name
        self.service_model = _Service()


def _model(name: str) -> Any:
    return _Model(name)


def _context() -> dict[str, Any]:
    return {}


class _Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


@pytest.fixture(autouse=True)
def _no_leftover_hook() -> Any:
    import botocore.session

    original = botocore.session.Session.create_client
    yield
    botocore.session.Session.create_client = original
