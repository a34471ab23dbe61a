"""The limits that keep a few accounts from hoarding stock or guessing promo codes, seen from
a client (docs/product.md, "Unpaid orders" and "Promo codes"; local runtime only: it needs the
seeded admin)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from support.accounts import verified_login
from support.http import call
from support.merchants import active_merchant, demo_login

pytestmark = pytest.mark.usefixtures("local_only")

NEAR = {
    "line1": "Jl. M.H. Thamrin No. 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.1950,
    "lon": 106.8230,
}


@pytest.fixture(scope="module")
def admin_token(api_url: str) -> str:
    return demo_login(api_url, "admin@example.com")


def _product(api: str, owner: str, merchant_id: str, stock: int) -> str:
    body = {"name": "Beras Pandan Wangi 5 kg", "price": 75000, "category": "groceries"}
    reply = call(
        api, "POST", f"/v1/merchants/{merchant_id}/products", {**body, "stock": stock}, token=owner
    )
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def _customer(api: str) -> str:
    return str(verified_login(api)[1]["access_token"])


def _order(api: str, token: str, product_id: str, quantity: int, **body: Any) -> Any:
    put = call(api, "PUT", f"/v1/cart/items/{product_id}", {"quantity": quantity}, token=token)
    assert put.status == 200, put.body
    return call(
        api,
        "POST",
        "/v1/orders",
        {"delivery_address": NEAR, **body},
        token=token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def test_unpaid_orders_hold_at_most_twenty_units_of_a_product(
    api_url: str, admin_token: str
) -> None:
    owner, mid = active_merchant(api_url, admin_token)
    rice = _product(api_url, owner, mid, stock=100)
    hoarder = _customer(api_url)
    first = _order(api_url, hoarder, rice, 15)
    assert first.status == 201, first.body
    assert _order(api_url, hoarder, rice, 5).status == 201

    refused = _order(api_url, hoarder, rice, 1)

    assert refused.status == 422
    assert refused.body["code"] == "unpaid_units_limit"
    assert "more than 20" in refused.body["detail"]
    assert call(api_url, "GET", f"/v1/products/{rice}").body["stock"] == 80
    # cancelling an unpaid order gives its units back
    cancel = call(api_url, "POST", f"/v1/orders/{first.body['id']}/cancel", token=hoarder)
    assert cancel.status == 200, cancel.body
    assert _order(api_url, hoarder, rice, 15).status == 201


def test_guessing_promo_codes_gets_429_after_ten_unknown_codes(
    api_url: str, admin_token: str
) -> None:
    owner, mid = active_merchant(api_url, admin_token)
    rice = _product(api_url, owner, mid, stock=100)
    prober = _customer(api_url)
    assert (
        call(api_url, "PUT", f"/v1/cart/items/{rice}", {"quantity": 1}, token=prober).status == 200
    )

    def quote(code: str) -> Any:
        body = {"delivery_address": NEAR, "promo_code": code}
        return call(api_url, "POST", "/v1/cart/quote", body, token=prober)

    guesses = [quote(f"TEBAK{i}") for i in range(9)]
    assert {(r.status, r.body["errors"][0]["field"]) for r in guesses} == {(422, "promo_code")}
    tenth = _order(api_url, prober, rice, 1, promo_code="TEBAK9")  # checkout counts too
    assert tenth.status == 422

    limited = quote("TEBAK10")

    assert limited.status == 429
    assert limited.body["code"] == "rate_limited"
    assert 1 <= int(limited.header("Retry-After") or 0) <= 3600
    # another customer is not affected, and a real code's conditions are shown to them
    code = f"MINIMUM{uuid.uuid4().hex[:6].upper()}"
    created = call(
        api_url,
        "POST",
        "/v1/admin/promo-codes",
        {"code": code, "type": "fixed", "value": 5000, "min_subtotal": 10_000_000},
        token=admin_token,
    )
    assert created.status == 201, created.body
    neighbour = _customer(api_url)
    assert (
        call(api_url, "PUT", f"/v1/cart/items/{rice}", {"quantity": 1}, token=neighbour).status
        == 200
    )
    shown = call(
        api_url,
        "POST",
        "/v1/cart/quote",
        {"delivery_address": NEAR, "promo_code": code},
        token=neighbour,
    )
    assert shown.status == 422
    assert "at least 10000000 rupiah" in shown.body["errors"][0]["message"]
