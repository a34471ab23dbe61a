"""One exception hierarchy for every function, rendered once as problem+json (RFC 9457).

Domain code raises, say, ``InsufficientStock("...")`` deep inside; the resolver's exception
handler turns it into the HTTP answer. ``code`` is the stable, machine-readable value of
docs/product.md (API conventions) that clients switch on; ``title`` and ``detail`` are for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One invalid input: ``field`` is a dotted path such as ``items.0.quantity``."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form used in the ``errors`` array."""
        return {"field": self.field, "message": self.message}


class ApiError(Exception):
    """Base of every error a client may see. Subclasses set status, code and title."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        self.headers = headers or {}
        self.status_override = status

    @property
    def http_status(self) -> int:
        """The status to answer with (a few codes are used with more than one status)."""
        return self.status_override or self.status

    def problem(self, request_id: str | None) -> dict[str, Any]:
        """The problem+json body of this error."""
        body: dict[str, Any] = {
            "type": f"urn:warung:problem:{self.code}",
            "title": self.title,
            "status": self.http_status,
            "code": self.code,
            "detail": self.detail,
            "request_id": request_id,
        }
        if self.errors:
            body["errors"] = [error.as_dict() for error in self.errors]
        return body


class InvalidJson(ApiError):
    """The body is not well-formed JSON."""

    status, code, title = 400, "invalid_json", "Malformed JSON"


class UnsupportedMediaType(ApiError):
    """A body that is not JSON (by its Content-Type) on a JSON API."""

    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class ValidationFailed(ApiError):
    """The input is well-formed but breaks the contract (types, ranges, unknown fields)."""

    status, code, title = 422, "validation_error", "Invalid request"


class BadRequest(ApiError):
    """Input that is rejected before validation, such as a forged pagination cursor."""

    status, code, title = 400, "validation_error", "Bad request"


class Unauthorized(ApiError):
    """No credentials where they are required."""

    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="warung"'})
        super().__init__(detail, **kwargs)


class InvalidToken(ApiError):
    """A token that is malformed, expired, revoked or already used."""

    status, code, title = 401, "invalid_token", "Invalid or expired token"


class InvalidCredentials(ApiError):
    """Wrong e-mail or password; deliberately the same answer for both."""

    status, code, title = 401, "invalid_credentials", "Invalid credentials"


class Forbidden(ApiError):
    """The caller is known but may not do this."""

    status, code, title = 403, "forbidden", "Forbidden"


class EmailNotVerified(ApiError):
    """The action needs a verified e-mail address."""

    status, code, title = 403, "email_not_verified", "E-mail address not verified"


class NotFound(ApiError):
    """No such resource, or one the caller may not know exists."""

    status, code, title = 404, "not_found", "Not found"


class MethodNotAllowed(ApiError):
    """The path exists but not with this method; ``Allow`` lists the ones it has."""

    status, code, title = 405, "not_found", "Method not allowed"

    def __init__(self, method: str, allowed: list[str]) -> None:
        allow = ", ".join(allowed)
        super().__init__(f"{method} is not supported here; use {allow}.", headers={"Allow": allow})


class Conflict(ApiError):
    """The request conflicts with the current state of the resource."""

    status, code, title = 409, "conflict", "Conflict"


class InvalidTransition(Conflict):
    """A state change the resource's life cycle does not allow."""

    code, title = "invalid_transition", "Invalid status transition"


class InsufficientStock(Conflict):
    """Not enough stock for the quantity asked."""

    code, title = "insufficient_stock", "Insufficient stock"


class MerchantClosed(Conflict):
    """The merchant is closed or not active."""

    code, title = "merchant_closed", "Merchant closed"


class MerchantNotActive(Conflict):
    """The merchant is not active (pending approval or suspended) for an action that needs
    it to be, such as inviting members."""

    code, title = "merchant_not_active", "Merchant not active"


class OrderNumberTaken(Conflict):
    """The order number drawn for a checkout belongs to another order already. Checkout
    draws another and tries again; a client sees it only if every draw was taken."""

    code, title = "conflict", "Order number taken"


