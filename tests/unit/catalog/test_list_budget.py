"""A filtered merchant list reads a bounded number of rows per request and resumes after them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catalog.service import merchants as service


def rows(count: int) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Rows of the merchant list, each merchant stood in for by its name (a ``str``)."""
    for n in range(count):
        yield f"merchant-{n}", {"pk": {"S": f"MERCHANT#{n}"}}


def test_a_sparse_filter_stops_at_the_budget_and_hands_back_a_cursor() -> None:
    examined: list[object] = []

    def keep(merchant: object) -> bool:
        examined.append(merchant)
        return merchant == "merchant-0"

    found = service._first(rows(10_000), keep, limit=20, budget=500)
    page: list[Any] = found[0]  # the stand-ins rows() gave, typed as merchants by _first
    last = found[1]
    assert page == ["merchant-0"]
    assert len(examined) == 500
    assert last == {"pk": {"S": "MERCHANT#499"}}


def test_a_full_page_ends_at_its_last_item_and_the_end_has_no_cursor() -> None:
    page, last = service._first(rows(30), lambda _: True, limit=20)
    assert len(page) == 20
    assert last == {"pk": {"S": "MERCHANT#19"}}
    page, last = service._first(rows(5), lambda _: True, limit=20)
    assert (len(page), last) == (5, None)
