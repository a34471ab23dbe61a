"""The audit log's response shapes."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from typing import Any

from pydantic import Field

from warung.audit import ActorType
from warung.models import ApiModel, Page


class AuditActor(ApiModel):
    """Who acted: an account (``user``, ``admin``), a job or schedule (``system``), or a
    person at a terminal (``operator``)."""

    type: ActorType
    id: str


class AuditResource(ApiModel):
    """What was acted on, e.g. ``{"type": "order", "id": "01J..."}``."""

    type: str
    id: str


class AuditItem(ApiModel):
    """One audit entry. ``ip_hash`` is a keyed hash of the caller's address (the same address
    gives the same hash on one stage), ``null`` when there was no address (jobs, operators)."""

    id: str
    at: str = Field(description="RFC 3339, UTC.")
    actor: AuditActor
    action: str
    resource: AuditResource
    request_id: str
    ip_hash: str | None = None
    changes: dict[str, Any] = Field(description="The fields that changed; never a secret.")


class AuditPage(Page[AuditItem]):
    """Audit entries, newest first; fewer than `limit` does not mean the end: only a
    `null` `next_cursor` does."""
