"""What a cache in front may keep (docs/decisions/0024-cache-in-front.md): every catalog read
an anonymous caller makes is `public, max-age=30`; the same read with a token, and every
error, is `no-store` (CloudFront keys on Authorization and honours no-store)."""

from __future__ import annotations

import uuid

import pytest
from support.http import call
from support.merchants import active_merchant, demo_login

pytestmark = pytest.mark.usefixtures("local_only")

PUBLIC = "public, max-age=30"


def test_anonymous_catalog_reads_are_public_for_30_s_and_signed_in_ones_never_stored(
    api_url: str,
) -> None:
    # given: an active merchant with a product on its menu
    owner, merchant_id = active_merchant(api_url, demo_login(api_url, "admin@example.com"))
    word = f"cache{uuid.uuid4().hex[:6]}"
    created = call(
        api_url,
        "POST",
        f"/v1/merchants/{merchant_id}/products",
        {"name": f"Nasi Goreng {word}", "price": 25000, "category": "food"},
        token=owner,
    )
    assert created.status == 201, created.body
    product_id = created.body["id"]
    reads = [
        f"/v1/products?q=nasi%20{word}",  # search
        f"/v1/products?merchant_id={merchant_id}",  # a menu
        "/v1/products?category=food&sort=price_asc",  # a category
        f"/v1/products/{product_id}",
        "/v1/merchants?city=Jakarta",  # merchant lists
        "/v1/merchants?near=-6.1950,106.8230",
        f"/v1/merchants/{merchant_id}",
    ]
    for path in reads:
        # when: read anonymously, then signed in
        anonymous = call(api_url, "GET", path)
        signed_in = call(api_url, "GET", path, token=owner)

        # then: only the anonymous answer may be shared, for 30 s
        assert (anonymous.status, anonymous.header("Cache-Control")) == (200, PUBLIC), path
        assert (signed_in.status, signed_in.header("Cache-Control")) == (200, "no-store"), path


def test_catalog_errors_are_never_public(api_url: str) -> None:
    for path, status in (
        ("/v1/products/no-such-product", 404),
        ("/v1/merchants/no-such-merchant", 404),
        ("/v1/products?q=a", 422),  # no word of two letters
        ("/v1/merchants?near=north", 422),
    ):
        reply = call(api_url, "GET", path)
        assert reply.status == status, (path, reply.body)
        assert reply.header("Cache-Control") == "no-store", path
