"""Promo codes and each customer's uses of them."""

from __future__ import annotations

from warung.store.accounts import user_partition

PROMOS_PARTITION = "PROMOS"  # gsi1: every promo code, newest first (admin list)


def promo_key(code: str) -> dict[str, str]:
    """A promo code (stored upper-case)."""
    return {"pk": f"PROMO#{code}", "sk": "PROMO"}


def promo_use_key(code: str, customer_id: str) -> dict[str, str]:
    """How many times one customer used a code."""
    return {"pk": promo_key(code)["pk"], "sk": user_partition(customer_id)}


def promo_index(created_at: str, code: str) -> dict[str, str]:
    """A code's place in the admin list."""
    return {"gsi1pk": PROMOS_PARTITION, "gsi1sk": f"{created_at}#{code}"}
