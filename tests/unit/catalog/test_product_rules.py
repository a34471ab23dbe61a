"""Product rules without AWS (docs/product.md, Merchants and catalog): what a listing request means,
which entries it keeps and in which order, entity tags for reads and writes, who may edit."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest
from support.checks import refusal

# The catalog's own modules, loaded without leaving functions/catalog on the import path.
from catalog.rules import products
from warung.errors import Forbidden, NotFound, PreconditionFailed, ValidationFailed
from warung.store.products import Product, fields_of

ListQuery = products.ListQuery

A, B, C = "01JDX4Y4S5N7Q8R9T0V1W2X3YA", "01JDX4Y4S5N7Q8R9T0V1W2X3YB", "01JDX4Y4S5N7Q8R9T0V1W2X3YC"


def query(**given: Any) -> Any:
    asked: dict[str, Any] = {
        "q": None,
        "merchant_id": None,
        "category": None,
        "min_price": None,
        "max_price": None,
        "available": None,
        "sort": None,
    }
    return products.list_query(**(asked | given))


def entry(product_id: str = A, **fields: Any) -> dict[str, Any]:
    values = {
        "product_id": product_id,
        "merchant_id": "M1",
        "name": "Nasi Goreng Spesial",
        "price": 25000,
        "category": "food",
        "available": True,
    }
    return values | fields


def product(version: int = 3) -> Any:
    return Product(
        product_id=A,
        merchant_id="M1",
        name="Nasi Goreng",
        price=25000,
        category="food",
        created_at="2026-11-26T08:15:00Z",
        updated_at="2026-11-26T08:15:00Z",
        version=version,
    )


# --- list_query ---------------------------------------------------------------------------


def test_without_q_the_default_order_is_newest() -> None:
    assert query().sort == "newest"


def test_with_q_the_default_order_is_relevance() -> None:
    asked = query(q="Nasi GORÉNG")
    assert (asked.sort, asked.terms) == ("relevance", ["nasi", "goreng"])


def test_relevance_without_q_means_newest() -> None:
    assert query(sort="relevance").sort == "newest"


def test_an_explicit_sort_is_kept_with_q() -> None:
    assert query(q="nasi", sort="price_desc").sort == "price_desc"


@pytest.mark.parametrize("q", ["a", "a b", "  ", "!!"])
def test_q_without_a_word_of_two_letters_is_422_on_q(q: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        query(q=q)
    assert raised.value.status == 422
    assert [e.field for e in raised.value.errors] == ["q"]


def test_a_one_letter_word_is_fine_beside_a_longer_one() -> None:
    assert query(q="nasi g").terms == ["nasi", "g"]


def test_min_price_above_max_price_is_422() -> None:
    with pytest.raises(ValidationFailed) as raised:
        query(min_price=5000, max_price=4999)
    assert raised.value.status == 422
    assert [e.field for e in raised.value.errors] == ["min_price"]


def test_an_equal_price_range_is_one_price() -> None:
    asked = query(min_price=5000, max_price=5000)
    assert asked.accepts(entry(price=5000))
    assert not asked.accepts(entry(price=5001))


def test_both_problems_are_reported_together() -> None:
    with pytest.raises(ValidationFailed) as raised:
        query(q="x", min_price=2, max_price=1)
    assert sorted(e.field for e in raised.value.errors) == ["min_price", "q"]


# --- accepts --------------------------------------------------------------------------------


def test_no_filter_accepts_everything() -> None:
    assert query().accepts(entry(available=False))


def test_merchant_filter() -> None:
    asked = query(merchant_id="M1")
    assert asked.accepts(entry())
    assert not asked.accepts(entry(merchant_id="M2"))


def test_category_filter() -> None:
    asked = query(category="drinks")
    assert asked.accepts(entry(category="drinks"))
    assert not asked.accepts(entry(category="food"))


def test_price_bounds_are_inclusive() -> None:
    asked = query(min_price=1000, max_price=2000)
    assert [asked.accepts(entry(price=p)) for p in (999, 1000, 2000, 2001)] == [
        False,
        True,
        True,
        False,
    ]


def test_price_stored_as_a_number_string_is_compared_as_a_number() -> None:
    assert query(min_price=900).accepts(entry(price="1000"))


def test_available_filter_both_ways() -> None:
    assert query(available=True).accepts(entry(available=True))
    assert not query(available=True).accepts(entry(available=False))
    assert query(available=False).accepts(entry(available=False))
    assert not query(available=False).accepts(entry(available=True))


def test_words_must_each_begin_a_word_of_the_name() -> None:
    asked = query(q="nasi gor")
    assert asked.accepts(entry(name="Nasi Goreng Spesial"))
    assert asked.accepts(entry(name="NASI GORÉNG"))
    assert not asked.accepts(entry(name="Nasi Uduk"))
    assert not asked.accepts(entry(name="Kenasi Goreng"))


def test_every_filter_at_once() -> None:
    asked = query(
        q="nasi",
        merchant_id="M1",
        category="food",
        min_price=20000,
        max_price=30000,
        available=True,
    )
    assert asked.accepts(entry())
    for spoiled in (
        {"name": "Mie Goreng"},
        {"merchant_id": "M2"},
        {"category": "snacks"},
        {"price": 19999},
        {"price": 30001},
        {"available": False},
    ):
        assert not asked.accepts(entry(**spoiled)), spoiled


# --- sort_key -------------------------------------------------------------------------------


def ordered(sort: str, entries: list[dict[str, Any]], q: str | None = None) -> list[str]:
    return [e["product_id"] for e in sorted(entries, key=products.sort_key(query(q=q, sort=sort)))]


def test_price_ascending_breaks_ties_by_oldest_id_first() -> None:
    entries = [entry(C, price=100), entry(B, price=50), entry(A, price=100)]
    assert ordered("price_asc", entries) == [B, A, C]


def test_price_descending_breaks_ties_by_newest_id_first() -> None:
    entries = [entry(A, price=100), entry(B, price=50), entry(C, price=100)]
    assert ordered("price_desc", entries) == [C, A, B]


def test_price_compares_as_numbers_not_text() -> None:
    entries = [entry(A, price=900), entry(B, price=10000)]
    assert ordered("price_asc", entries) == [A, B]
    assert ordered("price_desc", entries) == [B, A]


def test_newest_is_descending_id_order() -> None:
    entries = [entry(B), entry(A), entry(C)]
    assert ordered("newest", entries) == [C, B, A]


def test_relevance_prefers_more_matched_words_then_exact_words_then_name() -> None:
    entries = [
        entry(A, name="Nasional Kopi"),  # begins one word, not exact
        entry(B, name="Nasi Uduk"),  # one word, exact
        entry(C, name="Nasi Nasional"),  # two words begun
    ]
    assert ordered("relevance", entries, q="nasi") == [C, B, A]


def test_relevance_ties_on_the_same_name_fall_back_to_the_id() -> None:
    entries = [entry(C, name="Nasi Uduk"), entry(A, name="Nasi Uduk"), entry(B, name="Nasi Uduk")]
    assert ordered("relevance", entries, q="nasi") == [A, B, C]


# --- entity tags ----------------------------------------------------------------------------


def test_the_etag_is_strong_and_names_the_version() -> None:
    assert product(3).etag == f'"{A}.3"'


def test_no_if_match_is_no_precondition() -> None:
    assert refusal(lambda: products.check_precondition(product(), None)) is None  # no 412


def test_if_match_star_matches_any_version() -> None:
    assert refusal(lambda: products.check_precondition(product(), "*")) is None  # no 412


def test_if_match_with_the_current_tag_passes() -> None:
    assert refusal(lambda: products.check_precondition(product(3), f'"{A}.3"')) is None  # no 412


def test_if_match_with_a_list_holding_the_current_tag_passes() -> None:
    assert (
        refusal(lambda: products.check_precondition(product(3), f'"{A}.1", "{A}.3" ,"{A}.2"'))
        is None
    )


def test_if_match_with_a_stale_tag_is_412() -> None:
    with pytest.raises(PreconditionFailed) as raised:
        products.check_precondition(product(3), f'"{A}.2"')
    assert (raised.value.status, raised.value.code) == (412, "precondition_failed")


def test_if_match_with_only_stale_tags_is_412() -> None:
    with pytest.raises(PreconditionFailed):
        products.check_precondition(product(3), f'"{A}.1", "{A}.2"')


def test_a_weak_tag_never_satisfies_if_match_even_for_the_current_version() -> None:
    with pytest.raises(PreconditionFailed):
        products.check_precondition(product(3), f'W/"{A}.3"')


def test_if_none_match_compares_weakly() -> None:
    assert products.matches_etag(product(3), f'"{A}.3"')
    assert products.matches_etag(product(3), f'W/"{A}.3"')
    assert products.matches_etag(product(3), f'"{A}.1", W/"{A}.3"')


def test_if_none_match_star_matches() -> None:
    assert products.matches_etag(product(3), "*")


def test_if_none_match_with_an_old_tag_or_none_does_not_match() -> None:
    assert not products.matches_etag(product(3), f'"{A}.2"')
    assert not products.matches_etag(product(3), None)
    assert not products.matches_etag(product(3), "")


# --- may_edit -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_owners_and_managers_may_edit(role: str) -> None:
    assert refusal(lambda: products.may_edit(role, False)) is None  # neither 403 nor 404


def test_staff_see_but_may_not_edit_403() -> None:
    with pytest.raises(Forbidden) as raised:
        products.may_edit("staff", False)
    assert raised.value.status == 403


def test_a_non_member_learns_nothing_404() -> None:
    with pytest.raises(NotFound) as raised:
        products.may_edit(None, False)
    assert raised.value.status == 404


@pytest.mark.parametrize("role", [None, "staff"])
def test_an_admin_may_edit_any_product(role: str | None) -> None:
    assert refusal(lambda: products.may_edit(role, True)) is None  # neither 403 nor 404


# --- tags and fields ------------------------------------------------------------------------


def test_tags_are_trimmed_lowercased_once_each_in_order() -> None:
    assert products.normal_tags([" Pedas", "nasi", "PEDAS ", "  ", "", "Halal"]) == (
        "pedas",
        "nasi",
        "halal",
    )


def test_no_tags_is_an_empty_tuple() -> None:
    assert products.normal_tags([]) == ()


def test_required_fields_cannot_be_removed_with_null() -> None:
    with pytest.raises(ValidationFailed) as raised:
        products.check_product_fields({"name": None, "price": None, "stock": None})
    assert sorted(e.field for e in raised.value.errors) == ["name", "price"]


def test_stock_null_stops_tracking_and_is_allowed() -> None:
    assert (
        refusal(
            lambda: products.check_product_fields(
                {"stock": None, "image_url": None, "name": "Baru"}
            )
        )
        is None
    )


def test_orderable_needs_available_unarchived_and_in_stock() -> None:
    from dataclasses import replace

    base = product()
    assert base.orderable
    assert not replace(base, available=False).orderable
    assert not replace(base, archived=True).orderable
    assert not replace(base, stock=0).orderable
    assert replace(base, stock=1).orderable


def test_a_products_fields_come_from_the_dataclass_with_tags_as_a_list() -> None:
    made = replace(product(3), tags=("pedas", "nasi"), stock=4)

    everything = fields_of(made)
    edited = fields_of(made, products.EDITABLE_FIELDS)

    assert set(everything) == {f.name for f in fields(Product)}
    assert everything["tags"] == ["pedas", "nasi"]
    assert (everything["version"], everything["stock"]) == (3, 4)
    assert list(edited) == list(products.EDITABLE_FIELDS)
    assert "version" not in edited
