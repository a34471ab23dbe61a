"""Product rules, as plain values and functions: no DynamoDB, no HTTP.

A product belongs to one merchant; its price is whole rupiah; ``stock`` is a count or
``None`` (not tracked); it is archived rather than deleted, so that orders keep their
snapshot and the id is never reused. ``version`` counts every change (a checkout's stock
decrement included): it is the ``ETag`` and the ``If-Match`` precondition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.rules import search
from warung.errors import FieldError, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from warung.store.products import Product

CATEGORIES = ("food", "drinks", "snacks", "groceries", "other")
CATEGORY_NAMES = {
    "food": "Food",
    "drinks": "Drinks",
    "snacks": "Snacks",
    "groceries": "Groceries",
    "other": "Other",
}
SORTS = ("relevance", "price_asc", "price_desc", "newest")
MIN_PRICE = 100
MAX_PRICE = 100_000_000
PRODUCT_EDITORS = ("owner", "manager")


@dataclass(frozen=True)
class ListQuery:
    """What ``GET /v1/products`` asks for, validated."""

    q: str | None = None
    merchant_id: str | None = None
    category: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    available: bool | None = None
    sort: str = "newest"
    terms: list[str] = field(default_factory=list)

    def accepts(self, entry: Mapping[str, Any]) -> bool:
        """Whether a listing entry (a product or a search item) passes every filter."""
        price = int(entry["price"])
        return (
            (self.merchant_id is None or entry["merchant_id"] == self.merchant_id)
            and (self.category is None or entry["category"] == self.category)
            and (self.min_price is None or price >= self.min_price)
            and (self.max_price is None or price <= self.max_price)
            and (self.available is None or bool(entry["available"]) == self.available)
            and (not self.terms or search.matches(str(entry["name"]), self.terms))
        )


def list_query(
    *,
    q: str | None,
    merchant_id: str | None,
    category: str | None,
    min_price: int | None,
    max_price: int | None,
    available: bool | None,
    sort: str | None,
) -> ListQuery:
    """A validated listing request; ``sort`` defaults to ``relevance`` with ``q`` and to
    ``newest`` without. ``relevance`` without ``q`` is ``newest``."""
    problems: list[FieldError] = []
    terms: list[str] = []
    if q is not None:
        terms = search.query_terms(q)
        try:
            search.lookup_term(terms)
        except ValueError as error:
            problems.append(FieldError("q", str(error)))
    if min_price is not None and max_price is not None and min_price > max_price:
        problems.append(FieldError("min_price", "min_price must not exceed max_price."))
    if problems:
        raise ValidationFailed("The search is not valid.", errors=problems)
    chosen = sort or ("relevance" if terms else "newest")
    if chosen == "relevance" and not terms:
        chosen = "newest"
    return ListQuery(
        q=q,
        merchant_id=merchant_id,
        category=category,
        min_price=min_price,
        max_price=max_price,
        available=available,
        sort=chosen,
        terms=terms,
    )


def sort_key(query: ListQuery) -> Callable[[Mapping[str, Any]], Any]:
    """The in-memory order of a listing's entries for ``query.sort``; ties by id, so the
    order is total and a cursor's position is stable."""
    if query.sort == "relevance":
        return lambda e: (search.relevance(str(e["name"]), query.terms), e["product_id"])
    if query.sort == "price_asc":
        return lambda e: (int(e["price"]), e["product_id"])
    if query.sort == "price_desc":
        return lambda e: (-int(e["price"]), _desc(e["product_id"]))
    return lambda e: _desc(e["product_id"])  # newest: ids are time-ordered


def _desc(text: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in text)


def check_product_fields(changes: Mapping[str, Any]) -> None:
    """Rules pydantic cannot express: fields that cannot be removed with ``null``."""
    required = ("name", "price", "category", "available", "tags", "description")
    nulls = [name for name in required if name in changes and changes[name] is None]
    if nulls:
        raise ValidationFailed(
            "These fields cannot be removed.",
            errors=[FieldError(name, "Omit the field to keep its value.") for name in nulls],
        )


def normal_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Tags trimmed, lower-cased, each once, in the order given."""
    return tuple(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


def may_edit(role: str | None, is_admin: bool) -> None:
    """Owners and managers change products; staff see them (403); others learn nothing
    (404)."""
    if is_admin or role in PRODUCT_EDITORS:
        return
    if role is None:
        raise NotFound("No such product.")
    raise Forbidden("Only the merchant's owners and managers can change its products.")


def check_precondition(product: Product, if_match: str | None) -> None:
    """``If-Match``: ``*`` or a list of entity tags one of which is the product's current
    one; anything else is ``412``. Absent: no precondition."""
    if if_match is None:
        return
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags:
        return
    # A weak comparison would be wrong for a write (RFC 9110 13.1.1): W/ tags never match.
    if product.etag not in tags:
        raise PreconditionFailed(
            "The product changed since you read it; read it again (new ETag) and retry."
        )


def matches_etag(product: Product, if_none_match: str | None) -> bool:
    """``If-None-Match`` (weak comparison, RFC 9110 13.1.2): the client's copy is current."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or product.etag in tags


# The fields a member may change, and so the ones an audit entry of a change records.
EDITABLE_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "price",
    "category",
    "tags",
    "stock",
    "available",
    "image_url",
)
