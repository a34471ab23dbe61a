"""Promo codes (the record and its stored form) and each customer's uses of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from warung.ids import rfc3339
from warung.store.accounts import user_partition

PromoKind = Literal["percent", "fixed"]

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


@dataclass(frozen=True)
class Promo:
    """A promo code as stored (``code`` upper-case; datetimes timezone-aware, in UTC).

    The code is valid while ``active`` and ``starts_at <= now < ends_at`` (each bound only
    when set). ``max_discount`` caps percent codes only.
    """

    code: str
    kind: PromoKind
    value: int
    min_subtotal: int = 0
    max_discount: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True
    usage_limit: int | None = None
    per_user_limit: int | None = None
    used: int = 0  # redemptions so far (the stored count checkout increments)
    created_at: str = ""
    updated_at: str = ""


def promo_item(promo: Promo) -> dict[str, Any]:
    """The stored form of a promo code, listed newest first (gsi1)."""
    item = {
        **promo_key(promo.code),
        "entity": "promo",
        "code": promo.code,
        "type": promo.kind,
        "value": promo.value,
        "min_subtotal": promo.min_subtotal,
        "max_discount": promo.max_discount,
        "starts_at": rfc3339(promo.starts_at) if promo.starts_at else None,
        "ends_at": rfc3339(promo.ends_at) if promo.ends_at else None,
        "usage_limit": promo.usage_limit,
        "per_user_limit": promo.per_user_limit,
        "active": promo.active,
        "used": promo.used,
        "created_at": promo.created_at,
        "updated_at": promo.updated_at,
        **promo_index(promo.created_at, promo.code),
    }
    return {k: v for k, v in item.items() if v is not None}


def promo_from(item: Mapping[str, Any]) -> Promo:
    """A stored promo code as a :class:`Promo`."""

    def when(value: Any) -> datetime | None:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None

    def maybe(value: Any) -> int | None:
        return int(value) if value is not None else None

    return Promo(
        code=item["code"],
        kind="percent" if item["type"] == "percent" else "fixed",
        value=int(item["value"]),
        min_subtotal=int(item.get("min_subtotal", 0)),
        max_discount=maybe(item.get("max_discount")),
        starts_at=when(item.get("starts_at")),
        ends_at=when(item.get("ends_at")),
        active=bool(item.get("active", True)),
        usage_limit=maybe(item.get("usage_limit")),
        per_user_limit=maybe(item.get("per_user_limit")),
        used=int(item.get("used", 0)),
        created_at=item.get("created_at", ""),
        updated_at=item.get("updated_at", ""),
    )