class PromoShardFull(ValidationFailed):
    """The usage counter a checkout tried for its promo code has no use left (or the code was
    switched off meanwhile). Checkout tries the code's other counters; a client sees only
    the code's usage-limit error, once every counter was full."""


class CartMerchantMismatch(Conflict):
    """A cart holds products of one merchant only."""

    code, title = "cart_merchant_mismatch", "Cart holds another merchant's products"


class OutOfDeliveryRange(ApiError):
    """The delivery address is farther than the merchant delivers."""

    status, code, title = 422, "out_of_delivery_range", "Out of delivery range"


class UnpaidUnitsLimit(ApiError):
    """The customer's unpaid orders would hold more units of one tracked product than they
    may (docs/product.md, "Unpaid orders")."""

    status, code, title = 422, "unpaid_units_limit", "Too many units awaiting payment"


class CodNotAccepted(ApiError):
    """Cash on delivery asked of a merchant that turned it off."""

    status, code, title = 422, "cod_not_accepted", "Merchant does not take cash on delivery"


class CodLimitExceeded(ApiError):
    """A cash-on-delivery order above the per-order ceiling (template parameter CodLimit)."""

    status, code, title = 422, "cod_limit_exceeded", "Order too large for cash on delivery"


class CodOrderOpen(Conflict):
    """The customer already has an undelivered cash-on-delivery order."""

    code, title = "cod_order_open", "Cash-on-delivery order already open"


class CodNotAvailable(ApiError):
    """The customer lost cash on delivery (2 failed deliveries in 90 days) until an admin
    restores it."""

    status, code, title = 403, "cod_not_available", "Cash on delivery not available"


class IdempotencyKeyRequired(ApiError):
    """The operation needs an ``Idempotency-Key`` header."""

    status, code, title = 400, "idempotency_key_required", "Idempotency-Key header required"


class IdempotencyKeyReuse(ApiError):
    """The same idempotency key was sent with a different body."""

    status, code, title = (
        422,
        "idempotency_key_reuse",
        "Idempotency-Key reused with another request",
    )


class PreconditionFailed(ApiError):
    """``If-Match`` did not match the current version."""

    status, code, title = 412, "precondition_failed", "Precondition failed"


class InvalidSignature(ApiError):
    """A webhook whose signature or timestamp does not verify."""

    status, code, title = 400, "invalid_signature", "Invalid signature"


class InvalidWebhookUrl(ApiError):
    """A webhook URL that is not a public https endpoint."""

    status, code, title = 422, "invalid_webhook_url", "Invalid webhook URL"


class PayloadTooLarge(ApiError):
    """The request body is over the limit."""

    status, code, title = 413, "payload_too_large", "Payload too large"


class RateLimited(ApiError):
    """Too many requests; ``Retry-After`` says when to try again."""

    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, **kwargs)
        self.retry_after = max(1, retry_after)


class InternalError(ApiError):
    """Something failed on our side; the detail never carries internals."""

    status, code, title = 500, "internal_error", "Internal error"


ERROR_CODES: tuple[str, ...] = (
    "invalid_json",
    "unsupported_media_type",
    "validation_error",
    "unauthorized",
    "invalid_token",
    "invalid_credentials",
    "forbidden",
    "email_not_verified",
    "not_found",
    "conflict",
    "invalid_transition",
    "insufficient_stock",
    "merchant_closed",
    "merchant_not_active",
    "out_of_delivery_range",
    "unpaid_units_limit",
    "cart_merchant_mismatch",
    "cod_not_accepted",
    "cod_limit_exceeded",
    "cod_order_open",
    "cod_not_available",
    "idempotency_key_required",
    "idempotency_key_reuse",
    "precondition_failed",
    "invalid_signature",
    "invalid_webhook_url",
    "payload_too_large",
    "rate_limited",
    "internal_error",
)
"""Every ``code`` a client may receive (docs/product.md, API conventions); the OpenAPI
``Problem`` schema lists them."""
