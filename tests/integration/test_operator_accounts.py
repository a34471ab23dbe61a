"""`make create-admin`: an operator creates or promotes an admin, never through the API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from warung_local.emulation import aws_client

ROOT = Path(__file__).resolve().parents[2]


def run(endpoint: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "warung_ops.accounts", *args, "--endpoint", endpoint],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(["tools", "layers/common"])},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def account(endpoint: str, email: str) -> dict[str, Any]:
    dynamodb = aws_client("dynamodb", endpoint)
    reservation = dynamodb.get_item(
        TableName="warung-local-main", Key={"pk": {"S": f"EMAIL#{email}"}, "sk": {"S": "UNIQUE"}}
    )["Item"]
    user_id = reservation["user_id"]["S"]
    item: dict[str, Any] = dynamodb.get_item(
        TableName="warung-local-main", Key={"pk": {"S": f"USER#{user_id}"}, "sk": {"S": "PROFILE"}}
    )["Item"]
    return item


def test_create_admin_creates_a_verified_admin_then_promotes_an_existing_account(
    app_stack: Any,
) -> None:
    endpoint = app_stack.endpoint_url
    out = run(endpoint, "create-admin", "Ops@Example.com", "--stage", "local")
    assert out.startswith("created admin ")
    assert "password (shown once" in out
    created = account(endpoint, "ops@example.com")
    assert [r["S"] for r in created["roles"]["L"]] == ["admin"]
    assert created["email_verified"]["BOOL"] is True
    assert created["gsi1pk"]["S"] == "ROLE#admin"

    # An existing customer is promoted, keeping their password.
    run(endpoint, "seed-demo")
    before = account(endpoint, "customer@example.com")
    out = run(endpoint, "create-admin", "customer@example.com", "--stage", "local")
    assert "promoted" in out
    after = account(endpoint, "customer@example.com")
    assert [r["S"] for r in after["roles"]["L"]] == ["admin"]
    assert after["password_hash"] == before["password_hash"]
