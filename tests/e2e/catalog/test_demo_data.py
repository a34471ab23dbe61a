"""The local seed, as a front-end developer sees it on a fresh `make dev`: the demo owner's
three active merchants in Jakarta with their menus, found by search and by distance
(local runtime only: the demo data exists nowhere else)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from support.http import call
from support.merchants import ALWAYS_OPEN_DEMO_MERCHANT, demo_login

pytestmark = pytest.mark.usefixtures("local_only")

BUNDARAN_HI = "-6.1950,106.8230"  # central Jakarta


@pytest.fixture(scope="module")
def demo_merchants(api_url: str) -> list[dict[str, Any]]:
    """The demo owner's merchants, as their public profiles."""
    token = demo_login(api_url, "owner@example.com")
    memberships = call(api_url, "GET", "/v1/me", token=token).body["memberships"]
    merchants = []
    for membership in memberships:
        reply = call(api_url, "GET", f"/v1/merchants/{membership['merchant_id']}")
        assert reply.status == 200, reply.body
        merchants.append(reply.body)
    return merchants


def _all_pages(api_url: str, path: str) -> list[dict[str, Any]]:
    """Every item of a listing, following ``next_cursor``."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page_path = path + (f"&cursor={quote(cursor)}" if cursor else "")
        reply = call(api_url, "GET", page_path)
        assert reply.status == 200, reply.body
        items += reply.body["items"]
        cursor = reply.body.get("next_cursor")
        if not cursor:
            return items


def test_the_demo_owner_owns_three_active_merchants_in_jakarta(
    api_url: str, demo_merchants: list[dict[str, Any]]
) -> None:
    token = demo_login(api_url, "owner@example.com")
    memberships = call(api_url, "GET", "/v1/me", token=token).body["memberships"]
    assert [m["role"] for m in memberships] == ["owner", "owner", "owner"]

    assert len(demo_merchants) == 3
    assert {m["status"] for m in demo_merchants} == {"active"}
    assert {m["address"]["city"] for m in demo_merchants} == {"Jakarta"}
    assert len({m["address"]["postal_code"] for m in demo_merchants}) == 3  # three districts
    for merchant in demo_merchants:
        # In Jakarta, at least a kilometre apart from each other.
        assert -6.40 < merchant["location"]["lat"] < -6.08
        assert 106.68 < merchant["location"]["lon"] < 106.98
    points = {(m["location"]["lat"], m["location"]["lon"]) for m in demo_merchants}
    assert len(points) == 3
    listed = {m["id"] for m in _all_pages(api_url, "/v1/merchants?city=jakarta&limit=100")}
    assert {m["id"] for m in demo_merchants} <= listed


def test_each_demo_merchant_lists_a_menu_over_several_categories(
    api_url: str, demo_merchants: list[dict[str, Any]]
) -> None:
    for merchant in demo_merchants:
        menu = call(api_url, "GET", f"/v1/products?merchant_id={merchant['id']}&limit=100")
        assert menu.status == 200, menu.body
        products = menu.body["items"]
        assert len(products) >= 12, merchant["name"]
        assert {p["merchant_id"] for p in products} == {merchant["id"]}
        assert len({p["category"] for p in products}) >= 3, merchant["name"]
        assert all(100 <= p["price"] <= 1_000_000 and p["currency"] == "IDR" for p in products)
        stocks = [p["stock"] for p in products]
        assert None in stocks  # cooked to order: not tracked
        assert any(isinstance(s, int) for s in stocks)  # counted portions, packaged goods


def test_searching_nasi_gor_finds_the_seeded_nasi_goreng(
    api_url: str, demo_merchants: list[dict[str, Any]]
) -> None:
    ours = {m["id"] for m in demo_merchants}
    found = _all_pages(api_url, "/v1/products?q=nasi%20gor&limit=100")
    names = {p["name"] for p in found if p["merchant_id"] in ours}
    assert "Nasi Goreng Spesial" in names
    assert all(n.lower().startswith("nasi gor") for n in names), names
    # Other seeded favourites are there to be found too.
    for q, name in (("es teh", "Es Teh Manis"), ("soto", "Soto Ayam Lamongan"), ("uduk", None)):
        hits = _all_pages(api_url, f"/v1/products?q={quote(q)}&limit=100")
        ours_hit = [p["name"] for p in hits if p["merchant_id"] in ours]
        assert ours_hit, q
        if name:
            assert name in ours_hit


def test_near_central_jakarta_lists_the_demo_merchants_nearest_first(
    api_url: str, demo_merchants: list[dict[str, Any]]
) -> None:
    ours = {m["id"] for m in demo_merchants}
    listed = _all_pages(api_url, f"/v1/merchants?near={BUNDARAN_HI}&limit=100")
    distances = [m["distance_km"] for m in listed]
    assert distances == sorted(distances)
    demo = [m for m in listed if m["id"] in ours]
    assert len(demo) == 3
    assert [m["name"] for m in demo] == [
        "Warung Bu Budi",  # Gambir, ~2 km
        "Dapur Mbak Sari Kemang",  # South Jakarta, ~7 km
        "Kedai Pak Harjo",  # Kelapa Gading, ~10 km
    ]
    assert all(0 < m["distance_km"] <= m["delivery"]["max_distance_km"] for m in demo)


def test_one_demo_merchant_takes_orders_around_the_clock(
    api_url: str, demo_merchants: list[dict[str, Any]]
) -> None:
    # The README's walk-through and the order story order from it, at whatever hour.
    merchant = next(m for m in demo_merchants if m["name"] == ALWAYS_OPEN_DEMO_MERCHANT)
    every_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert merchant["opening_hours"] == {day: ["00:00-24:00"] for day in every_day}
    assert merchant["is_open"] is True
    assert merchant["open_now"] is True
