"""Rate limits against the emulation, on the template's main table."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from support.whole_models import whole_dynamodb_client

from warung.dynamo import dynamodb_client, from_item
from warung.errors import RateLimited
from warung.ratelimit import Decision, Rule, enforce, hit, peek
from warung.settings import get_settings

# A window boundary for every rule below: 1_800_000_000 is divisible by 60, 900 and 3600.
T0 = 1_800_000_000

pytestmark = pytest.mark.usefixtures("app_env")


def fresh_rule(limit: int, window: int) -> Rule:
    # Each test counts under its own rule name so that tests never share a counter.
    return Rule(f"test_{uuid.uuid4().hex[:8]}", limit, window)


def stored_counters(rule: Rule) -> list[dict[str, Any]]:
    client = whole_dynamodb_client()
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=get_settings().table_name):
        items += [from_item(item) for item in page["Items"]]
    return [item for item in items if str(item["pk"]).startswith(f"RL#{rule.name}#")]


def test_sixth_failure_in_the_window_is_refused_until_the_window_ends() -> None:
    rule = fresh_rule(5, 900)
    email = "budi@example.com"

    decisions = [hit(rule, email, now=T0 + 10 * i) for i in range(5)]
    sixth = hit(rule, email, now=T0 + 300)

    assert [d.allowed for d in decisions] == [True] * 5
    assert [d.count for d in decisions] == [1, 2, 3, 4, 5]
    assert sixth == Decision(allowed=False, count=5, retry_after=600)
    assert hit(rule, email, now=T0 + 899) == Decision(False, 5, 1)
    assert hit(rule, email, now=T0 + 900) == Decision(True, 1, 900)


def test_refused_hits_are_not_counted() -> None:
    rule = fresh_rule(2, 60)
    for _ in range(5):
        hit(rule, "198.51.100.7", now=T0)
    (counter,) = stored_counters(rule)
    assert counter["count"] == 2


def test_enforce_raises_429_with_retry_after() -> None:
    rule = fresh_rule(20, 60)
    for _ in range(20):
        enforce(rule, "203.0.113.9", now=T0 + 15)

    with pytest.raises(RateLimited) as refused:
        enforce(rule, "203.0.113.9", now=T0 + 15)

    assert refused.value.http_status == 429
    assert refused.value.retry_after == 45
    assert refused.value.headers == {"Retry-After": "45"}
    assert "45 seconds" in refused.value.detail


def test_peek_does_not_count_and_reports_the_lockout() -> None:
    rule = fresh_rule(5, 900)
    email = "sari@example.com"

    assert peek(rule, email, now=T0) == Decision(True, 0, 900)
    for _ in range(3):
        assert peek(rule, email, now=T0).allowed
    assert stored_counters(rule) == []

    for _ in range(5):
        hit(rule, email, now=T0 + 1)
    assert peek(rule, email, now=T0 + 100) == Decision(False, 5, 800)
    assert peek(rule, email, now=T0 + 100) == Decision(False, 5, 800)
    assert peek(rule, email, now=T0 + 900) == Decision(True, 0, 900)


def test_subjects_and_windows_are_counted_apart() -> None:
    rule = fresh_rule(1, 60)
    assert hit(rule, "a@example.com", now=T0).allowed
    assert hit(rule, "b@example.com", now=T0).allowed
    assert not hit(rule, "A@Example.com", now=T0 + 59).allowed
    assert hit(rule, "a@example.com", now=T0 + 60).allowed


def test_stored_counter_has_no_address_in_clear_and_expires() -> None:
    rule = fresh_rule(3, 3600)
    hit(rule, "Rahasia.Pelanggan@Example.co.id", now=T0 + 1234)

    (counter,) = stored_counters(rule)
    stored = repr(counter).lower()
    assert "rahasia" not in stored
    assert "example" not in stored
    assert counter["sk"] == str(T0)
    assert counter["count"] == 1
    assert counter["expires_at_epoch"] == T0 + 3600 + 60


def test_thirty_concurrent_hits_on_a_limit_of_ten_allow_exactly_ten() -> None:
    rule = fresh_rule(10, 60)
    now = int(time.time())
    start = threading.Barrier(30)
    decisions: list[Decision] = []
    lock = threading.Lock()

    def attempt() -> None:
        start.wait()
        decision = hit(rule, "198.51.100.30", now=now)
        with lock:
            decisions.append(decision)

    dynamodb_client()  # created once, before the threads share it
    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(decisions) == 30
    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.count for d in decisions if d.allowed) == list(range(1, 11))
    assert all(d.count == 10 for d in decisions if not d.allowed)
    (counter,) = stored_counters(rule)
    assert counter["count"] == 10
