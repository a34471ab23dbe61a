"""Where products and their search index live in the main table (docs/data-model.md).

Keys come from ``warung.store.products``. While a product is not archived it carries three
index keys: ``gsi1`` (its merchant's menu, newest first), ``gsi2`` (its category by price)
and ``gsi3`` (its category, newest first). Its name's word prefixes are search items with
the attributes the filters and sorts read. Every write of a product rewrites its index items
in the same transaction. A tracked product's units are on its stock item (no index key,
docs/decisions/0030): reads of one product get both items in one Query, listings read the
stock items of the page's tracked products in one BatchGetItem.

The public listings' index Queries (a search prefix, a category, a merchant's public menu)
go through the container's read cache (``warung.readcache``, docs/decisions/0034): the same
page is read from DynamoDB at most once per TTL per container. The products, merchants and
units a page shows are read per request, and an owner's own menu is never cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from catalog.rules import search
from catalog.rules.products import CATEGORIES
from warung import readcache
from warung.dynamo import Transaction, get_items, partition_query, query_items
from warung.errors import PreconditionFailed
from warung.settings import get_settings
from warung.store.merchants import Merchant, merchant_from, merchant_key
from warung.store.products import (
    Product,
    category_by_price_partition,
    category_newest_partition,
    menu_partition,
    price_range,
    product_from,
    product_item,
    product_key,
    product_partition,
    search_key,
    stock_item,
    stock_key,
    with_stock,
)
from warung.store.products import search_partition as search_items_partition

PRODUCT_CHANGED = "The product changed since you read it; read it again (new ETag) and retry."
# Attributes a search item carries: what the filters and sorts of a search read.
SEARCH_FIELDS = ("product_id", "merchant_id", "name", "price", "category", "available")


def _table() -> str:
    return get_settings().table_name


# ---------------------------------------------------------------- writes


def _put_search_items(tx: Transaction, product: Product, prefixes: Iterable[str]) -> None:
    entry = {name: getattr(product, name) for name in SEARCH_FIELDS}
    for prefix in sorted(prefixes):
        tx.put(_table(), {**search_key(prefix, product.product_id), **entry})


def add_product(tx: Transaction, product: Product) -> Transaction:
    """Create the product (and, tracked, its stock item) and its search items."""
    tx.put(_table(), product_item(product), condition="attribute_not_exists(pk)")
    if product.stock_apart and product.stock is not None:
        units = stock_item(
            product.product_id, product.stock, version=0, updated_at=product.updated_at
        )
        tx.put(_table(), units, condition="attribute_not_exists(pk)")
    _put_search_items(tx, product, search.index_prefixes(product.name))
    return tx


def set_stock(tx: Transaction, before: Product, after: Product) -> Transaction:
    """A change of the units alone: the stock item is written if it is still at
    ``before``'s version, and the product item, not written, is checked to be unchanged
    (else ``412`` either way); no listing entry is touched."""
    tx.check(
        _table(),
        product_key(after.product_id),
        condition="version = :seen AND archived = :no",
        values={":seen": before.own_version, ":no": False},
        conflict=PreconditionFailed(PRODUCT_CHANGED),
    )
    _write_stock(tx, before, after)
    return tx


def _write_stock(tx: Transaction, before: Product, after: Product) -> None:
    """The stock item's part of a change from ``before`` to ``after``: rewritten on
    condition that no sale changed it since it was read, created (tracking starts, or
    units stored on the product item move), deleted (tracking stops) or left alone (the
    units did not change). Its version is ``after``'s: bumped for a change of the units
    alone, kept when the product item's bump is the change's one step."""
    if before.stock_apart and after.stock_apart:
        if (after.stock, after.stock_version) == (before.stock, before.stock_version):
            return
        tx.update(
            _table(),
            stock_key(after.product_id),
            "SET stock = :units, version = :version, updated_at = :now",
            condition="version = :seen",
            values={
                ":units": after.stock,
                ":version": after.stock_version,
                ":now": after.updated_at,
                ":seen": before.stock_version,
            },
            conflict=PreconditionFailed(PRODUCT_CHANGED),
        )
    elif before.stock_apart:
        tx.delete(
            _table(),
            stock_key(after.product_id),
            condition="version = :seen",
            values={":seen": before.stock_version},
            conflict=PreconditionFailed(PRODUCT_CHANGED),
        )
    elif after.stock_apart and after.stock is not None:
        units = stock_item(after.product_id, after.stock, version=0, updated_at=after.updated_at)
        tx.put(
            _table(),
            units,
            condition="attribute_not_exists(pk)",
            conflict=PreconditionFailed(PRODUCT_CHANGED),
        )


def replace_product(tx: Transaction, before: Product, after: Product) -> Transaction:
    """Write ``after`` over ``before`` if its version is still ``before.version`` (else
    ``412``), with its stock item's part of the change (``_write_stock``) and its search
    items: the stale ones deleted, the current ones rewritten when a searched attribute
    changed (an archived product keeps none)."""
    tx.put(
        _table(),
        product_item(after),
        condition="version = :seen",
        values={":seen": before.own_version},
        # A new error per write: raising one shared instance would pile every earlier
        # raise's traceback (frames and locals) onto it for the life of the container.
        conflict=PreconditionFailed(PRODUCT_CHANGED),
    )
    _write_stock(tx, before, after)
    old = search.index_prefixes(before.name) if not before.archived else set()
    new = search.index_prefixes(after.name) if not after.archived else set()
    for prefix in sorted(old - new):
        tx.delete(_table(), search_key(prefix, after.product_id))
    searched_changed = any(getattr(before, f) != getattr(after, f) for f in SEARCH_FIELDS)
    _put_search_items(tx, after, new if searched_changed else new - old)
    return tx


# ---------------------------------------------------------------- reads


def get_product(product_id: str, *, consistent: bool = False) -> Product | None:
    """One product (archived ones too) with its units: its partition holds the product
    item and, tracked, its stock item, read in one Query."""
    request = partition_query(product_partition(product_id), consistent=consistent)
    found = {item["sk"]: item for item, _ in query_items(request)}
    item = found.get(product_key(product_id)["sk"])
    if item is None:
        return None
    return product_from(item, found.get(stock_key(product_id)["sk"]))


Units = dict[str, Mapping[str, Any] | None]  # product id -> its stock item (None: none)


def with_units(listed: list[Product], known: Units | None = None) -> list[Product]:
    """The products of a listing page with the units of those whose stock has an item of
    its own: from ``known`` (read along with the page's merchants), the rest in one
    BatchGetItem (eventually consistent, like the listing); the others, untracked or
    stored with their units, as they are."""
    if not any(p.stock_apart for p in listed):
        return listed
    units: Units = dict(known or {})
    apart = [p.product_id for p in listed if p.stock_apart and p.product_id not in units]
    if apart:
        items = get_items([stock_key(p) for p in apart], table=_table(), consistent=False)
        units |= dict(zip(apart, items, strict=True))
    return [with_stock(p, units.get(p.product_id)) if p.stock_apart else p for p in listed]


def merchants_and_products(
    merchant_ids: list[str], product_ids: list[str], stock_ids: list[str] | None = None
) -> tuple[dict[str, Merchant], dict[str, Product], Units]:
    """Merchants, products and the stock items of ``stock_ids``, in one BatchGetItem
    (eventually consistent: for listings, which are cacheable anyway)."""
    stock_ids = stock_ids or []
    keys: list[Mapping[str, Any]] = [merchant_key(m) for m in merchant_ids]
    keys += [product_key(p) for p in product_ids]
    keys += [stock_key(p) for p in stock_ids]
    items = get_items(keys, table=_table(), consistent=False)
    first_stock = len(merchant_ids) + len(product_ids)
    merchants = {i["id"]: merchant_from(i) for i in items[: len(merchant_ids)] if i is not None}
    found = {i["product_id"]: product_from(i) for i in items[len(merchant_ids) : first_stock] if i}
    units: Units = dict(zip(stock_ids, items[first_stock:], strict=True))
    return merchants, found, units


def products_by_id(product_ids: list[str]) -> dict[str, Product]:
    """Several products in one round trip (BatchGetItem), by id; missing ones left out."""
    items = get_items([product_key(p) for p in product_ids], table=_table(), consistent=False)
    return {item["product_id"]: product_from(item) for item in items if item is not None}


Row = tuple[dict[str, Any], dict[str, Any]]  # an entry and the key that resumes after it


def merchant_menu(
    merchant_id: str, *, page_size: int, start: dict[str, Any] | None, shared: bool = False
) -> Iterator[Row]:
    """A merchant's listed products, newest first (gsi1): the public menu through the read
    cache, the menu its members manage (``shared`` false) from the table."""
    partition = menu_partition(merchant_id)
    request = partition_query(
        partition, index="gsi1", newest_first=True, page_size=page_size, start=start
    )
    return readcache.query_items(request) if shared else query_items(request)


def category_newest(
    category: str, *, page_size: int, start: dict[str, Any] | None
) -> Iterator[Row]:
    """A category's listed products, newest first (gsi3)."""
    partition = category_newest_partition(category)
    return readcache.query_items(
        partition_query(
            partition, index="gsi3", newest_first=True, page_size=page_size, start=start
        )
    )


def category_by_price(
    category: str,
    *,
    descending: bool,
    min_price: int | None,
    max_price: int | None,
    page_size: int,
    start: dict[str, Any] | None,
) -> Iterator[Row]:
    """A category's listed products by price (gsi2), only those in the price range."""
    low, high = price_range(min_price, max_price)
    return readcache.query_items(
        partition_query(
            category_by_price_partition(category),
            index="gsi2",
            newest_first=descending,
            page_size=page_size,
            start=start,
            sort_between=(low, high),
        )
    )


def search_partition(prefix: str, *, page_size: int, start: dict[str, Any] | None) -> Iterator[Row]:
    """The search items of one word prefix, newest product first."""
    return readcache.query_items(
        partition_query(
            search_items_partition(prefix), newest_first=True, page_size=page_size, start=start
        )
    )


def every_category() -> tuple[str, ...]:
    """The partitions a listing without ``category`` merges (one per category)."""
    return CATEGORIES
