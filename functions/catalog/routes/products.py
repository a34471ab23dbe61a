"""The product routes: menus, search, reads with entity tags, categories."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from catalog.models.products import (
    CategoryList,
    CategoryOut,
    ProductCreate,
    ProductOut,
    ProductPage,
    ProductPatch,
)
from catalog.rules import products
from catalog.rules.merchants import cache_control
from catalog.service import products as service
from warung.api import UNAUTHORIZED, WarungRouter, no_content, request_meta
from warung.auth import current_caller, member_of, optional_caller, signed_in
from warung.models import Cursor, Limit, view_of
from warung.store.products import Product

router = WarungRouter()  # type: ignore[no-untyped-call]
TAGS = ["products"]
NOT_YOURS: dict[int, OpenAPIResponse] = {
    404: {"description": "No such product, or not one of your merchant's."}
}
IfMatch = Annotated[
    str | None,
    Header(
        description="The `ETag` you read: the change is made only if the product is still "
        "that version (else `412`).",
        examples=['"01JDX4Y4S5N7Q8R9T0V1W2X3Y4.3"'],
    ),
]
PRECONDITION: dict[int, OpenAPIResponse] = {
    412: {"description": "`If-Match` does not match: the product changed; read it again."}
}


def product_view(product: Product) -> ProductOut:
    return view_of(ProductOut, product, id=product.product_id)


def tagged_response(status: int, product: Product, cache: str = "no-store") -> Response[str]:
    """The product with its ``ETag``."""
    return Response(
        status,
        "application/json",
        product_view(product).model_dump_json(),
        headers={"ETag": product.etag, "Cache-Control": cache},
    )


@router.post(
    "/v1/merchants/<merchant_id>/products",
    status_code=201,
    tags=TAGS,
    operation_id="createProduct",
    summary="Add a product to the merchant's menu",
    **member_of("owner", "manager"),
    responses={
        201: {
            "description": "Created; `ETag` and `Location` headers.",
            "content": {"application/json": {"model": ProductOut}},
        },
        **UNAUTHORIZED,
        403: {"description": "Staff cannot change products."},
        404: {"description": "No such merchant, or not one of yours."},
    },
)
def create_product(merchant_id: str, body: ProductCreate) -> Response[str]:
    caller = current_caller(router)
    product = service.add_product(
        caller.user_id, merchant_id, body.model_dump(), request_meta(router)
    )
    response = tagged_response(201, product)
    response.headers["Location"] = f"/v1/products/{product.product_id}"
    return response


@router.get(
    "/v1/products",
    tags=TAGS,
    operation_id="listProducts",
    summary="Products of active merchants: search, filter, sort",
    description="Without `q` the default order is `newest`; with `q` it is `relevance` "
    "(more name words matched first, then exact words, then name). `q` matches word "
    'prefixes, case- and accent-insensitive: `nasi gor` finds "Nasi Goreng Spesial".',
    responses={
        200: {
            "description": "A page of products.",
            "content": {"application/json": {"model": ProductPage}},
        },
        400: {"description": "Forged or foreign cursor."},
        401: {"description": "A token was sent and is not valid (send none to browse)."},
    },
)
def list_products(
    q: Annotated[
        str | None,
        Query(max_length=100, description="Words; each must begin a word of the name."),
    ] = None,
    merchant_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    category: Annotated[
        Literal["food", "drinks", "snacks", "groceries", "other"] | None, Query()
    ] = None,
    min_price: Annotated[int | None, Query(ge=0, le=100_000_000)] = None,
    max_price: Annotated[int | None, Query(ge=0, le=100_000_000)] = None,
    available: Annotated[bool | None, Query(description="The merchant's switch.")] = None,
    sort: Annotated[
        Literal["relevance", "price_asc", "price_desc", "newest"] | None, Query()
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response[str]:
    caller = optional_caller(router.current_event.headers)
    query = products.list_query(
        q=q,
        merchant_id=merchant_id,
        category=category,
        min_price=min_price,
        max_price=max_price,
        available=available,
        sort=sort,
    )
    items, next_cursor = service.list_products(query, limit=limit, cursor=cursor, caller=caller)
    page = ProductPage(items=[product_view(p) for p in items], next_cursor=next_cursor)
    cache = cache_control(public=True, signed_in=caller is not None)
    return Response(
        200, "application/json", page.model_dump_json(), headers={"Cache-Control": cache}
    )


@router.get(
    "/v1/products/<product_id>",
    tags=TAGS,
    operation_id="getProduct",
    summary="A product, with its `ETag`",
    responses={
        200: {
            "description": "The product; `ETag` header.",
            "content": {"application/json": {"model": ProductOut}},
        },
        304: {"description": "`If-None-Match` holds the current `ETag`: your copy is fresh."},
        401: {"description": "A token was sent and is not valid (send none to browse)."},
        **NOT_YOURS,
    },
)
def get_product(
    product_id: str,
    if_none_match: Annotated[
        str | None, Header(description="An `ETag` you hold: `304` if it is still current.")
    ] = None,
) -> Response[str]:
    caller = optional_caller(router.current_event.headers)
    product, public = service.product_for(product_id, caller)
    cache = cache_control(public=public, signed_in=caller is not None)
    if products.matches_etag(product, if_none_match):
        return Response(304, None, "", headers={"ETag": product.etag, "Cache-Control": cache})
    return tagged_response(200, product, cache)


@router.patch(
    "/v1/products/<product_id>",
    tags=TAGS,
    operation_id="updateProduct",
    summary="Change a product (send `If-Match` to avoid overwriting someone else's change)",
    **signed_in,
    responses={
        200: {
            "description": "The product; new `ETag`.",
            "content": {"application/json": {"model": ProductOut}},
        },
        **UNAUTHORIZED,
        403: {"description": "Staff cannot change products."},
        **NOT_YOURS,
        **PRECONDITION,
    },
)
def update_product(product_id: str, body: ProductPatch, if_match: IfMatch = None) -> Response[str]:
    product = service.update_product(
        current_caller(router),
        product_id,
        body.model_dump(exclude_unset=True),
        if_match,
        request_meta(router),
    )
    return tagged_response(200, product)


@router.delete(
    "/v1/products/<product_id>",
    status_code=204,
    tags=TAGS,
    operation_id="archiveProduct",
    summary="Archive a product: gone from listings; orders keep their copy",
    **signed_in,
    responses={
        204: {"description": "Archived."},
        **UNAUTHORIZED,
        403: {"description": "Staff cannot change products."},
        **NOT_YOURS,
        **PRECONDITION,
    },
)
def archive_product(product_id: str, if_match: IfMatch = None) -> Response[str]:
    service.archive_product(current_caller(router), product_id, if_match, request_meta(router))
    return no_content()


@router.get(
    "/v1/categories",
    tags=TAGS,
    operation_id="listCategories",
    summary="The fixed list of product categories",
    cache_control="public, max-age=60",
)
def list_categories() -> CategoryList:
    return CategoryList(
        items=[
            CategoryOut(id=c, name=products.CATEGORY_NAMES[c])  # type: ignore[arg-type]
            for c in products.CATEGORIES
        ]
    )
