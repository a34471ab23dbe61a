"""Promo codes (the record and its stored form), their usage counters and each customer's
uses of them.

A code made since counters were sharded (docs/decisions/0029) counts its uses on
``shards`` items of its own, each holding a slice of ``usage_limit``, and each customer's
uses on an item of the customer's own: a flash-sale code spreads its checkouts over several
partitions instead of one. A code stored before that (no ``shards``) keeps its one counter
(``used``) on the code's item and its customers' uses beside it: to checkout and release it is
a code whose only shard is the code's item itself."""

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
    """How many times one customer used a code stored before counters were sharded."""
    return {"pk": promo_key(code)["pk"], "sk": user_partition(customer_id)}


def promo_shard_key(code: str, shard: int) -> dict[str, str]:
    """One usage counter of a sharded code (its own partition: shards never share one)."""
    return {"pk": f"{promo_key(code)['pk']}#{shard}", "sk": "SHARD"}


def promo_customer_key(code: str, customer_id: str) -> dict[str, str]:
    """How many times one customer used a sharded code (a partition per customer and code)."""
    return {"pk": f"{promo_key(code)['pk']}#{user_partition(customer_id)}", "sk": "USES"}


def promo_counter_key(code: str, shard: int | None) -> dict[str, str]:
    """The counter a use is taken from and given back to: shard ``shard`` of a sharded
    code, or (``None``) the code's own item, the one counter of a code stored before
    counters were sharded."""
    return promo_key(code) if shard is None else promo_shard_key(code, shard)


def promo_uses_key(code: str, customer_id: str, shard: int | None) -> dict[str, str]:
    """The customer's use count beside that counter (``shard`` as for :func:`promo_counter_key`)."""
    return (
        promo_use_key(code, customer_id) if shard is None else promo_customer_key(code, customer_id)
    )


def promo_index(created_at: str, code: str) -> dict[str, str]:
    """A code's place in the admin list."""
    return {"gsi1pk": PROMOS_PARTITION, "gsi1sk": f"{created_at}#{code}"}


@dataclass(frozen=True)
class Promo:
    """A promo code as stored (``code`` upper-case; datetimes timezone-aware, in UTC).

    The code is valid while ``active`` and ``starts_at <= now < ends_at`` (each bound only
    when set). ``max_discount`` caps percent codes only. ``shards``: how many counter items
    share its uses (``None``: a code stored before counters were sharded, counting on its own
    item); ``used`` is then the sum of their counts.
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
    used: int = 0  # redemptions so far (the sum of the counters checkout increments)
    created_at: str = ""
    updated_at: str = ""
    shards: int | None = None


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
        # a sharded code counts on its shards only: a count here would never move
        "used": promo.used if promo.shards is None else None,
        "shards": promo.shards,
        "created_at": promo.created_at,
        "updated_at": promo.updated_at,
        **promo_index(promo.created_at, promo.code),
    }
    return {k: v for k, v in item.items() if v is not None}


def promo_shard_item(promo: Promo, shard: int) -> dict[str, Any]:
    """A new counter of a sharded code: no use yet, and the code's ``active`` copied (checkout
    conditions on the shard it writes, never on the code's item)."""
    return {
        **promo_shard_key(promo.code, shard),
        "entity": "promo_shard",
        "code": promo.code,
        "shard": shard,
        "used": 0,
        "active": promo.active,
    }


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
        shards=maybe(item.get("shards")),
    )
