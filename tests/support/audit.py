"""What the audit log holds about one resource, read as an operator would (by_resource)."""

from __future__ import annotations

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
