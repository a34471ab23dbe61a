"""Products: the record, its stored form, its listing indexes and its search items.

A product belongs to one merchant; its price is whole rupiah; ``stock`` is a count or
``None`` (not tracked); it is archived rather than deleted, so that orders keep their
snapshot and the id is never reused. ``version`` counts every change (a checkout's stock
decrement included): it is the ``ETag`` and the ``If-Match`` precondition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

PRICE_DIGITS = 12  # prices are at most 100,000,000: zero-padded they sort as numbers


@dataclass(frozen=True)
class Product:
    """A product as the catalog stores and shows it."""

    product_id: str
    merchant_id: str
    name: str
    price: int
    category: str
    created_at: str
    updated_at: str
    description: str = ""
    tags: tuple[str, ...] = ()
    stock: int | None = None
    available: bool = True
    image_url: str | None = None
    archived: bool = False
    version: int = 1

    @property
    def etag(self) -> str:
        """The entity tag of this version (a strong validator: any change bumps it)."""
        return f'"{self.product_id}.{self.version}"'

    @property
    def orderable(self) -> bool:
        """Switched on and not sold out."""
        return self.available and not self.archived and (self.stock is None or self.stock > 0)


def fields_of(product: Product, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The product's fields as plain values (``tags`` as a list): all of them, or ``names``.

    The stored form and the audit view are made from this, so a new field is added once.
    """
    values = {each.name: getattr(product, each.name) for each in fields(product)}
    values["tags"] = list(product.tags)
    return values if names is None else {name: values[name] for name in names}


def price_sort_key(price: int, product_id: str) -> str:
    """``gsi2sk``: the price, zero-padded, then the id (unique, creation order)."""
    return f"{price:0{PRICE_DIGITS}d}#{product_id}"


def price_range(min_price: int | None, max_price: int | None) -> tuple[str, str]:
    """The ``gsi2sk`` bounds of the products priced from ``min_price`` to ``max_price``."""
    high = max_price if max_price is not None else 10**PRICE_DIGITS - 1
    return f"{min_price or 0:0{PRICE_DIGITS}d}#", f"{high:0{PRICE_DIGITS}d}#~"


def product_item(product: Product) -> dict[str, Any]:
    """The stored form of a product; index keys only while it is listed."""
    item: dict[str, Any] = {
        **product_key(product.product_id),
        "entity": "product",
        **fields_of(product),
    }
    if not product.archived:
        item |= listing_index(
            product.product_id,
            product.merchant_id,
            product.category,
            price_sort_key(product.price, product.product_id),
        )
    return {k: v for k, v in item.items() if v is not None}


def product_from(item: Mapping[str, Any]) -> Product:
    """A stored product item (or an index entry of one) as a :class:`Product`."""
    stock = item.get("stock")
    return Product(
        product_id=item["product_id"],
        merchant_id=item["merchant_id"],
        name=item["name"],
        description=item.get("description", ""),
        price=int(item["price"]),
        category=item["category"],
        tags=tuple(item.get("tags") or ()),
        stock=int(stock) if stock is not None else None,
        available=bool(item.get("available", True)),
        image_url=item.get("image_url"),
        archived=bool(item.get("archived", False)),
        version=int(item.get("version", 1)),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
    )


def product_key(product_id: str) -> dict[str, str]:
    """A product (also read by the cart and checkout)."""
    return {"pk": f"PRODUCT#{product_id}", "sk": "PRODUCT"}


def menu_partition(merchant_id: str) -> str:
    """gsi1: a merchant's listed products, newest first."""
    return f"MPRODUCTS#{merchant_id}"


def category_by_price_partition(category: str) -> str:
    """gsi2: a category's listed products by price."""
    return f"CAT#{category}"


def category_newest_partition(category: str) -> str:
    """gsi3: a category's listed products, newest first."""
    return f"CATNEW#{category}"


def listing_index(
    product_id: str, merchant_id: str, category: str, price_key: str
) -> dict[str, str]:
    """A listed (not archived) product's index attributes; ``price_key`` sorts by price."""
    return {
        "gsi1pk": menu_partition(merchant_id),
        "gsi1sk": product_id,
        "gsi2pk": category_by_price_partition(category),
        "gsi2sk": price_key,
        "gsi3pk": category_newest_partition(category),
        "gsi3sk": product_id,
    }


def search_partition(prefix: str) -> str:
    """The search items of one word prefix (ADR 0008)."""
    return f"SEARCH#{prefix}"


def search_key(prefix: str, product_id: str) -> dict[str, str]:
    """A product's search item under one of its name's word prefixes."""
    return {"pk": search_partition(prefix), "sk": product_id}
