"""The orders function's routes through its Lambda handler, where the HTTP shape matters:
the merchant list's ``?number=`` refused as a 422 naming it, and checkout answering a
response it remembered from before orders had numbers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

import pytest
from support.cold_start import cold_start
from support.events import FakeContext, proxy_event
from support.orders_world import NEAR, customer, merchant_with, order_of
from support.stacks import clear_parameter_caches

from orders.routes import order_view
from warung.ids import new_id
from warung.settings import get_settings
from warung.tokens import issue_access_token

MERCHANT_ORDERS = "/v1/merchants/{merchant_id}/orders"


@pytest.fixture(scope="module")
def signing_secret_id(app_stack: Any, orders_stack: Any) -> str:
    """An access-token signing key in the stage, made as the local runtime makes it."""
    from warung_demo.seeders import signing_key

    signing_key(orders_stack, app_stack.endpoint_url)
    clear_parameter_caches()
    return str(orders_stack.functions["AuthFunction"].environment["JWT_SIGNING_SECRET_ID"])


@pytest.fixture(autouse=True)
def tokens(world: None, signing_secret_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens for the guard are issued here as the auth function would."""
    monkeypatch.setenv("JWT_SIGNING_SECRET_ID", signing_secret_id)
    get_settings.cache_clear()


@cache
def orders_app() -> ModuleType:
    loaded: ModuleType = cold_start("orders.app")
    return loaded


def invoke(
    method: str,
    path: str,
    user_id: str,
    *,
    query: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One API Gateway proxy event through ``app.handler`` as ``user_id``: (status, headers,
    body). ``resource`` and ``path_parameters`` as API Gateway fills them for a path with
    parameters."""
    token = issue_access_token(user_id, new_id())[0]
    event = proxy_event(
        method,
        path,
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
        query=query,
        body=json.dumps(body) if body is not None else None,
        request_id=f"req-{uuid.uuid4().hex[:12]}",
    )
    if path_parameters:
        event["resource"] = event["requestContext"]["resourcePath"] = resource
        event["pathParameters"] = path_parameters
    response = orders_app().handler(event, FakeContext())
    response_headers = {name: values[-1] for name, values in response["multiValueHeaders"].items()}
    text = response.get("body") or ""
    return response["statusCode"], response_headers, json.loads(text) if text else None


def test_the_merchant_list_answers_its_order_by_number_over_http() -> None:
    owner, merchant_id, product = merchant_with(stock=None)
    order = order_of(customer(), product)
    assert order.number is not None

    status, _, page = invoke(
        "GET",
        f"/v1/merchants/{merchant_id}/orders",
        owner.user_id,
        query={"number": order.number.lower().replace("-", "")},
        resource=MERCHANT_ORDERS,
        path_parameters={"merchant_id": merchant_id},
    )

    assert status == 200, page
    assert [(o["id"], o["number"]) for o in page["items"]] == [(order.order_id, order.number)]


def test_a_malformed_number_is_a_422_problem_naming_the_parameter() -> None:
    owner, merchant_id, _ = merchant_with(stock=None)

    status, headers, problem = invoke(
        "GET",
        f"/v1/merchants/{merchant_id}/orders",
        owner.user_id,
        query={"number": "WRG-1234"},
        resource=MERCHANT_ORDERS,
        path_parameters={"merchant_id": merchant_id},
    )

    assert status == 422, problem
    assert headers["Content-Type"].startswith("application/problem+json")
    assert problem["code"] == "validation_error"
    assert [e["field"] for e in problem["errors"]] == ["number"]
    assert "WRG-7K4Q-2M9X" in problem["errors"][0]["message"]


def test_a_checkout_remembered_from_before_numbers_is_answered_with_a_null_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An order placed (and its response remembered by the idempotency record) before orders
    # had numbers: the same Idempotency-Key answers that response again.
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    remembered = order_view(order_of(buyer, product)).model_dump(mode="json")
    del remembered["number"]

    def replay(
        user_id: str, key: str, body: dict[str, Any], work: Callable[[], Any], **_: Any
    ) -> dict[str, Any]:
        return remembered

    monkeypatch.setattr(orders_app().routes.idempotency, "once", replay)

    status, headers, answer = invoke(
        "POST",
        "/v1/orders",
        buyer.user_id,
        body={"delivery_address": NEAR},
        headers={"Idempotency-Key": "placed-last-week"},
    )

    assert status == 201, answer
    assert answer["number"] is None
    assert answer["id"] == remembered["id"]
    assert headers["Location"] == f"/v1/orders/{remembered['id']}"


def test_the_order_view_names_who_takes_the_money_as_the_payment_read_does() -> None:
    _, _, product = merchant_with(stock=None)
    online, cash = customer(), customer()
    placed = {}
    for buyer, method in ((online, "online"), (cash, "cash_on_delivery")):
        orders_app().routes.service.set_cart_item(buyer.user_id, product, 1)
        status, _, answer = invoke(
            "POST",
            "/v1/orders",
            buyer.user_id,
            body={"delivery_address": NEAR, "payment_method": method},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert status == 201, answer
        placed[method] = answer

    status, _, read = invoke(
        "GET",
        f"/v1/orders/{placed['online']['id']}",
        online.user_id,
        resource="/v1/orders/{order_id}",
        path_parameters={"order_id": placed["online"]["id"]},
    )

    assert status == 200, read
    assert read["payment"]["provider"] == placed["online"]["payment"]["provider"] == "simulator"
    assert placed["cash_on_delivery"]["payment"]["provider"] == "cash"


def test_a_checkout_remembered_before_the_view_named_the_provider_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    remembered = order_view(order_of(buyer, product)).model_dump(mode="json")
    del remembered["payment"]["provider"]

    def replay(
        user_id: str, key: str, body: dict[str, Any], work: Callable[[], Any], **_: Any
    ) -> dict[str, Any]:
        return remembered

    monkeypatch.setattr(orders_app().routes.idempotency, "once", replay)

    status, _, answer = invoke(
        "POST",
        "/v1/orders",
        buyer.user_id,
        body={"delivery_address": NEAR},
        headers={"Idempotency-Key": "placed-yesterday"},
    )

    assert status == 201, answer
    assert answer["payment"]["provider"] == "simulator"
