"""Rules of the admin's money routes: which day a reconciliation report may be asked for."""

from __future__ import annotations

from datetime import date

from warung.errors import FieldError, ValidationFailed


def reconciliation_day(day: str) -> str:
    """``day`` as a real calendar date (``YYYY-MM-DD``), else 422 naming it."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != day:
        raise ValidationFailed(
            "The day is not a date.",
            errors=[FieldError("day", "A calendar date as YYYY-MM-DD, e.g. 2026-12-04.")],
        )
    return day
