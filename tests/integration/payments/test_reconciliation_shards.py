"""The day's payments over their gsi1 shards (docs/decisions/0028): the reconciliation
reads every shard of the day, and the payments listed on the one partition of before the
shards too."""

from __future__ import annotations

from datetime import timedelta

from support.events import FakeContext
from support.payments_world import PaymentsWorld, Shop

import payments.reconcile
from midtrans_standin import StandIn
from warung.dynamo import dynamodb_client, to_item
from warung.ids import rfc3339, utc_now
from warung.settings import get_settings
from warung.store.payments import jakarta_day, payment_key


def payment_pk(shop: Shop) -> str:
    return payment_key(shop.payment.payment_id)["pk"]


def test_the_reconciliation_finds_the_payments_of_every_shard_and_of_before_the_shards(
    world: PaymentsWorld, midtrans: StandIn
) -> None:
    # given payments paid here only (a mismatch each), on several shards of today's list
    shops = [
        world.shop(provider="midtrans", payment_status="succeeded", order_status="paid")
        for _ in range(8)
    ]
    day = jakarta_day(rfc3339(utc_now()))
    lists = {str((world.stored(payment_pk(s), "PAYMENT") or {})["gsi1pk"]) for s in shops}
    assert len(lists) > 2
    assert all(name.startswith(f"PAYDAY#{day}#") for name in lists)
    # and one as the code of before the shards listed it
    before = shops[0].payment
    dynamodb_client().update_item(
        TableName=get_settings().table_name,
        Key=to_item(payment_key(before.payment_id)),
        UpdateExpression="SET gsi1pk = :day",
        ExpressionAttributeValues=to_item({":day": f"PAYDAY#{day}"}),
    )

    # when the next morning's reconciliation runs
    tomorrow = utc_now() + timedelta(days=1)
    answer = payments.reconcile.handler({"time": rfc3339(tomorrow)}, FakeContext())

    # then every one of them is in its report
    report = world.stored(f"RECON#{day}", "REPORT")
    assert answer["day"] == day
    assert report is not None
    found = {entry["payment_id"]: entry["kind"] for entry in report["mismatches"]}
    assert {s.payment.payment_id: found.get(s.payment.payment_id) for s in shops} == {
        s.payment.payment_id: "paid_here_not_there" for s in shops
    }
