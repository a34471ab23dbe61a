"""Reading the audit log (docs/product.md, Audit): filters, one bounded page, and an entry
recording the read itself."""

from __future__ import annotations

from typing import Any

from admin.repository import audit as repository
from admin.rules import audit as rules
from warung.audit import audited
from warung.clock import now
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.errors import BadRequest, FieldError

ROUTE = "GET /v1/admin/audit"


def read_log(
    admin_id: str,
    *,
    actor_id: str | None,
    resource: str | None,
    action: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    cursor: str | None,
    meta: RequestMeta,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of entries matching every filter, newest first, and the next page's cursor.
    The window is fixed by the first page (its default "last 7 days" included): the cursor
    carries it. The read is audited (``admin.audit.read``) once it succeeded."""
    rules.check_action(action)
    rules.check_resource(resource)
    filters = {"actor_id": actor_id, "resource": resource, "action": action}
    given = {name: value for name, value in filters.items() if value is not None}
    scope = list_scope(ROUTE, admin_id, **given, **{"from": start or "", "to": end or ""})
    position = decode_cursor(cursor, scope)
    window = rules.window_of(start, end, now()) if position is None else _window_from(position)
    access = rules.access_for(actor_id, resource, action)
    try:
        entries, after = repository.read_page(access, window, limit, position)
    except (KeyError, ValueError, TypeError, IndexError):  # authentic, yet not a position
        raise _stale_cursor() from None
    next_cursor = encode_cursor({"w": [window.low, window.high], **after}, scope) if after else None
    repository.append(
        audited(
            admin_id,
            "admin.audit.read",
            "audit:log",
            meta,
            actor_type="admin",
            filters={**given, "from": window.low, "to": window.high[:-2]},
            page="next" if cursor else "first",
        )
    )
    return entries, next_cursor


def _window_from(position: dict[str, Any]) -> rules.Window:
    try:
        low, high = position["w"]
        return rules.Window(str(low), str(high))
    except (KeyError, ValueError, TypeError):
        raise _stale_cursor() from None


def _stale_cursor() -> BadRequest:
    return BadRequest(
        "The cursor is not valid for this list.",
        errors=[FieldError("cursor", "Invalid or foreign cursor; start again without it.")],
    )
