"""Pagination cursors are opaque (encrypted), tamper-proof, bound to their list, and short.

The positions below are the ones each listing hands to ``encode_cursor``: DynamoDB's
``LastEvaluatedKey`` of its Query (made with the key builders of ``warung.store``), the
catalog's one key per merged category partition, or an offset. The scopes are built as the
services build them. The ids are fixed, spread over weeks as real ones are, so that the
figures are the same on every run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.rules.products import CATEGORIES
from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.dynamo import to_item
from warung.errors import BadRequest
from warung.store.accounts import account_index, user_key
from warung.store.jobs import job_failure_index, job_failure_key
from warung.store.merchants import city_key, merchant_index, merchant_key
from warung.store.orders import order_index, order_key
from warung.store.products import listing_index, price_sort_key, product_key, search_key
from warung.store.promos import promo_index, promo_key
from warung_local.template import load_template

SECRET = b"k" * 48
ROOT = Path(__file__).resolve().parents[3]

# Ids as warung.ids.new_id makes them, created weeks apart.
ADMIN = "01M9YDFQ1RCM9JD7GD6ZSAEKF4"
CUSTOMER = "01MB899K2GT8ZH52SF6C65RZYG"
STAFF = "01M960HSND4KPPPK5J89527NCP"
MERCHANT = "01MASJ1E1BJMRNV7E9Z0C1HT0H"
ORDER = "01M8WCMB3N6VV83STEYQME4QCM"
USER = "01M8SRMY6RDC6PY0V7B8B018TT"
PRODUCTS = (
    "01M8XX6CWFHM8HEE7QV4YSR5S4",
    "01MAB9WWH6J30X7B4MNW7J3QDP",
    "01M94T5913M5R3J9HGB7S8R42X",
    "01MB5917NN1ZBF578DN6AKYJ7H",
    "01MAYTWB6F1JRPB36T2JAYC2QN",
    "01M9H8KYCGVF28X0CQ7R5YSNXG",
)
PRICES = (12_000, 8_500, 27_000, 4_000, 150_000, 33_500)
CREATED = "2026-11-26T08:15:00Z"


def query_key(table_key: Mapping[str, str], index: Mapping[str, str], name: str) -> dict[str, Any]:
    """The ``LastEvaluatedKey`` of a Query on index ``name``: the table's key and the index's."""
    keys = {**table_key, f"{name}pk": index[f"{name}pk"], f"{name}sk": index[f"{name}sk"]}
    return to_item(keys)


def product_position(n: int, category: str, index: str) -> dict[str, Any]:
    product = PRODUCTS[n]
    attributes = listing_index(product, MERCHANT, category, price_sort_key(PRICES[n], product))
    return query_key(product_key(product), attributes, index)


def products_scope(**asked: Any) -> str:
    """As catalog.service.products.list_products builds it."""
    filters: dict[str, Any] = {"q": "", "merchant_id": "", "category": ""}
    filters |= {"min_price": None, "max_price": None, "available": None, "sort": "newest"}
    filters["categories"] = ",".join(CATEGORIES)
    return list_scope("GET /v1/products", None, **(filters | asked))


def merchants_scope(**asked: Any) -> str:
    """As catalog.service.merchants.public_list builds it."""
    filters: dict[str, Any] = {"q": "", "city": "", "near": "", "open_now": False}
    return list_scope("GET /v1/merchants", None, **(filters | asked))


@dataclass(frozen=True)
class Listing:
    """One listing's typical position and scope."""

    name: str
    position: dict[str, Any]
    scope: str
    merged: bool = False  # one position per category partition


MERCHANT_INDEX = merchant_index(
    MERCHANT, CREATED, "active", city_key("Jakarta Selatan"), active=True
)
ORDER_INDEX = order_index(ORDER, CUSTOMER, MERCHANT)

