"""The load test's accounts and merchant, written directly through the functions' own code.

    python -m warung_load.pool seed --users N [--endpoint URL]      # a local emulation
    python -m warung_load.pool seed --users N --stage dev           # a deployed dev stack

The password is `LOAD_PASSWORD`, on a local emulation by default `scenario.LOCAL_PASSWORD`
(published, as the demo accounts' is). It creates, when missing:

- `load-1@example.com` … `load-N@example.com`: verified customers, one per simulated user
  (signing in from a pool, not signing up: sign-up is rate-limited per address and sends
  e-mails, which is not what a load test measures);
- `load-decoy@example.com`: the account the scenario locks on purpose (its planned 429);
- `load-owner@example.com` and its active merchant `LOAD_MERCHANT`, open around the clock,
  with a menu whose stock is not tracked, so that orders never run out of anything and
  never touch the demo merchants.

One Argon2 hash serves every account (they share the password): hashing is the slow part,
and the pool is made before each local run.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from warung_ops.accounts import LOCAL_ENDPOINT_HELP, ROOT, configure

from warung_load.scenario import (
    DECOY_EMAIL,
    LOAD_MERCHANT,
    LOCAL_PASSWORD,
    OWNER_EMAIL,
    pool_email,
)

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MERCHANT = {
    "name": LOAD_MERCHANT,
    "description": "Merchant of the load test: open around the clock, nothing runs out.",
    "phone": "+6281200000099",
    "address": {"line1": "Jl. Kebon Sirih No. 1", "city": "Jakarta", "postal_code": "10340"},
    "location": {"lat": -6.1862, "lon": 106.8263},
    "opening_hours": {day: ["00:00-24:00"] for day in EVERY_DAY},
}
MENU = (
    {"name": "Nasi Goreng Uji", "price": 25000, "category": "food"},
    {"name": "Soto Ayam Uji", "price": 22000, "category": "food"},
    {"name": "Mie Goreng Uji", "price": 21000, "category": "food"},
    {"name": "Es Teh Uji", "price": 5000, "category": "drinks"},
    {"name": "Kopi Susu Uji", "price": 12000, "category": "drinks"},
    {"name": "Kerupuk Uji", "price": 4000, "category": "snacks"},
)


def _functions_on_path() -> None:
    for folder in (ROOT / "layers" / "common", ROOT / "functions"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def ensure_accounts(emails: list[str], password: str) -> int:
    """Create the verified accounts of ``emails`` that do not exist; how many were created."""
    _functions_on_path()
    # The auth function's own package: one set of account rules.
    from auth import repository
    from auth.rules import accounts as domain
    from auth.rules import passwords
    from warung.audit import AuditEntry, audit_write
    from warung.context import RequestMeta
    from warung.dynamo import Transaction
    from warung.ids import new_id, rfc3339, utc_now
    from warung.store.accounts import Account

    meta = RequestMeta(f"operator-{new_id()}", None, "warung_load.pool")
    missing = [
        domain.normalise_email(e)
        for e in emails
        if repository.find_account_by_email(domain.normalise_email(e)) is None
    ]
    password_hash = passwords.hash_password(password) if missing else ""
    for email in missing:
        account = Account(
            user_id=new_id(),
            email=email,
            name="Load Test",
            password_hash=password_hash,
            created_at=rfc3339(utc_now()),
            email_verified=True,
            roles=frozenset(),
        )
        entry = AuditEntry(
            "operator",
            "user.created_by_operator",
            f"user:{account.user_id}",
            meta,
            {"roles": [], "email_verified": True},
            actor_type="operator",
        )
        repository.add_account(Transaction(), account).extend([audit_write(entry)]).commit()
    return len(missing)


def ensure_merchant() -> str:
    """The load merchant's id: opened, approved and stocked through the catalog function's
    own use cases the first time, as the demo merchants are (`warung_demo.merchants`)."""
    _functions_on_path()
    from catalog.models import merchants as merchant_models
    from catalog.models import products as product_models
    from catalog.repository import merchants as repository
    from catalog.service import merchants as service
    from catalog.service import products as product_service
    from warung.context import RequestMeta
    from warung.ids import new_id

    meta = RequestMeta(f"operator-{new_id()}", None, "warung_load.pool")
    owner = repository.find_account(OWNER_EMAIL)
    if owner is None:
        raise SystemExit(f"{OWNER_EMAIL} does not exist: create the accounts first")
    for merchant_id in sorted(repository.memberships_of(owner["user_id"])):
        found = repository.get_merchant(merchant_id)
        if found and found[0].name == LOAD_MERCHANT:
            return merchant_id
    body: dict[str, Any] = merchant_models.MerchantCreate.model_validate(MERCHANT).model_dump()
    merchant = service.open_merchant(owner["user_id"], body, meta)
    service.change_status("operator", merchant.merchant_id, "active", meta)
    for product in MENU:
        data = product_models.ProductCreate.model_validate(product).model_dump()
        product_service.add_product(owner["user_id"], merchant.merchant_id, data, meta)
    return merchant.merchant_id


def seed(users: int, password: str) -> list[str]:
    """The pool for ``users`` simulated customers; the lines to print."""
    emails = [pool_email(n) for n in range(1, users + 1)]
    created = ensure_accounts([*emails, DECOY_EMAIL, OWNER_EMAIL], password)
    merchant_id = ensure_merchant()
    return [
        f"load pool: {users} customers ({emails[0]} … {emails[-1]}), {created} accounts created",
        f"load merchant: {LOAD_MERCHANT} ({merchant_id})",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description="The load test's accounts and merchant.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("seed", help="create what is missing")
    create.add_argument("--users", type=int, required=True)
    # Never prod: the load merchant would be listed to real customers.
    create.add_argument("--stage", choices=["local", "dev"], default="local")
    create.add_argument("--region", default=os.environ.get("AWS_REGION", "ap-southeast-1"))
    create.add_argument("--endpoint", help=LOCAL_ENDPOINT_HELP)
    args = parser.parse_args()
    password = os.environ.get("LOAD_PASSWORD") or (LOCAL_PASSWORD if args.stage == "local" else "")
    if len(password) < 12:
        print("LOAD_PASSWORD must be set (12 characters or more)", file=sys.stderr)
        return 2
    if args.users < 1:
        print("--users must be 1 or more", file=sys.stderr)
        return 2
    from warung_local.local_data import NoLocalRuntime

    try:
        configure(args.stage, args.endpoint, args.region)
    except NoLocalRuntime as exc:
        print(exc, file=sys.stderr)
        return 2
    for line in seed(args.users, password):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
