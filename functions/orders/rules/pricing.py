"""What an order costs (docs/product.md, Pricing), as plain functions: no DynamoDB, no HTTP.

One function, :func:`price_order`, prices a cart for both the quote and the checkout, so a
customer is charged exactly what they were quoted for the same cart, address, code and time.
Money is integer rupiah throughout; the tax is computed with ``Decimal``, never ``float``.

Promo codes are checked here as far as a pure function can: the code exists (the caller
looked it up), is active, is inside its time window, and the subtotal reaches its minimum.
Usage limits are counted by the database inside the checkout transaction, where concurrent
checkouts cannot both take the last use; :func:`promo_limit_reached` is the error to raise
when that conditional write fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import get_args

from warung.errors import FieldError, OutOfDeliveryRange, ValidationFailed
from warung.ids import rfc3339
from warung.ordering.distance import haversine_km
from warung.store.promos import Promo, PromoKind

PROMO_KINDS: tuple[str, ...] = get_args(PromoKind)
FREE_DELIVERY_KM = 2  # the first 2 km are covered by the base fee
PROMO_CODE_PATTERN = re.compile(r"^[A-Z0-9_-]{3,32}$")
PROMO_FIELD = "promo_code"
_WHOLE_RUPIAH = Decimal(1)
_HUNDREDTHS = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    """One cart line at checkout prices (``unit_price`` in rupiah)."""

    product_id: str
    name: str
    unit_price: int
    quantity: int

    def __post_init__(self) -> None:
        # Lines are built from stored products and validated carts; a bad one is a bug.
        if self.unit_price < 0:
            raise ValueError(f"unit_price of {self.product_id} is negative")
        if self.quantity < 1:
            raise ValueError(f"quantity of {self.product_id} is below 1")

    @property
    def line_total(self) -> int:
        """``unit_price * quantity``."""
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class MerchantTerms:
    """What the merchant charges and how far it delivers (its location in degrees)."""

    lat: float | Decimal
    lon: float | Decimal
    base_fee: int
    per_km_fee: int
    max_distance_km: Decimal
    tax_rate: Decimal

    def __post_init__(self) -> None:
        if self.base_fee < 0 or self.per_km_fee < 0:
            raise ValueError("delivery fees must not be negative")
        if not isinstance(self.tax_rate, Decimal):
            raise TypeError("tax_rate must be a Decimal: tax is never computed with floats")
        if not Decimal(0) <= self.tax_rate <= Decimal(1):
            raise ValueError("tax_rate must be between 0 and 1")


@dataclass(frozen=True)
class Breakdown:
    """What checkout charges, in rupiah, and the figures it was derived from.

    ``distance_km`` is the haversine distance rounded to 2 decimals, the same value the
    catalog shows as ``round(distance, 2)``; a ``Decimal`` so that it can be stored as is.
    """

    subtotal: int
    discount: int
    delivery_fee: int
    tax: int
    total: int
    distance_km: Decimal
    promo_code: str | None


def price_order(
    lines: Sequence[Line],
    terms: MerchantTerms,
    destination_lat: float | Decimal,
    destination_lon: float | Decimal,
    promo: Promo | None,
    now: datetime,
) -> Breakdown:
    """Price a cart delivered to ``(destination_lat, destination_lon)`` at time ``now``.

    Raises ``ValidationFailed`` (field ``items``) for an empty cart, ``ValidationFailed``
    (field ``promo_code``) for a promo that does not apply, and ``OutOfDeliveryRange`` when
    the address is farther than the merchant delivers.
    """
    if not lines:
        raise ValidationFailed(
            "There is nothing to order.",
            errors=[FieldError("items", "The cart is empty.")],
        )
    distance = haversine_km(
        float(terms.lat), float(terms.lon), float(destination_lat), float(destination_lon)
    )
    # The same inclusive comparison as warung.ordering.distance.delivers_to, which the catalog's
    # ?near= uses: a merchant listed as delivering to a point is never refused here.
    if distance > float(terms.max_distance_km):
        raise OutOfDeliveryRange(
            f"The address is {round(distance, 2)} km away; this merchant delivers up to "
            f"{terms.max_distance_km} km."
        )
    subtotal = sum(line.line_total for line in lines)
    discount = promo_applies(promo, subtotal, now) if promo is not None else 0
    fee = delivery_fee(terms.base_fee, terms.per_km_fee, distance)
    tax = tax_on(subtotal - discount, terms.tax_rate)
    return Breakdown(
        subtotal=subtotal,
        discount=discount,
        delivery_fee=fee,
        tax=tax,
        total=subtotal - discount + fee + tax,
        distance_km=rounded_distance(distance),
        promo_code=promo.code if promo is not None else None,
    )


def delivery_fee(base_fee: int, per_km_fee: int, distance_km: float) -> int:
    """``base_fee + per_km_fee * ceil(max(0, distance_km - 2))``.

    The ceiling is taken on the exact haversine distance, not on the 2-decimal figure the
    customer sees: 2.004 km is over 2 km and pays one kilometre, although it shows as 2.0.
    Rounding first would make the fee depend on a display choice. Float noise could only
    matter for a distance within 1e-15 km of a whole number, which real addresses never are.
    """
    extra_km = math.ceil(max(0.0, distance_km - FREE_DELIVERY_KM))
    return base_fee + per_km_fee * extra_km


def tax_on(taxable: int, tax_rate: Decimal) -> int:
    """``taxable * tax_rate`` rounded half up to a whole rupiah (Decimal arithmetic only)."""
    return int((Decimal(taxable) * tax_rate).quantize(_WHOLE_RUPIAH, rounding=ROUND_HALF_UP))


def rounded_distance(distance_km: float) -> Decimal:
    """The distance to 2 decimals, equal to the catalog's ``round(distance_km, 2)``.

    ``Decimal(float)`` is exact and Python's ``round`` rounds the exact binary value half
    to even, so both give the same figure.
    """
    return Decimal(distance_km).quantize(_HUNDREDTHS, rounding=ROUND_HALF_EVEN)


# --- promo codes ---------------------------------------------------------------------------


def discount_for(promo: Promo, subtotal: int) -> int:
    """The discount ``promo`` gives on ``subtotal``, without checking that it applies.

    Percent: ``floor(subtotal * value / 100)`` capped at ``max_discount``; fixed:
    ``min(value, subtotal)``. Never more than the subtotal.
    """
    if promo.kind == "percent":
        discount = subtotal * promo.value // 100  # integer floor: no float in money
        if promo.max_discount is not None:
            discount = min(discount, promo.max_discount)
    else:
        discount = promo.value
    return max(0, min(discount, subtotal))


def promo_applies(promo: Promo, subtotal: int, now: datetime) -> int:
    """The discount ``promo`` gives on ``subtotal`` at ``now``, or ``ValidationFailed`` on
    field ``promo_code`` saying why it does not apply (inactive, not started, expired,
    subtotal below its minimum).

    A code applies from ``starts_at`` (inclusive) until ``ends_at`` (exclusive).
    """
    reason: str | None = None
    if not promo.active:
        reason = "This promo code is no longer active."
    elif promo.starts_at is not None and now < promo.starts_at:
        reason = f"This promo code is valid from {rfc3339(promo.starts_at)}."
    elif promo.ends_at is not None and now >= promo.ends_at:
        reason = f"This promo code expired at {rfc3339(promo.ends_at)}."
    elif subtotal < promo.min_subtotal:
        reason = (
            f"This promo code needs a subtotal of at least {promo.min_subtotal} rupiah; "
            f"the subtotal is {subtotal}."
        )
    if reason is not None:
        raise _promo_error(reason)
    return discount_for(promo, subtotal)


def normalise_promo_code(code: str) -> str:
    """The stored form of a code: surrounding spaces dropped, upper-case."""
    return code.strip().upper()


def promo_not_found(code: str) -> ValidationFailed:
    """The error for a code that does not exist (raise it when the lookup finds nothing)."""
    return _promo_error(f"Unknown promo code {normalise_promo_code(code)!r}.")


def promo_limit_reached(*, per_user: bool) -> ValidationFailed:
    """The error for a code whose usage limit (overall or this customer's) is used up, for
    checkout to raise when the conditional write on the usage counter fails."""
    if per_user:
        return _promo_error("You have already used this promo code as often as it allows.")
    return _promo_error("This promo code has reached its usage limit.")


def _promo_error(reason: str) -> ValidationFailed:
    return ValidationFailed(
        "The promo code cannot be applied.", errors=[FieldError(PROMO_FIELD, reason)]
    )


def check_promo_definition(
    *,
    code: str,
    kind: str,
    value: int,
    min_subtotal: int = 0,
    max_discount: int | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    usage_limit: int | None = None,
    per_user_limit: int | None = None,
    active: bool = True,
) -> Promo:
    """A new promo code as the admin defined it, normalised (code upper-case), or
    ``ValidationFailed`` listing every broken rule by the API's field names (``type`` for
    ``kind``).

    Rules: code ``^[A-Z0-9_-]{3,32}$`` after normalising; percent value 1..100, fixed value
    at least 1; ``min_subtotal`` at least 0; ``max_discount`` at least 1 and for percent
    codes only; ``starts_at``/``ends_at`` timezone-aware (stored in UTC) and ``ends_at``
    after ``starts_at``; limits at least 1.
    """
    normalised = normalise_promo_code(code)
    errors: list[FieldError] = []
    if not PROMO_CODE_PATTERN.fullmatch(normalised):
        errors.append(FieldError("code", "Use 3 to 32 characters: letters, digits, '_' or '-'."))
    errors += _amount_errors(kind, value, min_subtotal, max_discount)
    errors += _window_errors(starts_at, ends_at)
    for name, limit in (("usage_limit", usage_limit), ("per_user_limit", per_user_limit)):
        if limit is not None and limit < 1:
            errors.append(FieldError(name, "Must be at least 1, or left out for no limit."))
    if errors:
        raise ValidationFailed("The promo code definition is invalid.", errors=errors)
    return Promo(
        code=normalised,
        kind="percent" if kind == "percent" else "fixed",
        value=value,
        min_subtotal=min_subtotal,
        max_discount=max_discount,
        starts_at=starts_at.astimezone(UTC) if starts_at is not None else None,
        ends_at=ends_at.astimezone(UTC) if ends_at is not None else None,
        active=active,
        usage_limit=usage_limit,
        per_user_limit=per_user_limit,
    )


def _amount_errors(
    kind: str, value: int, min_subtotal: int, max_discount: int | None
) -> list[FieldError]:
    errors: list[FieldError] = []
    if kind == "percent":
        if not 1 <= value <= 100:
            errors.append(FieldError("value", "A percent code takes 1 to 100 (percent)."))
    elif kind == "fixed":
        if value < 1:
            errors.append(FieldError("value", "A fixed code takes at least 1 rupiah."))
        if max_discount is not None:
            errors.append(FieldError("max_discount", "Only percent codes have a cap."))
    else:
        errors.append(FieldError("type", f"Use one of: {', '.join(PROMO_KINDS)}."))
    if min_subtotal < 0:
        errors.append(FieldError("min_subtotal", "Must be 0 or more."))
    if max_discount is not None and max_discount < 1:
        errors.append(FieldError("max_discount", "Must be at least 1 rupiah."))
    return errors


def _window_errors(starts_at: datetime | None, ends_at: datetime | None) -> list[FieldError]:
    errors = [
        FieldError(name, "Give a time zone, e.g. 2026-11-26T08:15:00Z.")
        for name, moment in (("starts_at", starts_at), ("ends_at", ends_at))
        if moment is not None and moment.utcoffset() is None
    ]
    if not errors and starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors.append(FieldError("ends_at", "Must be after starts_at."))
    return errors
