"""Merchant rules, as plain functions: no DynamoDB, no HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from warung.errors import Conflict, FieldError, Forbidden, InvalidTransition, ValidationFailed
from warung.ordering.hours import WEEKDAYS, span
from warung.ordering.hours import open_at as _open_at
from warung.store.merchants import Member, Merchant

MAX_DELIVERY_KM = Decimal(50)  # bounds the geo index items one merchant writes


class MerchantStatus(StrEnum):
    """Where a merchant is in its life: opened and waiting for approval, selling, or stopped
    by an admin."""

    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


STATUSES = tuple(MerchantStatus)
MEMBER_ROLES = ("owner", "manager", "staff")
EDITORS = ("owner", "manager")  # profile, delivery, webhook URL
PUBLIC_CACHE = "public, max-age=30"  # anonymous reads of public merchants and products


# ---------------------------------------------------------------- values


def check_opening_hours(hours: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Validated opening hours: ``{"mon": ["08:00-14:00", "17:00-22:00"], ...}``.

    Days are ``mon``..``sun`` (a missing day is closed), intervals ``HH:MM-HH:MM`` in
    Asia/Jakarta time with the end after the start (``24:00`` is midnight; an interval past
    midnight is written as two, one on each day).
    """
    problems: list[FieldError] = []
    clean: dict[str, list[str]] = {}
    for day, intervals in hours.items():
        if day not in WEEKDAYS:
            problems.append(FieldError(f"opening_hours.{day}", f"Days are {', '.join(WEEKDAYS)}."))
            continue
        for index, interval in enumerate(intervals):
            if span(interval) is None:
                problems.append(
                    FieldError(
                        f"opening_hours.{day}.{index}",
                        "Write an interval as HH:MM-HH:MM with the end after the start.",
                    )
                )
        clean[day] = list(intervals)
    if problems:
        raise ValidationFailed("The opening hours are not valid.", errors=problems)
    return clean


def check_merchant_fields(changes: Mapping[str, object]) -> None:
    """Rules pydantic cannot express: fields a merchant always has cannot be removed with
    ``null`` (422 on each)."""
    required = (
        "name",
        "phone",
        "address",
        "location",
        "delivery",
        "tax_rate",
        "is_open",
        "accepts_cash_on_delivery",
    )
    nulls = [name for name in required if name in changes and changes[name] is None]
    if nulls:
        raise ValidationFailed(
            "These fields cannot be removed.",
            errors=[FieldError(name, "Omit the field to keep its value.") for name in nulls],
        )


def open_at(merchant: Merchant, moment: datetime) -> bool:
    """Taking orders at ``moment``: switched open and, if it has hours, within them."""
    return _open_at(merchant.is_open, merchant.opening_hours, moment)


def new_webhook_secret() -> str:
    """A webhook signing secret: 256 random bits, recognisable by its prefix."""
    return "whsec_" + secrets.token_urlsafe(32)


# ---------------------------------------------------------------- who may do what


def is_insider(role: str | None, is_admin: bool) -> bool:
    """A member of the merchant (any role) or an admin: sees the merchant's private side
    (webhook URL, and the merchant and its menu whatever their status)."""
    return is_admin or role is not None


def can_see(merchant: Merchant, role: str | None, is_admin: bool) -> bool:
    """Active merchants are public; others only for their members and admins."""
    return merchant.active or is_insider(role, is_admin)


def profile(merchant: Merchant) -> dict[str, Any]:
    """What the merchant's members edit, as the API and the audit log show it: location and
    delivery grouped, exact decimals as strings (the API's numbers are made from these)."""
    return {
        "name": merchant.name,
        "description": merchant.description,
        "phone": merchant.phone,
        "address": dict(merchant.address),
        "location": {"lat": str(merchant.lat), "lon": str(merchant.lon)},
        "delivery": {
            "base_fee": merchant.delivery.base_fee,
            "per_km_fee": merchant.delivery.per_km_fee,
            "max_distance_km": str(merchant.delivery.max_distance_km),
        },
        "tax_rate": str(merchant.tax_rate),
        "opening_hours": merchant.opening_hours,
        "is_open": merchant.is_open,
        "accepts_cash_on_delivery": merchant.accepts_cash_on_delivery,
        "webhook_url": merchant.webhook_url,
    }


def cache_control(*, public: bool, signed_in: bool) -> str:
    """``Cache-Control`` of a catalog read: shared caches may keep what anyone may see when
    no token was sent (30 s); anything read with a token is the caller's own."""
    return PUBLIC_CACHE if public and not signed_in else "no-store"


def check_status_change(merchant: Merchant, new_status: str) -> bool:
    """Whether an admin's status change changes anything; ``pending`` is never set again."""
    if new_status not in ("active", "suspended"):
        raise InvalidTransition(f"A merchant cannot be set to {new_status!r}.")
    return merchant.status != new_status


def check_member_change(
    actor_id: str, current: Member | None, new_role: str | None, owners: int
) -> None:
    """Refuse what would leave a merchant without an owner (409).

    ``new_role`` ``None`` is a removal. ``owners`` is the merchant's owner count now.
    """
    if new_role is not None and new_role not in MEMBER_ROLES:
        raise ValidationFailed(
            "Unknown role.", errors=[FieldError("role", f"One of {', '.join(MEMBER_ROLES)}.")]
        )
    losing_owner = current is not None and current.role == "owner" and new_role != "owner"
    if losing_owner and owners <= 1:
        raise Conflict("A merchant keeps at least one owner; add another owner first.")
    del actor_id  # owners may remove themselves, as long as another owner remains


def may_edit(role: str | None, is_admin: bool) -> None:
    """Owners, managers and admins edit a merchant; staff may look only (403)."""
    if not is_admin and role not in EDITORS:
        raise Forbidden("Only the merchant's owners and managers can change it.")
