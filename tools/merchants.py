"""Demo merchant for the local runtime (SPEC §6: the demo owner runs an active merchant).

    python tools/merchants.py seed-demo [--endpoint URL]          # local runtime only

Goes through the catalog function's own use cases (open, then approve as the operator), so
the demo merchant has exactly the items, index entries and audit trail a real one has.
Idempotent: an owner who already belongs to a merchant gets no second one.
"""

from __future__ import annotations

import argparse
import sys

from accounts import ROOT, configure

DEMO_OWNER = "owner@example.com"
DEMO_MERCHANT = {
    "name": "Warung Bu Budi",
    "description": "Nasi goreng, soto and es teh, near Monas.",
    "phone": "+6281200000001",
    "address": {"line1": "Jl. Medan Merdeka Barat 1", "city": "Jakarta", "postal_code": "10110"},
    "location": {"lat": -6.1754, "lon": 106.8272},
    "opening_hours": {
        day: ["07:00-22:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
}


def seed_demo() -> None:
    """Open and approve the demo owner's merchant unless the owner already has one."""
    sys.path[:0] = [str(ROOT / "functions" / "catalog"), str(ROOT / "layers" / "common")]
    import repository  # type: ignore[import-not-found]
    import service  # type: ignore[import-not-found]

    from warung.context import RequestMeta
    from warung.ids import new_id

    meta = RequestMeta(f"operator-{new_id()}", None, "tools/merchants.py")
    owner = repository.find_account(DEMO_OWNER)
    if owner is None:
        print(f"demo merchant: skipped ({DEMO_OWNER} does not exist)")
        return
    existing = sorted(repository.memberships_of(owner["user_id"]))
    if existing:
        print(f"demo merchant {existing[0]} (owner {DEMO_OWNER})")
        return
    merchant = service.open_merchant(owner["user_id"], DEMO_MERCHANT, meta)
    service.change_status("operator", merchant.merchant_id, "active", meta)
    print(f"demo merchant {merchant.merchant_id} (owner {DEMO_OWNER})")


def main() -> int:
    parser = argparse.ArgumentParser(description="Demo merchants (local runtime only).")
    commands = parser.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed-demo", help="open and approve the demo merchant")
    seed.add_argument("--endpoint", help="local emulation URL (default from EMULATOR_PORT)")
    args = parser.parse_args()
    configure("local", args.endpoint, "ap-southeast-1")
    seed_demo()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
