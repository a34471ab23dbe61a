"""The catalog's merchant routes: opening, approval, profile, members, webhook settings
(the product routes are ``catalog.routes.products``)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from catalog.models.invitations import InvitationSent
from catalog.models.merchants import (
    MemberAdd,
    MemberList,
    MemberOut,
    MerchantCreate,
    MerchantOut,
    MerchantPage,
    MerchantPatch,
    StatusChange,
    WebhookSecret,
)
from catalog.rules.merchants import (
    cache_control,
    is_insider,
    open_at,
    profile,
)
from catalog.service import invitations
from catalog.service import merchants as service
from warung.api import (
    ADMIN_ONLY,
    UNAUTHORIZED,
    WarungRouter,
    no_content,
    request_meta,
)
from warung.auth import admin, current_caller, member_of, optional_caller, verified
from warung.context import RequestMeta
from warung.ids import utc_now
from warung.models import Cursor, Limit, view_of
from warung.store.merchants import Member, Merchant

router = WarungRouter()  # type: ignore[no-untyped-call]
TAGS = ["merchants"]
NOT_YOURS: dict[int, OpenAPIResponse] = {
    404: {"description": "No such merchant, or not one of yours."}
}


def meta() -> RequestMeta:
    return request_meta(router)


def merchant_view(
    merchant: Merchant, *, distance_km: float | None = None, private: bool = False
) -> MerchantOut:
    shown = profile(merchant) | {
        "id": merchant.merchant_id,
        "open_now": open_at(merchant, utc_now()),
        "distance_km": distance_km,
        "webhook_url": merchant.webhook_url if private else None,
    }
    return view_of(MerchantOut, merchant, **shown)


def member_view(member: Member) -> MemberOut:
    return view_of(MemberOut, member)


def json_response(status: int, model: MerchantOut | MemberOut) -> Response[str]:
    return Response(status, "application/json", model.model_dump_json())


# ---------------------------------------------------------------- merchants


@router.post(
    "/v1/merchants",
    status_code=201,
    tags=TAGS,
    operation_id="createMerchant",
    summary="Open a merchant (pending until an admin approves it); you become its owner",
    **verified,
    responses={
        201: {
            "description": "Created, status `pending`.",
            "content": {"application/json": {"model": MerchantOut}},
        },
        **UNAUTHORIZED,
        403: {"description": "E-mail address not verified."},
    },
)
def create_merchant(body: MerchantCreate) -> Response[str]:
    caller = current_caller(router)
    merchant = service.open_merchant(caller.user_id, body.model_dump(), meta())
    return json_response(201, merchant_view(merchant, private=True))


@router.get(
    "/v1/merchants",
    tags=TAGS,
    operation_id="listMerchants",
    summary="Active merchants: newest first, or nearest first with `near`",
    responses={
        200: {
            "description": "A page of merchants (cacheable for 30 s when no token is sent).",
            "content": {"application/json": {"model": MerchantPage}},
        },
        400: {"description": "Forged or foreign cursor."},
    },
)
def list_merchants(
    q: Annotated[str | None, Query(max_length=100, description="Name words, prefix match.")] = None,
    city: Annotated[str | None, Query(min_length=1, max_length=80)] = None,
    near: Annotated[
        str | None,
        Query(
            max_length=64,
            description="`lat,lon`: only merchants that deliver there, nearest first, "
            "with `distance_km`.",
        ),
    ] = None,
    open_now: Annotated[
        bool, Query(description="Only merchants taking orders now (switch and hours).")
    ] = False,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response[str]:
    listed, next_cursor = service.public_list(
        q=q, city=city, near=near, open_now=open_now, limit=limit, cursor=cursor
    )
    page = MerchantPage(
        items=[merchant_view(m, distance_km=d) for m, d in listed], next_cursor=next_cursor
    )
    signed = any(k.lower() == "authorization" for k in router.current_event.headers or {})
    cache = cache_control(public=True, signed_in=signed)
    return Response(
        200, "application/json", page.model_dump_json(), headers={"Cache-Control": cache}
    )


@router.get(
    "/v1/merchants/<merchant_id>",
    tags=TAGS,
    operation_id="getMerchant",
    summary="A merchant (active ones for anyone; others for their members and admins)",
    responses={
        200: {
            "description": "The merchant.",
            "content": {"application/json": {"model": MerchantOut}},
        },
        **UNAUTHORIZED,
        **NOT_YOURS,
    },
)
def get_merchant(merchant_id: str) -> Response[str]:
    caller = optional_caller(router.current_event.headers)
    merchant = service.merchant_for(merchant_id, caller)
    private = caller is not None and is_insider(caller.role_in(merchant_id), caller.is_admin)
    response = json_response(200, merchant_view(merchant, private=private))
    response.headers["Cache-Control"] = cache_control(
        public=merchant.active, signed_in=caller is not None
    )
    return response


@router.patch(
    "/v1/merchants/<merchant_id>",
    tags=TAGS,
    operation_id="updateMerchant",
    summary="Change the profile, opening, delivery settings or webhook URL",
    **member_of("owner", "manager"),
    responses={
        **UNAUTHORIZED,
        403: {"description": "Staff cannot change the merchant."},
        **NOT_YOURS,
        409: {"description": "Changed meanwhile; retry."},
        422: {"description": "Invalid field, unknown field (e.g. `status`) or webhook URL."},
    },
)
def update_merchant(merchant_id: str, body: MerchantPatch) -> MerchantOut:
    changes = body.model_dump(exclude_unset=True)
    merchant = service.update_merchant(current_caller(router), merchant_id, changes, meta())
    return merchant_view(merchant, private=True)


@router.post(
    "/v1/merchants/<merchant_id>/webhook-secret",
    tags=TAGS,
    operation_id="rotateWebhookSecret",
    summary="A new webhook signing secret, shown this once",
    **member_of("owner"),
    responses={**UNAUTHORIZED, 403: {"description": "Owners only."}, **NOT_YOURS},
)
def rotate_webhook_secret(merchant_id: str) -> WebhookSecret:
    caller = current_caller(router)
    return WebhookSecret(secret=service.rotate_webhook_secret(caller.user_id, merchant_id, meta()))


# ---------------------------------------------------------------- members


@router.get(
    "/v1/merchants/<merchant_id>/members",
    tags=TAGS,
    operation_id="listMembers",
    summary="The merchant's members",
    **member_of("owner", "manager"),
    responses={**UNAUTHORIZED, 403: {"description": "Owners and managers only."}, **NOT_YOURS},
)
def list_members(merchant_id: str) -> MemberList:
    return MemberList(items=[member_view(m) for m in service.members(merchant_id)])


@router.post(
    "/v1/merchants/<merchant_id>/members",
    status_code=202,
    tags=TAGS,
    operation_id="addMember",
    summary="Invite an e-mail address to a role; it becomes a member once it accepts",
    description=(
        'Always `202 {"status": "invited"}`, whether or not the address has an account: '
        "the address is e-mailed a link to the app, and the invitation lasts 7 days. Inviting "
        "the same address again replaces its pending invitation. At most 20 invitations per "
        "merchant and 50 per inviter per day (`429` with `Retry-After`)."
    ),
    **member_of("owner"),
    responses={
        202: {
            "description": "Invited (the same answer for every address).",
            "content": {"application/json": {"model": InvitationSent}},
        },
        **UNAUTHORIZED,
        403: {"description": "Owners only."},
        404: {"description": "No such merchant, or not one of yours."},
        409: {"description": "`merchant_not_active`: only an active merchant invites."},
        429: {"description": "Daily invitation limit of the merchant or the inviter reached."},
    },
)
def add_member(merchant_id: str, body: MemberAdd) -> Response[str]:
    caller = current_caller(router)
    invitations.invite(caller.user_id, merchant_id, body.email, body.role, meta())
    return Response(202, "application/json", InvitationSent().model_dump_json())


@router.delete(
    "/v1/merchants/<merchant_id>/members/<user_id>",
    status_code=204,
    tags=TAGS,
    operation_id="removeMember",
    summary="Take a member's role away",
    **member_of("owner"),
    responses={
        204: {"description": "Removed."},
        **UNAUTHORIZED,
        403: {"description": "Owners only."},
        404: {"description": "No such merchant or member."},
        409: {"description": "The last owner cannot be removed."},
    },
)
def remove_member(merchant_id: str, user_id: str) -> Response[str]:
    service.remove_member(current_caller(router).user_id, merchant_id, user_id, meta())
    return no_content()


# ---------------------------------------------------------------- administration


@router.get(
    "/v1/admin/merchants",
    tags=["admin"],
    operation_id="adminListMerchants",
    summary="Merchants of one status (default `pending`), newest first",
    **admin,
    responses=ADMIN_ONLY,
)
def admin_list_merchants(
    status: Annotated[Literal["pending", "active", "suspended"], Query()] = "pending",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> MerchantPage:
    merchants, next_cursor = service.admin_list(
        status=status, limit=limit, cursor=cursor, admin_id=current_caller(router).user_id
    )
    return MerchantPage(
        items=[merchant_view(m, private=True) for m in merchants], next_cursor=next_cursor
    )


@router.patch(
    "/v1/admin/merchants/<merchant_id>",
    tags=["admin"],
    operation_id="adminSetMerchantStatus",
    summary="Approve (`active`) or suspend a merchant; listings follow at once",
    **admin,
    responses={
        **ADMIN_ONLY,
        404: {"description": "No such merchant."},
        409: {"description": "Changed meanwhile; retry."},
    },
)
def admin_set_status(merchant_id: str, body: StatusChange) -> MerchantOut:
    merchant = service.change_status(
        current_caller(router).user_id, merchant_id, body.status, meta()
    )
    return merchant_view(merchant, private=True)
