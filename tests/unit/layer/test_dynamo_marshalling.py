"""Values round-trip through DynamoDB's type system; money stays an int."""

from __future__ import annotations

from decimal import Decimal

import pytest

from warung.dynamo import from_item, to_attribute, to_item


def test_round_trip_keeps_types() -> None:
    values = {
        "name": "Warung Bu Sri",
        "price": 25_000,
        "rating": Decimal("4.5"),
        "open": True,
        "tags": {"halal", "spicy"},
        "items": [{"product_id": "p1", "quantity": 2}],
        "image": b"\x89PNG",
        "nothing": None,
    }
    back = from_item(to_item(values))
    assert back == {k: v for k, v in values.items() if v is not None}
    assert type(back["price"]) is int


def test_integral_numbers_come_back_as_int_not_decimal() -> None:
    assert from_item({"total": {"N": "150000"}}) == {"total": 150000}
    assert isinstance(from_item({"total": {"N": "150000"}})["total"], int)


def test_floats_are_refused_because_money_is_integer_rupiah() -> None:
    with pytest.raises(TypeError):
        to_attribute(1.5)


def test_bool_is_not_stored_as_a_number() -> None:
    assert to_attribute(True) == {"BOOL": True}


def test_empty_set_is_refused() -> None:
    with pytest.raises(ValueError, match="empty set"):
        to_attribute(set())
