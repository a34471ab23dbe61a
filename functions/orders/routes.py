"""Cart, quote, checkout, orders and their status, merchant order lists, promo codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from orders import idempotency, service
from orders.models import (
    CartItemPut,
    CartLineOut,
    CartOut,
    CheckoutIn,
    OrderLineOut,
    OrderOut,
    OrderPage,
    PaymentSummary,
    PromoCreate,
    PromoOut,
    PromoPage,
    PromoPatch,
    QuoteIn,
    QuoteOut,
    StatusChangeIn,
)
from orders.rules.cart import CartView
from warung.api import (
    ADMIN_ONLY,
    UNAUTHORIZED,
    WarungRouter,
    no_content,
    request_meta,
)
from warung.auth import admin, current_caller, member_of, signed_in, verified
from warung.errors import IdempotencyKeyRequired
from warung.ids import rfc3339
from warung.models import Cursor, Limit, view_of
from warung.ordering.lifecycle import OrderStatus
from warung.settings import get_settings
from warung.store.orders import Order, OrderLine
from warung.store.promos import Promo

router = WarungRouter()  # type: ignore[no-untyped-call]
NO_ORDER: dict[int, OpenAPIResponse] = {404: {"description": "No such order, or not yours."}}
NOT_ORDERABLE: dict[int, OpenAPIResponse] = {
    409: {
        "description": "`insufficient_stock` (with the short lines in `errors`), "
        "`merchant_closed`, or the cart changed meanwhile.",
    },
    422: {
        "description": "Invalid address, empty cart, promo code that does not apply, or "
        "`out_of_delivery_range`."
    },
    429: {
        "description": "`rate_limited`: 10 unknown promo codes tried this hour; any promo "
        "code is refused until `Retry-After` seconds have passed (requests without one are "
        "not limited)."
    },
}


def cart_view(cart: CartView) -> CartOut:
    lines = []
    for line, product in cart.lines:
        price = product.price if product else 0
        lines.append(
            CartLineOut(
                product_id=line.product_id,
                name=product.name if product else "(no longer sold)",
                unit_price=price,
                quantity=line.quantity,
                line_total=price * line.quantity,
                available=bool(product and product.orderable(line.quantity)),
            )
        )
    return CartOut(merchant_id=cart.merchant_id, items=lines, subtotal=cart.subtotal)


def line_view(line: OrderLine) -> OrderLineOut:
    return view_of(OrderLineOut, line, line_total=line.line_total)


def order_view(
    order: Order, payment_status: str | None = None, action_url: str | None = None
) -> OrderOut:
    return view_of(
        OrderOut,
        order,
        id=order.order_id,
        items=[line_view(line) for line in order.items],
        delivery_address={
            k: float(v) if isinstance(v, Decimal) else v for k, v in order.delivery_address.items()
        },
        payment=PaymentSummary(
            id=order.payment_id,
            status=payment_status or order.payment_status,
            expires_at=order.expires_at,
            provider=order.payment_provider,
            action_url=action_url,
        ),
        status_history=[dict(entry) for entry in order.status_history],
    )


def promo_view(promo: Promo) -> PromoOut:
    return view_of(
        PromoOut,
        promo,
        type=promo.kind,
        starts_at=rfc3339(promo.starts_at) if promo.starts_at else None,
        ends_at=rfc3339(promo.ends_at) if promo.ends_at else None,
    )


# ---------------------------------------------------------------- cart


@router.get(
    "/v1/cart",
    tags=["cart"],
    operation_id="getCart",
    summary="Your cart, priced now",
    **signed_in,
    responses=UNAUTHORIZED,
)
def get_cart() -> CartOut:
    return cart_view(service.view_cart(current_caller(router).user_id))


@router.delete(
    "/v1/cart",
    status_code=204,
    tags=["cart"],
    operation_id="emptyCart",
    summary="Empty your cart",
    **signed_in,
    responses={204: {"description": "Emptied."}, **UNAUTHORIZED},
)
def empty_cart() -> Response[str]:
    service.empty_cart(current_caller(router).user_id)
    return no_content()


@router.put(
    "/v1/cart/items/<product_id>",
    tags=["cart"],
    operation_id="setCartItem",
    summary="Put a quantity of a product in your cart (replaces its quantity)",
    **signed_in,
    responses={
        **UNAUTHORIZED,
        404: {"description": "No such product on sale."},
        409: {"description": "`cart_merchant_mismatch`: the cart holds another merchant's."},
    },
)
def set_cart_item(product_id: str, body: CartItemPut) -> CartOut:
    caller = current_caller(router)
    return cart_view(service.set_cart_item(caller.user_id, product_id, body.quantity))


@router.delete(
    "/v1/cart/items/<product_id>",
    status_code=204,
    tags=["cart"],
    operation_id="removeCartItem",
    summary="Take a product out of your cart",
    **signed_in,
    responses={204: {"description": "Removed (or was not there)."}, **UNAUTHORIZED},
)
def remove_cart_item(product_id: str) -> Response[str]:
    service.remove_cart_item(current_caller(router).user_id, product_id)
    return no_content()


@router.post(
    "/v1/cart/quote",
    tags=["cart"],
    operation_id="quoteCart",
    summary="What checkout would charge now for this address (nothing is written)",
    **signed_in,
    responses={**UNAUTHORIZED, **NOT_ORDERABLE},
)
def quote(body: QuoteIn) -> QuoteOut:
    caller = current_caller(router)
    priced = service.quote(caller.user_id, body.delivery_address.model_dump(), body.promo_code)
    b = priced.breakdown
    return QuoteOut(
        merchant_id=str(priced.cart.merchant_id),
        items=[line_view(line) for line in priced.lines],
        subtotal=b.subtotal,
        discount=b.discount,
        delivery_fee=b.delivery_fee,
        tax=b.tax,
        total=b.total,
        distance_km=float(b.distance_km),
        promo_code=b.promo_code,
    )


# ---------------------------------------------------------------- orders


IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=64,
        description="Required. The same key with the same body returns the same order; "
        "with another body `422 idempotency_key_reuse`. Kept 24 hours.",
    ),
]


@router.post(
    "/v1/orders",
    status_code=201,
    tags=["orders"],
    operation_id="checkout",
    summary="Place an order from your cart (status `pending_payment`, or `placed` with cash on "
    "delivery); the cart is emptied",
    **verified,
    responses={
        201: {
            "description": "The order, with its payment to complete before `expires_at`.",
            "content": {"application/json": {"model": OrderOut}},
        },
        400: {"description": "`idempotency_key_required`."},
        **UNAUTHORIZED,
        403: {
            "description": "`email_not_verified`, or `cod_not_available`: cash on delivery "
            "was taken away after 2 failed deliveries in 90 days (until an admin restores it)."
        },
        **NOT_ORDERABLE,
        409: {
            "description": "`insufficient_stock` (with the short lines in `errors`), "
            "`merchant_closed`, the cart changed meanwhile, or `cod_order_open`: a "
            "cash-on-delivery order of yours is not delivered yet.",
        },
        422: {
            "description": "Invalid address, empty cart, promo code that does not apply, "
            "`out_of_delivery_range`, `unpaid_units_limit`: your unpaid orders would hold "
            "more than 20 units of one stock-tracked product; with cash on delivery, "
            "`cod_not_accepted` (the merchant turned it off) or `cod_limit_exceeded` (the "
            "total is above the ceiling, Rp 300.000 by default)."
        },
    },
)
def checkout(body: CheckoutIn, idempotency_key: IdempotencyKey = None) -> Response[str]:
    if not idempotency_key:
        raise IdempotencyKeyRequired("Send an Idempotency-Key header (1 to 64 characters).")
    caller = current_caller(router)
    meta = request_meta(router)
    request = body.model_dump(mode="json")
    if request["payment_method"] == "online":
        # the default, left out so that the body's hash (idempotency) is what it always was
        del request["payment_method"]

    def place() -> dict[str, Any]:
        order, payment = service.checkout(caller, request, meta)
        return order_view(order, action_url=payment.action_url).model_dump(mode="json")

    placed = idempotency.once(
        caller.user_id, idempotency_key, request, place, context=router.lambda_context
    )
    # A response remembered (for 24 h) from before orders had numbers has none: its order
    # has none either, so it is answered with `number: null` rather than failing.
    # One remembered from before the order view named its payment's provider names it now:
    # the provider is the stage's (or cash), as it was when that checkout ran.
    payment = placed["payment"]
    if "provider" not in payment:
        cash = placed.get("payment_method") == "cash_on_delivery"
        payment = payment | {"provider": "cash" if cash else get_settings().payment_provider}
    answer = OrderOut.model_validate({"number": None} | placed | {"payment": payment})
    response = Response(201, "application/json", answer.model_dump_json())
    response.headers["Location"] = f"/v1/orders/{placed['id']}"
    return response


@router.get(
    "/v1/orders",
    tags=["orders"],
    operation_id="listMyOrders",
    summary="Your orders, newest first",
    **signed_in,
    responses=UNAUTHORIZED,
)
def list_orders(
    status: Annotated[OrderStatus | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> OrderPage:
    orders, next_cursor = service.customer_orders(
        current_caller(router), status=status, limit=limit, cursor=cursor
    )
    return OrderPage(items=[order_view(o) for o in orders], next_cursor=next_cursor)


@router.get(
    "/v1/orders/<order_id>",
    tags=["orders"],
    operation_id="getOrder",
    summary="An order (its customer, its merchant's members, admins)",
    **signed_in,
    responses={**UNAUTHORIZED, **NO_ORDER},
)
def get_order(order_id: str) -> OrderOut:
    return order_view(service.order_for(current_caller(router), order_id))


@router.post(
    "/v1/orders/<order_id>/cancel",
    tags=["orders"],
    operation_id="cancelOrder",
    summary="Cancel your order (unpaid or paid): stock released, a paid order refunded",
    **signed_in,
    responses={
        **UNAUTHORIZED,
        403: {"description": "Not the order's customer (its merchant sees it, cannot cancel)."},
        **NO_ORDER,
        409: {"description": "`invalid_transition`: too late to cancel."},
    },
)
def cancel_order(order_id: str) -> OrderOut:
    return order_view(service.cancel(current_caller(router), order_id, request_meta(router)))


@router.post(
    "/v1/orders/<order_id>/status",
    tags=["orders"],
    operation_id="moveOrder",
    summary="Move an order along (its merchant's members)",
    description="`paid | placed → accepted | rejected`, `accepted → preparing`, "
    "`preparing → out_for_delivery`, `out_for_delivery → delivered`, and for a cash-on-delivery "
    "order `out_for_delivery → failed_delivery` (customer unreachable or refused to pay: stock "
    "back); anything else is `409 invalid_transition`. `rejected` releases stock and refunds "
    "a paid order. `delivered` records a cash-on-delivery payment `collected`.",
    **signed_in,
    responses={
        **UNAUTHORIZED,
        403: {"description": "The order's customer cannot move it."},
        **NO_ORDER,
        409: {"description": "`invalid_transition`, or changed meanwhile."},
    },
)
def move_order(order_id: str, body: StatusChangeIn) -> OrderOut:
    order = service.change_order_status(
        current_caller(router), order_id, body.status, body.reason, request_meta(router)
    )
    return order_view(order)


@router.get(
    "/v1/merchants/<merchant_id>/orders",
    tags=["orders"],
    operation_id="listMerchantOrders",
    summary="A merchant's orders, newest first (its members)",
    **member_of("owner", "manager", "staff"),
    responses={**UNAUTHORIZED, 404: {"description": "No such merchant, or not yours."}},
)
def list_merchant_orders(
    merchant_id: str,
    status: Annotated[OrderStatus | None, Query()] = None,
    number: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Only the order with this number (`WRG-7K4Q-2M9X`; any case, with "
            "or without the dashes): one order or none. A number that is not of this form "
            "is `422`.",
            examples=["WRG-7K4Q-2M9X"],
        ),
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> OrderPage:
    orders, next_cursor = service.merchant_orders(
        current_caller(router),
        merchant_id,
        status=status,
        limit=limit,
        cursor=cursor,
        number=number,
    )
    return OrderPage(items=[order_view(o) for o in orders], next_cursor=next_cursor)


# ---------------------------------------------------------------- promo codes


@router.post(
    "/v1/admin/promo-codes",
    status_code=201,
    tags=["admin"],
    operation_id="adminCreatePromoCode",
    summary="Create a promo code",
    **admin,
    responses={
        201: {"description": "Created.", "content": {"application/json": {"model": PromoOut}}},
        **ADMIN_ONLY,
        409: {"description": "The code exists."},
    },
)
def create_promo(body: PromoCreate) -> Response[str]:
    promo = service.create_promo(
        current_caller(router).user_id, body.model_dump(exclude_unset=True), request_meta(router)
    )
    return Response(201, "application/json", promo_view(promo).model_dump_json())


@router.get(
    "/v1/admin/promo-codes",
    tags=["admin"],
    operation_id="adminListPromoCodes",
    summary="Promo codes, newest first",
    **admin,
    responses=ADMIN_ONLY,
)
def list_promos(limit: Limit = 20, cursor: Cursor = None) -> PromoPage:
    items, next_cursor = service.list_promos(
        current_caller(router).user_id, limit=limit, cursor=cursor
    )
    return PromoPage(items=[promo_view(i) for i in items], next_cursor=next_cursor)


@router.patch(
    "/v1/admin/promo-codes/<code>",
    tags=["admin"],
    operation_id="adminSetPromoCodeActive",
    summary="Switch a promo code on or off",
    **admin,
    responses={**ADMIN_ONLY, 404: {"description": "No such promo code."}},
)
def patch_promo(code: str, body: PromoPatch) -> PromoOut:
    promo = service.set_promo_active(
        current_caller(router).user_id, code, body.active, request_meta(router)
    )
    return promo_view(promo)
