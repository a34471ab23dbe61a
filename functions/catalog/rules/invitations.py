"""Invitation rules, as plain functions: who may invite, and which invitation a caller may
see or answer. No DynamoDB, no HTTP."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from warung.errors import MerchantNotActive, NotFound
from warung.store.invitations import Invitation
from warung.store.merchants import Merchant


def invited_address(raw: str) -> str:
    """An e-mail address as accounts store it (NFKC, trimmed, lower case), so that an
    invitation reaches the account that signs up or signs in with it."""
    return unicodedata.normalize("NFKC", raw).strip().lower()


def check_may_invite(merchant: Merchant) -> None:
    """Only an active merchant invites (409 ``merchant_not_active``): a merchant nobody has
    approved yet cannot be used to send e-mails to strangers."""
    if not merchant.active:
        raise MerchantNotActive(
            "Only an active merchant can invite members; wait for an admin to approve it."
        )


def answerable(invitation: Invitation | None, email: str, moment: datetime) -> Invitation:
    """The invitation if the caller (whose verified address is ``email``) may accept or
    decline it at ``moment``; otherwise 404, whether it is someone else's, answered,
    revoked, replaced or expired, so that an id reveals nothing."""
    if invitation is None or invitation.email != email or not invitation.open_at(moment):
        raise NotFound("No such invitation.")
    return invitation
