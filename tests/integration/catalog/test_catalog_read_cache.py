"""The catalog's read cache against the emulation (docs/decisions/0034): the public listings'
index Queries are read once per container per TTL, whoever asks (signed in or not), and a
change shows after the TTL at the latest; what a page shows of each product is read per
request; an owner's own menu and the admin's lists are never cached."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from support.stacks import new_account, provision_stage, run_as

import catalog.rules.products
import catalog.service.merchants
import catalog.service.products
from warung.auth import Caller
from warung.context import RequestMeta
from warung.dynamo import dynamodb_client
from warung.settings import get_settings

STAGE = "readcacheit"
MONAS = {"lat": -6.1754, "lon": 106.8272}


@pytest.fixture(scope="module")
def cache_stack(app_stack: Any) -> Any:
    return provision_stage(app_stack.endpoint_url, STAGE)


@pytest.fixture(autouse=True)
def world(app_stack: Any, cache_stack: Any, clock: ModuleType) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        run_as(cache_stack, "CatalogFunction", app_stack.endpoint_url, patch)
        patch.delenv("READ_CACHE_TTL_SECONDS", raising=False)  # the default, 30 s
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


@pytest.fixture
def queried() -> Iterator[list[str]]:
    """The partitions (``<index>:<pk>``) of every Query sent to DynamoDB meanwhile."""
    partitions: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        pk = params["ExpressionAttributeValues"][":pk"]["S"]
        partitions.append(f"{params.get('IndexName', '')}:{pk}")

    events = dynamodb_client().meta.events
    events.register("before-parameter-build.dynamodb.Query", record)
    yield partitions
    events.unregister("before-parameter-build.dynamodb.Query", record)


def meta() -> RequestMeta:
    return RequestMeta(f"req-{uuid.uuid4().hex[:8]}", "203.0.113.9", "cache-it/1.0")


def open_active(city: str = "Jakarta") -> tuple[Caller, str]:
    owner = new_account()
    body = {
        "name": "Warung Bu Sri",
        "description": "",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. Sabang 10", "city": city, "postal_code": "10160"},
        "location": MONAS,
    }
    merchant = catalog.service.merchants.open_merchant(owner.user_id, body, meta())
    catalog.service.merchants.change_status("admin", merchant.merchant_id, "active", meta())
    member = Caller(
        owner.user_id, "s", frozenset({"customer"}), True, {merchant.merchant_id: "owner"}
    )
    return member, merchant.merchant_id


def add(owner: Caller, merchant_id: str, name: str, price: int = 25000) -> str:
    data = {"name": name, "price": price, "category": "food"}
    return catalog.service.products.add_product(owner.user_id, merchant_id, data, meta()).product_id


def listing(
    *, q: str | None = None, merchant_id: str | None = None, caller: Caller | None = None
) -> list[tuple[str, str, int]]:
    query = catalog.rules.products.list_query(
        q=q,
        merchant_id=merchant_id,
        category=None,
        min_price=None,
        max_price=None,
        available=None,
        sort=None,
    )
    page, _ = catalog.service.products.list_products(query, limit=50, cursor=None, caller=caller)
    return [(p.product_id, p.name, p.price) for p in page]


def customer() -> Caller:
    return Caller(new_account().user_id, "s", frozenset({"customer"}), True, {})


def test_two_identical_searches_make_one_query_whoever_asks_and_a_second_after_the_ttl(
    clock: ModuleType, queried: list[str]
) -> None:
    owner, merchant = open_active()
    word = f"gulai{uuid.uuid4().hex[:4]}"
    product = add(owner, merchant, f"Nasi {word.title()}")

    anonymous = listing(q=word)
    signed_in = listing(q=word, caller=customer())

    assert anonymous == signed_in == [(product, f"Nasi {word.title()}", 25000)]
    assert queried.count(f":SEARCH#{word}") == 1
    clock.advance(get_settings().read_cache_ttl_seconds)
    assert listing(q=word) == anonymous
    assert queried.count(f":SEARCH#{word}") == 2


def test_an_owners_rename_shows_in_search_after_the_ttl_at_the_latest_and_prices_at_once(
    clock: ModuleType,
) -> None:
    owner, merchant = open_active()
    word = f"rendang{uuid.uuid4().hex[:4]}"
    product = add(owner, merchant, "Nasi Kuning", price=20000)
    assert listing(q=word) == []  # the container now holds the prefix's empty page

    catalog.service.products.update_product(
        owner, product, {"name": f"Nasi {word.title()}", "price": 22000}, None, meta()
    )
    shown = catalog.service.products.product_for(product, None)[0]
    assert (shown.name, shown.price) == (f"Nasi {word.title()}", 22000)
    clock.advance(get_settings().read_cache_ttl_seconds)
    assert listing(q=word) == [(product, f"Nasi {word.title()}", 22000)]

    # a listed product's own fields come from its item, read per request: a new price
    # shows on the next search at once, even while the index page is the cached one
    catalog.service.products.update_product(owner, product, {"price": 23000}, None, meta())
    assert listing(q=word) == [(product, f"Nasi {word.title()}", 23000)]


def test_a_public_menu_is_cached_but_the_owners_own_menu_never(queried: list[str]) -> None:
    owner, merchant = open_active()
    first = add(owner, merchant, "Es Teh")
    assert [p for p, _, _ in listing(merchant_id=merchant)] == [first]
    assert [p for p, _, _ in listing(merchant_id=merchant, caller=customer())] == [first]
    assert queried.count(f"gsi1:MPRODUCTS#{merchant}") == 1

    second = add(owner, merchant, "Es Jeruk")
    mine = listing(merchant_id=merchant, caller=owner)
    again = listing(merchant_id=merchant, caller=owner)
    assert [p for p, _, _ in mine] == [p for p, _, _ in again] == [second, first]
    assert queried.count(f"gsi1:MPRODUCTS#{merchant}") == 3
    # the public menu is still the cached page (up to the TTL old)
    assert [p for p, _, _ in listing(merchant_id=merchant)] == [first]


def test_every_point_of_a_cell_shares_its_query_and_gets_its_own_distances(
    queried: list[str],
) -> None:
    _, merchant = open_active()

    def near(point: str) -> dict[str, float | None]:
        listed, _ = catalog.service.merchants.public_list(
            q=None, city=None, near=point, open_now=False, limit=100, cursor=None
        )
        return {m.merchant_id: distance for m, distance in listed}

    at_monas = near("-6.1754,106.8272")
    at_sabang = near("-6.1850,106.8250")
    geo = [p for p in queried if p.startswith(":GEO#")]
    assert len(geo) == 1  # both points are in the same cell: one Query
    assert at_monas[merchant] == 0.0
    assert at_sabang[merchant] == pytest.approx(1.09, abs=0.02)


def test_the_admins_list_of_merchants_is_never_cached(queried: list[str]) -> None:
    open_active(city=f"Kota {uuid.uuid4().hex[:6]}")
    for _ in range(2):
        catalog.service.merchants.admin_list(
            status="active", limit=5, cursor=None, admin_id="admin"
        )
    assert queried.count("gsi1:MSTATUS#active") == 2
