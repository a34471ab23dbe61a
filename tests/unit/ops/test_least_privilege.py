"""Each function's IAM policy allows exactly what its code does to DynamoDB: the key prefixes
(``dynamodb:LeadingKeys``) it reads and writes, the actions, the indexes it queries, and only
``PutItem`` on the audit table. The code side is read from the source by
``tests/support/access.py`` (docs/testing.md, "Least privilege", says how to extend it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.access import Access, code_access, policy_access

from warung_local.template import load_template

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml", {"Stage": "prod"})
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE.document["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
HANDLERS = {f["Properties"]["Handler"].rsplit(".", 1)[0] for f in FUNCTIONS.values()}

# Code the reading finds but that cannot run in that function, with the reason.
NEVER_RUNS: dict[str, set[tuple[str, str]]] = {
    # Its routes are all public: the guard's read of the caller's account is never reached.
    "PlatformFunction": {("read", "USER#")},
}


def _access(function_id: str) -> tuple[Access, Access]:
    function = FUNCTIONS[function_id]
    code = code_access(function["Properties"]["Handler"], HANDLERS)
    code.main -= NEVER_RUNS.get(function_id, set())
    if not code.main:
        code.main_actions -= {"dynamodb:GetItem"} if function_id in NEVER_RUNS else set()
    return code, policy_access(function)


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_every_request_of_the_code_has_a_key_the_reading_can_trace(function_id: str) -> None:
    code, policy = _access(function_id)
    assert code.untraced == []
    assert policy.untraced == []  # no SAM policy template on the tables, only Query on indexes


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_policy_allows_exactly_the_key_prefixes_the_code_reads_and_writes(
    function_id: str,
) -> None:
    code, policy = _access(function_id)
    missing = sorted(code.main - policy.main)
    extra = sorted(policy.main - code.main)
    assert (missing, extra) == ([], []), (
        f"{function_id}: add to the policy (read|write, LeadingKeys prefix) {missing}; "
        f"remove {extra}"
    )


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_policy_allows_exactly_the_actions_and_indexes_the_code_uses(function_id: str) -> None:
    code, policy = _access(function_id)
    assert sorted(policy.main_actions) == sorted(code.main_actions), function_id
    assert sorted(policy.indexes) == sorted(code.indexes), function_id


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_audit_entries_are_only_ever_put(function_id: str) -> None:
    code, policy = _access(function_id)
    assert code.audit_actions <= {"dynamodb:PutItem"}
    assert sorted(policy.audit_actions) == sorted(code.audit_actions), function_id


def test_the_reading_finds_the_requests_it_is_meant_to_find() -> None:
    """A check on the reader itself: known requests of the code, each of another shape."""
    orders, _ = _access("OrdersFunction")
    assert ("write", "ORDERNO#") in orders.main  # a Transaction.put of a store item
    assert ("read", "MERCHANT#") in orders.main
    assert ("write", "MERCHANT#") not in orders.main
    assert ("write", "OUTBOX#") in orders.main  # a transaction element built in the layer
    assert ("read", "RL#") in orders.main  # a counter read with the promo code, in one batch
    auth, _ = _access("AuthFunction")
    assert ("write", "RL#") in auth.main  # the rate limiter's own client call
    assert auth.indexes == {"gsi1", "gsi2"}  # index names chosen in a conditional
    worker, _ = _access("WorkerFunction")
    assert worker.main == {("read", "MERCHANT#"), ("write", "JOBFAIL#")}


def _mentions_payment_secret(value: Any) -> bool:
    return "PaymentWebhookSecret" in repr(value) or "payment-webhook-secret" in repr(value)


def test_the_worker_holds_no_payment_secret_on_prod() -> None:
    worker = TEMPLATE.resolve(FUNCTIONS["WorkerFunction"]["Properties"])
    statements = [
        s for p in worker["Policies"] if isinstance(p, dict) for s in p.get("Statement", [])
    ]
    assert [s for s in statements if _mentions_payment_secret(s.get("Resource"))] == []
    assert worker["Environment"]["Variables"]["PAYMENT_WEBHOOK_SECRET_ARN"] == ""
    # the payments function, which verifies the provider's webhooks, keeps it
    payments = TEMPLATE.resolve(FUNCTIONS["PaymentsFunction"]["Properties"])
    assert _mentions_payment_secret(payments["Policies"])
