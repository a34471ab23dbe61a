"""The admin's money reads (docs/runbook.md, "Manual refunds" and "Reconciliation
mismatches"): the payments a person must refund, and a day's reconciliation report. Each
read is audited, as reading the audit log is: they show customers' payments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admin.repository import audit as audit_log
from admin.repository import payments as repository
from admin.rules import payments as rules
from warung.audit import audited
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.errors import NotFound
from warung.store.payments import Payment

ROUTE = "GET /v1/admin/payments"


@dataclass(frozen=True)
class PaymentsPage:
    """One page of payments in a status, and the next page's cursor."""

    payments: list[Payment]
    next_cursor: str | None


def list_payments(
    admin_id: str, *, status: str, limit: int, cursor: str | None, meta: RequestMeta
) -> PaymentsPage:
    """Payments in ``status`` (``refund_manual``), newest first, a page at a time."""
    scope = list_scope(ROUTE, admin_id, status=status)
    payments, last = repository.list_payments_in_status(
        status, limit=limit, start_key=decode_cursor(cursor, scope)
    )
    audit_log.append(
        audited(
            admin_id,
            "admin.payments.read",
            "payments:list",
            meta,
            actor_type="admin",
            filters={"status": status},
            page="next" if cursor else "first",
        )
    )
    return PaymentsPage(payments, encode_cursor(last, scope))


def reconciliation_report(admin_id: str, day: str, meta: RequestMeta) -> dict[str, Any]:
    """The reconciliation's report of ``day`` (422 for a day that is not a date, 404 when no
    run wrote one)."""
    report = repository.reconciliation_report(rules.reconciliation_day(day))
    if report is None:
        raise NotFound(f"No reconciliation report for {day}.")
    audit_log.append(
        audited(
            admin_id, "admin.reconciliation.read", f"reconciliation:{day}", meta, actor_type="admin"
        )
    )
    return report
