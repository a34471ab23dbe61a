"""Request and response bodies of the merchant routes (the API contract: docs/openapi.json)."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from decimal import Decimal
from typing import Literal

from pydantic import Field

from catalog.rules.merchants import MerchantStatus
from warung.models import ApiModel, OneLineText, RequestModel

Rupiah = Field(strict=True, ge=0, le=100_000_000, description="Whole rupiah (IDR).")
OpeningHours = dict[str, list[str]]
OPENING_HOURS_DOC = (
    "Per weekday (`mon`..`sun`; a missing day is closed), intervals `HH:MM-HH:MM` in "
    "Asia/Jakarta time (UTC+7), end after start, `24:00` allowed as the end. "
    "Omitted or null: open whenever `is_open` is true."
)


class Address(RequestModel):
    line1: str = Field(min_length=1, max_length=200, examples=["Jl. Sabang No. 10"])
    city: str = Field(min_length=1, max_length=80, examples=["Jakarta"])
    postal_code: str = Field(pattern=r"^[0-9]{5}$", examples=["10160"])


class Location(RequestModel):
    lat: float = Field(strict=True, ge=-90, le=90, examples=[-6.1862])
    lon: float = Field(strict=True, ge=-180, le=180, examples=[106.8263])


class DeliveryIn(RequestModel):
    base_fee: int = Rupiah
    per_km_fee: int = Rupiah
    max_distance_km: Decimal = Field(gt=0, le=50, decimal_places=2, examples=[15])


class DeliveryPatch(RequestModel):
    base_fee: int | None = Field(default=None, strict=True, ge=0, le=100_000_000)
    per_km_fee: int | None = Field(default=None, strict=True, ge=0, le=100_000_000)
    max_distance_km: Decimal | None = Field(default=None, gt=0, le=50, decimal_places=2)


Name = Field(min_length=1, max_length=120, examples=["Warung Bu Sri"])
Description = Field(max_length=2000, examples=["Home cooking from Central Java."])
Phone = Field(pattern=r"^\+?[0-9]{8,15}$", examples=["+6281234567890"])
TaxRate = Field(default=None, ge=0, le=1, decimal_places=4, description="0..1, e.g. 0.11 for 11 %.")


class MerchantCreate(RequestModel):
    name: OneLineText = Name
    description: str = Description
    phone: str = Phone
    address: Address
    location: Location
    delivery: DeliveryIn | None = None
    tax_rate: Decimal | None = TaxRate
    opening_hours: OpeningHours | None = Field(default=None, description=OPENING_HOURS_DOC)


class MerchantPatch(RequestModel):
    """Send only what changes. `status` is an admin's decision (PATCH /v1/admin/merchants)."""

    name: OneLineText | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{8,15}$")
    address: Address | None = None
    location: Location | None = None
    delivery: DeliveryPatch | None = None
    tax_rate: Decimal | None = Field(default=None, ge=0, le=1, decimal_places=4)
    opening_hours: OpeningHours | None = Field(default=None, description=OPENING_HOURS_DOC)
    is_open: bool | None = Field(default=None, strict=True)
    accepts_cash_on_delivery: bool | None = Field(
        default=None,
        strict=True,
        description="Offer cash on delivery at checkout (default true); false refuses "
        "`payment_method: cash_on_delivery` with `422 cod_not_accepted`.",
    )
    webhook_url: str | None = Field(
        default=None,
        max_length=2048,
        description="https URL on a public host for signed order events; null removes it.",
    )


class DeliveryOut(ApiModel):
    base_fee: int
    per_km_fee: int
    max_distance_km: float


class AddressOut(ApiModel):
    line1: str
    city: str
    postal_code: str


class LocationOut(ApiModel):
    lat: float
    lon: float


class MerchantOut(ApiModel):
    id: str
    name: str
    description: str
    phone: str
    address: AddressOut
    location: LocationOut
    delivery: DeliveryOut
    tax_rate: str = Field(description='A decimal string, e.g. "0.11".', examples=["0.11"])
    opening_hours: OpeningHours | None
    is_open: bool
    accepts_cash_on_delivery: bool = Field(
        default=True, description="Customers may pay this merchant's orders in cash on delivery."
    )
    open_now: bool
    status: MerchantStatus
    created_at: str
    updated_at: str
    distance_km: float | None = Field(
        default=None, description="With `?near=`: the distance from that point."
    )
    webhook_url: str | None = Field(
        default=None, description="Shown to the merchant's members and admins only."
    )


class MerchantPage(ApiModel):
    items: list[MerchantOut]
    next_cursor: str | None


class StatusChange(RequestModel):
    status: Literal["active", "suspended"]


class WebhookSecret(ApiModel):
    secret: str = Field(description="Shown once; store it now. Signs `Warung-Signature`.")


class MemberAdd(RequestModel):
    email: str = Field(
        min_length=6,
        max_length=254,
        pattern=r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$",
        examples=["manager@example.com"],
    )
    role: Literal["owner", "manager", "staff"]


class MemberOut(ApiModel):
    user_id: str
    email: str
    name: str
    role: Literal["owner", "manager", "staff"]
    added_at: str


class MemberList(ApiModel):
    items: list[MemberOut]
