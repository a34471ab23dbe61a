"""The daily reconciliation (payments.reconcile) against the Midtrans stand-in: yesterday's
payments, read by day through gsi1, each compared with Midtrans's status record; each kind
of mismatch reported in the admin-readable report item, counted for the alarm."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.events import FakeContext
from support.midtrans import notify, open_page, pay
from support.payments_world import PaymentsWorld, Shop

import payments.reconcile
from midtrans_standin import StandIn
from warung.ids import rfc3339, utc_now
from warung.store.payments import jakarta_day


def paid_both_sides(world: PaymentsWorld, midtrans: StandIn) -> Shop:
    shop = world.shop(provider="midtrans")
    status, _ = notify(world, pay(midtrans, open_page(world, shop)["action_url"]))
    assert status == 200
    return shop


def by_payment(report: dict[str, Any]) -> dict[str, str]:
    return {entry["payment_id"]: entry["kind"] for entry in report["mismatches"]}


def test_the_reconciliation_reports_each_kind_of_mismatch(
    world: PaymentsWorld, midtrans: StandIn, capsys: Any
) -> None:
    agreed = paid_both_sides(world, midtrans)
    # paid here, never paid at Midtrans
    here_only = world.shop(provider="midtrans", payment_status="succeeded", order_status="paid")
    # paid at Midtrans, its notification lost: still pending here
    there_only = world.shop(provider="midtrans")
    pay(midtrans, open_page(world, there_only)["action_url"])
    # paid on both sides, Midtrans's record of another amount
    other_amount = paid_both_sides(world, midtrans)
    midtrans.transactions[other_amount.order.order_id].gross_amount = "1000.00"
    # the schedule's event of the next morning, 07:00 in Jakarta
    tomorrow = utc_now() + timedelta(days=1)
    event = {"time": rfc3339(tomorrow), "detail-type": "Scheduled Event"}

    answer = payments.reconcile.handler(event, FakeContext())

    day = jakarta_day(rfc3339(utc_now()))
    assert answer["day"] == day
    report = world.stored(f"RECON#{day}", "REPORT")
    assert report is not None
    found = by_payment(report)
    assert agreed.payment.payment_id not in found
    assert found[here_only.payment.payment_id] == "paid_here_not_there"
    assert found[there_only.payment.payment_id] == "paid_there_not_here"
    assert found[other_amount.payment.payment_id] == "different_amounts"
    (entry,) = [e for e in report["mismatches"] if e["kind"] == "different_amounts"]
    assert entry["here"]["amount"] == other_amount.payment.amount
    assert entry["there"]["amount"] == 1000
    assert answer["mismatches"] == len(report["mismatches"]) >= 3
    assert '"ReconciliationMismatches"' in capsys.readouterr().out  # the alarm's metric
