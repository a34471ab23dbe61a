"""What the daily reconciliation calls a mismatch between our payment and Midtrans's record."""

from __future__ import annotations

import pytest

from payments import rules as domain


@pytest.mark.parametrize(
    ("here", "amount", "there", "there_amount", "kind"),
    [
        ("succeeded", 50_000, "paid", 50_000, None),
        ("refunded", 50_000, "refunded", 50_000, None),
        ("pending", 50_000, "pending", 50_000, None),
        ("expired", 50_000, "failed", 50_000, None),
        ("pending", 50_000, "unknown", None, None),
        ("succeeded", 50_000, "pending", 50_000, "paid_here_not_there"),
        ("refund_manual", 50_000, "unknown", None, "paid_here_not_there"),
        ("pending", 50_000, "paid", 50_000, "paid_there_not_here"),
        ("expired", 50_000, "paid", 50_000, "paid_there_not_here"),
        ("succeeded", 50_000, "paid", 49_000, "different_amounts"),
    ],
)
def test_each_pair_of_statuses_is_a_mismatch_or_not(
    here: str, amount: int, there: str, there_amount: int | None, kind: str | None
) -> None:
    assert domain.mismatch(here, amount, there, there_amount) == kind
