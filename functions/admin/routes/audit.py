"""GET /v1/admin/audit: who did what, for admins (docs/api-guide.md, "Audit log")."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from admin.models.audit import AuditActor, AuditItem, AuditPage, AuditResource
from admin.service import audit as service
from warung.api import UNAUTHORIZED, WarungRouter, request_meta
from warung.audit import AUDIT_ACTIONS
from warung.auth import admin, current_caller
from warung.models import Cursor, Limit

router = WarungRouter()  # type: ignore[no-untyped-call]

TIME_FORMAT = "RFC 3339 with an offset, e.g. 2026-12-01T00:00:00Z"


def item_view(entry: dict[str, Any]) -> AuditItem:
    kind, _, ident = str(entry["resource"]).partition(":")
    return AuditItem(
        id=entry["id"],
        at=entry["at"],
        actor=AuditActor(type=entry.get("actor_type", "user"), id=entry["actor_id"]),
        action=entry["action"],
        resource=AuditResource(type=kind, id=ident),
        request_id=entry["request_id"],
        ip_hash=entry.get("ip_hash"),
        changes=entry.get("changes") or {},
    )


@router.get(
    "/v1/admin/audit",
    tags=["admin"],
    operation_id="listAuditEntries",
    summary="The audit log, newest first",
    **admin,
    responses={
        **UNAUTHORIZED,
        403: {"description": "Not an admin."},
        422: {"description": "Unknown action, bad time, or a range over 90 days."},
    },
)
def list_audit_entries(
    actor_id: Annotated[str | None, Query(max_length=128, description="Who acted.")] = None,
    resource: Annotated[
        str | None, Query(max_length=300, description="What was acted on, as `type:id`.")
    ] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=64,
            description="One action.",
            json_schema_extra={"enum": list(AUDIT_ACTIONS)},
        ),
    ] = None,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=40,
            description=f"Oldest time, included (default: `to` - 7 days); {TIME_FORMAT}.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(max_length=40, description=f"Newest time, included (default: now); {TIME_FORMAT}."),
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> AuditPage:
    entries, next_cursor = service.read_log(
        current_caller(router).user_id,
        actor_id=actor_id,
        resource=resource,
        action=action,
        start=from_,
        end=to,
        limit=limit,
        cursor=cursor,
        meta=request_meta(router),
    )
    return AuditPage(items=[item_view(e) for e in entries], next_cursor=next_cursor)
