"""What the auth integration tests share: requests, accounts, tokens, the audit log."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

import pytest

from auth import repository
from auth.rules import accounts as domain
from auth.rules import passwords
from support.events import FakeContext, proxy_event
from warung.context import RequestMeta
from warung.dynamo import Transaction, dynamodb_client, from_item
from warung.ids import new_id, rfc3339, utc_now
from warung.settings import get_settings
from warung.store.accounts import Account

PASSWORD = "kopi-tubruk-pagi-hari"
USER_AGENT = "WarungTest/1.0 (integration; auth)"


@cache
def auth_app() -> ModuleType:
    """The auth function's ``auth.app`` module, loaded on first use, in a test's environment,
    as a cold start would."""
    return importlib.import_module("auth.app")


@cache
def _password_hash() -> str:
    return passwords.hash_password(PASSWORD)


def unique_ip() -> str:
    """A source address of its own, so that per-IP limits of other tests never interfere."""
    bits = uuid.uuid4().int
    return f"2001:db8::{bits >> 112 & 0xFFFF:x}:{bits >> 96 & 0xFFFF:x}:{bits & 0xFFFF:x}"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.test"


@dataclass
class AuthWorld:
    """The auth function's world in the emulation, and ways to act in it."""

    endpoint_url: str
    signing_kid: str
    monkeypatch: pytest.MonkeyPatch
    source_ip: str = field(default_factory=unique_ip)
    issued: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ requests

    def meta(self, step: str, *, source_ip: str | None = None) -> RequestMeta:
        """A request's facts: its id names the step, so audit entries can be matched."""
        return RequestMeta(
            request_id=f"req-{step}-{uuid.uuid4().hex[:8]}",
            source_ip=source_ip or self.source_ip,
            user_agent=USER_AGENT,
        )

    def record_secret_tokens(self) -> list[str]:
        """From now on, every opaque token the function makes is also appended here."""
        made = domain.new_secret_token

        def recording() -> str:
            token = made()
            self.issued.append(token)
            return token

        self.monkeypatch.setattr(domain, "new_secret_token", recording)
        return self.issued

    # ------------------------------------------------------------ accounts

    def make_account(
        self,
        email: str | None = None,
        *,
        admin: bool = False,
        verified: bool = True,
        name: str = "Sri Rahayu",
    ) -> Account:
        """An account written straight through ``repository`` (no e-mail job, no audit entry)."""
        account = Account(
            user_id=new_id(),
            email=domain.normalise_email(email or unique_email()),
            name=name,
            password_hash=_password_hash(),
            created_at=rfc3339(utc_now()),
            email_verified=verified,
            roles=frozenset({"admin"}) if admin else frozenset(),
        )
        repository.add_account(Transaction(), account).commit()
        return account

    # ------------------------------------------------------------ the Lambda handler

    def invoke(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        query: dict[str, str] | None = None,
        source_ip: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One API Gateway proxy event through ``app.handler``: (status, headers, body)."""
        headers = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        event = proxy_event(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers=headers,
            query=query,
            request_id=f"req-{uuid.uuid4().hex[:12]}",
        )
        event["requestContext"]["identity"] = {
            "sourceIp": source_ip or self.source_ip,
            "userAgent": USER_AGENT,
        }
        response = auth_app().handler(event, FakeContext())
        response_headers = {
            name: values[-1] for name, values in response["multiValueHeaders"].items()
        }
        text = response.get("body") or ""
        return response["statusCode"], response_headers, json.loads(text) if text else None

    # ------------------------------------------------------------ the audit log

    def audit_entries(self, index: str, partition: str) -> list[dict[str, Any]]:
        """The raw (DynamoDB JSON) audit items of one index partition, oldest first."""
        key = {"by_actor": "actor_pk", "by_resource": "resource_pk"}[index]
        client = dynamodb_client()
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": get_settings().audit_table_name,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": key},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
        }
        while True:
            page = client.query(**request)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def address_hash(self, address: str) -> str:
        """What an entry stores for ``address``: its HMAC-SHA256 with the stage's key."""
        from warung.secrets import get_secret

        key = get_secret(get_settings().audit_ip_hash_secret_arn).encode()
        return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()

    def by_actor(self, actor_id: str) -> list[dict[str, Any]]:
        return self.audit_entries("by_actor", f"ACTOR#{actor_id}")

    def by_resource(self, resource: str) -> list[dict[str, Any]]:
        return self.audit_entries("by_resource", f"RES#{resource}")


def plain(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Raw audit items as plain dicts."""
    return [from_item(item) for item in items]


def actions(items: list[dict[str, Any]]) -> list[str]:
    return [entry["action"] for entry in plain(items)]
