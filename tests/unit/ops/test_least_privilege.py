"""Each function's IAM policy allows exactly what its code does to DynamoDB: the key prefixes
(``dynamodb:LeadingKeys``) it reads and writes, the actions, the indexes it queries, and on
the audit table the actions and indexes the code uses (never a change to an entry). The code
side is read from the source by ``tests/support/access.py`` (docs/testing.md, "Least
privilege", says how to extend it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.access import Access, code_access, policy_access, reachable

from warung_local.template import load_template

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml", {"Stage": "prod"})
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE.document["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
# Writes that would change or remove an audit entry: no function may have them.
AUDIT_CHANGES = {
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:*",
}
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


def _difference(code: set[str], policy: set[str]) -> tuple[list[str], list[str]]:
    """(what the policy lacks, what it has and the code never uses)."""
    return sorted(code - policy), sorted(policy - code)


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
    assert _difference(code.main_actions, policy.main_actions) == ([], []), (
        f"{function_id}: MainTable actions (add, remove)"
    )
    assert _difference(code.indexes, policy.indexes) == ([], []), (
        f"{function_id}: MainTable indexes to Query (add, remove)"
    )


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_audit_entries_are_never_changed_or_deleted_and_reads_match_the_code(
    function_id: str,
) -> None:
    code, policy = _access(function_id)
    assert not policy.audit_actions & AUDIT_CHANGES, function_id
    assert _difference(code.audit_actions, policy.audit_actions) == ([], []), (
        f"{function_id}: AuditTable actions (add, remove)"
    )
    assert _difference(code.audit_indexes, policy.audit_indexes) == ([], []), (
        f"{function_id}: AuditTable indexes to Query (add, remove)"
    )


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
    # the lockout's helper takes its key third (``_start_counting(rule, table, key, now)``):
    # traced to the key builder, not to the caller's rule
    assert auth.untraced == []
    assert ("read", "RL#") not in auth.main  # the lockout only writes (conditional updates)
    # index names chosen in a conditional, the table named by a function (``_table()``)
    assert auth.indexes == {"gsi1", "gsi2"}
    worker, _ = _access("WorkerFunction")
    assert worker.main == {("read", "MERCHANT#"), ("write", "JOBFAIL#")}
    catalog, _ = _access("CatalogFunction")
    assert ("read", "RL#") in catalog.main  # a peek at the invitation limits
    assert {("write", "INVITATION#"), ("write", "OUTBOX#")} <= catalog.main
    admin, _ = _access("AdminFunction")
    # the client's ``query(**request)``, its request made by another function: the table by
    # its ``TableName`` setting, the index by a dataclass field at each construction
    # (``Access("by_actor", ...)``; ``Access(None, ...)`` is the table itself)
    assert admin.audit_actions == {"dynamodb:PutItem", "dynamodb:Query"}
    assert admin.audit_indexes == {"by_actor", "by_resource", "by_action"}
    # request literals with their IndexName (dead letters; manual refunds)
    assert admin.indexes == {"gsi1", "gsi2"}
    # the guard's read and the reconciliation's reports, nothing else on MainTable
    assert admin.main == {("read", "USER#"), ("read", "RECON#")}


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


MIDTRANS = load_template(ROOT / "template.yaml", {"Stage": "prod", "PaymentProvider": "midtrans"})


def _granted(function_id: str, action: str) -> list[Any]:
    """The resources of ``function_id``'s statements allowing ``action`` (Midtrans stage)."""
    function = MIDTRANS.resolve(MIDTRANS.document["Resources"][function_id]["Properties"])
    statements = [
        s
        for p in function.get("Policies", [])
        if isinstance(p, dict)
        for s in p.get("Statement", [])
        if isinstance(s, dict)
    ]
    return [
        s["Resource"]
        for s in statements
        if action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]


def test_only_the_payments_context_reads_the_provider_key() -> None:
    key = MIDTRANS.ref("MidtransServerKey")
    readers = {
        function_id
        for function_id in FUNCTIONS
        if key in _granted(function_id, "secretsmanager:GetSecretValue")
    }
    environments = {
        function_id: MIDTRANS.resolve(f["Properties"]).get("Environment", {}).get("Variables", {})
        for function_id, f in MIDTRANS.document["Resources"].items()
        if f["Type"] == "AWS::Serverless::Function"
    }
    given_key = {f for f, env in environments.items() if env.get("PAYMENT_PROVIDER_SECRET_ARN")}

    assert (
        readers
        == given_key
        == {
            "PaymentsFunction",
            "PaymentOpenerFunction",
            "PaymentRefundsFunction",
            "PaymentReconciliationFunction",
        }
    )
    for function_id in readers:
        assert FUNCTIONS[function_id]["Properties"]["Handler"].startswith("payments.")


def test_checkout_may_invoke_the_payment_opener_and_nothing_else() -> None:
    opener = MIDTRANS.ref("PaymentOpenerFunction.Alias")
    # (the pre-traffic hook invokes each new version during a release)
    invokers = {f for f in FUNCTIONS if _granted(f, "lambda:InvokeFunction")}

    assert invokers == {"OrdersFunction", "PreTrafficHookFunction"}
    assert _granted("OrdersFunction", "lambda:InvokeFunction") == [opener]
    orders = MIDTRANS.resolve(FUNCTIONS["OrdersFunction"]["Properties"])
    assert orders["Environment"]["Variables"]["PAYMENT_OPENER_FUNCTION"] == opener
    # the code agrees: nothing the orders function runs reaches the provider's adapter or
    # the code that reads its key
    reached = {module.name for module, _ in reachable("orders", "orders.app", HANDLERS)}
    assert "warung.ordering.payment_pages" in reached
    assert not reached & {"warung.ordering.provider_transactions", "warung.ordering.midtrans"}
    opener_code = {m.name for m, _ in reachable("payments", "payments.opener", HANDLERS)}
    assert "warung.ordering.provider_transactions" in opener_code
