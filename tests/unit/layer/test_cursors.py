"""Pagination cursors are opaque and tamper-proof: forged or foreign ones are a 400."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.errors import BadRequest

KEY = b"k" * 48
LAST_KEY = {"pk": {"S": "MERCHANT#01J"}, "sk": {"S": "PRODUCT#42"}}
SCOPE = list_scope("GET /v1/products", None, category="food", q="nasi")


def test_round_trip_returns_the_last_evaluated_key() -> None:
    cursor = encode_cursor(LAST_KEY, SCOPE, key=KEY)
    assert cursor is not None
    assert "MERCHANT" not in cursor  # opaque, not readable JSON
    assert decode_cursor(cursor, SCOPE, key=KEY) == LAST_KEY


def test_no_last_key_means_no_next_cursor() -> None:
    assert encode_cursor(None, SCOPE, key=KEY) is None
    assert decode_cursor(None, SCOPE, key=KEY) is None
    assert decode_cursor("", SCOPE, key=KEY) is None


def test_scope_ignores_filter_order() -> None:
    assert list_scope("r", "u", a=1, b=2) == list_scope("r", "u", b=2, a=1)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-2] + ("A" if c[-2] != "A" else "B") + c[-1],  # flipped payload bit
        lambda c: "A" + c[1:] if c[0] != "A" else "B" + c[1:],  # flipped signature bit
        lambda c: c[:20],  # truncated
        lambda _: "not-base64-at-all!!",
        lambda _: base64.urlsafe_b64encode(b'{"k": {"pk": {"S": "x"}}}').decode(),  # unsigned
    ],
)
def test_tampered_cursor_is_400(mangle: Callable[[str], str]) -> None:
    cursor = encode_cursor(LAST_KEY, SCOPE, key=KEY)
    assert cursor is not None
    with pytest.raises(BadRequest) as raised:
        decode_cursor(mangle(cursor), SCOPE, key=KEY)
    assert raised.value.http_status == 400
    assert raised.value.errors[0].field == "cursor"


def test_cursor_of_another_list_is_rejected() -> None:
    cursor = encode_cursor(LAST_KEY, list_scope("GET /v1/orders", "user-a"), key=KEY)
    with pytest.raises(BadRequest):
        decode_cursor(cursor, list_scope("GET /v1/orders", "user-b"), key=KEY)


def test_cursor_signed_with_another_key_is_rejected() -> None:
    cursor = encode_cursor(LAST_KEY, SCOPE, key=b"other-key")
    with pytest.raises(BadRequest):
        decode_cursor(cursor, SCOPE, key=KEY)
