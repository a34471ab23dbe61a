"""The cart and what may be ordered from it, as plain values and functions: no DynamoDB,
no HTTP. A cart holds product ids and quantities only; prices and stock are always the
products' own, read when the cart is shown, quoted or checked out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from orders.rules import pricing
from warung.errors import (
    CartMerchantMismatch,
    FieldError,
    InsufficientStock,
    MerchantClosed,
    NotFound,
    ValidationFailed,
)
from warung.ordering.hours import open_at
from warung.store.merchants import Merchant
from warung.store.orders import Cart, CartLine, OrderLine
from warung.store.products import Product
from warung.store.promos import Promo

MAX_CART_LINES = 30


@dataclass(frozen=True)
class ProductNow:
    """What the cart and checkout need of a product, as it is now."""

    product_id: str
    merchant_id: str
    name: str
    price: int
    stock: int | None
    available: bool
    archived: bool
    stock_apart: bool = False  # its units are on its stock item (else on the product item)

    @classmethod
    def of(cls, product: Product) -> ProductNow:
        """The part of a catalog product that ordering reads."""
        return cls(
            product_id=product.product_id,
            merchant_id=product.merchant_id,
            name=product.name,
            price=product.price,
            stock=product.stock,
            available=product.available,
            archived=product.archived,
            stock_apart=product.stock_apart,
        )

    def orderable(self, quantity: int) -> bool:
        """Can be bought now in ``quantity``."""
        return (
            self.available and not self.archived and (self.stock is None or self.stock >= quantity)
        )


@dataclass(frozen=True)
class MerchantNow:
    """What pricing and checkout need of a merchant."""

    merchant_id: str
    name: str
    status: str
    is_open: bool
    opening_hours: Mapping[str, list[str]] | None
    lat: Decimal
    lon: Decimal
    base_fee: int
    per_km_fee: int
    max_distance_km: Decimal
    tax_rate: Decimal
    accepts_cash_on_delivery: bool = True

    @classmethod
    def of(cls, merchant: Merchant) -> MerchantNow:
        """The part of a catalog merchant that ordering reads."""
        return cls(
            merchant_id=merchant.merchant_id,
            name=merchant.name,
            status=merchant.status,
            is_open=merchant.is_open,
            opening_hours=merchant.opening_hours,
            lat=merchant.lat,
            lon=merchant.lon,
            base_fee=merchant.delivery.base_fee,
            per_km_fee=merchant.delivery.per_km_fee,
            max_distance_km=merchant.delivery.max_distance_km,
            tax_rate=merchant.tax_rate,
            accepts_cash_on_delivery=merchant.accepts_cash_on_delivery,
        )

    @property
    def terms(self) -> pricing.MerchantTerms:
        """What it charges and how far it delivers, for pricing."""
        return pricing.MerchantTerms(
            lat=self.lat,
            lon=self.lon,
            base_fee=self.base_fee,
            per_km_fee=self.per_km_fee,
            max_distance_km=self.max_distance_km,
            tax_rate=self.tax_rate,
        )


@dataclass(frozen=True)
class CartView:
    """A cart priced now: each line with today's product (``None``: no longer sold)."""

    merchant_id: str | None
    lines: list[tuple[CartLine, ProductNow | None]]

    @property
    def subtotal(self) -> int:
        """The sum of price times quantity of the lines still on sale."""
        return sum(p.price * line.quantity for line, p in self.lines if p and not p.archived)


def view(cart: Cart, products: Mapping[str, ProductNow]) -> CartView:
    """``cart`` with today's products."""
    return CartView(
        cart.merchant_id, [(line, products.get(line.product_id)) for line in cart.lines]
    )


# ---------------------------------------------------------------- changing a cart


def sold(product: ProductNow | None, merchant: MerchantNow | None) -> ProductNow:
    """The product, if it is on sale at all (listed, of an active merchant); else 404."""
    if product is None or product.archived or merchant is None or merchant.status != "active":
        raise NotFound("No such product.")
    return product


def put_line(cart: Cart, product: ProductNow, quantity: int) -> Cart:
    """``cart`` with ``quantity`` of ``product`` (replacing the quantity it had, in place).

    A cart holds one merchant's products (``409 cart_merchant_mismatch``) and at most
    ``MAX_CART_LINES`` different ones (422).
    """
    if not cart.empty and cart.merchant_id != product.merchant_id:
        raise CartMerchantMismatch(
            "Your cart holds another merchant's products; empty it first to order from here."
        )
    lines = [line for line in cart.lines if line.product_id != product.product_id]
    position = next(
        (i for i, line in enumerate(cart.lines) if line.product_id == product.product_id),
        len(lines),
    )
    lines.insert(position, CartLine(product.product_id, quantity))
    if len(lines) > MAX_CART_LINES:
        raise ValidationFailed(
            "The cart is full.",
            errors=[FieldError("product_id", f"At most {MAX_CART_LINES} different products.")],
        )
    return replace(cart, merchant_id=product.merchant_id, lines=tuple(lines))


def without(cart: Cart, product_id: str) -> Cart | None:
    """``cart`` without ``product_id``; ``None`` when it was not in it."""
    lines = tuple(line for line in cart.lines if line.product_id != product_id)
    return replace(cart, lines=lines) if len(lines) != len(cart.lines) else None


# ---------------------------------------------------------------- ordering from it


def check_taking_orders(merchant: MerchantNow | None, now: datetime) -> MerchantNow:
    """The merchant, if it takes orders at ``now`` (active, switched open, within its
    hours); else ``409 merchant_closed``."""
    if merchant is None or merchant.status != "active":
        raise MerchantClosed("This merchant is not taking orders.")
    if not open_at(merchant.is_open, merchant.opening_hours, now):
        raise MerchantClosed("This merchant is closed now.")
    return merchant


def require_items(cart: Cart) -> None:
    """An empty cart cannot be quoted or ordered (422 on ``items``)."""
    if cart.empty:
        raise ValidationFailed(
            "There is nothing to order.", errors=[FieldError("items", "The cart is empty.")]
        )


def order_lines(cart: Cart, products: Mapping[str, ProductNow]) -> list[OrderLine]:
    """The cart's lines at today's prices; ``409 insufficient_stock`` naming every line
    (``items.<n>.quantity``) that cannot be had in its quantity, or an empty cart (422)."""
    require_items(cart)
    lines: list[OrderLine] = []
    short: list[FieldError] = []
    for index, line in enumerate(cart.lines):
        product = products.get(line.product_id)
        if product is None or not product.orderable(line.quantity):
            left = product.stock if product and product.available and not product.archived else 0
            short.append(
                FieldError(f"items.{index}.quantity", f"Only {left or 0} left of this product.")
            )
            continue
        lines.append(
            OrderLine(
                product.product_id,
                product.name,
                product.price,
                line.quantity,
                stock_tracked=product.stock is not None,
            )
        )
    if short:
        raise InsufficientStock("Some products are sold out or short.", errors=short)
    return lines


def check_promo_use(code: str | None, promo: Promo | None, used_by_customer: int) -> Promo | None:
    """The promo code to price with: unknown (422) or used up by this customer (422) is
    refused; the overall limit is the checkout transaction's to enforce."""
    if code and promo is None:
        raise pricing.promo_not_found(code)
    if promo and promo.per_user_limit is not None and used_by_customer >= promo.per_user_limit:
        raise pricing.promo_limit_reached(per_user=True)
    return promo
