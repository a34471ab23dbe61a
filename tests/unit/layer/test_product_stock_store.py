"""The stored forms of a product and its stock item (docs/decisions/0030): where the units
are written, how the two items read back as one product, and the version a client sees."""

from __future__ import annotations

from warung.store.products import (
    Product,
    product_from,
    product_item,
    stock_item,
    stock_key,
    with_stock,
)

LISTED = ("gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk")


def product(**changes: object) -> Product:
    values: dict[str, object] = {
        "product_id": "p1",
        "merchant_id": "m1",
        "name": "Nasi Goreng",
        "price": 25000,
        "category": "food",
        "created_at": "2026-12-05T01:00:00Z",
        "updated_at": "2026-12-05T01:00:00Z",
    }
    return Product(**(values | changes))  # type: ignore[arg-type]


def test_the_stock_item_sits_beside_the_product_and_carries_no_index_key() -> None:
    assert stock_key("p1") == {"pk": "PRODUCT#p1", "sk": "STOCK"}
    item = stock_item("p1", 4, version=2, updated_at="2026-12-05T02:00:00Z")
    assert item == {
        "pk": "PRODUCT#p1",
        "sk": "STOCK",
        "entity": "stock",
        "product_id": "p1",
        "stock": 4,
        "version": 2,
        "updated_at": "2026-12-05T02:00:00Z",
    }
    assert not any(name.startswith("gsi") for name in item)


def test_a_product_with_its_units_apart_stores_the_marker_and_its_own_version_only() -> None:
    tracked = product(stock=4, stock_apart=True, stock_version=3, version=5)
    item = product_item(tracked)
    assert item["stock"] == 0  # the placeholder older code (a rollback) reads as sold out
    assert "stock_version" not in item
    assert (item["stock_apart"], item["version"]) == (True, 2)
    assert all(name in item for name in LISTED)


def test_an_untracked_product_stores_neither_units_nor_marker() -> None:
    item = product_item(product(stock=None))
    assert "stock" not in item
    assert "stock_apart" not in item
    assert item["version"] == 1


def test_both_items_read_back_as_one_product_whose_version_is_their_sum() -> None:
    stored = product_item(product(stock=9, stock_apart=True, version=2))
    units = stock_item("p1", 3, version=6, updated_at="2026-12-05T03:00:00Z")

    read = product_from(stored, units)

    assert (read.stock, read.version, read.stock_version, read.own_version) == (3, 8, 6, 2)
    assert read.etag == '"p1.8"'
    assert read.updated_at == "2026-12-05T03:00:00Z"  # the later of the two
    assert read.stock_apart
    # one more sale: the version a client sees moves on
    sold = stock_item("p1", 2, version=7, updated_at="2026-12-05T03:05:00Z")
    assert product_from(stored, sold).version == 9


def test_a_product_stored_with_its_units_reads_them_from_its_own_item() -> None:
    old_layout = product_item(product(stock=5, version=4))
    assert old_layout["stock"] == 5
    assert "stock_apart" not in old_layout

    read = product_from(old_layout)

    assert (read.stock, read.version, read.stock_apart) == (5, 4, False)
    assert with_stock(read, None) == read