LISTINGS = [
    Listing(
        "a merchant's menu, newest first",
        {"s": {"m": product_position(0, "food", "gsi1")}},
        products_scope(merchant_id=MERCHANT),
    ),
    Listing(
        "a merchant's menu by price (in memory)",
        {"o": 40},
        products_scope(merchant_id=MERCHANT, sort="price_asc"),
    ),
    Listing(
        "one category, newest first",
        {"s": {"food": product_position(0, "food", "gsi3")}},
        products_scope(category="food"),
    ),
    Listing(
        "one category by price",
        {"s": {"food": product_position(0, "food", "gsi2")}},
        products_scope(category="food", sort="price_asc"),
    ),
    Listing(
        "a search, newest first",
        {"s": {"s": to_item(search_key("goreng", PRODUCTS[0]))}},
        products_scope(q="nasi goreng", sort="newest"),
    ),
    Listing(
        "every product, newest first",
        {"s": {c: product_position(n, c, "gsi3") for n, c in enumerate(CATEGORIES)}},
        products_scope(),
        merged=True,
    ),
    Listing(
        "every product by price",
        {"s": {c: product_position(n, c, "gsi2") for n, c in enumerate(CATEGORIES)}},
        products_scope(sort="price_desc"),
        merged=True,
    ),
    Listing(
        "a customer's orders",
        query_key(order_key(ORDER), ORDER_INDEX, "gsi1"),
        list_scope("GET /v1/orders", CUSTOMER, status=""),
    ),
    Listing(
        "a merchant's orders",
        query_key(order_key(ORDER), ORDER_INDEX, "gsi2"),
        list_scope(f"GET /v1/merchants/{MERCHANT}/orders", STAFF, status="paid"),
    ),
    Listing(
        "dead-lettered jobs",
        query_key(job_failure_key(ORDER), job_failure_index(CREATED, ORDER), "gsi1"),
        list_scope("GET /v1/admin/dead-letters", ADMIN),
    ),
    Listing(
        "promo codes",
        to_item({**promo_key("HEMAT10RIBU"), **promo_index(CREATED, "HEMAT10RIBU")}),
        list_scope("GET /v1/admin/promo-codes", ADMIN),
    ),
    Listing(
        "users",
        query_key(user_key(USER), account_index(CREATED, USER, admin=False), "gsi2"),
        list_scope("GET /v1/admin/users", ADMIN, role=""),
    ),
    Listing(
        "admins",
        query_key(user_key(USER), account_index(CREATED, USER, admin=True), "gsi1"),
        list_scope("GET /v1/admin/users", ADMIN, role="admin"),
    ),
    Listing(
        "merchants by status",
        query_key(merchant_key(MERCHANT), MERCHANT_INDEX, "gsi1"),
        list_scope("GET /v1/admin/merchants", ADMIN, status="active"),
    ),
    Listing(
        "active merchants, newest first",
        query_key(merchant_key(MERCHANT), MERCHANT_INDEX, "gsi1"),
        merchants_scope(),
    ),
    Listing(
        "active merchants of a city",
        query_key(merchant_key(MERCHANT), MERCHANT_INDEX, "gsi2"),
        merchants_scope(city="Jakarta Selatan"),
    ),
    Listing(
        "merchants near a point (in memory)",
        {"offset": 20},
        merchants_scope(near="-6.2607,106.7816"),
    ),
]
SINGLE = [listing for listing in LISTINGS if not listing.merged]
MERGED = [listing for listing in LISTINGS if listing.merged]


