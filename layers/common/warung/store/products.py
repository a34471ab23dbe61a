"""Products: the record, its stored form, its listing indexes, its stock and its search items.

A product belongs to one merchant; its price is whole rupiah; ``stock`` is a count or
``None`` (not tracked); it is archived rather than deleted, so that orders keep their
snapshot and the id is never reused.

A tracked product's units live on an item of their own beside it, ``PRODUCT#<id>`` /
``STOCK``, which carries no index key: a sale, expiry or cancel rewrites that item only,
never the product's three listing entries (docs/decisions/0030). The product item then
carries ``stock_apart: true`` and ``stock: 0``, a placeholder that older code (a rollback)
reads as sold out rather than as untracked. Products stored before that change still
carry ``stock`` themselves (no marker) until their first stock write moves it.

Each item counts its own changes (``version``); the version a client sees is their sum, so
that any change of either bumps it: it is the ``ETag`` and the ``If-Match`` precondition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
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
    version: int = 1  # the product item's changes plus its stock item's (``stock_version``)
    stock_version: int = 0  # changes of the stock item (0: none read, or none yet)
    stock_apart: bool = False  # the units are on the stock item (the product item's marker)

    @property
    def etag(self) -> str:
        """The entity tag of this version (a strong validator: any change bumps it)."""
        return f'"{self.product_id}.{self.version}"'

    @property
    def own_version(self) -> int:
        """The product item's own ``version`` (what its writes are conditioned on)."""
        return self.version - self.stock_version

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
    """The stored form of a product; index keys only while it is listed. With
    ``stock_apart`` its units are left to :func:`stock_item` (and the marker is set)."""
    values = fields_of(product)
    del values["stock_version"]
    values["version"] = product.own_version
    if product.stock_apart:
        # A placeholder, never read with the marker set: code from before the stock item
        # (a rollback) sees the product sold out, never untracked and sold without limit.
        values["stock"] = 0
    else:
        del values["stock_apart"]
    item: dict[str, Any] = {
        **product_key(product.product_id),
        "entity": "product",
        **values,
    }
    if not product.archived:
        item |= listing_index(
            product.product_id,
            product.merchant_id,
            product.category,
            price_sort_key(product.price, product.product_id),
        )
    return {k: v for k, v in item.items() if v is not None}


def product_from(item: Mapping[str, Any], stock: Mapping[str, Any] | None = None) -> Product:
    """A stored product item (or an index entry of one) as a :class:`Product`, with the
    units of its stock item when one is given (see :func:`with_stock`)."""
    product = _product_alone(item)
    return with_stock(product, stock) if stock is not None else product


def _product_alone(item: Mapping[str, Any]) -> Product:
    # with the marker, the item's ``stock`` is the rollback placeholder: the units are on
    # the stock item (:func:`with_stock`)
    stock = None if item.get("stock_apart") else item.get("stock")
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
        stock_apart=bool(item.get("stock_apart", False)),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
    )


def with_stock(product: Product, stock: Mapping[str, Any] | None) -> Product:
    """``product`` (read without its stock item) with the units, version and time of its
    stock item ``stock``; as it is when there is none (untracked, or stored before the stock
    had an item of its own)."""
    if stock is None:
        return product
    stock_version = int(stock.get("version", 0))
    return replace(
        product,
        stock=int(stock["stock"]),
        stock_version=stock_version,
        version=product.own_version + stock_version,
        updated_at=max(product.updated_at, str(stock["updated_at"])),
        stock_apart=True,
    )


def product_partition(product_id: str) -> str:
    """A product's partition: its item and its stock item (one Query reads both)."""
    return f"PRODUCT#{product_id}"


def product_key(product_id: str) -> dict[str, str]:
    """A product (also read by the cart and checkout)."""
    return {"pk": f"PRODUCT#{product_id}", "sk": "PRODUCT"}


def stock_key(product_id: str) -> dict[str, str]:
    """A tracked product's units: no index key, so a sale rewrites no listing entry."""
    return {"pk": f"PRODUCT#{product_id}", "sk": "STOCK"}


def stock_item(product_id: str, units: int, *, version: int, updated_at: str) -> dict[str, Any]:
    """The stored form of a product's units (``version``: its own count of changes)."""
    return {
        **stock_key(product_id),
        "entity": "stock",
        "product_id": product_id,
        "stock": units,
        "version": version,
        "updated_at": updated_at,
    }


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
