"""Audit entries: who did what to which resource, written with the change itself.

``audit_write(entry)`` returns a write for :class:`warung.dynamo.Transaction`, so that a
business change and its audit entry commit together or not at all (docs/product.md, Audit).
Entries are never updated or deleted: the audit table's IAM allows ``PutItem`` only, and the put is
conditional so that it cannot overwrite an existing entry.

Keys (docs/data-model.md, decisions/0017): time-ordered partitions are spread over
:data:`SHARDS` shards chosen from a hash of the entry id, so that no day, action or busy
system actor is one hot partition: ``DAY#<date>#<shard>`` (the table),
``ACTION#<action>#<date>#<shard>`` (``by_action``) and, for the actors in
:data:`SHARDED_ACTORS`, ``ACTOR#<actor>#<date>#<shard>`` (``by_actor``). Every sort key is
``<time, microseconds>#<entry id>``.

The caller's address is stored only as ``ip_hash``, an HMAC-SHA256 keyed with a secret of
the stage: the same address gives the same hash (to see one source's actions), and nobody
without the key can list addresses from the table.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, cast, get_args

from warung.context import RequestMeta
from warung.dynamo import to_item
from warung.ids import new_id, rfc3339, rfc3339_precise, utc_now
from warung.settings import get_settings

SHARDS: Final = 128
"""Partitions per day (and per day of an action or of a sharded actor): 128 since the
capacity model (docs/capacity.md) put the day key at ~98 shards for 1,000 orders a second.
Entries written under 32 keep their keys; shards 0..31 of 128 are spelt the same, so a
reader of 0..127 finds them (decisions/0017, amendment)."""

ActorType = Literal["user", "admin", "system", "operator"]
"""``user``: a signed-in customer or merchant member (or an anonymous caller); ``admin``: an
account acting through an admin route; ``system``: a job, a schedule or the payment
provider's webhook; ``operator``: a person at a terminal (``make create-admin``,
``tools/warung_ops``)."""
ACTOR_TYPES: Final = get_args(ActorType)

SHARDED_ACTORS: Final = frozenset({"system", "anonymous"})
"""Actor ids that write many entries a day (the expiry job, the payment webhook, failed
sign-ins to unknown addresses): their ``by_actor`` keys are sharded like the days."""

_ORDER_STATUS_ACTIONS = tuple(
    f"order.{status}"
    for status in (
        "paid",
        "placed",
        "accepted",
        "preparing",
        "out_for_delivery",
        "delivered",
        "failed_delivery",
        "cancelled",
        "rejected",
        "expired",
    )
)
AUDIT_ACTIONS: Final[tuple[str, ...]] = (
    "admin.audit.read",
    "admin.dead_letters.redrive",
    "admin.payments.read",
    "admin.reconciliation.read",
    "admin.merchant_status_changed",
    "admin.user_promoted",
    "admin.user_updated",
    "auth.login_failed",
    "auth.login_succeeded",
    "auth.logout",
    "auth.logout_all",
    "auth.password_change_failed",
    "auth.password_changed",
    "auth.password_reset",
    "auth.refresh_reused",
    "merchant.created",
    "merchant.invitation_accepted",
    "merchant.invitation_declined",
    "merchant.invitation_revoked",
    "merchant.invitation_sent",
    "merchant.member_removed",
    "merchant.updated",
    "merchant.webhook_secret_rotated",
    "order.created",
    *_ORDER_STATUS_ACTIONS,
    "payment.amount_mismatch",
    "payment.event_ignored",
    "payment.failed",
    "payment.notification_disputed",
    "payment.refund_manual",
    "payment.refund_requested",
    "payment.refunded",
    "payment.simulation_requested",
    "payment.succeeded",
    "product.archived",
    "product.created",
    "product.updated",
    "promo.created",
    "promo.updated",
    "user.created_by_operator",
    "user.email_verified",
    "user.profile_updated",
    "user.registered",
)
"""Every action the code writes (a unit test walks the code to keep this list whole): what
``GET /v1/admin/audit?action=`` accepts."""

REDACTED = "[redacted]"
_SECRET_MARKERS = ("password", "secret", "token", "hash", "key")


@dataclass(frozen=True)
class AuditEntry:
    """One security or business event. ``resource`` is ``type:id``, e.g. ``order:01J...``."""

    actor_id: str
    action: str
    resource: str
    meta: RequestMeta
    changes: Mapping[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utc_now)
    entry_id: str = field(default_factory=new_id)
    actor_type: ActorType = "user"

    def as_item(self) -> dict[str, Any]:
        """The stored form: sharded by day, sorted by time, indexed by actor, resource and
        action. The address is kept only as its keyed hash; the user agent is not kept."""
        day, shard = f"{self.at:%Y-%m-%d}", shard_of(self.entry_id)
        item = {
            "pk": day_key(day, shard),
            "sk": sort_key(self.at, self.entry_id),
            "actor_pk": actor_key(self.actor_id, day, shard),
            "resource_pk": resource_key(self.resource),
            "action_pk": action_key(self.action, day, shard),
            "id": self.entry_id,
            "actor_id": self.actor_id,
            "actor_type": self.actor_type,
            "action": self.action,
            "resource": self.resource,
            "request_id": self.meta.request_id,
            "at": rfc3339(self.at),
            "changes": redact(self.changes),
        }
        if self.meta.source_ip:
            item["ip_hash"] = ip_hash(self.meta.source_ip)
        return item


def shard_of(entry_id: str) -> int:
    """The shard (``0..SHARDS-1``) of a new entry: from a hash of its id, so that entries of
    the same instant spread evenly. Only for writing: an entry written under another count
    is elsewhere, so a reader takes the shard from the partition it reads."""
    digest = hashlib.sha256(entry_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % SHARDS


def sort_key(at: datetime, entry_id: str) -> str:
    """Every audit key's sort key: time first, then the id that makes it unique."""
    return f"{rfc3339_precise(at)}#{entry_id}"


