"""The invitation routes: the invitee's list and answers, the owner's list and revocation
(inviting itself is ``POST /v1/merchants/{id}/members``, in ``catalog.routes.merchants``)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from catalog.models.invitations import (
    AcceptedMembership,
    InvitationList,
    InvitationOut,
    MerchantInvitationList,
    MerchantInvitationOut,
)
from catalog.service import invitations as service
from warung.api import UNAUTHORIZED, WarungRouter, no_content, request_meta
from warung.auth import current_caller, member_of, verified
from warung.models import view_of
from warung.store.invitations import Invitation

router = WarungRouter()  # type: ignore[no-untyped-call]
TAGS = ["invitations"]
NOT_VERIFIED: dict[int, OpenAPIResponse] = {403: {"description": "E-mail address not verified."}}
NO_SUCH: dict[int, OpenAPIResponse] = {
    404: {
        "description": "No such invitation for you: unknown, someone else's, already "
        "answered, revoked, replaced or expired."
    }
}


def invitee_view(invitation: Invitation) -> InvitationOut:
    return view_of(InvitationOut, invitation, id=invitation.invitation_id)


def owner_view(invitation: Invitation) -> MerchantInvitationOut:
    return view_of(MerchantInvitationOut, invitation, id=invitation.invitation_id)


@router.get(
    "/v1/me/invitations",
    tags=TAGS,
    operation_id="listMyInvitations",
    summary="Pending invitations addressed to your verified e-mail address, oldest first",
    **verified,
    responses={**UNAUTHORIZED, **NOT_VERIFIED},
)
def my_invitations() -> InvitationList:
    found = service.my_invitations(current_caller(router).user_id)
    return InvitationList(items=[invitee_view(i) for i in found])


@router.post(
    "/v1/invitations/<invitation_id>/accept",
    tags=TAGS,
    operation_id="acceptInvitation",
    summary="Accept an invitation: you become a member with its role",
    **verified,
    responses={
        **UNAUTHORIZED,
        **NOT_VERIFIED,
        **NO_SUCH,
        409: {"description": "You are the merchant's last owner and the role is not owner."},
    },
)
def accept_invitation(invitation_id: str) -> AcceptedMembership:
    caller = current_caller(router)
    member = service.accept(caller.user_id, invitation_id, request_meta(router))
    return AcceptedMembership(merchant_id=member.merchant_id, role=member.role)  # type: ignore[arg-type]


@router.post(
    "/v1/invitations/<invitation_id>/decline",
    status_code=204,
    tags=TAGS,
    operation_id="declineInvitation",
    summary="Decline an invitation",
    **verified,
    responses={204: {"description": "Declined."}, **UNAUTHORIZED, **NOT_VERIFIED, **NO_SUCH},
)
def decline_invitation(invitation_id: str) -> Response[str]:
    service.decline(current_caller(router).user_id, invitation_id, request_meta(router))
    return no_content()


@router.get(
    "/v1/merchants/<merchant_id>/invitations",
    tags=TAGS,
    operation_id="listMerchantInvitations",
    summary="The merchant's pending invitations, oldest first",
    **member_of("owner"),
    responses={
        **UNAUTHORIZED,
        403: {"description": "Owners only."},
        404: {"description": "No such merchant, or not one of yours."},
    },
)
def merchant_invitations(merchant_id: str) -> MerchantInvitationList:
    found = service.merchant_invitations(merchant_id)
    return MerchantInvitationList(items=[owner_view(i) for i in found])


@router.delete(
    "/v1/merchants/<merchant_id>/invitations/<invitation_id>",
    status_code=204,
    tags=TAGS,
    operation_id="revokeInvitation",
    summary="Revoke a pending invitation",
    **member_of("owner"),
    responses={
        204: {"description": "Revoked: it can no longer be accepted."},
        **UNAUTHORIZED,
        403: {"description": "Owners only."},
        404: {"description": "No such merchant, or no pending invitation of it by this id."},
    },
)
def revoke_invitation(merchant_id: str, invitation_id: str) -> Response[str]:
    caller = current_caller(router)
    service.revoke(caller.user_id, merchant_id, invitation_id, request_meta(router))
    return no_content()