def by_name(listings: list[Listing]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("listing", listings, ids=[x.name for x in listings])


def cursor_of(listing: Listing, secret: bytes = SECRET) -> str:
    cursor = encode_cursor(listing.position, listing.scope, key=secret)
    assert cursor is not None
    return cursor


# The problem a client sees for a cursor that is not one of this list's.
INVALID_CURSOR = {
    "status": 400,
    "code": "validation_error",
    "detail": "The cursor is not valid for this list.",
    "errors": [
        {"field": "cursor", "message": "Invalid or foreign cursor; start again without it."}
    ],
}


def problem_of(cursor: str, scope: str, secret: bytes = SECRET) -> dict[str, Any]:
    """The problem (status, code, detail, errors) that ``cursor`` gets in the list ``scope``."""
    with pytest.raises(BadRequest) as raised:
        decode_cursor(cursor, scope, key=secret)
    problem = raised.value.problem("req-1")
    return {name: problem.get(name) for name in INVALID_CURSOR}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def strings_in(value: Any) -> Iterator[str]:
    """Every map key and text inside a position, and the "#"-separated pieces of each."""
    if isinstance(value, Mapping):
        for name, inner in value.items():
            yield name
            yield from strings_in(inner)
    elif isinstance(value, str):
        yield value
        yield from value.split("#")


# ---------------------------------------------------------------- round trips


@by_name(LISTINGS)
def test_the_next_page_resumes_where_the_cursor_says(listing: Listing) -> None:
    cursor = cursor_of(listing)
    assert decode_cursor(cursor, listing.scope, key=SECRET) == listing.position


def test_no_position_means_no_next_cursor() -> None:
    scope = list_scope("GET /v1/orders", CUSTOMER)
    assert encode_cursor(None, scope, key=SECRET) is None
    assert encode_cursor({}, scope, key=SECRET) is None
    assert decode_cursor(None, scope, key=SECRET) is None
    assert decode_cursor("", scope, key=SECRET) is None


def test_scope_ignores_filter_order() -> None:
    assert list_scope("r", "u", a=1, b=2) == list_scope("r", "u", b=2, a=1)


UNUSUAL = [
    {"n": {"N": "-12.50"}, "b": {"B": b"\x00\xffraw"}, "s": {"S": ""}},
    {"list": [1, -1, 0, 2**70, -(2**70), True, False, None, "", "#", "a##b", "#x#"]},
    {"pk": {"S": "01m8xx6cwfhm8hee7qv4ysr5s4"}, "sk": {"S": "81M8XX6CWFHM8HEE7QV4YSR5S4"}},
    {
        "at": "2026-11-26T08:15:00.000000Z",
        "before": "1969-12-31T23:59:59Z",
        "odd": "2026-11-26T08:15:00+07:00",
    },
    {"digits": "000000000000#0#" + "9" * 60, "unicode": "Soto Ayam Lamongan, pédas 🌶"},
    {"S": 1, "N": ["not", "an", "attribute"], "B": {"S": "x", "N": "1"}},
    {"wrapped": {"S": 1}, "text": {"B": "not bytes"}, "bytes": b"\x01\x02"},
    {f"piece{n}": {"S": f"WORD{n}#{n:03d}#WORD{n}"} for n in range(200)},  # far references
    {"nested": {"s": {"food": {"pk": {"S": "X"}}}, "empty": {}, "list": []}},
]


@pytest.mark.parametrize("position", UNUSUAL, ids=range(len(UNUSUAL)))
def test_a_position_of_any_shape_comes_back_unchanged(position: dict[str, Any]) -> None:
    scope = list_scope("GET /v1/anything", CUSTOMER, status="WORD3")
    cursor = encode_cursor(position, scope, key=SECRET)
    assert cursor is not None
    assert decode_cursor(cursor, scope, key=SECRET) == position


json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.text(alphabet=st.sampled_from("#AZ09az-:.TZ é")),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.dictionaries(st.text(max_size=8), json_like, min_size=1, max_size=5), st.text(max_size=30)
)
def test_any_json_like_position_comes_back_unchanged(
    position: dict[str, Any], filter_value: str
) -> None:
    scope = list_scope("GET /v1/anything", None, q=filter_value)
    cursor = encode_cursor(position, scope, key=SECRET)
    assert cursor is not None
    assert decode_cursor(cursor, scope, key=SECRET) == position


# ---------------------------------------------------------------- opaque and short


@by_name(LISTINGS)
def test_a_cursor_shows_no_key_attribute_or_value(listing: Listing) -> None:
    cursor = cursor_of(listing)
    raw = unb64(cursor)
    carried = {s for s in strings_in(listing.position) if len(s) >= 2} | {"pk", "sk", "gsi1pk"}
    for text in carried:
        assert text.encode() not in raw
        # In base64 text a word of two or three letters turns up by chance; the bytes above
        # are what is carried.
        if len(text) >= 4:
            assert text not in cursor


@by_name(SINGLE)
def test_a_single_partition_cursor_is_under_200_characters(listing: Listing) -> None:
    assert len(cursor_of(listing)) < 200


@by_name(MERGED)
def test_a_cursor_over_every_category_stays_under_260_characters(listing: Listing) -> None:
    assert len(listing.position["s"]) == len(CATEGORIES)
    assert len(cursor_of(listing)) < 260


def test_every_key_attribute_of_the_tables_costs_what_pk_costs() -> None:
    # given: the key attributes of every table and index in template.yaml
    template = load_template(ROOT / "template.yaml")
    names: set[str] = set()
    for table in template.resources_of_type("AWS::DynamoDB::Table").values():
        properties = table["Properties"]
        schemas = [properties["KeySchema"]]
        schemas += [index["KeySchema"] for index in properties.get("GlobalSecondaryIndexes", [])]
        names |= {part["AttributeName"] for schema in schemas for part in schema}
    assert {"pk", "gsi3sk", "actor_pk", "id"} <= names
    scope = list_scope("GET /v1/anything", None)

    def length(name: str) -> int:
        return len(cursor_of(Listing(name, {name: {"S": "X"}}, scope)))

    # then: a cursor does not spell them out, whatever their length
    for name in names:
        assert length(name) == length("pk"), name
    assert length("category_pk") > length("pk")  # a name no table uses is carried


# ---------------------------------------------------------------- forged and foreign


ORDERS = next(listing for listing in LISTINGS if listing.name == "a customer's orders")


def test_changing_any_bit_of_any_byte_of_a_cursor_gets_400() -> None:
    raw = unb64(cursor_of(ORDERS))
    for at in range(len(raw)):
        for bit in range(8):
            forged = raw[:at] + bytes([raw[at] ^ 1 << bit]) + raw[at + 1 :]
            assert problem_of(b64(forged), ORDERS.scope) == INVALID_CURSOR


