"""Request and response bodies of the auth routes (the API contract)."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from typing import Literal

from pydantic import Field, field_validator

from auth.rules.accounts import TOKEN_PATTERN
from warung.models import ApiModel, OneLineText, RequestModel

Email = Field(
    min_length=6,
    max_length=254,
    pattern=r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$",
    examples=["sri@example.com"],
)
# Policy (10..128, not common, not the e-mail) is checked by the service with clear
# messages; the schema only bounds the size so that a huge body cannot cost a hash.
NewPassword = Field(min_length=1, max_length=1024, examples=["kopi-tubruk-pagi-hari"])
AnyPassword = Field(min_length=1, max_length=1024)
# A token field takes any string: one that is not a live token, whatever its shape, is a
# 400 invalid_token from the service, never a 422. The schema shows the shape tokens have.
OpaqueToken = Field(
    description="The token exactly as it was issued. Any other string, of this shape or "
    "not, is `400 invalid_token`.",
    json_schema_extra={"pattern": TOKEN_PATTERN},
)


class RegisterRequest(RequestModel):
    email: str = Email
    password: str = NewPassword
    name: OneLineText = Field(min_length=1, max_length=100, examples=["Sri Rahayu"])


class Accepted(ApiModel):
    """The request was taken; what follows happens by e-mail."""

    status: Literal["accepted"] = "accepted"
    detail: str


class VerifyEmailRequest(RequestModel):
    token: str = OpaqueToken


class EmailVerified(ApiModel):
    email_verified: bool


class EmailRequest(RequestModel):
    email: str = Email


class LoginRequest(RequestModel):
    email: str = Email
    password: str = AnyPassword


class TokenPairOut(ApiModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")


class RefreshRequest(RequestModel):
    refresh_token: str = OpaqueToken


class ResetPasswordRequest(RequestModel):
    token: str = OpaqueToken
    new_password: str = NewPassword


class ChangePasswordRequest(RequestModel):
    current_password: str = AnyPassword
    new_password: str = NewPassword


class Membership(ApiModel):
    merchant_id: str
    role: Literal["owner", "manager", "staff"]


class Me(ApiModel):
    id: str
    email: str
    name: str
    phone: str | None
    email_verified: bool
    roles: list[str]
    memberships: list[Membership]
    created_at: str


class MePatch(RequestModel):
    """Send only what changes; `phone: null` removes the phone, a name cannot be removed."""

    name: OneLineText | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(
        default=None, pattern=r"^\+?[0-9]{8,15}$", examples=["+6281234567890"]
    )

    @field_validator("name", mode="before")
    @classmethod
    def name_is_not_removable(cls, value: object) -> object:
        if value is None:
            raise ValueError("every account has a name; omit the field to keep it")
        return value


class AdminUser(ApiModel):
    id: str
    email: str
    name: str
    email_verified: bool
    roles: list[str]
    disabled: bool
    created_at: str


class AdminUserPage(ApiModel):
    items: list[AdminUser]
    next_cursor: str | None


class AdminUserPatch(RequestModel):
    roles: list[Literal["admin", "customer"]] | None = Field(default=None, max_length=2)
    disabled: bool | None = None
    cash_on_delivery: bool | None = Field(
        default=None,
        strict=True,
        description="`true` restores cash on delivery to a customer who lost it after 2 failed "
        "deliveries in 90 days (their earlier failures no longer count); `false` takes it "
        "away.",
    )


class Jwks(ApiModel):
    keys: list[dict[str, str]]
