"""Accounts and authentication: sign-up, verification, sessions, passwords, profile, admin."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from auth import service
from auth.models import (
    Accepted,
    AdminUser,
    AdminUserPage,
    AdminUserPatch,
    ChangePasswordRequest,
    EmailRequest,
    EmailVerified,
    Jwks,
    LoginRequest,
    Me,
    MePatch,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenPairOut,
    VerifyEmailRequest,
)
from warung.api import (
    ADMIN_ONLY,
    RATE_LIMITED,
    UNAUTHORIZED,
    WarungRouter,
    no_content,
    request_meta,
)
from warung.auth import admin, current_caller, signed_in
from warung.context import RequestMeta
from warung.models import Cursor, Limit, view_of
from warung.store.accounts import Account

router = WarungRouter()  # type: ignore[no-untyped-call]
TAGS = ["auth"]


_LOCKOUT = (
    "Five failed sign-ins to one account (or wrong current passwords) lock its sign-in for "
    "15 minutes from the fifth failure: every attempt then gets `429` with `Retry-After`, "
    "even with the right password. A password reset still works."
)


def meta() -> RequestMeta:
    return request_meta(router)


# ---------------------------------------------------------------- sign-up and verification


@router.post(
    "/v1/auth/register",
    status_code=202,
    tags=TAGS,
    operation_id="register",
    summary="Create an account (always 202)",
    responses={
        202: {
            "description": "Taken; the same answer whether or not the address has an account.",
            "content": {"application/json": {"model": Accepted}},
        },
        **RATE_LIMITED,
    },
)
def register(body: RegisterRequest) -> Accepted:
    service.register(body.email, body.password, body.name, meta())
    return Accepted(
        detail="If this address can be registered, a verification e-mail is on its way."
    )


@router.post(
    "/v1/auth/verify-email",
    tags=TAGS,
    operation_id="verifyEmail",
    summary="Confirm an e-mail address with the token from the e-mail",
    description="Idempotent: a link of an account that is already verified (the same link "
    "again, or another one) answers the same 200 and changes nothing.",
    responses={
        400: {
            "description": "`invalid_token`: malformed, unknown or expired link, or a used "
            "one whose account is not verified."
        }
    },
)
def verify_email(body: VerifyEmailRequest) -> EmailVerified:
    service.verify_email(body.token, meta())
    return EmailVerified(email_verified=True)


@router.post(
    "/v1/auth/resend-verification",
    status_code=202,
    tags=TAGS,
    operation_id="resendVerification",
    summary="Send the verification e-mail again",
)
def resend_verification(body: EmailRequest) -> Accepted:
    service.resend_verification(body.email, meta())
    return Accepted(detail="If this address waits for verification, an e-mail is on its way.")


# ---------------------------------------------------------------- sessions


def token_pair(pair: service.TokenPair) -> TokenPairOut:
    return TokenPairOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post(
    "/v1/auth/login",
    tags=TAGS,
    operation_id="login",
    summary="Sign in",
    description=_LOCKOUT,
    responses={
        **UNAUTHORIZED,
        429: {
            "description": "`rate_limited`: too many attempts from this address, or the "
            "account is locked; `Retry-After` says how many seconds are left."
        },
        403: {"description": "Account disabled."},
    },
)
def login(body: LoginRequest) -> TokenPairOut:
    return token_pair(service.login(body.email, body.password, meta()))


@router.post(
    "/v1/auth/refresh",
    tags=TAGS,
    operation_id="refresh",
    summary="Exchange a refresh token for a new pair (the old one is spent)",
    responses={
        400: {"description": "`invalid_token`: malformed or unknown refresh token."},
        401: {
            "description": "`invalid_token`: the session has ended, or the token was "
            "already used (which ends its session: its access tokens are refused within "
            "30 seconds too)."
        },
    },
)
def refresh(body: RefreshRequest) -> TokenPairOut:
    return token_pair(service.refresh(body.refresh_token, meta()))


@router.post(
    "/v1/auth/logout",
    status_code=204,
    tags=TAGS,
    operation_id="logout",
    summary="End the session of a refresh token",
    description="The session's refresh tokens stop working at once, and its access tokens "
    "are refused (`401`) on every route within 30 seconds.",
    responses={
        204: {"description": "The session has ended."},
        400: {"description": "`invalid_token`: malformed or unknown refresh token."},
    },
)
def logout(body: RefreshRequest) -> Response[str]:
    service.logout(body.refresh_token, meta())
    return no_content()


@router.post(
    "/v1/auth/logout-all",
    status_code=204,
    tags=TAGS,
    operation_id="logoutAll",
    summary="End every session of the account",
    **signed_in,
    responses={204: {"description": "Every session has ended."}, **UNAUTHORIZED},
)
def logout_all() -> Response[str]:
    service.logout_everywhere(current_caller(router).user_id, meta())
    return no_content()


# ---------------------------------------------------------------- passwords


@router.post(
    "/v1/auth/password/forgot",
    status_code=202,
    tags=TAGS,
    operation_id="forgotPassword",
    summary="E-mail a password reset link (always 202)",
)
def forgot_password(body: EmailRequest) -> Accepted:
    service.forgot_password(body.email, meta())
    return Accepted(detail="If this address has an account, a reset link is on its way.")


@router.post(
    "/v1/auth/password/reset",
    status_code=204,
    tags=TAGS,
    operation_id="resetPassword",
    summary="Set a new password with a reset token; every session ends",
    responses={
        204: {"description": "Password changed."},
        400: {"description": "`invalid_token`: malformed, unknown, used or expired link."},
    },
)
def reset_password(body: ResetPasswordRequest) -> Response[str]:
    service.reset_password(body.token, body.new_password, meta())
    return no_content()


@router.post(
    "/v1/auth/password/change",
    status_code=204,
    tags=TAGS,
    operation_id="changePassword",
    summary="Change the password; every session ends",
    description="A wrong current password counts as a failed sign-in. " + _LOCKOUT,
    **signed_in,
    responses={
        204: {"description": "Password changed."},
        **UNAUTHORIZED,
        429: {
            "description": "`rate_limited`: the account is locked; `Retry-After` says how "
            "many seconds are left."
        },
    },
)
def change_password(body: ChangePasswordRequest) -> Response[str]:
    caller = current_caller(router)
    service.change_password(caller.user_id, body.current_password, body.new_password, meta())
    return no_content()


# ---------------------------------------------------------------- profile


def me_view(account: Account) -> Me:
    return view_of(
        Me,
        account,
        id=account.user_id,
        roles=account.role_list(),
        memberships=[
            {"merchant_id": merchant_id, "role": role}
            for merchant_id, role in sorted(account.memberships.items())
        ],
    )


@router.get(
    "/v1/me",
    tags=["me"],
    operation_id="getMe",
    summary="The signed-in account",
    **signed_in,
    responses=UNAUTHORIZED,
)
def get_me() -> Me:
    return me_view(service.profile(current_caller(router).user_id))


@router.patch(
    "/v1/me",
    tags=["me"],
    operation_id="updateMe",
    summary="Change name or phone",
    **signed_in,
    responses=UNAUTHORIZED,
)
def update_me(body: MePatch) -> Me:
    changes = body.model_dump(exclude_unset=True)
    return me_view(service.update_profile(current_caller(router).user_id, changes, meta()))


# ---------------------------------------------------------------- keys


@router.get(
    "/.well-known/jwks.json",
    tags=["auth"],
    operation_id="getJwks",
    summary="Public keys that verify access tokens",
    cache_control="public, max-age=60",
)
def jwks() -> Jwks:
    from warung.tokens import jwks_document

    return Jwks.model_validate(jwks_document())


# ---------------------------------------------------------------- administration


def admin_view(account: Account) -> AdminUser:
    return view_of(AdminUser, account, id=account.user_id, roles=account.role_list())


@router.get(
    "/v1/admin/users",
    tags=["admin"],
    operation_id="listUsers",
    summary="Accounts, newest first",
    **admin,
    responses={**UNAUTHORIZED, 403: {"description": "Not an admin."}},
)
def list_users(
    email: Annotated[str | None, Query(max_length=254)] = None,
    role: Annotated[Literal["admin", "customer"] | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> AdminUserPage:
    accounts, next_cursor = service.list_accounts(
        email=email, role=role, limit=limit, cursor=cursor, admin_id=current_caller(router).user_id
    )
    return AdminUserPage(items=[admin_view(a) for a in accounts], next_cursor=next_cursor)


@router.patch(
    "/v1/admin/users/<user_id>",
    tags=["admin"],
    operation_id="updateUser",
    summary="Change an account's roles, disable it, or restore its cash on delivery",
    **admin,
    responses={
        **ADMIN_ONLY,
        404: {"description": "No such account."},
        409: {"description": "An admin cannot remove their own admin role."},
    },
)
def update_user(user_id: str, body: AdminUserPatch) -> AdminUser:
    account = service.administer(
        current_caller(router).user_id,
        user_id,
        roles=body.roles,
        disabled=body.disabled,
        cash_on_delivery=body.cash_on_delivery,
        meta=meta(),
    )
    return admin_view(account)
