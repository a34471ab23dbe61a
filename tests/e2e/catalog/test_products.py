"""Products end to end: menus, search, filters, entity tags, suspension (local runtime only:
it needs the seeded admin)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support.accounts import verified_login
from support.http import call
from support.merchants import activate, active_merchant, demo_login, join, new_merchant

pytestmark = pytest.mark.usefixtures("local_only")


@pytest.fixture(scope="module")
def admin_token(api_url: str) -> str:
    return demo_login(api_url, "admin@example.com")


def _product(api: str, token: str, merchant_id: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "Es Teh Manis", "price": 5000, "category": "drinks", **fields}
    reply = call(api, "POST", f"/v1/merchants/{merchant_id}/products", body, token=token)
    assert reply.status == 201, reply.body
    assert reply.header("Location") == f"/v1/products/{reply.body['id']}"
    return dict(reply.body)


def _ids(reply: Any) -> list[str]:
    assert reply.status == 200, reply.body
    return [p["id"] for p in reply.body["items"]]


def test_menu_from_creation_to_archive(api_url: str, admin_token: str) -> None:
    # given an approved merchant with a manager and a staff member
    owner_token, mid = active_merchant(api_url, admin_token)
    team = {}
    for role in ("manager", "staff"):
        email, login = verified_login(api_url)
        join(api_url, owner_token, mid, email, login["access_token"], role)
        team[role] = login["access_token"]

    # when the manager adds a product
    created = call(
        api_url,
        "POST",
        f"/v1/merchants/{mid}/products",
        {
            "name": "Nasi Goreng Kampung",
            "description": "Dengan telur mata sapi.",
            "price": 25000,
            "category": "food",
            "tags": [" Pedas ", "pedas", "NASI"],
            "stock": 10,
            "image_url": "https://images.example.com/nasi.jpg",
        },
        token=team["manager"],
    )
    # then it exists with its defaults and an entity tag
    assert created.status == 201, created.body
    product = created.body
    pid = product["id"]
    assert (product["tags"], product["available"], product["version"]) == (
        ["pedas", "nasi"],
        True,
        1,
    )
    assert (product["currency"], product["stock"], product["merchant_id"]) == ("IDR", 10, mid)
    etag = created.header("ETag")
    assert etag

    # staff cannot add or change products; a stranger learns nothing
    staff = call(
        api_url,
        "POST",
        f"/v1/merchants/{mid}/products",
        {"name": "Kerupuk", "price": 2000, "category": "snacks"},
        token=team["staff"],
    )
    assert (staff.status, staff.body["code"]) == (403, "forbidden")
    # a signed-in caller's body is validated first: the product's merchant is known only
    # once the product is read
    staff_patch = call(api_url, "PATCH", f"/v1/products/{pid}", {"price": 1}, token=team["staff"])
    assert (staff_patch.status, staff_patch.body["errors"][0]["field"]) == (422, "price")
    staff_patch = call(api_url, "PATCH", f"/v1/products/{pid}", {"price": 100}, token=team["staff"])
    assert (staff_patch.status, staff_patch.body["code"]) == (403, "forbidden")
    _, stranger = verified_login(api_url)
    stranger_token = stranger["access_token"]
    new_merchant(api_url, stranger_token)
    for method, path, body in (
        ("POST", f"/v1/merchants/{mid}/products", {"name": "X", "price": 100, "category": "food"}),
        ("PATCH", f"/v1/products/{pid}", {"price": 100}),
        ("DELETE", f"/v1/products/{pid}", None),
    ):
        reply = call(api_url, method, path, body, token=stranger_token)
        assert (reply.status, reply.body["code"]) == (404, "not_found"), (method, path)

    # anyone reads it, cacheably, and a fresh copy is a 304
    public = call(api_url, "GET", f"/v1/products/{pid}")
    assert (public.status, public.header("ETag")) == (200, etag)
    assert public.header("Cache-Control") == "public, max-age=30"
    fresh = call(api_url, "GET", f"/v1/products/{pid}", headers={"If-None-Match": etag})
    assert (fresh.status, fresh.header("ETag")) == (304, etag)
    assert mid in {
        p["merchant_id"] for p in call(api_url, "GET", "/v1/products?limit=100").body["items"]
    }
    listed = call(api_url, "GET", f"/v1/products?merchant_id={mid}")
    assert _ids(listed) == [pid]
    assert listed.header("Cache-Control") == "public, max-age=30"
    signed_in = call(api_url, "GET", f"/v1/products?merchant_id={mid}", token=owner_token)
    assert signed_in.header("Cache-Control") == "no-store"
    merchants = call(api_url, "GET", "/v1/merchants", token=owner_token)
    assert merchants.header("Cache-Control") == "no-store"

    # a change with the current tag wins and changes the tag; the old tag is then refused
    changed = call(
        api_url,
        "PATCH",
        f"/v1/products/{pid}",
        {"price": 27000, "available": False},
        token=owner_token,
        headers={"If-Match": etag},
    )
    assert changed.status == 200, changed.body
    assert (changed.body["price"], changed.body["version"]) == (27000, 2)
    assert changed.header("ETag") != etag
    stale = call(
        api_url,
        "PATCH",
        f"/v1/products/{pid}",
        {"price": 1000},
        token=owner_token,
        headers={"If-Match": etag},
    )
    assert (stale.status, stale.body["code"]) == (412, "precondition_failed")
    assert (
        call(api_url, "GET", f"/v1/products/{pid}", headers={"If-None-Match": etag}).status == 200
    )
    assert _ids(call(api_url, "GET", f"/v1/products?merchant_id={mid}&available=false")) == [pid]
    assert _ids(call(api_url, "GET", f"/v1/products?merchant_id={mid}&available=true")) == []

    # suspension hides the merchant's products at once; its members still see them
    activate(api_url, admin_token, mid, "suspended")
    assert call(api_url, "GET", f"/v1/products/{pid}").status == 404
    assert _ids(call(api_url, "GET", f"/v1/products?merchant_id={mid}")) == []
    assert pid not in _ids(call(api_url, "GET", "/v1/products?q=kampung&limit=100"))
    assert call(api_url, "GET", f"/v1/products/{pid}", token=owner_token).status == 200
    assert _ids(call(api_url, "GET", f"/v1/products?merchant_id={mid}", token=owner_token)) == [pid]
    activate(api_url, admin_token, mid)
    assert pid in _ids(call(api_url, "GET", "/v1/products?q=kampung&limit=100"))

    # archiving takes it off every listing for good
    archived = call(api_url, "DELETE", f"/v1/products/{pid}", token=team["manager"])
    assert archived.status == 204
    assert call(api_url, "GET", f"/v1/products/{pid}").status == 404
    assert _ids(call(api_url, "GET", f"/v1/products?merchant_id={mid}")) == []
    assert pid not in _ids(call(api_url, "GET", "/v1/products?q=kampung&limit=100"))
    assert call(api_url, "DELETE", f"/v1/products/{pid}", token=owner_token).status == 404


def test_search_is_word_prefix_case_and_accent_insensitive(api_url: str, admin_token: str) -> None:
    token, mid = active_merchant(api_url, admin_token)
    special = _product(api_url, token, mid, name="Nasi Goreng Spesial", category="food")["id"]
    shouting = _product(api_url, token, mid, name="NASI GORÉNG", category="food")["id"]
    uduk = _product(api_url, token, mid, name="Nasi Uduk", category="food")["id"]

    found = _ids(call(api_url, "GET", "/v1/products?q=nasi%20gor&limit=100"))
    assert {special, shouting} <= set(found)
    assert uduk not in found
    # relevance: both match two words; "NASI GORÉNG" matches all of its words
    mine = _ids(call(api_url, "GET", f"/v1/products?q=nasi%20gor&merchant_id={mid}"))
    assert mine == [shouting, special]
    assert _ids(call(api_url, "GET", f"/v1/products?q=GOR%C3%A9&merchant_id={mid}")) == [
        shouting,
        special,
    ]
    assert _ids(call(api_url, "GET", f"/v1/products?q=uduk&merchant_id={mid}")) == [uduk]
    short = call(api_url, "GET", "/v1/products?q=n")
    assert (short.status, short.body["errors"][0]["field"]) == (422, "q")


def test_filters_and_sorts_combine(api_url: str, admin_token: str) -> None:
    token, mid = active_merchant(api_url, admin_token)
    made = {
        name: _product(api_url, token, mid, name=name, price=price, category=category)["id"]
        for name, price, category in (
            ("Es Jeruk", 8000, "drinks"),
            ("Es Teh Manis", 5000, "drinks"),
            ("Es Campur", 15000, "drinks"),
            ("Kopi Susu", 18000, "drinks"),
            ("Es Krim Goreng", 12000, "snacks"),
        )
    }
    base = f"/v1/products?merchant_id={mid}&category=drinks"
    assert _ids(call(api_url, "GET", f"{base}&sort=price_asc")) == [
        made["Es Teh Manis"],
        made["Es Jeruk"],
        made["Es Campur"],
        made["Kopi Susu"],
    ]
    ranged = call(api_url, "GET", f"{base}&min_price=6000&max_price=15000&sort=price_desc")
    assert _ids(ranged) == [made["Es Campur"], made["Es Jeruk"]]
    searched = call(
        api_url, "GET", f"/v1/products?merchant_id={mid}&q=es&max_price=12000&sort=price_asc"
    )
    assert _ids(searched) == [made["Es Teh Manis"], made["Es Jeruk"], made["Es Krim Goreng"]]
    # relevance (the default with q): equally good matches by name
    relevant = call(api_url, "GET", f"/v1/products?merchant_id={mid}&q=es&category=drinks")
    assert _ids(relevant) == [made["Es Campur"], made["Es Jeruk"], made["Es Teh Manis"]]
    newest = call(
        api_url, "GET", f"/v1/products?merchant_id={mid}&q=es&category=drinks&sort=newest"
    )
    assert _ids(newest) == [made["Es Campur"], made["Es Teh Manis"], made["Es Jeruk"]]
    # across merchants: by price within a category, every page in order
    prices = [
        p["price"]
        for p in call(api_url, "GET", "/v1/products?category=drinks&sort=price_asc&limit=100").body[
            "items"
        ]
    ]
    assert prices == sorted(prices)


def test_pages_of_a_merchant_menu_have_no_gaps_or_duplicates(
    api_url: str, admin_token: str
) -> None:
    token, mid = active_merchant(api_url, admin_token)
    made = [
        _product(api_url, token, mid, name=f"Kue {i:02d}", price=1000 + i * 100)["id"]
        for i in range(7)
    ]
    seen: list[str] = []
    path = f"/v1/products?merchant_id={mid}&limit=3"
    cursor = None
    for _ in range(5):
        reply = call(api_url, "GET", path + (f"&cursor={cursor}" if cursor else ""))
        seen += _ids(reply)
        cursor = reply.body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    tampered = call(api_url, "GET", f"{path}&cursor=AAAA{uuid.uuid4().hex}")
    assert (tampered.status, tampered.body["code"]) == (400, "validation_error")
    assert call(api_url, "GET", "/v1/products?limit=101").status == 422
    assert call(api_url, "GET", "/v1/products?limit=0").status == 422


def test_concurrent_changes_with_one_tag_one_wins(api_url: str, admin_token: str) -> None:
    token, mid = active_merchant(api_url, admin_token)
    created = _product(api_url, token, mid, stock=5)
    tag = call(api_url, "GET", f"/v1/products/{created['id']}").header("ETag")

    def change(stock: int) -> int:
        return call(
            api_url,
            "PATCH",
            f"/v1/products/{created['id']}",
            {"stock": stock},
            token=token,
            headers={"If-Match": str(tag)},
        ).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(change, range(8)))
    assert sorted(statuses) == [200] + [412] * 7
    assert call(api_url, "GET", f"/v1/products/{created['id']}").body["version"] == 2


def test_bad_product_input_is_a_clear_422(api_url: str, admin_token: str) -> None:
    token, mid = active_merchant(api_url, admin_token)
    reply = call(
        api_url,
        "POST",
        f"/v1/merchants/{mid}/products",
        {
            "name": "",
            "price": 99,
            "category": "weapons",
            "stock": -1,
            "image_url": "http://images.example.com/a.jpg",
            "owner_id": "me",
        },
        token=token,
    )
    assert reply.status == 422
    fields = {e["field"] for e in reply.body["errors"]}
    assert {"name", "price", "category", "stock", "image_url", "owner_id"} <= fields
    float_price = call(
        api_url,
        "POST",
        f"/v1/merchants/{mid}/products",
        {"name": "Kopi", "price": 5000.5, "category": "drinks"},
        token=token,
    )
    assert (float_price.status, float_price.body["errors"][0]["field"]) == (422, "price")
    pid = _product(api_url, token, mid)["id"]
    null_name = call(api_url, "PATCH", f"/v1/products/{pid}", {"name": None}, token=token)
    assert (null_name.status, null_name.body["errors"][0]["field"]) == (422, "name")


def test_categories_are_the_fixed_list(api_url: str) -> None:
    reply = call(api_url, "GET", "/v1/categories")
    assert reply.status == 200
    assert [c["id"] for c in reply.body["items"]] == [
        "food",
        "drinks",
        "snacks",
        "groceries",
        "other",
    ]
    assert reply.header("Cache-Control") == "public, max-age=60"
