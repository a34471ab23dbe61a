"""The daily reconciliation (its own Lambda, scheduled at 00:00 UTC = 07:00 in Jakarta):
yesterday's payments, Jakarta time, against the provider's records (service.reconcile_day).
"Now" is the schedule event's ``time``, so a late or repeated run reconciles the same day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import service
from warung.ids import utc_now
from warung.observability import entry_point
from warung.store.payments import jakarta_day


def yesterday(event: dict[str, Any]) -> tuple[str, datetime]:
    """The Jakarta day before the schedule's time, and that time."""
    raw = event.get("time")
    now = datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else utc_now()
    return jakarta_day((now - timedelta(days=1)).isoformat()), now


@entry_point
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    """Reconcile yesterday; the report's counts."""
    day, now = yesterday(event)
    report = service.reconcile_day(day, now)
    return {
        "day": day,
        "checked": report["checked"],
        "unchecked": report["unchecked"],
        "mismatches": len(report["mismatches"]),
    }
