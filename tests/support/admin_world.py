"""What the admin function's integration tests share: an audit log to fill, tokens, and
requests through the function's handler."""

from __future__ import annotations

import hashlib
import importlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from support.events import FakeContext, proxy_event
from support.whole_models import whole_dynamodb_client
from warung.audit import AuditEntry, action_key, actor_key, day_key
from warung.context import RequestMeta
from warung.dynamo import dynamodb_client, to_item
from warung.ids import new_id
from warung.settings import get_settings


@dataclass
class AdminWorld:
    """The audit log of the stage, ways to fill it, and requests to the admin function."""

    tokens: dict[str, str] = field(default_factory=dict)

    def record(
        self,
        actor_id: str,
        action: str,
        resource: str,
        at: datetime,
        actor_type: str = "user",
        **changes: Any,
    ) -> AuditEntry:
        """An audit entry at ``at``, stored as a function stores it."""
        meta = RequestMeta(f"req-{uuid.uuid4().hex[:8]}", source_ip="198.51.100.9")
        entry = AuditEntry(
            actor_id,
            action,
            resource,
            meta,
            changes,
            at=at,
            actor_type=actor_type,  # type: ignore[arg-type]
        )
        self.store([entry])
        return entry

    def store(self, entries: list[AuditEntry]) -> None:
        client, table = whole_dynamodb_client(), get_settings().audit_table_name
        for start in range(0, len(entries), 25):
            batch = entries[start : start + 25]
            client.batch_write_item(
                RequestItems={
                    table: [{"PutRequest": {"Item": to_item(e.as_item())}} for e in batch]
                }
            )

    def store_under_32_shards(self, entries: list[AuditEntry]) -> None:
        """``entries`` stored with the keys they got when the log had 32 shards (before
        decisions/0017's amendment): the same hash of the id, modulo 32."""
        client, table = dynamodb_client(), get_settings().audit_table_name
        for entry in entries:
            item = entry.as_item()
            day = f"{entry.at:%Y-%m-%d}"
            shard = int.from_bytes(hashlib.sha256(entry.entry_id.encode()).digest()[:4], "big")
            shard %= 32
            item["pk"] = day_key(day, shard)
            item["action_pk"] = action_key(entry.action, day, shard)
            item["actor_pk"] = actor_key(entry.actor_id, day, shard)
            client.put_item(TableName=table, Item=to_item(item))

    def token_for(self, user_id: str, *, admin: bool = False, owner_of: str | None = None) -> str:
        """An access token of an enabled, verified account, as the auth function issues."""
        from warung.tokens import issue_access_token

        if user_id not in self.tokens:
            dynamodb_client().put_item(
                TableName=get_settings().table_name,
                Item=to_item(
                    {
                        "pk": f"USER#{user_id}",
                        "sk": "PROFILE",
                        "email_verified": True,
                        "roles": ["admin"] if admin else [],
                        "memberships": {owner_of: "owner"} if owner_of else {},
                    }
                ),
            )
            self.tokens[user_id] = issue_access_token(user_id, new_id())[0]
        return self.tokens[user_id]

    def get(
        self, query: dict[str, str] | None = None, *, token: str | None = None
    ) -> tuple[int, Any]:
        """GET /v1/admin/audit through ``admin.app.handler``: (status, body)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        event = proxy_event("GET", "/v1/admin/audit", headers=headers, query=query)
        response = importlib.import_module("admin.app").handler(event, FakeContext())
        return response["statusCode"], json.loads(response["body"] or "null")
