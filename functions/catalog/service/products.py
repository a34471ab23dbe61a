"""The product use cases: each product route calls exactly one of these.

Listings read one index in the order asked for when one exists (a merchant's menu newest
first; a category newest first or by price; a search prefix newest first) and page through
it with the key of the last entry examined; without ``category`` the five category
partitions are merged (``heapq.merge``), each resuming from its own key. Orders no index
has (relevance, or price within a merchant or a search) sort the candidates in memory, up to
``MAX_SORTED_CANDIDATES``, and page by position. A product is listed only while its merchant
is active: the merchants of the entries examined are read (one BatchGetItem per chunk), so a
suspension hides its products at once, without touching them. The units of the page's
products whose stock has an item of its own come last, in one BatchGetItem.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from itertools import islice
from typing import Any

from catalog.repository import merchants as repository
from catalog.repository import products as repo
from catalog.rules import products, search
from catalog.rules.merchants import is_insider
from catalog.rules.products import ListQuery
from warung.audit import audited, diff
from warung.auth import Caller
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.dynamo import Transaction
from warung.errors import NotFound
from warung.ids import new_id, rfc3339, utc_now
from warung.store.merchants import Merchant
from warung.store.products import Product, fields_of, product_from

# A listing examines at most this many index entries per request (filters that reject
# many entries then give a short page, and ``next_cursor`` carries on).
MAX_EXAMINED_PER_PAGE = 500
# An order no index has is computed over at most this many candidates: about one 1 MB
# Query page of search items (docs/decisions/0008).
MAX_SORTED_CANDIDATES = 5000

Entry = dict[str, Any]
Tagged = tuple[str, Entry, dict[str, Any]]  # stream name, entry, key that resumes after it


def _editable(actor: Caller, product_id: str) -> Product:
    product = repo.get_product(product_id, consistent=True)
    if product is None or product.archived:
        raise NotFound("No such product.")
    products.may_edit(actor.role_in(product.merchant_id), actor.is_admin)
    return product


def _audit_view(product: Product) -> dict[str, Any]:
    return fields_of(product, products.EDITABLE_FIELDS)


# ---------------------------------------------------------------- changing


def add_product(
    actor_id: str, merchant_id: str, data: Mapping[str, Any], meta: RequestMeta
) -> Product:
    """A new product on the merchant's menu (any status: a pending merchant prepares it).
    The merchant is not read: the write checks that it exists (else 404)."""
    now = rfc3339(utc_now())
    product = Product(
        product_id=new_id(),
        merchant_id=merchant_id,
        name=data["name"],
        description=data.get("description") or "",
        price=data["price"],
        category=data["category"],
        tags=products.normal_tags(data.get("tags") or ()),
        stock=data.get("stock"),
        stock_apart=data.get("stock") is not None,
        available=data.get("available", True),
        image_url=data.get("image_url"),
        created_at=now,
        updated_at=now,
    )
    tx = repo.add_product(repository.require_merchant(Transaction(), merchant_id), product)
    resource = f"product:{product.product_id}"
    entry = audited(
        actor_id, "product.created", resource, meta, merchant_id=merchant_id, **_audit_view(product)
    )
    tx.extend([entry]).commit()
    return product


def update_product(
    actor: Caller,
    product_id: str,
    changes: Mapping[str, Any],
    if_match: str | None,
    meta: RequestMeta,
) -> Product:
    """A partial update by an owner or manager; ``If-Match`` guards against lost updates
    (``412``), and so does the version condition of the write itself."""
    product = _editable(actor, product_id)
    products.check_precondition(product, if_match)
    products.check_product_fields(changes)
    updates = dict(changes)
    if "tags" in updates:
        updates["tags"] = products.normal_tags(updates["tags"])
    after = replace(product, **updates)
    changed = diff(_audit_view(product), _audit_view(after))
    if not changed:
        return product
    now = rfc3339(utc_now())
    if set(changed) == {"stock"} and product.stock_apart and after.stock is not None:
        # the units alone: their item is written, the product item and its listing entries
        # are not (the product item is checked unchanged)
        after = replace(
            after,
            stock_version=product.stock_version + 1,
            version=product.version + 1,
            updated_at=now,
        )
        tx = repo.set_stock(Transaction(), product, after)
    else:
        after = _rewritten(product, after, now)
        tx = repo.replace_product(Transaction(), product, after)
    resource = f"product:{product_id}"
    tx.extend([audited(actor.user_id, "product.updated", resource, meta, **changed)]).commit()
    return after


def _rewritten(before: Product, after: Product, now: str) -> Product:
    """``after`` as written when its product item is: the product item's version bumped
    (the one step of the version a client sees, even when the units change too);
    tracked, its units on their own item (those stored on the product item move there);
    no longer tracked, the stock item's version folded into the product item's, so that
    the version a client sees never goes back."""
    own = before.own_version + 1
    units_version = before.stock_version if before.stock_apart else 0
    if after.stock is None:
        own += units_version
        units_version = 0
    return replace(
        after,
        version=own + units_version,
        stock_version=units_version,
        stock_apart=after.stock is not None,
        updated_at=now,
    )


def archive_product(
    actor: Caller, product_id: str, if_match: str | None, meta: RequestMeta
) -> None:
    """Take a product off every listing for good; orders keep their snapshot of it."""
    product = _editable(actor, product_id)
    products.check_precondition(product, if_match)
    after = replace(
        product, archived=True, version=product.version + 1, updated_at=rfc3339(utc_now())
    )
    tx = repo.replace_product(Transaction(), product, after)
    resource = f"product:{product_id}"
    tx.extend([audited(actor.user_id, "product.archived", resource, meta)]).commit()


# ---------------------------------------------------------------- reading one


def product_for(product_id: str, caller: Caller | None) -> tuple[Product, bool]:
    """The product and whether it is public (its merchant is active). Members and admins
    also see the products of their pending or suspended merchant; archived ones are gone."""
    # Anonymous reads are cacheable for 30 s anyway: eventually consistent, half the cost.
    # A signed-in caller may be about to send If-Match: it reads the latest version.
    consistent = caller is not None
    product = repo.get_product(product_id, consistent=consistent)
    if product is None or product.archived:
        raise NotFound("No such product.")
    found = repository.get_merchant(product.merchant_id, consistent=consistent)
    public = found is not None and found[0].active
    insider = caller is not None and is_insider(
        caller.role_in(product.merchant_id), caller.is_admin
    )
    if not public and not insider:
        raise NotFound("No such product.")
    return product, public


# ---------------------------------------------------------------- listings


def list_products(
    query: ListQuery, *, limit: int, cursor: str | None, caller: Caller | None
) -> tuple[list[Product], str | None]:
    """One page of ``GET /v1/products`` and the cursor of the next one."""
    scope = list_scope(
        "GET /v1/products",
        None,
        q=" ".join(query.terms),
        merchant_id=query.merchant_id or "",
        category=query.category or "",
        min_price=query.min_price,
        max_price=query.max_price,
        available=query.available,
        sort=query.sort,
        # The partitions a listing without ``category`` merges: a cursor made before they
        # change is foreign, and its positions are keyed by names the scope already holds.
        categories=",".join(repo.every_category()),
    )
    state: dict[str, Any] = decode_cursor(cursor, scope) or {}
    listed = _Listed(query, caller, with_products=bool(query.terms))
    if query.terms:
        prefix = search.lookup_term(query.terms)
        if query.sort == "newest":
            page, state_out = listed.stream_page(
                {"s": lambda start: repo.search_partition(prefix, page_size=100, start=start)},
                limit,
                state,
            )
        else:
            rows = repo.search_partition(prefix, page_size=1000, start=None)
            page, state_out = listed.sorted_page(rows, limit, state)
        missing = [e["product_id"] for e in page if e["product_id"] not in listed.products]
        if missing:  # only when a guess about the page was wrong (see _Listed.sorted_page)
            listed.products |= repo.products_by_id(missing)
        items = [
            listed.products[e["product_id"]] for e in page if e["product_id"] in listed.products
        ]
        return repo.with_units(items, listed.units), encode_cursor(state_out, scope)

    if query.merchant_id:
        merchant_id = query.merchant_id
        shared = not listed.insider  # the menu its members manage is read fresh
        if query.sort == "newest":
            page, state_out = listed.stream_page(
                {
                    "m": lambda start: repo.merchant_menu(
                        merchant_id, page_size=100, start=start, shared=shared
                    )
                },
                limit,
                state,
            )
        else:
            rows = repo.merchant_menu(merchant_id, page_size=1000, start=None, shared=shared)
            page, state_out = listed.sorted_page(rows, limit, state)
    else:
        categories = [query.category] if query.category else list(repo.every_category())
        size = limit + 1
        streams: dict[str, Callable[[dict[str, Any] | None], Iterator[repo.Row]]] = {}
        for category in categories:
            streams[category] = _category_stream(query, category, size)
        page, state_out = listed.stream_page(streams, limit, state)
    products_of_page = [product_from(e) for e in page]
    return repo.with_units(products_of_page, listed.units), encode_cursor(state_out, scope)


def _category_stream(
    query: ListQuery, category: str, size: int
) -> Callable[[dict[str, Any] | None], Iterator[repo.Row]]:
    if query.sort in ("price_asc", "price_desc"):
        return lambda start: repo.category_by_price(
            category,
            descending=query.sort == "price_desc",
            min_price=query.min_price,
            max_price=query.max_price,
            page_size=size,
            start=start,
        )
    return lambda start: repo.category_newest(category, page_size=size, start=start)


class _Listed:
    """The filters of one listing request, with the merchants it has looked up."""

    def __init__(self, query: ListQuery, caller: Caller | None, *, with_products: bool) -> None:
        self.query = query
        self.order = products.sort_key(query)
        self.merchants: dict[str, Merchant | None] = {}
        # Search entries are index items, not products: the products of a page are read
        # in the same BatchGetItem as the merchants that decide whether they are listed.
        self.with_products = with_products
        self.products: dict[str, Product] = {}
        # Stock items of tracked products (their index entries say so), read along with
        # merchants when a round reads some anyway: the page then needs no read of its own.
        self.units: repo.Units = {}
        # Members and admins see their own merchant's menu whatever its status.
        self.insider = bool(
            caller
            and query.merchant_id
            and is_insider(caller.role_in(query.merchant_id), caller.is_admin)
        )

    def _look_up(self, entries: list[Entry], products_of: list[Entry] | None = None) -> None:
        """Read, in one round trip, the merchants of ``entries`` not yet known and (for a
        search) the products of ``products_of`` (default: ``entries``) not yet read."""
        unknown = sorted({e["merchant_id"] for e in entries} - self.merchants.keys())
        wanted: list[str] = []
        if self.with_products:
            wanted = [
                e["product_id"]
                for e in (entries if products_of is None else products_of)
                if e["product_id"] not in self.products
            ]
        if not unknown and not wanted:
            return
        stock = [
            e["product_id"]
            for e in entries
            if e.get("stock_apart") and e["product_id"] not in self.units
        ]
        merchants, found, units = repo.merchants_and_products(unknown, wanted, stock)
        self.merchants |= {m: merchants.get(m) for m in unknown}
        self.products |= found
        self.units |= units

    def _listed(self, entry: Entry) -> bool:
        if not self.query.accepts(entry):
            return False
        merchant = self.merchants.get(entry["merchant_id"])
        return merchant is not None and (merchant.active or self.insider)

    def stream_page(
        self,
        streams: Mapping[str, Callable[[dict[str, Any] | None], Iterator[repo.Row]]],
        limit: int,
        state: Mapping[str, Any],
    ) -> tuple[list[Entry], dict[str, Any] | None]:
        """Entries in index order, merged over ``streams``; the state resumes each stream
        after the last entry examined from it."""
        positions: dict[str, Any] = dict(state.get("s") or {})

        def tagged(name: str) -> Iterator[Tagged]:
            for entry, key in streams[name](positions.get(name)):
                yield name, entry, key

        merged = heapq.merge(*(tagged(n) for n in streams), key=lambda t: self.order(t[1]))
        page: list[Entry] = []
        examined = 0
        while True:
            chunk = list(islice(merged, max(limit - len(page), 1) + 4))
            if not chunk:
                return page, None
            self._look_up([entry for _, entry, _ in chunk])
            for index, (name, entry, key) in enumerate(chunk):
                examined += 1
                positions[name] = key
                if self._listed(entry):
                    page.append(entry)
                if len(page) == limit or examined >= MAX_EXAMINED_PER_PAGE:
                    more = index + 1 < len(chunk) or next(merged, None) is not None
                    return page, ({"s": positions} if more else None)

    def sorted_page(
        self, rows: Iterator[repo.Row], limit: int, state: Mapping[str, Any]
    ) -> tuple[list[Entry], dict[str, Any] | None]:
        """Entries in an order no index has: every candidate (up to the budget) sorted in
        memory; the state is the position in that order."""
        candidates = [e for e, _ in islice(rows, MAX_SORTED_CANDIDATES) if self.query.accepts(e)]
        candidates.sort(key=self.order)
        offset = int(state.get("o", 0))
        # Guess the page before the merchants are known (merchants are nearly always
        # active), so that its products come in the same round trip as the merchants.
        self._look_up(candidates, products_of=candidates[offset : offset + limit + 4])
        ordered = [e for e in candidates if self._listed(e)]
        page = ordered[offset : offset + limit]
        more = offset + limit < len(ordered)
        return page, ({"o": offset + limit} if more else None)
