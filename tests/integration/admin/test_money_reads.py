"""The admin's money reads through the admin function's handler: the payments a person must
refund (``refund_manual``, a sparse index, newest first, paged) and a day's reconciliation
report, both written by the payments context's own code, for admins only, each read audited."""

from __future__ import annotations

import importlib
import json
from datetime import timedelta
from typing import Any

from support.admin_world import AdminWorld
from support.events import FakeContext, proxy_event

from payments import repository as payments_repository
from warung.clock import now
from warung.dynamo import Transaction
from warung.ids import new_id, rfc3339
from warung.settings import get_settings
from warung.store.payments import Payment, payment_item


def get(path: str, query: dict[str, str] | None = None, *, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    event = proxy_event("GET", path, headers=headers, query=query)
    response = importlib.import_module("admin.app").handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"] or "null")


def paid_payment(amount: int, at: str) -> Payment:
    """A Midtrans payment that succeeded, stored as checkout and the webhook leave it."""
    payment = Payment(
        payment_id=new_id(),
        order_id=new_id(),
        customer_id=new_id(),
        merchant_id=new_id(),
        amount=amount,
        provider="midtrans",
        status="succeeded",
        created_at=at,
        updated_at=at,
    )
    Transaction().put(get_settings().table_name, payment_item(payment)).commit()
    return payment


def moved(payment: Payment, status: str, at: str) -> Payment:
    """The payments context's own status change (the refund consumer's, the webhook's)."""
    payments_repository.set_payment_status(Transaction(), payment, status, at=at).commit()
    return Payment(**{**payment.__dict__, "status": status, "updated_at": at})


def test_refund_manual_payments_are_listed_newest_first_a_page_at_a_time(
    world: AdminWorld,
) -> None:
    admin_id = new_id()
    token = world.token_for(admin_id, admin=True)
    start = now()
    first, second, third = (
        moved(
            paid_payment(25000 * n, rfc3339(start)),
            "refund_manual",
            rfc3339(start + timedelta(minutes=n)),
        )
        for n in (1, 2, 3)
    )
    paid_payment(99000, rfc3339(start))  # succeeded: not a person's matter

    status, page = get("/v1/admin/payments", {"status": "refund_manual", "limit": "2"}, token=token)

    assert status == 200, page
    assert [p["id"] for p in page["items"]] == [third.payment_id, second.payment_id]
    assert page["items"][0] == {
        "id": third.payment_id,
        "order_id": third.order_id,
        "customer_id": third.customer_id,
        "merchant_id": third.merchant_id,
        "amount": 75000,
        "currency": "IDR",
        "provider": "midtrans",
        "status": "refund_manual",
        "since": third.updated_at,
        "created_at": third.created_at,
    }
    status, rest = get(
        "/v1/admin/payments",
        {"status": "refund_manual", "limit": "2", "cursor": page["next_cursor"]},
        token=token,
    )
    assert status == 200, rest
    assert ([p["id"] for p in rest["items"]], rest["next_cursor"]) == ([first.payment_id], None)

    # a payment refunded by hand afterwards leaves the list
    moved(second, "refunded", rfc3339(start + timedelta(minutes=9)))
    _, after = get("/v1/admin/payments", {"status": "refund_manual"}, token=token)
    assert [p["id"] for p in after["items"]] == [third.payment_id, first.payment_id]
    status, audit = world.get({"actor_id": admin_id, "action": "admin.payments.read"}, token=token)
    assert status == 200, audit
    assert len(audit["items"]) == 3
    assert audit["items"][0]["changes"]["filters"] == {"status": "refund_manual"}


def test_the_payments_list_takes_refund_manual_only(world: AdminWorld) -> None:
    token = world.token_for(new_id(), admin=True)

    other = get("/v1/admin/payments", {"status": "succeeded"}, token=token)
    missing = get("/v1/admin/payments", token=token)

    assert other[0] == missing[0] == 422
    assert [e["field"] for e in other[1]["errors"]] == ["status"]


def test_only_an_admin_reads_the_money_lists(world: AdminWorld) -> None:
    customer = world.token_for(new_id())
    for path, query in (
        ("/v1/admin/payments", {"status": "refund_manual"}),
        ("/v1/admin/reconciliation/2026-12-04", None),
    ):
        as_customer = get(path, query, token=customer)
        anonymous = get(path, query)

        assert (as_customer[0], as_customer[1]["code"]) == (403, "forbidden")
        assert (anonymous[0], anonymous[1]["code"]) == (401, "unauthorized")


def test_a_days_reconciliation_report_reads_back_as_the_run_wrote_it(world: AdminWorld) -> None:
    admin_id = new_id()
    token = world.token_for(admin_id, admin=True)
    report = {
        "day": "2026-11-30",
        "provider": "midtrans",
        "checked": 3,
        "unchecked": 1,
        "mismatches": [
            {
                "kind": "paid_there_not_here",
                "payment_id": "p-1",
                "order_id": "o-1",
                "here": {"status": "expired", "amount": 24145},
                "there": {"status": "settlement", "amount": 24145},
            },
            {
                "kind": "paid_here_not_there",
                "payment_id": "p-2",
                "order_id": "o-2",
                "here": {"status": "succeeded", "amount": 50000},
                "there": {"status": "not_found", "amount": None},
            },
        ],
        "created_at": "2026-12-01T00:00:03Z",
    }
    payments_repository.put_reconciliation_report("2026-11-30", report)

    status, read = get("/v1/admin/reconciliation/2026-11-30", token=token)

    assert status == 200, read
    assert read == report
    _, audit = world.get({"actor_id": admin_id, "action": "admin.reconciliation.read"}, token=token)
    assert [e["resource"] for e in audit["items"]] == [
        {"type": "reconciliation", "id": "2026-11-30"}
    ]


def test_a_day_without_a_report_is_404_and_a_day_that_is_no_date_is_422(
    world: AdminWorld,
) -> None:
    token = world.token_for(new_id(), admin=True)

    none = get("/v1/admin/reconciliation/2026-11-29", token=token)
    impossible = get("/v1/admin/reconciliation/2026-02-30", token=token)
    words = get("/v1/admin/reconciliation/yesterday", token=token)
    too_long = get("/v1/admin/reconciliation/2026-12-04T00", token=token)

    assert (none[0], none[1]["code"]) == (404, "not_found")
    assert (impossible[0], impossible[1]["code"]) == (422, "validation_error")
    assert [e["field"] for e in impossible[1]["errors"]] == ["day"]
    assert (words[0], [e["field"] for e in words[1]["errors"]]) == (422, ["day"])
    assert too_long[0] == 422
