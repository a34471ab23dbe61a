"""Products, their listing indexes and their search items."""

from __future__ import annotations


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
