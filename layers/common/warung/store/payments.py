"""Payments (the record and its stored form) and the provider events already acted on."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# The payment provider of the local and dev stages (warung.ordering.payments).
SIMULATOR = "simulator"
# The "provider" of a cash-on-delivery order's payment: the merchant's driver, at the door.
CASH = "cash"
# The real provider (warung.ordering.midtrans): Midtrans Snap.
MIDTRANS = "midtrans"
EVENT_RETENTION_SECONDS = 30 * 24 * 3600  # how long a provider event's record is kept


def payment_key(payment_id: str) -> dict[str, str]:
    """A payment."""
    return {"pk": f"PAYMENT#{payment_id}", "sk": "PAYMENT"}


# A day's payments are spread over this many gsi1 partitions by a hash of the payment id:
# every checkout writes its payment, and each status change rewrites its index entry, so one
# partition per day took about 3 write units per order (docs/decisions/0028).
PAYDAY_SHARDS = 16


def payday_shard(payment_id: str) -> int:
    """The day-list shard of a payment: its id's SHA-256 modulo the shard count."""
    digest = hashlib.sha256(payment_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % PAYDAY_SHARDS


def payments_of_day_partition(day: str, shard: int) -> str:
    """One gsi1 partition of the payments made on ``day`` (Jakarta date, YYYY-MM-DD): what
    the daily reconciliation reads, never a Scan."""
    return f"PAYDAY#{day}#{shard}"


def payments_of_day_partitions(day: str) -> list[str]:
    """Every gsi1 partition of ``day``'s payments: the shards, then the one partition of
    before the shards (``PAYDAY#<day>``: payments made before them; read for one release,
    decision 0028)."""
    shards = [payments_of_day_partition(day, shard) for shard in range(PAYDAY_SHARDS)]
    return [*shards, f"PAYDAY#{day}"]


def day_index(payment_id: str, created_at: str, day: str) -> dict[str, str]:
    """The gsi1 keys of a payment made on ``day`` (its Jakarta date), in creation order."""
    return {
        "gsi1pk": payments_of_day_partition(day, payday_shard(payment_id)),
        "gsi1sk": f"{created_at}#{payment_id}",
    }


# The one payment status an admin lists (GET /v1/admin/payments?status=): money that needs a
# person, because the provider could not give it back.
REFUND_MANUAL = "refund_manual"


def payments_by_status_partition(status: str) -> str:
    """The gsi2 partition of the payments in ``status`` (only ``refund_manual`` is kept
    there: the index is sparse, its keys set while the payment is in that status)."""
    return f"PAYSTATUS#{status}"


def status_index(payment_id: str, status: str, since: str) -> dict[str, str]:
    """The gsi2 keys of a payment in ``status`` since ``since`` (RFC 3339): newest first by
    that moment; none for a status no admin lists."""
    if status != REFUND_MANUAL:
        return {}
    return {"gsi2pk": payments_by_status_partition(status), "gsi2sk": f"{since}#{payment_id}"}


def jakarta_day(moment_rfc3339: str) -> str:
    """The Jakarta (UTC+7) date of an RFC 3339 time."""
    moment = datetime.fromisoformat(moment_rfc3339.replace("Z", "+00:00"))
    return (moment.astimezone(UTC) + timedelta(hours=7)).date().isoformat()


def reconciliation_key(day: str) -> dict[str, str]:
    """The daily reconciliation's report of ``day``'s payments (admin-readable)."""
    return {"pk": f"RECON#{day}", "sk": "REPORT"}


def event_key(provider: str, event_id: str) -> dict[str, str]:
    """A provider's event, recorded once in the transaction of its effect."""
    return {"pk": f"EVENT#{provider}#{event_id}", "sk": "EVENT"}


@dataclass(frozen=True)
class Payment:
    """A payment of one order through one provider."""

    payment_id: str
    order_id: str
    customer_id: str
    merchant_id: str
    amount: int
    provider: str
    # pending, succeeded, failed, refund_pending, refunded, cancelled, expired; cash on
    # delivery: due_on_delivery, collected (or cancelled, failed)
    status: str
    created_at: str
    updated_at: str
    currency: str = "IDR"
    # Where the customer pays (the provider's page); None until the provider's
    # transaction is open, and always for the simulator.
    action_url: str | None = None


def payment_item(payment: Payment) -> dict[str, Any]:
    """The stored form of a payment."""
    return {
        **payment_key(payment.payment_id),
        "entity": "payment",
        "id": payment.payment_id,
        "order_id": payment.order_id,
        "customer_id": payment.customer_id,
        "merchant_id": payment.merchant_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "provider": payment.provider,
        "status": payment.status,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
        **({"action_url": payment.action_url} if payment.action_url else {}),
        # the day's payments, for the daily reconciliation
        **day_index(payment.payment_id, payment.created_at, jakarta_day(payment.created_at)),
        # while refund_manual: an admin's list of refunds to make by hand
        **status_index(payment.payment_id, payment.status, payment.updated_at),
    }


def payment_from(item: Mapping[str, Any]) -> Payment:
    """A payment from its stored form."""
    return Payment(
        payment_id=item["id"],
        order_id=item["order_id"],
        customer_id=item["customer_id"],
        merchant_id=item["merchant_id"],
        amount=int(item["amount"]),
        currency=item.get("currency", "IDR"),
        provider=item["provider"],
        status=item["status"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        action_url=item.get("action_url"),
    )
