"""What the audit log holds about one resource, read as an operator would (by_resource)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from warung.dynamo import dynamodb_client, from_item
from warung.settings import get_settings


def audit_entries(resource: str) -> list[dict[str, Any]]:
    """Every audit entry about ``resource`` (``type:id``), oldest first."""
    response = dynamodb_client().query(
        TableName=get_settings().audit_table_name,
        IndexName="by_resource",
        KeyConditionExpression="resource_pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RES#{resource}"}},
    )
    return sorted((from_item(item) for item in response["Items"]), key=lambda e: e["sk"])


def audit_actions(resource: str) -> list[str]:
    """The actions of the audit entries about ``resource``, oldest first."""
    return [entry["action"] for entry in audit_entries(resource)]


def address_hash(address: str) -> str:
    """What an entry stores for the caller's ``address``: its HMAC-SHA256 with the key of
    the stage (the template's audit address secret), computed here independently."""
    from warung.secrets import get_secret

    key = get_secret(get_settings().audit_ip_hash_secret_arn).encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()
