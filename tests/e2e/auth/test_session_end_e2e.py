"""Sessions that end for real, a lockout that lasts, and no stale "unverified", end to end
(docs/product.md, Accounts and sign-in and Rate limits; docs/decisions/0014).

Each function's guard caches an account's state for 30 s per container. The container that
ends a session forgets its entry at once (on the local runtime, one container per
function), so the auth function's own routes answer at once; against a deployed stack with
several containers the tests allow the 30 s.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from support.accounts import PASSWORD, register, verified_login
from support.http import Reply, call, token_in, unique_email, wait_for_mail
from support.merchants import active_merchant, demo_login

pytestmark = pytest.mark.usefixtures("local_only")

REVOCATION_S = 35.0  # the guard cache's 30 s, and a margin

# Bundaran HI, 2.23 km from the merchants (at Monas) of support.merchants
NEAR = {
    "line1": "Jl. M.H. Thamrin No. 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.1950,
    "lon": 106.8230,
}


def me_status_once_refused(api: str, access_token: str) -> int:
    """``GET /v1/me`` with the token until it is refused, for at most REVOCATION_S."""
    deadline = time.monotonic() + REVOCATION_S
    while True:
        status = call(api, "GET", "/v1/me", token=access_token).status
        if status != 200 or time.monotonic() > deadline:
            return status
        time.sleep(1.0)


def test_logout_ends_that_sessions_access_token(api_url: str) -> None:
    # given: a session whose access token works (and is in the guard's cache)
    _, pair = verified_login(api_url)
    assert call(api_url, "GET", "/v1/me", token=pair["access_token"]).status == 200

    # when: it logs out
    ended = call(api_url, "POST", "/v1/auth/logout", {"refresh_token": pair["refresh_token"]})
    assert ended.status == 204

    # then: the same access token is refused
    assert me_status_once_refused(api_url, pair["access_token"]) == 401


def test_refresh_token_reuse_ends_the_earlier_access_token_too(api_url: str) -> None:
    # given: a session that refreshed once; its first access token still works
    _, first = verified_login(api_url)
    second = call(api_url, "POST", "/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert second.status == 200
    assert call(api_url, "GET", "/v1/me", token=first["access_token"]).status == 200

    # when: the spent refresh token is presented again
    reused = call(api_url, "POST", "/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert reused.status == 401

    # then: both access tokens of the session are refused
    assert me_status_once_refused(api_url, first["access_token"]) == 401
    assert me_status_once_refused(api_url, second.body["access_token"]) == 401


def checkout(api: str, token: str) -> Reply:
    return call(
        api,
        "POST",
        "/v1/orders",
        {"delivery_address": NEAR},
        token=token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def product_of(api: str, owner_token: str, merchant_id: str) -> str:
    body: dict[str, Any] = {"name": "Nasi Uduk", "price": 20000, "category": "food"}
    reply = call(api, "POST", f"/v1/merchants/{merchant_id}/products", body, token=owner_token)
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def test_checkout_right_after_verifying_the_address_is_not_refused(api_url: str) -> None:
    # given: an unverified customer with a cart, refused at checkout (the orders function
    # now holds "unverified" in its cache)
    owner, merchant_id = active_merchant(api_url, demo_login(api_url, "admin@example.com"))
    product = product_of(api_url, owner, merchant_id)
    email = unique_email("verify-then-buy")
    assert register(api_url, email) == 202
    login = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    token = login.body["access_token"]
    put = call(api_url, "PUT", f"/v1/cart/items/{product}", {"quantity": 1}, token=token)
    assert put.status == 200, put.body
    early = checkout(api_url, token)
    assert (early.status, early.body["code"]) == (403, "email_not_verified")

    # when: they follow the verification link and check out at once
    link = token_in(wait_for_mail(api_url, email)[0])
    assert call(api_url, "POST", "/v1/auth/verify-email", {"token": link}).status == 200
    placed = checkout(api_url, token)

    # then: the order is placed
    assert placed.status == 201, placed.body


def test_five_wrong_passwords_lock_sign_in_for_fifteen_minutes_from_the_fifth(
    api_url: str,
) -> None:
    # given: five wrong passwords
    email, _ = verified_login(api_url)
    for attempt in range(5):
        reply = call(
            api_url, "POST", "/v1/auth/login", {"email": email, "password": f"wrong-{attempt}-x"}
        )
        assert reply.status == 401, attempt

    # when: the right password comes next
    locked = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})

    # then: 429, for (almost) the whole 15 minutes
    assert (locked.status, locked.body["code"]) == (429, "rate_limited")
    first_wait = int(locked.header("Retry-After") or 0)
    assert 880 <= first_wait <= 900
    # and: a while later it is still locked, for what is left of the same 15 minutes
    time.sleep(2.5)
    later = call(api_url, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert later.status == 429
    assert 0 < int(later.header("Retry-After") or 0) < first_wait
