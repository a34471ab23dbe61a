"""The layer's persistence primitives against the emulation: one transaction carries the
business change, its audit entry and its outbox job, or none of them."""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Any

import pytest

from warung.audit import AuditEntry, audit_write
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor
from warung.dynamo import Transaction, dynamodb_client, from_item, to_item
from warung.errors import BadRequest, InsufficientStock
from warung.outbox import OutboxJob, outbox_write
from warung.secrets import get_secret
from warung.settings import get_settings

META = RequestMeta(request_id="req-int-1", source_ip="198.51.100.4", user_agent="pytest")


def get(key: dict[str, Any], table: str | None = None) -> dict[str, Any] | None:
    response = dynamodb_client().get_item(
        TableName=table or get_settings().table_name, Key=to_item(key), ConsistentRead=True
    )
    return from_item(response["Item"]) if "Item" in response else None


def stored_item(key: dict[str, Any]) -> dict[str, Any]:
    """The item at ``key``, which must be there."""
    item = get(key)
    assert item is not None, key
    return item


def put_product(product_id: str, stock: int) -> dict[str, str]:
    key = {"pk": f"PRODUCT#{product_id}", "sk": "PRODUCT"}
    dynamodb_client().put_item(
        TableName=get_settings().table_name, Item=to_item({**key, "stock": stock})
    )
    return key


def reserve(key: dict[str, str], quantity: int, entry: AuditEntry, job: OutboxJob) -> None:
    settings = get_settings()
    (
        Transaction()
        .update(
            settings.table_name,
            key,
            "SET stock = stock - :q",
            condition="stock >= :q",
            values={":q": quantity},
            conflict=InsufficientStock("Not enough stock."),
        )
        .extend([audit_write(entry), outbox_write(job)])
        .commit()
    )


@pytest.mark.usefixtures("app_env")
def test_change_audit_and_job_commit_together() -> None:
    key = put_product("p-commit", stock=5)
    entry = AuditEntry(
        "user-1", "stock.reserved", "product:p-commit", META, {"stock": {"from": 5, "to": 3}}
    )
    job = OutboxJob("email.order_paid", {"order_id": "o1"}, correlation_id=META.request_id)

    reserve(key, 2, entry, job)

    assert stored_item(key)["stock"] == 3
    stored_job = get({"pk": f"OUTBOX#{job.job_id}", "sk": "JOB"})
    assert stored_job is not None
    assert stored_job["correlation_id"] == "req-int-1"
    stored_entry = get(
        {"pk": entry.as_item()["pk"], "sk": entry.as_item()["sk"]}, get_settings().audit_table_name
    )
    assert stored_entry is not None
    assert stored_entry["action"] == "stock.reserved"
    # the address only as its HMAC, keyed with the stage's secret from the template
    key_text = get_secret(get_settings().audit_ip_hash_secret_arn).encode()
    expected = hmac.new(key_text, b"198.51.100.4", hashlib.sha256).hexdigest()
    assert stored_entry["ip_hash"] == expected
    assert "source_ip" not in stored_entry


@pytest.mark.usefixtures("app_env")
def test_failed_condition_writes_nothing_and_raises_the_domain_error() -> None:
    key = put_product("p-short", stock=1)
    entry = AuditEntry("user-1", "stock.reserved", "product:p-short", META)
    job = OutboxJob("email.order_paid", {"order_id": "o2"}, correlation_id=META.request_id)

    with pytest.raises(InsufficientStock):
        reserve(key, 2, entry, job)

    assert stored_item(key)["stock"] == 1
    assert get({"pk": f"OUTBOX#{job.job_id}", "sk": "JOB"}) is None
    item = entry.as_item()
    assert get({"pk": item["pk"], "sk": item["sk"]}, get_settings().audit_table_name) is None


@pytest.mark.usefixtures("app_env")
def test_parallel_reservations_never_oversell() -> None:
    key = put_product("p-race", stock=10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        entry = AuditEntry(f"user-{n}", "stock.reserved", "product:p-race", META)
        job = OutboxJob("email.order_paid", {"n": n}, correlation_id=f"req-{n}")
        try:
            reserve(key, 1, entry, job)
            result = "ok"
        except InsufficientStock:
            result = "short"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 10
    assert outcomes.count("short") == 10
    assert stored_item(key)["stock"] == 0


@pytest.mark.usefixtures("app_env")
def test_cursor_is_signed_with_the_key_from_secrets_manager() -> None:
    last_key = {"pk": {"S": "ORDER#1"}, "sk": {"S": "ORDER"}}
    cursor = encode_cursor(last_key, "GET /v1/orders|user-1")
    assert decode_cursor(cursor, "GET /v1/orders|user-1") == last_key
    with pytest.raises(BadRequest):
        decode_cursor(cursor, "GET /v1/orders|user-2")
    with pytest.raises(BadRequest):
        decode_cursor(encode_cursor(last_key, "s", key=b"not-the-secret"), "s")
