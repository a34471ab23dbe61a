"""Merchants: profile, webhook target, members, and their index and geo entries."""

from __future__ import annotations

MEMBER_PREFIX = "MEMBER#"  # sort-key prefix of a merchant's members


def merchant_key(merchant_id: str) -> dict[str, str]:
    """A merchant's profile."""
    return {"pk": merchant_partition(merchant_id), "sk": "PROFILE"}


def merchant_partition(merchant_id: str) -> str:
    """The partition of a merchant's profile, webhook target and members."""
    return f"MERCHANT#{merchant_id}"


def webhook_key(merchant_id: str) -> dict[str, str]:
    """The merchant's webhook target (written by the catalog, read by the worker)."""
    return {"pk": merchant_partition(merchant_id), "sk": "WEBHOOK"}


def member_key(merchant_id: str, user_id: str) -> dict[str, str]:
    """One member of a merchant."""
    return {"pk": merchant_partition(merchant_id), "sk": f"{MEMBER_PREFIX}{user_id}"}


def geo_partition(cell: str) -> str:
    """The active merchants whose delivery circle touches a geohash-4 cell."""
    return f"GEO#{cell}"


def geo_key(cell: str, merchant_id: str) -> dict[str, str]:
    """An active merchant's entry in one cell its delivery circle touches."""
    return {"pk": geo_partition(cell), "sk": merchant_partition(merchant_id)}


def status_partition(status: str) -> str:
    """gsi1: merchants of a status, newest first."""
    return f"MSTATUS#{status}"


def city_partition(city_key: str) -> str:
    """gsi2: active merchants of a (normalised) city, newest first."""
    return f"MCITY#{city_key}"


def merchant_index(
    merchant_id: str, created_at: str, status: str, city_key: str, *, active: bool
) -> dict[str, str]:
    """A profile's index attributes: by status always, by city while active (sparse)."""
    order = f"{created_at}#{merchant_id}"
    fields = {"gsi1pk": status_partition(status), "gsi1sk": order}
    if active:
        fields |= {"gsi2pk": city_partition(city_key), "gsi2sk": order}
    return fields
