"""Unpaid orders expire and give their stock back (docs/product.md: 15 minutes to pay):
ordered on one run of the local runtime, then, on its kept data, a second run whose wall
clock is 16 minutes later (`WARUNG_CLOCK_OFFSET_S`, as `make test-clock` moves it), whose
expiry schedule (every minute) finds them on their worklist shards
(docs/decisions/0027-sharded-expiry-worklist.md).

It starts `dev` twice on a data folder of its own (local only), never the session's runtime.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from clock_shift import ENV as CLOCK_OFFSET
from support.accounts import PASSWORD, verified_login
from support.dev import running_dev, stop_dev
from support.http import call
from support.merchants import active_merchant, demo_login

pytestmark = pytest.mark.usefixtures("local_only")

SIXTEEN_MINUTES_S = 16 * 60
SCHEDULE_WAIT_S = 150  # the first run of a schedule comes a minute after start; a loaded machine
NEAR = {
    "line1": "Jl. M.H. Thamrin No. 1",
    "city": "Jakarta",
    "postal_code": "10310",
    "lat": -6.1950,
    "lon": 106.8230,
}


def _sign_in(api: str, email: str) -> str:
    signed_in = call(api, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert signed_in.status == 200, signed_in.body
    return str(signed_in.body["access_token"])


def test_unpaid_orders_expire_on_the_schedule_and_their_stock_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # given three customers' unpaid orders taking the last units of a product
    with running_dev(tmp_path / "first.log", data_dir=data) as first:
        api = f"http://127.0.0.1:{first.port}"
        owner, merchant_id = active_merchant(api, demo_login(api, "admin@example.com"))
        body = {"name": "Nasi Uduk", "price": 20000, "category": "food", "stock": 6}
        made = call(api, "POST", f"/v1/merchants/{merchant_id}/products", body, token=owner)
        assert made.status == 201, made.body
        product = made.body["id"]
        placed: list[tuple[str, str]] = []
        for _ in range(3):
            email, tokens = verified_login(api)
            token = tokens["access_token"]
            put = call(api, "PUT", f"/v1/cart/items/{product}", {"quantity": 2}, token=token)
            assert put.status == 200, put.body
            order = call(
                api,
                "POST",
                "/v1/orders",
                {"delivery_address": NEAR},
                token=token,
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            assert (order.status, order.body["status"]) == (201, "pending_payment"), order.body
            placed.append((email, order.body["id"]))
        assert call(api, "GET", f"/v1/products/{product}").body["stock"] == 0
        assert stop_dev(first) == 0

    # when the runtime comes back on the same data 16 minutes later (than the first run's
    # clock: a suite whose clock is already moved moves it further on)
    already = float(os.environ.get(CLOCK_OFFSET) or 0)
    monkeypatch.setenv(CLOCK_OFFSET, str(already + SIXTEEN_MINUTES_S))
    with running_dev(tmp_path / "second.log", data_dir=data) as second:
        api = f"http://127.0.0.1:{second.port}"
        deadline = time.monotonic() + SCHEDULE_WAIT_S
        while call(api, "GET", f"/v1/products/{product}").body["stock"] != 6:
            assert time.monotonic() < deadline, second.output[-3000:]
            time.sleep(1)

        # then every order is expired, and its customer sees it so
        for email, order_id in placed:
            seen = call(api, "GET", f"/v1/orders/{order_id}", token=_sign_in(api, email))
            assert seen.status == 200, seen.body
            assert seen.body["status"] == "expired"
            assert [h["status"] for h in seen.body["status_history"]] == [
                "pending_payment",
                "expired",
            ]
        assert stop_dev(second) == 0
