"""The auth guard: who may call a route, declared in one line, checked before anything else.

    @app.get("/v1/me", **signed_in)
    def me() -> Me:
        caller = current_caller(app)

Levels: ``signed_in`` (a valid access token of an enabled account), ``verified`` (and a
verified e-mail: 403 ``email_not_verified``), ``admin`` (and the admin role: 403), and
``member_of(*roles)`` (a member of the merchant named by the route's ``merchant_id`` path
parameter with one of ``roles``; anyone else gets 404, so that a merchant's existence is
not revealed). Each spreads ``security`` (for the OpenAPI document) and a marker middleware
into the route; :class:`GuardFirstValidation` runs the check before request validation, so
an anonymous caller gets 401 rather than a list of validation errors.

Revocation within 60 seconds (docs/product.md, Accounts and sign-in): besides the token's
signature and expiry, the guard reads the account's auth state (enabled, roles, verified,
memberships, "tokens valid after", the sessions ended lately) with one eventually consistent
``GetItem``, cached per container for 30 seconds. A session ended by a logout or by refresh
token reuse is listed in that state (``revoked_sessions``), so its access tokens stop working
within those 30 seconds, at no extra read (docs/decisions/0014).

A refusal that a fresher state could lift (an unverified address, a missing role or
membership) is not answered from the cache: the state is read again, consistently, once.
A refusal of a disabled account or an ended session is never read again: the cache may only
lag towards granting less.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)

from warung.errors import (
    ApiError,
    EmailNotVerified,
    Forbidden,
    InvalidToken,
    NotFound,
    Unauthorized,
)
from warung.ids import id_time_ms
from warung.settings import get_settings
from warung.store.accounts import user_key

BEARER_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
STATE_TTL_SECONDS = 30.0
_STATE_FIELDS = (
    "disabled, #roles, email_verified, tokens_valid_after_ms, memberships, revoked_sessions"
)


@dataclass(frozen=True)
class AuthState:
    """What can revoke a valid token: the account's current standing."""

    disabled: bool = False
    roles: frozenset[str] = frozenset()
    email_verified: bool = False
    tokens_valid_after_ms: int = 0
    memberships: Mapping[str, str] = field(default_factory=dict)
    revoked_sessions: Mapping[str, int] = field(default_factory=dict)
    """Sessions ended lately (id -> epoch second after which no access token of it is left)."""


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of this request."""

    user_id: str
    session_id: str
    roles: frozenset[str]
    email_verified: bool
    memberships: Mapping[str, str]

    @property
    def is_admin(self) -> bool:
        """Holds the global admin role."""
        return "admin" in self.roles

    def role_in(self, merchant_id: str) -> str | None:
        """This caller's role in ``merchant_id`` (owner, manager, staff), if any."""
        return self.memberships.get(merchant_id)


# ---------------------------------------------------------------- auth state cache

_cache_lock = threading.Lock()
_state_cache: dict[str, tuple[float, AuthState | None]] = {}


def load_auth_state(user_id: str, *, fresh: bool = False) -> AuthState | None:
    """The account's auth state (``None`` when there is no such account), cached 30 s.

    ``fresh`` skips the cache and reads consistently (the result is cached as usual).
    """
    now = time.monotonic()
    if not fresh:
        with _cache_lock:
            cached = _state_cache.get(user_id)
            if cached and now - cached[0] < STATE_TTL_SECONDS:
                return cached[1]
    from warung.dynamo import dynamodb_client, from_item, to_item  # botocore: API functions only

    response = dynamodb_client().get_item(
        TableName=get_settings().table_name,
        Key=to_item(user_key(user_id)),
        ProjectionExpression=_STATE_FIELDS,
        ExpressionAttributeNames={"#roles": "roles"},
        ConsistentRead=fresh,
    )
    state = _state_from(from_item(response["Item"])) if "Item" in response else None
    with _cache_lock:
        _state_cache[user_id] = (now, state)
    return state


def forget_auth_state(user_id: str) -> None:
    """Drop the cached state after this container changed it (others catch up in 30 s)."""
    with _cache_lock:
        _state_cache.pop(user_id, None)


def forget_all_auth_states() -> None:
    """Drop every cached state (after a SnapStart restore: ages are monotonic-clock ages)."""
    with _cache_lock:
        _state_cache.clear()


def _state_from(item: Mapping[str, Any]) -> AuthState:
    return AuthState(
        disabled=bool(item.get("disabled", False)),
        roles=frozenset(item.get("roles") or ()),
        email_verified=bool(item.get("email_verified", False)),
        tokens_valid_after_ms=int(item.get("tokens_valid_after_ms") or 0),
        memberships=dict(item.get("memberships") or {}),
        revoked_sessions={
            str(sid): int(until) for sid, until in (item.get("revoked_sessions") or {}).items()
        },
    )


