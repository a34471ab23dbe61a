"""The requests section of `make bench`: a handful of real requests on the local runtime."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from bench_requests import AwsCall, describe_call, percentile, print_request_report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def section() -> dict[str, Any]:
    from bench_requests import run_request_bench

    return run_request_bench(
        ROOT / "template.yaml", login_requests=3, read_requests=5, stale_requests=2, warmup=1
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


def test_the_section_prints_and_serialises(section: dict[str, Any]) -> None:
    out = io.StringIO()
    print_request_report(section, out)
    text = out.getvalue()
    assert "POST /v1/auth/login" in text
    assert "GET /v1/me" in text
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
