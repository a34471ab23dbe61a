"""Merchants: the profile and member records, their stored forms, the webhook target, and
their index and geo entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from warung.text import normalise

MEMBER_PREFIX = "MEMBER#"  # sort-key prefix of a merchant's members
DEFAULT_BASE_FEE = 8000
DEFAULT_PER_KM_FEE = 2500
DEFAULT_MAX_DISTANCE_KM = Decimal(15)
DEFAULT_TAX_RATE = Decimal("0.11")


@dataclass(frozen=True)
class Delivery:
    """How a merchant charges for delivery (integer rupiah) and how far it goes."""

    base_fee: int = DEFAULT_BASE_FEE
    per_km_fee: int = DEFAULT_PER_KM_FEE
    max_distance_km: Decimal = DEFAULT_MAX_DISTANCE_KM


@dataclass(frozen=True)
class Merchant:
    """A shop or restaurant as the catalog sees it."""

    merchant_id: str
    name: str
    description: str
    phone: str
    address: Mapping[str, str]
    lat: Decimal
    lon: Decimal
    created_at: str
    updated_at: str
    status: str = "pending"
    delivery: Delivery = field(default_factory=Delivery)
    tax_rate: Decimal = DEFAULT_TAX_RATE
    opening_hours: Mapping[str, list[str]] | None = None
    is_open: bool = True
    webhook_url: str | None = None
    owners: int = 1
    # cash on delivery offered at checkout (docs/product.md, "Cash on delivery")
    accepts_cash_on_delivery: bool = True

    @property
    def city(self) -> str:
        """The city as written by the merchant."""
        return str(self.address.get("city", ""))

    @property
    def active(self) -> bool:
        """Listed publicly: approved and not suspended."""
        return self.status == "active"


@dataclass(frozen=True)
class Member:
    """One person's role in one merchant."""

    merchant_id: str
    user_id: str
    role: str
    email: str
    name: str
    added_at: str


def city_key(city: str) -> str:
    """The form of a city used in index keys: case- and accent-insensitive, single-spaced."""
    return normalise(city)


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


def index_fields(merchant: Merchant) -> dict[str, str]:
    """The index attributes of a merchant's profile for its status.

    gsi1 (every status) lists merchants by status, newest first; gsi2 (active only, sparse)
    lists active merchants of a city, so that suspension removes them from it at once.
    """
    return merchant_index(
        merchant.merchant_id,
        merchant.created_at,
        merchant.status,
        city_key(merchant.city),
        active=merchant.active,
    )


def merchant_item(merchant: Merchant) -> dict[str, Any]:
    """The stored form of a merchant's profile (version 1), with its index keys."""
    return {
        **merchant_key(merchant.merchant_id),
        "entity": "merchant",
        "id": merchant.merchant_id,
        "name": merchant.name,
        "description": merchant.description,
        "phone": merchant.phone,
        "address": dict(merchant.address),
        "lat": merchant.lat,
        "lon": merchant.lon,
        "status": merchant.status,
        "base_fee": merchant.delivery.base_fee,
        "per_km_fee": merchant.delivery.per_km_fee,
        "max_distance_km": merchant.delivery.max_distance_km,
        "tax_rate": str(merchant.tax_rate),
        "opening_hours": dict(merchant.opening_hours) if merchant.opening_hours else None,
        "is_open": merchant.is_open,
        "accepts_cash_on_delivery": merchant.accepts_cash_on_delivery,
        "webhook_url": merchant.webhook_url,
        "owners": merchant.owners,
        "version": 1,
        "created_at": merchant.created_at,
        "updated_at": merchant.updated_at,
        **index_fields(merchant),
    }


def merchant_from(item: Mapping[str, Any]) -> Merchant:
    """A stored profile as a :class:`Merchant`."""
    return Merchant(
        merchant_id=item["id"],
        name=item["name"],
        description=item.get("description", ""),
        phone=item["phone"],
        address=dict(item["address"]),
        lat=Decimal(str(item["lat"])),
        lon=Decimal(str(item["lon"])),
        status=item["status"],
        delivery=Delivery(
            base_fee=int(item["base_fee"]),
            per_km_fee=int(item["per_km_fee"]),
            max_distance_km=Decimal(str(item["max_distance_km"])),
        ),
        tax_rate=Decimal(str(item["tax_rate"])),
        opening_hours=item.get("opening_hours"),
        is_open=bool(item.get("is_open", True)),
        accepts_cash_on_delivery=bool(item.get("accepts_cash_on_delivery", True)),
        webhook_url=item.get("webhook_url"),
        owners=int(item.get("owners", 1)),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
    )


def member_item(member: Member) -> dict[str, Any]:
    """The stored form of one member of a merchant."""
    return {
        **member_key(member.merchant_id, member.user_id),
        "entity": "member",
        "merchant_id": member.merchant_id,
        "user_id": member.user_id,
        "role": member.role,
        "email": member.email,
        "name": member.name,
        "added_at": member.added_at,
    }


def member_from(item: Mapping[str, Any]) -> Member:
    """A stored member as a :class:`Member`."""
    return Member(
        merchant_id=item["merchant_id"],
        user_id=item["user_id"],
        role=item["role"],
        email=item["email"],
        name=item["name"],
        added_at=item["added_at"],
    )
