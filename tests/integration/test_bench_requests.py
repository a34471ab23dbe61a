"""The requests section of `make bench`: a handful of real requests on the local runtime."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from warung_bench.warm import (
    AwsCall,
    describe_call,
    item_size,
    percentile,
    print_request_report,
    read_units,
    write_targets,
    write_units,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def section() -> dict[str, Any]:
    from warung_bench.warm import run_request_bench

    return run_request_bench(
        ROOT / "template.yaml",
        login_requests=3,
        read_requests=5,
        stale_requests=2,
        catalog_requests=3,
        catalog_merchants=2,
        catalog_products=6,
        order_requests=3,
        warmup=1,
    )


def scenario(section: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in section["scenarios"] if s["name"] == name)


def test_login_makes_the_expected_dynamodb_calls(section: dict[str, Any]) -> None:
    login = scenario(section, "login")
    assert login["requests"] == 3
    assert login["latency_ms"]["p50"] > 0
    assert login["latency_ms"]["min"] <= login["latency_ms"]["p50"] <= login["latency_ms"]["max"]
    calls = login["dynamodb_calls_per_request"]
    # Rate limit and the claimed sign-in attempt (two UpdateItem: the attempt is counted
    # before the password is verified, docs/decisions/0014), e-mail reservation and account
    # (two GetItem), the session, its refresh token, the audit entry and the attempt given
    # back (one TransactWriteItems).
    assert calls["by_operation"] == {
        "GetItem": 2,
        "UpdateItem": 2,
        "TransactWriteItems": 1,
    }
    assert calls["median"] == 5
    assert any(
        label.startswith("UpdateItem main RL#login_attempts_ip#") for label in calls["by_call"]
    )
    assert any(label.startswith("UpdateItem main RL#login_failures#") for label in calls["by_call"])
    # Warm: the signing key comes from the container's cache.
    assert login["other_aws_calls_per_request"]["total"] == 0


def test_a_token_verified_read_reads_dynamodb(section: dict[str, Any]) -> None:
    me = scenario(section, "me")
    assert me["requests"] == 5
    assert me["latency_ms"]["p50"] > 0
    # Warm: the profile the route reads, nothing more; the guard's state (ended sessions
    # included) comes from its cache.
    assert me["dynamodb_calls_per_request"]["median"] == 1
    assert me["dynamodb_calls_per_request"]["by_operation"] == {"GetItem": 1}
    assert me["other_aws_calls_per_request"]["total"] == 0

    # Without the guard's cached state the guard reads it too.
    stale = scenario(section, "me_guard_cache_expired")
    assert stale["dynamodb_calls_per_request"]["median"] == (
        me["dynamodb_calls_per_request"]["median"] + 1
    )


@pytest.mark.parametrize(
    ("name", "operations"),
    [
        ("product_search", {"Query", "BatchGetItem"}),
        ("product", {"Query", "GetItem"}),
        ("merchants_near", {"Query", "BatchGetItem"}),
    ],
)
def test_catalog_reads_are_measured_with_their_read_units(
    section: dict[str, Any], name: str, operations: set[str]
) -> None:
    read = scenario(section, name)
    assert read["requests"] == 3
    assert read["latency_ms"]["min"] <= read["latency_ms"]["p50"] <= read["latency_ms"]["max"]
    calls = read["dynamodb_calls_per_request"]
    assert calls["median"] >= 1
    assert set(calls["by_operation"]) == operations
    units = read["dynamodb_read_units_per_request"]
    assert units["median"] > 0
    assert units["min"] >= 0.5  # no read costs less than half a unit
    assert set(units["by_operation"]) <= operations
    assert read["other_aws_calls_per_request"]["total"] == 0  # anonymous: no keys needed
    assert section["catalog_data"] == {
        "merchants_added": 2,
        "products_added": 12,
        "demo_merchants": 3,
    }


def test_sign_in_and_profile_reads_have_read_units_too(section: dict[str, Any]) -> None:
    # The consistent profile read of /v1/me: one item under 4 KB, one unit.
    assert scenario(section, "me")["dynamodb_read_units_per_request"]["median"] == 1
    assert scenario(section, "login")["dynamodb_read_units_per_request"]["median"] >= 2


def test_checkout_is_two_batch_reads_one_transaction_and_the_idempotency_record(
    section: dict[str, Any],
) -> None:
    checkout = scenario(section, "checkout")
    assert checkout["requests"] == 3
    lat = checkout["latency_ms"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["max"]
    calls = checkout["dynamodb_calls_per_request"]
    # The customer's state (profile, cart, unpaid count) and the cart's catalog (products,
    # merchant) in one BatchGetItem each; the order in one transaction; Powertools'
    # idempotency record put (in progress) then updated (completed, with the response).
    assert calls["by_operation"] == {
        "BatchGetItem": 2,
        "TransactWriteItems": 1,
        "PutItem": 1,
        "UpdateItem": 1,
    }
    assert calls["median"] == calls["min"] == calls["max"] == 5
    labels = calls["by_call"]
    assert labels["PutItem idempotency"] == 1
    assert labels["UpdateItem idempotency"] == 1
    (tx,) = (label for label in labels if label.startswith("TransactWriteItems"))
    # The order number's uniqueness item is claimed inside that same transaction.
    for step in (
        "Put main ORDER#",
        "Put main PAYMENT#",
        "Delete main USER#…/CART",
        "Put main ORDERNO#",
    ):
        assert step in tx
    assert all("consistent" in label for label in labels if label.startswith("BatchGetItem"))
    reads = checkout["dynamodb_read_units_per_request"]
    assert reads["median"] >= 5  # five small items read consistently, one unit each
    assert set(reads["by_operation"]) == {"BatchGetItem"}
    writes = checkout["dynamodb_write_units_per_request"]
    assert writes["median"] > 0
    assert set(writes["by_operation"]) == {"TransactWriteItems", "PutItem", "UpdateItem"}
    # At least order, payment, unpaid count and cart, 2 units per KB each.
    assert writes["by_operation"]["TransactWriteItems"] >= 8
    assert writes["by_operation"]["TransactWriteItems"] % 2 == 0
    assert writes["by_operation"]["PutItem"] >= 1
    assert writes["by_operation"]["UpdateItem"] >= 1
    # Every size came from the emulation's items, none from the requests alone.
    assert writes["sizes_exact_calls"] == 3 * 3
    assert writes["sizes_from_request_calls"] == 0
    assert checkout["other_aws_calls_per_request"]["total"] == 0


def test_the_payment_webhook_reads_in_one_batch_and_writes_one_transaction(
    section: dict[str, Any],
) -> None:
    webhook = scenario(section, "payment_webhook")
    assert webhook["requests"] == 3
    lat = webhook["latency_ms"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["max"]
    calls = webhook["dynamodb_calls_per_request"]
    # One batch: the event seen before?, the payment, the order; the merchant's owners (for
    # the new-order e-mail); the event's record, the payment, the order and their jobs.
    assert calls["by_operation"] == {"BatchGetItem": 1, "Query": 1, "TransactWriteItems": 1}
    assert any(label.startswith("BatchGetItem main") for label in calls["by_call"])
    writes = webhook["dynamodb_write_units_per_request"]
    assert writes["median"] >= 2 * 3  # event, payment and order at least
    assert set(writes["by_operation"]) == {"TransactWriteItems"}
    assert writes["sizes_from_request_calls"] == 0
    assert webhook["dynamodb_read_units_per_request"]["median"] >= 3
    # The webhook secret is read once, in the warm-up, then cached by the function.
    assert webhook["other_aws_calls_per_request"]["total"] == 0
    warm_up = webhook["other_aws_calls_during_warmup"]
    assert any(k.startswith("secretsmanager GetSecretValue") for k in warm_up)


def test_read_only_requests_write_nothing(section: dict[str, Any]) -> None:
    for name in ("me", "product_search", "product", "merchants_near"):
        writes = scenario(section, name)["dynamodb_write_units_per_request"]
        assert writes["median"] == writes["max"] == 0
        assert writes["by_operation"] == {}
    # Sign-in writes: the rate limit counter, then the session, refresh token and audit.
    login = scenario(section, "login")["dynamodb_write_units_per_request"]
    assert login["by_operation"]["TransactWriteItems"] >= 6
    assert login["by_operation"]["UpdateItem"] >= 1


def test_the_section_prints_and_serialises(section: dict[str, Any]) -> None:
    out = io.StringIO()
    print_request_report(section, out)
    text = out.getvalue()
    assert "POST /v1/auth/login" in text
    assert "GET /v1/me" in text
    assert "GET /v1/products?q=nasi%20gor" in text
    assert "GET /v1/products/{id}" in text
    assert "GET /v1/merchants?near=" in text
    assert "read units/req" in text
    assert "write units/req" in text
    assert "POST /v1/orders" in text
    assert "POST /v1/payments/webhook" in text
    assert "write units per request:" in text
    assert "not Lambda nor DynamoDB latency" in text
    assert json.loads(json.dumps(section)) == section


def test_calls_are_named_by_target_and_key_shape() -> None:
    body = json.dumps(
        {
            "TableName": "warung-local-main",
            "Key": {"pk": {"S": "USER#01ABC"}, "sk": {"S": "PROFILE"}},
            "ConsistentRead": True,
        }
    ).encode()
    call = describe_call({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, body)
    assert call == AwsCall("dynamodb", "GetItem", "main USER#…/PROFILE consistent")
    secret = json.dumps({"SecretId": "arn:aws:secretsmanager:r:1:secret:warung/x-AbC"}).encode()
    call = describe_call({"HTTP_X_AMZ_TARGET": "secretsmanager.GetSecretValue"}, secret)
    assert (call.service, call.detail) == ("secretsmanager", "warung/x-AbC")


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile([3.0], 99) == 3


def test_read_units_follow_dynamodb_size_rules() -> None:
    small = {"pk": {"S": "PRODUCT#1"}, "price": {"N": "28000"}, "ok": {"BOOL": True}}
    # "pk" 2 + 9, "price" 5 + (2 significant digits -> 1 + 1), "ok" 2 + 1
    assert item_size(small) == 2 + 9 + 5 + 2 + 2 + 1
    big = {"pk": {"S": "x"}, "text": {"S": "a" * 5000}}
    assert item_size({"m": {"M": {"k": {"L": [{"S": "ab"}]}}}}) == 1 + 3 + 1 + 1 + 3 + 1 + 2

    def get(item: dict[str, Any] | None, consistent: bool) -> float:
        return read_units("GetItem", {"ConsistentRead": consistent}, {"Item": item} if item else {})

    assert get(small, True) == 1
    assert get(small, False) == 0.5
    assert get(big, True) == 2  # 5 KB: two 4 KB blocks
    assert get(None, True) == 1  # a miss still costs a read
    # A Query rounds the sum of its items; a BatchGetItem rounds each item.
    assert read_units("Query", {}, {"Items": [small] * 100}) == 0.5
    batch = {"RequestItems": {"t": {"Keys": [{}, {}, {}], "ConsistentRead": True}}}
    assert read_units("BatchGetItem", batch, {"Responses": {"t": [small, big]}}) == 1 + 2 + 1
    assert read_units("PutItem", {}, {}) == 0


def test_write_units_follow_dynamodb_size_rules() -> None:
    key = {"pk": {"S": "ORDER#1"}, "sk": {"S": "ORDER"}}
    small = {**key, "total": {"N": "28000"}}
    big = {**key, "text": {"S": "a" * 1500}}  # over 1 KB: two blocks
    assert item_size(small) < 1024 < item_size(big) < 2048

    put = {"TableName": "t", "Item": big}
    # A put over nothing: its own item, exact.
    assert write_units("PutItem", put, [0], [item_size(big)]) == (2, True)
    # A put replacing a bigger item pays for the bigger one.
    assert write_units("PutItem", {"TableName": "t", "Item": small}, [3000], [20]) == (3, True)
    # Without the images, the request's item: right unless it replaced a bigger one.
    assert write_units("PutItem", put) == (2, False)

    update = {
        "TableName": "t",
        "Key": key,
        "UpdateExpression": "SET total = :t",
        "ExpressionAttributeValues": {":t": {"N": "1"}},
    }
    assert write_units("UpdateItem", update, [1500], [900]) == (2, True)  # the larger: before
    assert write_units("UpdateItem", update, [100], [2100]) == (3, True)  # the larger: after
    assert write_units("UpdateItem", update) == (1, False)  # key and values only
    delete = {"TableName": "t", "Key": key}
    assert write_units("DeleteItem", delete, [2500], [0]) == (3, True)  # the item deleted

    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": small}},
            {"Update": update},
            {"ConditionCheck": {"TableName": "t", "Key": key, "ConditionExpression": "x"}},
            {"Delete": delete},
        ]
    }
    targets = write_targets("TransactWriteItems", transaction)
    assert [t.action for t in targets] == ["Put", "Update", "ConditionCheck", "Delete"]
    # 2 units per KB per action, the condition check as a write of the item checked.
    before, after = [0, 1500, 2100, 300], [item_size(small), 1600, 2100, 0]
    assert write_units("TransactWriteItems", transaction, before, after) == (
        2 * (1 + 2 + 3 + 1),
        True,
    )
    assert write_units("TransactWriteItems", transaction)[1] is False

    batch = {
        "RequestItems": {"t": [{"PutRequest": {"Item": big}}, {"DeleteRequest": {"Key": key}}]}
    }
    assert write_units("BatchWriteItem", batch, [0, 700], [item_size(big), 0]) == (2 + 1, True)
    assert write_targets("GetItem", {"TableName": "t", "Key": key}) == []


def test_a_search_page_is_one_query_and_one_batch_read(section: dict[str, Any]) -> None:
    # The search items, then the merchants that decide what is listed and the page's
    # products, together.
    calls = scenario(section, "product_search")["dynamodb_calls_per_request"]
    assert calls["by_operation"] == {"Query": 1, "BatchGetItem": 1}
