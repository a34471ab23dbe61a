"""The requests section of `make bench`: a handful of real requests on the local runtime."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from bench_requests import (
    AwsCall,
    describe_call,
    item_size,
    percentile,
    print_request_report,
    read_units,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def section() -> dict[str, Any]:
    from bench_requests import run_request_bench

    return run_request_bench(
        ROOT / "template.yaml",
        login_requests=3,
        read_requests=5,
        stale_requests=2,
        catalog_requests=3,
        catalog_merchants=2,
        catalog_products=6,
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
    # Rate limit (UpdateItem), lockout counter + e-mail reservation (one BatchGetItem),
    # account (GetItem), the session, its refresh token and the audit entry (one
    # TransactWriteItems).
    assert calls["by_operation"] == {
        "BatchGetItem": 1,
        "GetItem": 1,
        "UpdateItem": 1,
        "TransactWriteItems": 1,
    }
    assert calls["median"] == 4
    assert any(
        label.startswith("UpdateItem main RL#login_attempts_ip#") for label in calls["by_call"]
    )
    # Warm: the signing key comes from the container's cache.
    assert login["other_aws_calls_per_request"]["total"] == 0


def test_a_token_verified_read_reads_dynamodb(section: dict[str, Any]) -> None:
    me = scenario(section, "me")
    assert me["requests"] == 5
    assert me["latency_ms"]["p50"] > 0
    assert me["dynamodb_calls_per_request"]["median"] >= 1
    assert me["dynamodb_calls_per_request"]["by_operation"].get("GetItem", 0) >= 1
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
        ("product", {"GetItem"}),
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
