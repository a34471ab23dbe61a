"""A tracked product's units on their own item (docs/decisions/0030), as the catalog's
product routes' use cases see them: what an owner's change writes, what a read and a listing
show, If-Match against a sale, and products stored with their units on their own item."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from support.stacks import new_account, provision_stage, run_as

import catalog.repository.products
import catalog.rules.products
import catalog.service.merchants
import catalog.service.products
from warung.auth import Caller
from warung.context import RequestMeta
from warung.dynamo import dynamodb_client, from_item, to_item
from warung.errors import PreconditionFailed
from warung.settings import get_settings
from warung.store.products import product_item, stock_key

STAGE = "productstock"
MONAS = {"lat": -6.1754, "lon": 106.8272}


@pytest.fixture(scope="module")
def stock_stack(app_stack: Any) -> Any:
    return provision_stage(app_stack.endpoint_url, STAGE)


@pytest.fixture(autouse=True)
def world(app_stack: Any, stock_stack: Any) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        run_as(stock_stack, "CatalogFunction", app_stack.endpoint_url, patch)
        yield
    get_settings.cache_clear()


def meta() -> RequestMeta:
    return RequestMeta(f"req-{uuid.uuid4().hex[:8]}", "203.0.113.9", "stock-it/1.0")


def owner_and_merchant() -> tuple[Caller, str]:
    owner = new_account()
    body = {
        "name": "Warung Bu Sri",
        "description": "",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. Sabang 10", "city": "Jakarta", "postal_code": "10160"},
        "location": MONAS,
    }
    merchant = catalog.service.merchants.open_merchant(owner.user_id, body, meta())
    catalog.service.merchants.change_status("admin", merchant.merchant_id, "active", meta())
    member = Caller(
        owner.user_id, "s", frozenset({"customer"}), True, {merchant.merchant_id: "owner"}
    )
    return member, merchant.merchant_id


def add(owner: Caller, merchant_id: str, stock: int | None) -> str:
    data = {"name": "Nasi Goreng", "price": 25000, "category": "food", "stock": stock}
    product = catalog.service.products.add_product(owner.user_id, merchant_id, data, meta())
    return product.product_id


def stored(pk: str, sk: str) -> dict[str, Any] | None:
    response = dynamodb_client().get_item(
        TableName=get_settings().table_name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True
    )
    return from_item(response["Item"]) if "Item" in response else None


def shown(product_id: str) -> Any:
    return catalog.service.products.product_for(product_id, None)[0]


def patch(owner: Caller, product_id: str, if_match: str | None = None, **changes: Any) -> Any:
    return catalog.service.products.update_product(owner, product_id, changes, if_match, meta())


def sell(product_id: str, units: int) -> None:
    """What a checkout does to the units (the orders function's write)."""
    dynamodb_client().update_item(
        TableName=get_settings().table_name,
        Key=to_item(stock_key(product_id)),
        UpdateExpression="SET stock = stock - :q, version = version + :one",
        ExpressionAttributeValues=to_item({":q": units, ":one": 1}),
    )


def menu(merchant_id: str) -> list[Any]:
    query = catalog.rules.products.list_query(
        q=None,
        merchant_id=merchant_id,
        category=None,
        min_price=None,
        max_price=None,
        available=None,
        sort=None,
    )
    page, _ = catalog.service.products.list_products(query, limit=20, cursor=None, caller=None)
    return page


def test_a_new_tracked_product_keeps_its_units_on_a_stock_item_without_index_keys() -> None:
    owner, merchant = owner_and_merchant()
    pid = add(owner, merchant, stock=7)

    product = stored(f"PRODUCT#{pid}", "PRODUCT")
    units = stored(f"PRODUCT#{pid}", "STOCK")
    assert product is not None
    assert units is not None
    # on the product item only the placeholder older code would read as sold out
    assert (product["stock"], product["stock_apart"]) == (0, True)
    assert (units["stock"], units["version"]) == (7, 0)
    assert not any(name.startswith("gsi") for name in units)
    assert (shown(pid).stock, shown(pid).version) == (7, 1)
    # an untracked product has no stock item
    untracked = add(owner, merchant, stock=None)
    assert stored(f"PRODUCT#{untracked}", "STOCK") is None
    assert shown(untracked).stock is None


def test_an_owners_change_of_the_units_alone_writes_the_stock_item_only() -> None:
    owner, merchant = owner_and_merchant()
    pid = add(owner, merchant, stock=7)
    before = stored(f"PRODUCT#{pid}", "PRODUCT")
    first = shown(pid)

    after = patch(owner, pid, if_match=first.etag, stock=12)

    assert (after.stock, after.version) == (12, 2)
    assert stored(f"PRODUCT#{pid}", "PRODUCT") == before  # listing entries untouched
    assert (shown(pid).stock, shown(pid).etag) == (12, after.etag)
    assert [p.stock for p in menu(merchant)] == [12]
    assert [p.version for p in menu(merchant)] == [2]


def test_if_match_of_before_a_sale_is_refused_for_any_change() -> None:
    owner, merchant = owner_and_merchant()
    pid = add(owner, merchant, stock=7)
    etag = shown(pid).etag

    sell(pid, 2)

    assert shown(pid).etag != etag
    with pytest.raises(PreconditionFailed):
        patch(owner, pid, if_match=etag, stock=20)  # would undo the sale
    with pytest.raises(PreconditionFailed):
        patch(owner, pid, if_match=etag, name="Nasi Goreng Baru")
    assert shown(pid).stock == 5
    # with the current tag both go through
    patch(owner, pid, if_match=shown(pid).etag, stock=20)
    renamed = patch(owner, pid, if_match=shown(pid).etag, name="Nasi Goreng Baru")
    assert (renamed.name, renamed.stock) == ("Nasi Goreng Baru", 20)


def test_the_version_never_goes_back_when_tracking_stops_and_starts_again() -> None:
    owner, merchant = owner_and_merchant()
    pid = add(owner, merchant, stock=7)
    patch(owner, pid, stock=6)
    sell(pid, 1)
    assert shown(pid).version == 3

    untracked = patch(owner, pid, stock=None)

    assert (untracked.stock, untracked.version) == (None, 4)
    assert stored(f"PRODUCT#{pid}", "STOCK") is None
    assert (shown(pid).stock, shown(pid).version) == (None, 4)
    tracked = patch(owner, pid, stock=3)
    assert (tracked.stock, tracked.version) == (3, 5)
    assert (shown(pid).stock, shown(pid).version) == (3, 5)


def test_a_product_stored_with_its_units_is_read_from_them_and_an_edit_moves_them() -> None:
    owner, merchant = owner_and_merchant()
    pid = add(owner, merchant, stock=7)
    product = catalog.repository.products.get_product(pid, consistent=True)
    assert product is not None
    legacy = replace(product, stock_apart=False)
    dynamodb_client().put_item(
        TableName=get_settings().table_name, Item=to_item(product_item(legacy))
    )
    dynamodb_client().delete_item(TableName=get_settings().table_name, Key=to_item(stock_key(pid)))
    assert (shown(pid).stock, shown(pid).version) == (7, 1)
    assert [p.stock for p in menu(merchant)] == [7]

    renamed = patch(owner, pid, if_match=shown(pid).etag, name="Nasi Goreng Baru")

    assert (renamed.stock, renamed.version) == (7, 2)
    units = stored(f"PRODUCT#{pid}", "STOCK")
    assert units is not None
    assert units["stock"] == 7
    assert (stored(f"PRODUCT#{pid}", "PRODUCT") or {"stock": "?"})["stock"] == 0
    assert (shown(pid).stock, shown(pid).version, shown(pid).name) == (7, 2, "Nasi Goreng Baru")


def test_an_edit_of_the_units_and_the_name_together_is_one_version_step() -> None:
    owner, merchant = owner_and_merchant()
    pid = add(owner, merchant, stock=7)
    sell(pid, 1)
    first = shown(pid)
    assert (first.stock, first.version) == (6, 2)

    after = patch(owner, pid, if_match=first.etag, name="Nasi Goreng Baru", stock=10)

    assert (after.name, after.stock, after.version) == ("Nasi Goreng Baru", 10, 3)
    seen = shown(pid)
    assert (seen.name, seen.stock, seen.version, seen.etag) == (
        "Nasi Goreng Baru",
        10,
        3,
        after.etag,
    )
    # a sale after it still moves the version on
    sell(pid, 1)
    assert (shown(pid).stock, shown(pid).version) == (9, 4)


def test_a_listing_reads_the_units_of_its_tracked_products_only_in_one_request() -> None:
    owner, merchant = owner_and_merchant()
    tracked = [add(owner, merchant, stock=n) for n in (3, 4)]
    untracked = add(owner, merchant, stock=None)
    asked: list[list[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        for request in params["RequestItems"].values():
            keys = [k for k in request["Keys"] if k["sk"] == {"S": "STOCK"}]
            if keys:
                asked.append(sorted(k["pk"]["S"] for k in keys))

    events = dynamodb_client().meta.events
    events.register("before-parameter-build.dynamodb.BatchGetItem", record)
    try:
        page = menu(merchant)
        query = catalog.rules.products.list_query(
            q="nasi",
            merchant_id=merchant,
            category=None,
            min_price=None,
            max_price=None,
            available=None,
            sort=None,
        )
        found, _ = catalog.service.products.list_products(query, limit=20, cursor=None, caller=None)
    finally:
        events.unregister("before-parameter-build.dynamodb.BatchGetItem", record)

    units = {p.product_id: p.stock for p in page}
    assert units == {tracked[0]: 3, tracked[1]: 4, untracked: None}
    assert {p.product_id: p.stock for p in found} == units  # search shows them too
    # one request per listing, for the tracked products' stock items only
    assert asked == [sorted(f"PRODUCT#{p}" for p in tracked)] * 2


def test_a_menus_stock_items_come_in_the_batch_that_reads_its_merchant() -> None:
    owner, merchant = owner_and_merchant()
    tracked = [add(owner, merchant, stock=n) for n in (5, 6)]
    batches: list[set[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        for request in params["RequestItems"].values():
            batches.append({k["sk"]["S"] for k in request["Keys"]})

    events = dynamodb_client().meta.events
    events.register("before-parameter-build.dynamodb.BatchGetItem", record)
    try:
        page = menu(merchant)
    finally:
        events.unregister("before-parameter-build.dynamodb.BatchGetItem", record)

    assert {p.product_id: p.stock for p in page} == dict(zip(tracked, (5, 6), strict=True))
    # one round trip: the merchant's profile (is it listed?) and the page's stock items
    assert batches == [{"PROFILE", "STOCK"}]
