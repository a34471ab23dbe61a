"""Sales and give-backs move units on the product's stock item, never its listed item
(docs/decisions/0030); a product stored with its units on its own item (before they had an
item of their own) is sold and restocked correctly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from support.orders_world import (
    NEAR,
    customer,
    merchant_with,
    meta,
    order_of,
    product_item,
    stock_of,
    units_item,
)

import catalog.repository.products
import catalog.service.products
import orders.service
from warung.dynamo import dynamodb_client, from_item, to_item
from warung.errors import ApiError
from warung.settings import get_settings
from warung.store.products import product_from, stock_key
from warung.store.products import product_item as stored_form


def category_entry(product_id: str) -> dict[str, Any]:
    """The product's entry in its category's newest-first list (gsi3), as stored there."""
    response = dynamodb_client().query(
        TableName=get_settings().table_name,
        IndexName="gsi3",
        KeyConditionExpression="gsi3pk = :cat AND gsi3sk = :id",
        ExpressionAttributeValues=to_item({":cat": "CATNEW#food", ":id": product_id}),
    )
    (entry,) = response["Items"]
    return from_item(entry)


def shown(product_id: str) -> Any:
    """The product as a client reads it."""
    return catalog.service.products.product_for(product_id, None)[0]


def as_stored_before_the_stock_item(product_id: str) -> None:
    """Rewrite the product as products were stored before their units had an item of
    their own: the units on the product item (no marker), no stock item."""
    product = catalog.repository.products.get_product(product_id, consistent=True)
    assert product is not None
    assert product.stock is not None
    legacy = replace(product, stock_apart=False, stock_version=0)
    table = get_settings().table_name
    client = dynamodb_client()
    client.put_item(TableName=table, Item=to_item(stored_form(legacy)))
    client.delete_item(TableName=table, Key=to_item(stock_key(product_id)))


def test_a_sale_takes_units_from_the_stock_item_and_leaves_the_category_entry_alone() -> None:
    _, _, product = merchant_with(stock=5)
    before = category_entry(product)
    assert before["stock"] == 0  # the placeholder: the units are on the stock item
    assert before["stock_apart"] is True

    order_of(customer(), product, 2)

    units = units_item(product)
    assert units is not None
    assert (units["stock"], units["version"]) == (3, 1)
    # the category's entry (and so its partition) was not written by the sale
    assert category_entry(product) == before
    assert product_item(product)["version"] == 1
    # the client sees the sale: fewer units, a new version (and ETag)
    seen = shown(product)
    assert (seen.stock, seen.version, seen.etag) == (3, 2, f'"{product}.2"')


def test_a_cancelled_order_gives_its_units_back_to_the_stock_item() -> None:
    _, _, product = merchant_with(stock=5)
    buyer = customer()
    order = order_of(buyer, product, 2)
    before = category_entry(product)

    orders.service.cancel(buyer, order.order_id, meta())

    assert stock_of(product) == 5
    assert category_entry(product) == before
    assert shown(product).version == 3


def test_a_product_stored_with_its_units_is_sold_from_them_and_they_move_to_a_stock_item() -> None:
    _, _, product = merchant_with(stock=5)
    as_stored_before_the_stock_item(product)
    assert units_item(product) is None
    old = shown(product)
    assert (old.stock, old.version) == (5, 1)  # read from the product item

    buyer = customer()
    order = order_of(buyer, product, 2)

    # the sale moved the units: three left on a new stock item, none on the product item
    units = units_item(product)
    assert units is not None
    assert units["stock"] == 3
    stored = product_item(product)
    assert stored["stock"] == 0  # only the placeholder older code reads as sold out
    assert stored["stock_apart"] is True
    assert shown(product).version == 2  # still bumped once by the sale
    # the next sale no longer writes the product item
    before = category_entry(product)
    order_of(customer(), product, 1)
    assert (stock_of(product), category_entry(product)) == (2, before)
    # and a cancel gives back to the stock item
    orders.service.cancel(buyer, order.order_id, meta())
    assert stock_of(product) == 4


def test_an_order_placed_before_the_stock_item_gives_its_units_back_to_the_product_item() -> None:
    _, _, product = merchant_with(stock=5)
    buyer = customer()
    order = order_of(buyer, product, 2)
    # the product as it was stored before the change (its units, 3, on its own item)
    as_stored_before_the_stock_item(product)

    orders.service.cancel(buyer, order.order_id, meta())

    assert units_item(product) is None
    assert product_item(product)["stock"] == 5
    seen = shown(product)
    assert (seen.stock, seen.orderable) == (5, True)


def test_a_race_for_the_last_units_of_a_product_stored_with_them_sells_no_more_than_it_has() -> (
    None
):
    _, _, product = merchant_with(stock=3)
    as_stored_before_the_stock_item(product)
    buyers = [customer() for _ in range(8)]
    for buyer in buyers:
        orders.service.set_cart_item(buyer.user_id, product, 1)

    def attempt(who: Any) -> Any:
        try:
            return orders.service.checkout(who, {"delivery_address": NEAR}, meta())[0]
        except ApiError as error:
            return error

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, buyers))
    sold = [o for o in outcomes if not isinstance(o, ApiError)]
    assert 1 <= len(sold) <= 3
    assert stock_of(product) == 3 - len(sold)
    assert product_from(product_item(product)).stock is None  # moved off the product item
