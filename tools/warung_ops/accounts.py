"""Operator commands for accounts, outside the public API (docs/product.md, Roles).

    python -m warung_ops.accounts create-admin EMAIL [--stage local|dev|prod] [--name NAME]
    python -m warung_ops.accounts seed-demo [--endpoint URL]     # local runtime only

`create-admin` creates the account as a verified admin (printing a generated password
once) or promotes an existing account. `--stage local` works on the running `make dev`'s
emulation, wherever it runs (`warung_ops.local`; `--endpoint` or `EMULATOR_PORT` name
another), and says in one line when none runs; `dev`/`prod` on the deployed stack
`warung-<stage>` with the operator's own AWS credentials. Both are audited (actor
`operator`). `seed-demo` creates the demo accounts (docs/product.md) on the local emulation.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from warung.store.accounts import Account

ROOT = Path(__file__).resolve().parents[2]
# The published demo password (docs/product.md), local seed only.
DEMO_PASSWORD = "warung-demo-password"  # noqa: S105
LOCAL_ENDPOINT_HELP = "local emulation URL (default: EMULATOR_PORT, else the running make dev's)"
DEMO_ACCOUNTS = (
    ("admin@example.com", "Ayu Admin", True),
    ("owner@example.com", "Budi Owner", False),
    ("customer@example.com", "Citra Customer", False),
)


def configure(stage: str, endpoint: str | None, region: str) -> None:
    """Point this process at the stage's tables, as a function of the stack would be.

    For the local stage: at `endpoint`, else the running `make dev`'s emulation
    (`NoLocalRuntime` when there is none).
    """
    os.environ.setdefault("AWS_REGION", region)
    os.environ["STAGE"] = stage
    if stage == "local":
        from warung_ops.local import local_endpoint

        os.environ["AWS_ENDPOINT_URL"] = local_endpoint(endpoint)
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ["TABLE_NAME"] = "warung-local-main"
        os.environ["AUDIT_TABLE_NAME"] = "warung-local-audit"
        return
    import botocore.session

    cloudformation = botocore.session.get_session().create_client(
        "cloudformation", region_name=region
    )
    stack = cloudformation.describe_stacks(StackName=f"warung-{stage}")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    os.environ["TABLE_NAME"] = outputs["MainTableName"]
    os.environ["AUDIT_TABLE_NAME"] = outputs["AuditTableName"]


def ensure_account(
    email_raw: str, *, name: str, password: str | None, admin: bool, verified: bool
) -> tuple[str, bool]:
    """Create the account, or bring an existing one up to ``admin``/``verified``.

    Returns the user id and whether it was created.
    """
    sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers" / "common")]
    # The auth function's own package: one set of account rules.
    from auth import repository
    from auth.rules import accounts as domain
    from auth.rules import passwords
    from warung.audit import AuditEntry, audit_write
    from warung.context import RequestMeta
    from warung.dynamo import Transaction
    from warung.ids import new_id, rfc3339, utc_now

    meta = RequestMeta(
        request_id=f"operator-{new_id()}", source_ip=None, user_agent="warung_ops.accounts"
    )
    email = domain.normalise_email(email_raw)
    existing = repository.find_account_by_email(email)
    now = rfc3339(utc_now())
    if existing is not None:
        changes: dict[str, Any] = {}
        index_set: dict[str, str] = {}
        if admin and "admin" not in existing.roles:
            changes["roles"] = sorted(existing.roles | {"admin"})
            index_set, _ = repository.admin_index(existing, True)
        if verified and not existing.email_verified:
            changes["email_verified"] = True
        if changes:
            tx = repository.update_account(
                Transaction(), existing.user_id, {**changes, **index_set}, updated_at=now
            )
            entry = AuditEntry(
                "operator",
                "admin.user_promoted",
                f"user:{existing.user_id}",
                meta,
                changes,
                actor_type="operator",
            )
            tx.extend([audit_write(entry)]).commit()
        return existing.user_id, False
    account = Account(
        user_id=new_id(),
        email=email,
        name=name,
        password_hash=passwords.hash_password(password or secrets.token_urlsafe(18)),
        created_at=now,
        email_verified=verified,
        roles=frozenset({"admin"}) if admin else frozenset(),
    )
    tx = repository.add_account(Transaction(), account)
    entry = AuditEntry(
        "operator",
        "user.created_by_operator",
        f"user:{account.user_id}",
        meta,
        {"roles": sorted(account.roles), "email_verified": verified},
        actor_type="operator",
    )
    tx.extend([audit_write(entry)]).commit()
    return account.user_id, True


def create_admin(email: str, name: str) -> None:
    """Create (with a one-time printed password) or promote an admin."""
    password = secrets.token_urlsafe(18)
    user_id, created = ensure_account(
        email, name=name, password=password, admin=True, verified=True
    )
    if created:
        print(f"created admin {user_id}; password (shown once, change it): {password}")
    else:
        print(f"promoted {user_id} to admin")


def seed_demo() -> None:
    """The demo accounts (docs/product.md) (verified; the first is an admin)."""
    for email, name, is_admin in DEMO_ACCOUNTS:
        ensure_account(email, name=name, password=DEMO_PASSWORD, admin=is_admin, verified=True)
        role = "admin" if is_admin else "customer"
        print(f"demo account {email} / {DEMO_PASSWORD} ({role})")


def main() -> int:
    parser = argparse.ArgumentParser(description="Operator commands for Warung accounts.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create or promote an admin")
    create.add_argument("email")
    create.add_argument("--name", default="Operator")
    create.add_argument("--stage", choices=["local", "dev", "prod"], default="local")
    create.add_argument("--region", default=os.environ.get("AWS_REGION", "ap-southeast-1"))
    create.add_argument("--endpoint", help=LOCAL_ENDPOINT_HELP)
    seed = commands.add_parser("seed-demo", help="create the demo accounts (local only)")
    seed.add_argument("--endpoint", help=LOCAL_ENDPOINT_HELP)
    args = parser.parse_args()
    from warung_local.local_data import NoLocalRuntime

    try:
        if args.command == "create-admin":
            configure(args.stage, args.endpoint, args.region)
        else:
            configure("local", args.endpoint, "ap-southeast-1")
    except NoLocalRuntime as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "create-admin":
        create_admin(args.email, args.name)
    else:
        seed_demo()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
