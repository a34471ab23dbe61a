"""Audit entries: who did what to which resource, written with the change itself.

``audit_write(entry)`` returns a write for :class:`warung.dynamo.Transaction`, so that a
business change and its audit entry commit together or not at all (docs/product.md, Audit).
Entries are never updated or deleted: the audit table's IAM allows ``PutItem`` only, and the put is
conditional so that it cannot overwrite an existing entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warung.context import RequestMeta
from warung.dynamo import to_item
from warung.ids import new_id, rfc3339, rfc3339_precise, utc_now
from warung.settings import get_settings

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

    def as_item(self) -> dict[str, Any]:
        """The stored form: partitioned by day, sorted by time, indexed by actor and resource."""
        sort_key = f"{rfc3339_precise(self.at)}#{self.entry_id}"
        return {
            "pk": f"DAY#{self.at:%Y-%m-%d}",
            "sk": sort_key,
            "actor_pk": f"ACTOR#{self.actor_id}",
            "resource_pk": f"RES#{self.resource}",
            "id": self.entry_id,
            "actor_id": self.actor_id,
            "action": self.action,
            "resource": self.resource,
            "request_id": self.meta.request_id,
            "source_ip": self.meta.source_ip,
            "user_agent": self.meta.user_agent,
            "at": rfc3339(self.at),
            "changes": redact(self.changes),
        }


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
    actor_id: str, action: str, resource: str, meta: RequestMeta, **changes: Any
) -> tuple[dict[str, Any], None]:
    """The write that records ``actor_id`` doing ``action`` to ``resource`` (``type:id``),
    to add to the business transaction: the one audit helper of every service."""
    return audit_write(AuditEntry(actor_id, action, resource, meta, changes))


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
