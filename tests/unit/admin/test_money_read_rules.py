"""Which day a reconciliation report may be asked for: a real calendar date only."""

from __future__ import annotations

import pytest

from admin.rules.payments import reconciliation_day
from warung.errors import ValidationFailed


def test_a_calendar_date_is_the_day_asked_for() -> None:
    assert reconciliation_day("2026-12-04") == "2026-12-04"
    assert reconciliation_day("2028-02-29") == "2028-02-29"  # a leap day


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "2026-1-04", "20261204", ""])
def test_a_day_that_is_no_date_is_refused_naming_it(day: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        reconciliation_day(day)

    assert [e.field for e in refused.value.errors] == ["day"]
