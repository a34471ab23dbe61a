"""Request and response bodies of the cart, order and promo-code routes."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from datetime import datetime
from typing import Literal

from pydantic import Field

from warung.models import ApiModel, OneLineText, RequestModel
from warung.ordering import numbers
from warung.ordering.lifecycle import OrderStatus

MAX_QUANTITY = 50


class CartItemPut(RequestModel):
    quantity: int = Field(strict=True, ge=1, le=MAX_QUANTITY, examples=[2])


class CartLineOut(ApiModel):
    product_id: str
    name: str
    unit_price: int = Field(description="Today's price, whole rupiah.")
    quantity: int
    line_total: int
    available: bool = Field(description="Can be ordered now in this quantity.")


class CartOut(ApiModel):
    merchant_id: str | None
    items: list[CartLineOut]
    subtotal: int


class DeliveryAddress(RequestModel):
    line1: OneLineText = Field(min_length=1, max_length=200, examples=["Jl. Kebon Sirih No. 5"])
    city: OneLineText = Field(min_length=1, max_length=80, examples=["Jakarta"])
    postal_code: str = Field(pattern=r"^[0-9]{5}$", examples=["10340"])
    lat: float = Field(strict=True, ge=-90, le=90, examples=[-6.1862])
    lon: float = Field(strict=True, ge=-180, le=180, examples=[106.8263])
    notes: OneLineText | None = Field(default=None, max_length=500, examples=["Pagar hijau."])


class QuoteIn(RequestModel):
    delivery_address: DeliveryAddress
    promo_code: str | None = Field(default=None, min_length=1, max_length=32)


class CheckoutIn(QuoteIn):
    payment_method: Literal["online", "cash_on_delivery"] = Field(
        default="online",
        description="`online` (default): the order awaits payment (`pending_payment`). "
        "`cash_on_delivery`: the order is `placed` with the merchant at once and paid in cash "
        "at the door (payment `due_on_delivery`, then `collected`); refused with "
        "`403 cod_not_available`, `422 cod_not_accepted`, `422 cod_limit_exceeded` or "
        "`409 cod_order_open`.",
    )


class OrderLineOut(ApiModel):
    product_id: str
    name: str
    unit_price: int
    quantity: int
    line_total: int


class QuoteOut(ApiModel):
    merchant_id: str
    items: list[OrderLineOut]
    subtotal: int
    discount: int
    delivery_fee: int
    tax: int
    total: int
    currency: Literal["IDR"] = "IDR"
    distance_km: float
    promo_code: str | None


class PaymentSummary(ApiModel):
    id: str
    status: str = Field(
        description="Online: `pending`, `succeeded`, `failed`, `refund_pending`, `refunded`, "
        "`cancelled`, `expired`. Cash on delivery: `due_on_delivery` until the order is "
        "`delivered`, then `collected` (`cancelled` if cancelled or rejected, `failed` after "
        "`failed_delivery`: nothing is ever refunded).",
        examples=["pending", "due_on_delivery"],
    )
    expires_at: str
    provider: str = Field(
        examples=["midtrans"],
        description="Who takes the money, as in `GET /v1/payments/{id}`: the provider "
        "(`midtrans`, `simulator`), or `cash` for a cash-on-delivery order.",
    )
    action_url: str | None = Field(
        default=None,
        description="Where the customer pays (the provider's page), in checkout's answer. "
        "`null` with the simulator, or when the provider did not answer in time: "
        "`GET /v1/payments/{id}` then opens it.",
    )


class HistoryOut(ApiModel):
    status: OrderStatus
    at: str
    by: str = Field(description='The account that made the change, or "system".')


class OrderOut(ApiModel):
    id: str
    number: str | None = Field(
        pattern=numbers.PATTERN,
        description="The order number people read and quote: `WRG-` and 8 symbols from "
        f"`{numbers.ALPHABET}` (no 0/O, 1/I/L or U), unique across all orders. Every order "
        "placed has one; `null` only for orders placed before order numbers existed.",
        examples=[numbers.EXAMPLE],
    )
    customer_id: str
    merchant_id: str
    status: OrderStatus
    payment_method: Literal["online", "cash_on_delivery"] = "online"
    items: list[OrderLineOut]
    subtotal: int
    discount: int
    delivery_fee: int
    tax: int
    total: int
    currency: Literal["IDR"] = "IDR"
    delivery_address: dict[str, str | float | None]
    distance_km: float
    promo_code: str | None
    payment: PaymentSummary
    status_history: list[HistoryOut]
    reason: str | None = Field(default=None, description="Why it was rejected, if it was.")
    created_at: str
    updated_at: str
    expires_at: str = Field(
        description="Unpaid orders expire at this time (cash on delivery: the time it was "
        "placed; it never expires)."
    )


class OrderPage(ApiModel):
    items: list[OrderOut]
    next_cursor: str | None


class StatusChangeIn(RequestModel):
    status: Literal[
        "accepted", "rejected", "preparing", "out_for_delivery", "delivered", "failed_delivery"
    ]
    reason: OneLineText | None = Field(default=None, max_length=500)


class PromoCreate(RequestModel):
    code: str = Field(min_length=3, max_length=32, examples=["HEMAT10"])
    type: Literal["percent", "fixed"]
    value: int = Field(strict=True, ge=1, le=100_000_000, description="Percent 1..100, or rupiah.")
    min_subtotal: int = Field(default=0, strict=True, ge=0, le=100_000_000)
    max_discount: int | None = Field(default=None, strict=True, ge=1, le=100_000_000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = Field(default=None, strict=True, ge=1, le=10_000_000)
    per_user_limit: int | None = Field(default=None, strict=True, ge=1, le=1000)


class PromoPatch(RequestModel):
    active: bool = Field(strict=True)


class PromoOut(ApiModel):
    code: str
    type: Literal["percent", "fixed"]
    value: int
    min_subtotal: int
    max_discount: int | None
    starts_at: str | None
    ends_at: str | None
    usage_limit: int | None
    per_user_limit: int | None
    used: int
    active: bool
    created_at: str
    updated_at: str


class PromoPage(ApiModel):
    items: list[PromoOut]
    next_cursor: str | None