def test_a_truncated_or_lengthened_cursor_gets_400() -> None:
    cursor = cursor_of(ORDERS)
    raw = unb64(cursor)
    for end in range(1, len(cursor)):
        assert problem_of(cursor[:end], ORDERS.scope) == INVALID_CURSOR
    for end in range(1, len(raw)):
        assert problem_of(b64(raw[:end]), ORDERS.scope) == INVALID_CURSOR
    for extra in (b"\x00", b"A", raw[-16:]):
        assert problem_of(b64(raw + extra), ORDERS.scope) == INVALID_CURSOR


def old_signed_cursor(last_key: dict[str, Any], scope: str) -> str:
    """A cursor of the previous format: HMAC-SHA256, then the JSON of scope and key."""
    payload = json.dumps({"v": "1", "s": scope, "k": last_key}, separators=(",", ":")).encode()
    return b64(hmac.new(SECRET, payload, hashlib.sha256).digest() + payload)


@pytest.mark.parametrize(
    "garbage",
    [
        "not-base64-at-all!!",
        "A",
        "AAAA",
        "AQ",  # the version byte alone
        "Zm9yZ2Vk",
        "é" * 40,
        b64(b'{"k": {"pk": {"S": "x"}}}'),
        b64(b"\x01" + bytes(40)),
        old_signed_cursor(ORDERS.position, ORDERS.scope),
    ],
)
def test_garbage_gets_400(garbage: str) -> None:
    assert problem_of(garbage, ORDERS.scope) == INVALID_CURSOR


@pytest.mark.parametrize(
    "foreign",
    [
        list_scope("GET /v1/orders", STAFF, status=""),
        list_scope("GET /v1/orders", CUSTOMER, status="paid"),
        list_scope(f"GET /v1/merchants/{MERCHANT}/orders", CUSTOMER, status=""),
        list_scope("GET /v1/orders", CUSTOMER),
    ],
    ids=["another caller", "another filter value", "another list", "one filter fewer"],
)
def test_a_cursor_of_another_list_or_caller_gets_400(foreign: str) -> None:
    assert problem_of(cursor_of(ORDERS), foreign) == INVALID_CURSOR


def test_a_cursor_made_with_another_secret_gets_400() -> None:
    cursor = cursor_of(ORDERS, secret=b"another secret")
    assert problem_of(cursor, ORDERS.scope) == INVALID_CURSOR


def test_the_same_position_gives_the_same_cursor_and_another_position_another() -> None:
    moved = Listing(ORDERS.name, query_key(order_key(USER), ORDER_INDEX, "gsi1"), ORDERS.scope)
    assert cursor_of(ORDERS) == cursor_of(ORDERS)
    assert cursor_of(moved) != cursor_of(ORDERS)


# Cursors issued by this format, kept by a client across a deploy. If the packing or the
# word list changes, the format's version byte must change too (and then these are a 400).
ISSUED = {
    "a customer's orders": (
        "AWXNb3BHmAq-ganzK9wQMxygBC_8-aaUuplqNO7Q7raxsrhGrFkzRE70U57G132ZFu6j0MziC9T1ChSdxdBgTg"
    ),
    "every product by price": (
        "ActLbRoQELi4RXKoGyTzpFJuWMYj0hEBAwgMVKfRmv9PTjaCKEnaa-z5LktiMB724FOYtU8mByWKKGzLZCrG"
        "FFqf2tdQUjmvmgO-PNe0Vk9Ewm54Qn8rtBIpJB0f7RaUxjIYajmW4uDJD9Fsh-bRA5bs6FbqSTo8a7eDzQdE"
        "KiGgIDt6lZpzfQXww-lukaAFsz3GzFncnWiDDYeFvEbaFnBsF_930NirN4VZwzYuz9BiD6uYrBrIOqmPFLg"
    ),
}


@pytest.mark.parametrize("name", sorted(ISSUED))
def test_a_cursor_issued_before_a_deploy_still_reads(name: str) -> None:
    listing = next(x for x in LISTINGS if x.name == name)
    assert decode_cursor(ISSUED[name], listing.scope, key=SECRET) == listing.position


def test_a_cursor_of_the_format_before_the_expiry_index_still_reads() -> None:
    # version 2, issued before gsi4pk and gsi4sk joined the word list (decision 0027)
    issued = (
        "Atp3cBQ1uqeftsO9tNVnzVSXC5xCPE2xdMOmgrqQ73k6ZRFttPoovR3XN-ABTOQjTbZfzkeq68QmyAIQm-OWRg"
    )
    listing = next(x for x in LISTINGS if x.name == "a customer's orders")
    assert decode_cursor(issued, listing.scope, key=SECRET) == listing.position
    assert cursor_of(listing) != issued  # today's cursors are of the new format
