"""The sign-in lockout's claims (``warung.ratelimit.claim_attempt``) against the emulation."""

from __future__ import annotations

import uuid

import pytest

from warung.dynamo import Transaction, get_item
from warung.errors import RateLimited
from warung.ratelimit import (
    CountingRestarted,
    Rule,
    attempt_failed,
    claim_attempt,
    give_back,
    give_back_step,
    lockout_key,
)

T0 = 1_800_000_000 + 890  # ten seconds before a quarter hour
EMAIL = "Budi@Example.com"

pytestmark = pytest.mark.usefixtures("app_env")


def fresh_rule() -> Rule:
    return Rule(f"test_{uuid.uuid4().hex[:8]}", 5, 900)


def claim(rule: Rule, now: int) -> object:
    return claim_attempt(rule, EMAIL, detail="Locked.", now=now)


def refusal(rule: Rule, now: int) -> RateLimited:
    with pytest.raises(RateLimited) as refused:
        claim(rule, now)
    return refused.value


def test_the_fifth_failure_locks_for_the_whole_window_from_then() -> None:
    rule = fresh_rule()
    for n in range(5):
        attempt_failed(claim_attempt(rule, EMAIL, detail="x", now=T0 + n), now=T0 + n)

    assert refusal(rule, T0 + 4).retry_after == 900
    assert refusal(rule, T0 + 20).retry_after == 884  # past the quarter hour: still locked
    claim(rule, T0 + 4 + 900)  # and over 15 minutes after the fifth failure


def test_claims_in_flight_refuse_the_sixth_for_a_second_only() -> None:
    rule = fresh_rule()
    held = [claim_attempt(rule, EMAIL, detail="x", now=T0) for _ in range(5)]

    assert refusal(rule, T0).retry_after == 1
    give_back(held[0])
    claim(rule, T0)


def test_a_give_back_does_not_erase_failures() -> None:
    rule = fresh_rule()
    for _ in range(4):
        attempt_failed(claim_attempt(rule, EMAIL, detail="x", now=T0), now=T0)
    give_back(claim_attempt(rule, EMAIL, detail="x", now=T0))

    attempt_failed(claim_attempt(rule, EMAIL, detail="x", now=T0 + 1), now=T0 + 1)

    assert refusal(rule, T0 + 2).retry_after == 899


def test_the_subject_is_stored_hashed_and_the_item_expires() -> None:
    rule = fresh_rule()
    attempt_failed(claim_attempt(rule, EMAIL, detail="x", now=T0), now=T0)

    item = get_item(lockout_key(rule, "budi@example.com"))
    assert item is not None
    assert "budi" not in str(item).lower()
    assert (item["count"], item["failures"], item["ends"]) == (1, 1, T0 + 900)
    assert item["expires_at_epoch"] == T0 + 900 + 60


def test_a_give_back_step_of_an_ended_counting_refuses_its_transaction() -> None:
    rule = fresh_rule()
    old = claim_attempt(rule, EMAIL, detail="x", now=T0)
    claim_attempt(rule, EMAIL, detail="x", now=T0 + 900)  # a new counting began

    with pytest.raises(CountingRestarted):
        give_back_step(Transaction(), old).commit()
    item = get_item(lockout_key(rule, EMAIL))
    assert item is not None
    assert item["count"] == 1
