"""Bodies of the invitation routes (the API contract: docs/openapi.json)."""

# Annotations stay objects (no `from __future__ import annotations`): pydantic reads them
# as each class is made, and from strings that costs a third more (docs/decisions/0033).

from typing import Literal

from pydantic import Field

from warung.models import ApiModel

Role = Literal["owner", "manager", "staff"]


class InvitationSent(ApiModel):
    """The same answer whether or not the address has an account."""

    status: Literal["invited"] = "invited"


class InvitationOut(ApiModel):
    """An invitation as the invitee sees it."""

    id: str
    merchant_id: str
    merchant_name: str
    role: Role
    invited_at: str
    expires_at: str = Field(description="Seven days after `invited_at`.")


class InvitationList(ApiModel):
    items: list[InvitationOut]


class MerchantInvitationOut(ApiModel):
    """A pending invitation as the merchant's owners see it."""

    id: str
    email: str = Field(description="The address as the owner typed it (normalised).")
    role: Role
    invited_by: str = Field(description="The inviting owner's user id.")
    invited_at: str
    expires_at: str


class MerchantInvitationList(ApiModel):
    items: list[MerchantInvitationOut]


class AcceptedMembership(ApiModel):
    """The role the accepted invitation gave the caller."""

    merchant_id: str
    role: Role