def day_key(day: str, shard: int) -> str:
    """The table's partition key of one shard of one day (``YYYY-MM-DD``): two digits
    at least (``07``, ``31``, ``127``), as entries written under 32 shards have them."""
    return f"DAY#{day}#{shard:02d}"


def action_key(action: str, day: str, shard: int) -> str:
    """The ``by_action`` partition of one shard of one day of ``action``."""
    return f"ACTION#{action}#{day}#{shard:02d}"


def actor_key(actor_id: str, day: str | None = None, shard: int | None = None) -> str:
    """The ``by_actor`` partition: one per actor, or per shard and day for the busy actors
    of :data:`SHARDED_ACTORS`."""
    if actor_id in SHARDED_ACTORS:
        return f"ACTOR#{actor_id}#{day}#{shard:02d}"
    return f"ACTOR#{actor_id}"


def resource_key(resource: str) -> str:
    """The ``by_resource`` partition of ``resource`` (``type:id``)."""
    return f"RES#{resource}"


def ip_hash(address: str) -> str:
    """The keyed hash stored instead of ``address``: HMAC-SHA256, hex, with the stage's
    audit address key. The key is read on first use (cached for the container)."""
    from warung.secrets import get_secret  # only writes with an address need it

    arn = get_settings().audit_ip_hash_secret_arn
    if not arn:
        raise RuntimeError("AUDIT_IP_HASH_SECRET_ARN is not configured")
    key = get_secret(arn).encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def audit_write(entry: AuditEntry, table: str | None = None) -> tuple[dict[str, Any], None]:
    """The ``TransactWriteItems`` element that records ``entry``."""
    put = {
        "Put": {
            "TableName": table or get_settings().audit_table_name,
            "Item": to_item(entry.as_item()),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    return put, None


def audited(
    actor_id: str,
    action: str,
    resource: str,
    meta: RequestMeta,
    *,
    actor_type: Any = "user",
    **changes: Any,
) -> tuple[dict[str, Any], None]:
    """The write that records ``actor_id`` (an ``actor_type``) doing ``action`` to
    ``resource`` (``type:id``), to add to the business transaction: the one audit helper of
    every service. (``actor_type`` is typed ``Any`` so that ``**changes`` type-checks;
    it is checked here.)"""
    if actor_type not in ACTOR_TYPES:
        raise ValueError(f"unknown actor type {actor_type!r}")
    kind = cast("ActorType", actor_type)
    return audit_write(AuditEntry(actor_id, action, resource, meta, changes, actor_type=kind))


def redact(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` with every secret-looking field replaced, at any depth."""
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if any(marker in name.lower() for marker in _SECRET_MARKERS):
            clean[name] = REDACTED
        elif isinstance(value, Mapping):
            clean[name] = redact(value)
        else:
            clean[name] = value
    return clean


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The changed fields as ``{field: {"from": old, "to": new}}`` for an audit entry."""
    changed: dict[str, dict[str, Any]] = {}
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            changed[name] = {"from": before.get(name), "to": after.get(name)}
    return changed