def session_listing_end(now_s: int) -> int:
    """Until when an ended session must stay in ``revoked_sessions`` (epoch seconds): until
    the last access token issued to it has expired, leeway included."""
    from warung.tokens import LEEWAY_S

    return now_s + get_settings().access_token_ttl_seconds + LEEWAY_S


# ---------------------------------------------------------------- authentication


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or 401."""
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not value:
        raise Unauthorized("Sign in: send `Authorization: Bearer <access token>`.")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be `Bearer <access token>`.")
    return token.strip()


def authenticate(headers: Mapping[str, str], *, fresh: bool = False) -> Caller:
    """The caller behind the request's access token; 401 when it is not (or no longer) good.

    ``fresh`` reads the account's auth state consistently instead of from the cache.
    """
    from warung.tokens import verify_access_token

    claims = verify_access_token(bearer_token(headers))
    state = load_auth_state(claims.sub, fresh=fresh)
    if state is None or state.disabled:
        raise InvalidToken("The account behind this token is disabled or gone.")
    # Sessions ids are time-ordered (warung.ids): a session opened before "sign out
    # everywhere" (or a password change) has ended, to the millisecond.
    try:
        session_started_ms = id_time_ms(claims.sid)
    except ValueError:
        raise InvalidToken("Malformed session in token.") from None
    if session_started_ms <= state.tokens_valid_after_ms or claims.sid in state.revoked_sessions:
        raise InvalidToken("This session has ended; sign in again.")
    return Caller(
        user_id=claims.sub,
        session_id=claims.sid,
        roles=frozenset({"customer"}) | state.roles,
        email_verified=state.email_verified,
        memberships=state.memberships,
    )


def optional_caller(headers: Mapping[str, str] | None) -> Caller | None:
    """The caller of a public route when a token was sent (a bad token is still 401)."""
    if not any(name.lower() == "authorization" for name in headers or {}):
        return None
    return authenticate(headers or {})


def current_caller(app: BaseRouter) -> Caller:
    """The caller the guard authenticated for this request."""
    caller = app.context.get("caller")
    if not isinstance(caller, Caller):
        raise RuntimeError("route has no auth requirement: add **signed_in (or another level)")
    return caller


# ---------------------------------------------------------------- route requirements


class AuthGate(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """Marks a route's requirement; :class:`GuardFirstValidation` enforces it."""

    def __init__(
        self,
        *,
        verified: bool = False,
        admin: bool = False,
        merchant_roles: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.verified, self.admin, self.merchant_roles = verified, admin, merchant_roles

    def check(self, app: APIGatewayRestResolver) -> Caller:
        """Authenticate and authorise the current request, or raise its 401/403/404.

        A 403/404 may rest on a cached state that is out of date (the address was verified,
        a role granted, a moment ago): before answering it, the state is read again,
        consistently, once.
        """
        headers = app.current_event.headers
        caller = authenticate(headers)
        refusal = self.refusal(app, caller)
        if refusal is not None:
            caller = authenticate(headers, fresh=True)
            refusal = self.refusal(app, caller)
        if refusal is not None:
            raise refusal
        return caller

    def refusal(self, app: APIGatewayRestResolver, caller: Caller) -> ApiError | None:
        """Why ``caller`` may not call this route (403, or 404 for a merchant), if not."""
        if self.admin and not caller.is_admin:
            return Forbidden("This needs the admin role.")
        if self.verified and not caller.email_verified:
            return EmailNotVerified("Verify your e-mail address first.")
        if self.merchant_roles:
            merchant_id = (app.current_event.path_parameters or {}).get("merchant_id", "")
            role = caller.role_in(merchant_id)
            if role is None and not caller.is_admin:
                return NotFound("No such merchant.")
            if role not in self.merchant_roles and not caller.is_admin:
                return Forbidden(
                    f"This needs one of these roles: {', '.join(self.merchant_roles)}."
                )
        return None

    def handler(
        self, app: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        """Already checked before validation; pass through."""
        return next_middleware(app)


class GuardFirstValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, preceded by the route's auth requirement."""

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response[Any]:
        """Authenticate first: an anonymous caller learns nothing about the body's rules."""
        route = app.context.get("_route")
        for gate in getattr(route, "middlewares", ()) or ():
            if isinstance(gate, AuthGate):
                app.context["caller"] = gate.check(app)
        response: Response[Any] = super().handler(app, next_middleware)
        return response


def _requirement(gate: AuthGate) -> dict[str, Any]:
    return {"security": BEARER_SECURITY, "middlewares": [gate]}


signed_in: dict[str, Any] = _requirement(AuthGate())
verified: dict[str, Any] = _requirement(AuthGate(verified=True))
admin: dict[str, Any] = _requirement(AuthGate(admin=True))


def member_of(*roles: str) -> dict[str, Any]:
    """Members of the path's merchant with one of ``roles`` (admins too)."""
    return _requirement(AuthGate(merchant_roles=roles))
