"""The admin's money reads: payments by status (a sparse gsi2 partition, newest first, never
a Scan) and the daily reconciliation's report item."""

from __future__ import annotations

from typing import Any

from warung.dynamo import get_item, partition_query, query_items
from warung.settings import get_settings
from warung.store.payments import (
    Payment,
    payment_from,
    payments_by_status_partition,
    reconciliation_key,
)


def list_payments_in_status(
    status: str, *, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[Payment], dict[str, Any] | None]:
    """Up to ``limit`` payments in ``status``, newest first (one ``Query`` of gsi2), and the
    key that resumes after the last of them (``None`` when the list ended)."""
    request = partition_query(
        payments_by_status_partition(status),
        index="gsi2",
        newest_first=True,
        page_size=limit,
        start=start_key,
    )
    payments: list[Payment] = []
    for item, key in query_items(request):
        payments.append(payment_from(item))
        if len(payments) == limit:
            return payments, key
    return payments, None


def reconciliation_report(day: str) -> dict[str, Any] | None:
    """The reconciliation's report of ``day``, or None when no run wrote one."""
    item = get_item(reconciliation_key(day), table=get_settings().table_name)
    return dict(item) if item else None
