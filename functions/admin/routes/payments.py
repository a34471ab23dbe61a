"""Money that needs a person, for admins: payments to refund by hand, and the daily
reconciliation's report (docs/runbook.md, "Manual refunds", "Reconciliation mismatches")."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from admin.models.payments import AdminPayment, AdminPaymentPage, ReconciliationReport
from admin.service import payments as service
from warung.api import ADMIN_ONLY, WarungRouter, request_meta
from warung.auth import admin, current_caller
from warung.models import Cursor, Limit
from warung.store.payments import Payment

router = WarungRouter()  # type: ignore[no-untyped-call]
TAGS = ["admin"]
Day = Annotated[
    str,
    # only bounded here: whether it is a date is the rules' (a 422 naming `day`)
    Path(
        max_length=10,
        description="The Jakarta date reconciled, YYYY-MM-DD.",
        examples=["2026-12-04"],
    ),
]


def view(payment: Payment) -> AdminPayment:
    return AdminPayment(
        id=payment.payment_id,
        order_id=payment.order_id,
        customer_id=payment.customer_id,
        merchant_id=payment.merchant_id,
        amount=payment.amount,
        currency=payment.currency,
        provider=payment.provider,
        status="refund_manual",
        since=payment.updated_at,
        created_at=payment.created_at,
    )


@router.get(
    "/v1/admin/payments",
    tags=TAGS,
    operation_id="listAdminPayments",
    summary="Payments a person must act on (refund_manual), newest first",
    description=(
        "The payments the provider could not refund (bank transfer virtual accounts): "
        "refund each customer by hand. Reading the list is audited "
        "(`admin.payments.read`)."
    ),
    **admin,
    responses={**ADMIN_ONLY, 422: {"description": "`status` other than `refund_manual`."}},
)
def list_admin_payments(
    status: Annotated[
        Literal["refund_manual"], Query(description="The one status listed: `refund_manual`.")
    ],
    limit: Limit = 20,
    cursor: Cursor = None,
) -> AdminPaymentPage:
    page = service.list_payments(
        current_caller(router).user_id,
        status=status,
        limit=limit,
        cursor=cursor,
        meta=request_meta(router),
    )
    return AdminPaymentPage(items=[view(p) for p in page.payments], next_cursor=page.next_cursor)


@router.get(
    "/v1/admin/reconciliation/<day>",
    tags=TAGS,
    operation_id="getReconciliationReport",
    summary="The daily reconciliation's report of one day's payments",
    description=(
        "What the 07:00 (Jakarta) run found for that Jakarta day: each payment on which "
        "Warung and the provider disagree. Reading it is audited "
        "(`admin.reconciliation.read`)."
    ),
    **admin,
    responses={
        **ADMIN_ONLY,
        404: {"description": "No run wrote a report for that day."},
        422: {"description": "The day is not a date."},
    },
)
def get_reconciliation_report(day: Day) -> ReconciliationReport:
    report = service.reconciliation_report(
        current_caller(router).user_id, day, request_meta(router)
    )
    return ReconciliationReport.model_validate(report)
