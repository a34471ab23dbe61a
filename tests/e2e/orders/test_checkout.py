"""Cart, quote and checkout end to end: server-side prices to the rupiah, atomic stock,
idempotency, and every refusal a front end must show (local runtime only: it needs the
seeded admin)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support.accounts import verified_login
from support.http import call, unique_email
from support.merchants import active_merchant, demo_login

from warung.dynamo import to_item
from warung.store.promos import promo_shard_key

pytestmark = pytest.mark.usefixtures("local_only")

# Bundaran HI, 2.23 km from the merchants (at Monas) of support.merchants
NEAR = {
    "line1": "Jl. M.H. Thamrin No. 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.1950,
    "lon": 106.8230,
}
FAR = {**NEAR, "line1": "Jl. Raya Bogor", "lat": -6.3700, "lon": 106.8300}  # ~21.7 km


@pytest.fixture(scope="module")
def admin_token(api_url: str) -> str:
    return demo_login(api_url, "admin@example.com")


def _product(api: str, token: str, merchant_id: str, **fields: Any) -> str:
    body = {"name": "Nasi Goreng Spesial", "price": 25000, "category": "food", **fields}
    reply = call(api, "POST", f"/v1/merchants/{merchant_id}/products", body, token=token)
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def _customer(api: str) -> str:
    return str(verified_login(api)[1]["access_token"])


def _put(api: str, token: str, product_id: str, quantity: int) -> Any:
    return call(api, "PUT", f"/v1/cart/items/{product_id}", {"quantity": quantity}, token=token)


def _checkout(api: str, token: str, key: str | None = None, **body: Any) -> Any:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    payload = {"delivery_address": NEAR, **body}
    return call(api, "POST", "/v1/orders", payload, token=token, headers=headers)


def test_a_cart_is_priced_by_the_server_to_the_rupiah(api_url: str, admin_token: str) -> None:
    owner, mid = active_merchant(api_url, admin_token)
    nasi = _product(api_url, owner, mid, stock=10)
    teh = _product(api_url, owner, mid, name="Es Teh Manis", price=5550, category="drinks")
    customer = _customer(api_url)
    assert _put(api_url, customer, nasi, 2).status == 200
    cart = _put(api_url, customer, teh, 3)
    assert cart.status == 200
    assert cart.body["merchant_id"] == mid
    assert [(i["product_id"], i["quantity"], i["line_total"]) for i in cart.body["items"]] == [
        (nasi, 2, 50000),
        (teh, 3, 16650),
    ]
    assert cart.body["subtotal"] == 66650

    quote = call(api_url, "POST", "/v1/cart/quote", {"delivery_address": NEAR}, token=customer)
    assert quote.status == 200, quote.body
    # 2.23 km: base 8000 + 2500 x ceil(0.23) = 10500; tax 11 % of 66650 = 7331.5 -> 7332
    assert {k: quote.body[k] for k in ("subtotal", "discount", "delivery_fee", "tax", "total")} == {
        "subtotal": 66650,
        "discount": 0,
        "delivery_fee": 10500,
        "tax": 7332,
        "total": 84482,
    }
    assert quote.body["distance_km"] == pytest.approx(2.23)
    # a quote changes nothing: the cart is still there
    assert len(call(api_url, "GET", "/v1/cart", token=customer).body["items"]) == 2

    placed = _checkout(api_url, customer)
    assert placed.status == 201, placed.body
    order = placed.body
    assert order["status"] == "pending_payment"
    assert (order["total"], order["tax"], order["delivery_fee"]) == (84482, 7332, 10500)
    assert order["payment"]["status"] == "pending"
    assert order["payment"]["expires_at"] == order["expires_at"]
    assert [h["status"] for h in order["status_history"]] == ["pending_payment"]
    assert placed.header("Location") == f"/v1/orders/{order['id']}"
    # the cart is emptied and the stock taken
    assert call(api_url, "GET", "/v1/cart", token=customer).body["items"] == []
    assert call(api_url, "GET", f"/v1/products/{nasi}").body["stock"] == 8
    mine = call(api_url, "GET", "/v1/orders", token=customer)
    assert [o["id"] for o in mine.body["items"]] == [order["id"]]
    assert call(api_url, "GET", f"/v1/orders/{order['id']}", token=owner).status == 200


def test_the_same_idempotency_key_places_one_order(api_url: str, admin_token: str) -> None:
    owner, mid = active_merchant(api_url, admin_token)
    product = _product(api_url, owner, mid, stock=5)
    customer = _customer(api_url)
    _put(api_url, customer, product, 1)
    key = uuid.uuid4().hex
    first = _checkout(api_url, customer, key)
    again = _checkout(api_url, customer, key)
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    other_body = _checkout(api_url, customer, key, promo_code="NOPE")
    assert (other_body.status, other_body.body["code"]) == (422, "idempotency_key_reuse")
    orders = call(api_url, "GET", "/v1/orders", token=customer).body["items"]
    assert [o["id"] for o in orders] == [first.body["id"]]
    assert call(api_url, "GET", f"/v1/products/{product}").body["stock"] == 4
    missing = call(api_url, "POST", "/v1/orders", {"delivery_address": NEAR}, token=customer)
    assert (missing.status, missing.body["code"]) == (400, "idempotency_key_required")


def test_checkout_refusals_a_front_end_must_show(api_url: str, admin_token: str) -> None:
    owner, mid = active_merchant(api_url, admin_token)
    product = _product(api_url, owner, mid, stock=50)
    other_owner, other_mid = active_merchant(api_url, admin_token)
    foreign = _product(api_url, other_owner, other_mid)
    customer = _customer(api_url)

    assert _put(api_url, customer, product, 1).status == 200
    mismatch = _put(api_url, customer, foreign, 1)
    assert (mismatch.status, mismatch.body["code"]) == (409, "cart_merchant_mismatch")

    far = _checkout(api_url, customer, delivery_address=FAR)
    assert (far.status, far.body["code"]) == (422, "out_of_delivery_range")

    closed = call(api_url, "PATCH", f"/v1/merchants/{mid}", {"is_open": False}, token=owner)
    assert closed.status == 200
    refused = _checkout(api_url, customer)
    assert (refused.status, refused.body["code"]) == (409, "merchant_closed")
    call(api_url, "PATCH", f"/v1/merchants/{mid}", {"is_open": True}, token=owner)

    too_many = _put(api_url, customer, product, 51)
    assert too_many.status == 422
    empty = call(api_url, "DELETE", "/v1/cart", token=customer)
    assert empty.status == 204
    nothing = _checkout(api_url, customer)
    assert (nothing.status, nothing.body["errors"][0]["field"]) == (422, "items")

    # an unverified customer signs in but cannot order
    email = unique_email()
    call(
        api_url,
        "POST",
        "/v1/auth/register",
        {"email": email, "password": "kopi-tubruk-pagi-hari", "name": "U"},
    )
    login = call(
        api_url, "POST", "/v1/auth/login", {"email": email, "password": "kopi-tubruk-pagi-hari"}
    )
    unverified = login.body["access_token"]
    _put(api_url, unverified, product, 1)
    blocked = _checkout(api_url, unverified)
    assert (blocked.status, blocked.body["code"]) == (403, "email_not_verified")

    # five unpaid orders at most
    for _ in range(5):
        _put(api_url, customer, product, 1)
        assert _checkout(api_url, customer).status == 201
    _put(api_url, customer, product, 1)
    sixth = _checkout(api_url, customer)
    assert (sixth.status, sixth.body["code"]) == (409, "conflict")
    assert "5 orders" in sixth.body["detail"]


def test_customers_racing_for_the_last_units_get_409(api_url: str, admin_token: str) -> None:
    # (20 customers for the last 5, with truly parallel transactions, is an integration
    # test: the local runtime runs one handler at a time.)
    owner, mid = active_merchant(api_url, admin_token)
    product = _product(api_url, owner, mid, stock=2)
    customers = [_customer(api_url) for _ in range(5)]
    for token in customers:
        assert _put(api_url, token, product, 1).status == 200

    with ThreadPoolExecutor(max_workers=5) as pool:
        replies = list(pool.map(lambda token: _checkout(api_url, token), customers))
    statuses = sorted(r.status for r in replies)
    assert statuses == [201] * 2 + [409] * 3
    assert {r.body["code"] for r in replies if r.status == 409} == {"insufficient_stock"}
    assert call(api_url, "GET", f"/v1/products/{product}").body["stock"] == 0


def test_a_promo_with_one_use_discounts_once(api_url: str, admin_token: str) -> None:
    code = f"SEKALI{uuid.uuid4().hex[:6].upper()}"
    created = call(
        api_url,
        "POST",
        "/v1/admin/promo-codes",
        {"code": code, "type": "percent", "value": 10, "usage_limit": 1},
        token=admin_token,
    )
    assert created.status == 201, created.body
    owner, mid = active_merchant(api_url, admin_token)
    product = _product(api_url, owner, mid)
    customers = [_customer(api_url) for _ in range(3)]
    for token in customers:
        _put(api_url, token, product, 2)

    with ThreadPoolExecutor(max_workers=3) as pool:
        replies = list(pool.map(lambda t: _checkout(api_url, t, promo_code=code), customers))
    discounted = [r for r in replies if r.status == 201 and r.body["discount"] > 0]
    assert len(discounted) == 1
    assert discounted[0].body["discount"] == 5000
    refused = [r for r in replies if r.status != 201]
    assert len(refused) == 2
    assert {(r.status, r.body["errors"][0]["field"]) for r in refused} == {(422, "promo_code")}
    listed = call(api_url, "GET", "/v1/admin/promo-codes?limit=100", token=admin_token)
    assert next(p for p in listed.body["items"] if p["code"] == code)["used"] == 1


def _counted_already(emulator: str, code: str, counts: list[int]) -> None:
    """Given: the code's usage counters have counted these uses (a sale under way). Written
    where checkout reads them: the API has no way to spend 2,998 uses in a test."""
    import boto3  # a test's arrangement, not a request path

    client = boto3.client(
        "dynamodb",
        endpoint_url=emulator,
        region_name="ap-southeast-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for shard, count in enumerate(counts):
        client.update_item(
            TableName="warung-local-main",  # the local stage's main table
            Key=to_item(promo_shard_key(code, shard)),
            UpdateExpression="SET used = :n",
            ExpressionAttributeValues={":n": {"N": str(count)}},
        )


def test_the_last_two_uses_of_a_flash_sale_code_go_to_two_of_five_racing_customers(
    api_url: str, admin_token: str, emulator_url: str
) -> None:
    code = f"KILAT{uuid.uuid4().hex[:6].upper()}"
    created = call(
        api_url,
        "POST",
        "/v1/admin/promo-codes",
        {"code": code, "type": "fixed", "value": 3000, "usage_limit": 3000},
        token=admin_token,
    )
    assert created.status == 201, created.body
    _counted_already(emulator_url, code, [999, 1000, 999])  # three counters of 1,000
    owner, mid = active_merchant(api_url, admin_token)
    product = _product(api_url, owner, mid)
    customers = [_customer(api_url) for _ in range(5)]
    for token in customers:
        _put(api_url, token, product, 1)

    with ThreadPoolExecutor(max_workers=5) as pool:
        replies = list(pool.map(lambda t: _checkout(api_url, t, promo_code=code), customers))

    placed = [r for r in replies if r.status == 201]
    assert [r.body["discount"] for r in placed] == [3000, 3000]
    refused = [r for r in replies if r.status != 201]
    assert {(r.status, r.body["errors"][0]["message"]) for r in refused} == {
        (422, "This promo code has reached its usage limit.")
    }

    def used() -> int:
        listed = call(api_url, "GET", "/v1/admin/promo-codes?limit=100", token=admin_token)
        return int(next(p for p in listed.body["items"] if p["code"] == code)["used"])

    assert used() == 3000
    who = customers[replies.index(placed[0])]
    assert (
        call(api_url, "POST", f"/v1/orders/{placed[0].body['id']}/cancel", token=who).status == 200
    )
    assert used() == 2999


def test_orders_are_private_to_their_people(api_url: str, admin_token: str) -> None:
    owner, mid = active_merchant(api_url, admin_token)
    product = _product(api_url, owner, mid)
    alice, bob = _customer(api_url), _customer(api_url)
    _put(api_url, alice, product, 1)
    order = _checkout(api_url, alice).body
    oid = order["id"]
    for method, path, body in (
        ("GET", f"/v1/orders/{oid}", None),
        ("POST", f"/v1/orders/{oid}/cancel", None),
        ("GET", f"/v1/payments/{order['payment']['id']}", None),
        ("POST", f"/v1/payments/{order['payment']['id']}/simulate", {"outcome": "succeeded"}),
        ("POST", f"/v1/orders/{oid}/status", {"status": "accepted"}),
    ):
        reply = call(api_url, method, path, body, token=bob)
        assert (reply.status, reply.body["code"]) == (404, "not_found"), (method, path)
    other_owner, _ = active_merchant(api_url, admin_token)
    stranger = call(
        api_url, "POST", f"/v1/orders/{oid}/status", {"status": "accepted"}, token=other_owner
    )
    assert stranger.status == 404
    own_move = call(
        api_url, "POST", f"/v1/orders/{oid}/status", {"status": "accepted"}, token=alice
    )
    assert (own_move.status, own_move.body["code"]) == (403, "forbidden")
    merchant_cancel = call(api_url, "POST", f"/v1/orders/{oid}/cancel", token=owner)
    assert merchant_cancel.status == 403
    early = call(api_url, "POST", f"/v1/orders/{oid}/status", {"status": "accepted"}, token=owner)
    assert (early.status, early.body["code"]) == (409, "invalid_transition")
    listed = call(api_url, "GET", f"/v1/merchants/{mid}/orders", token=owner)
    assert [o["id"] for o in listed.body["items"]] == [oid]


def test_cancelling_an_unpaid_order_gives_the_stock_back(api_url: str, admin_token: str) -> None:
    owner, mid = active_merchant(api_url, admin_token)
    product = _product(api_url, owner, mid, stock=3)
    customer = _customer(api_url)
    _put(api_url, customer, product, 2)
    order = _checkout(api_url, customer).body
    assert call(api_url, "GET", f"/v1/products/{product}").body["stock"] == 1
    cancelled = call(api_url, "POST", f"/v1/orders/{order['id']}/cancel", token=customer)
    assert cancelled.status == 200, cancelled.body
    assert cancelled.body["status"] == "cancelled"
    assert [h["status"] for h in cancelled.body["status_history"]] == [
        "pending_payment",
        "cancelled",
    ]
    assert call(api_url, "GET", f"/v1/products/{product}").body["stock"] == 3
    again = call(api_url, "POST", f"/v1/orders/{order['id']}/cancel", token=customer)
    assert (again.status, again.body["code"]) == (409, "invalid_transition")
