"""Invitations to join a merchant: the record, its stored form and its keys.

One item per invitation, read by its id; while it is pending it carries two index entries
(sparse): the invitee's pending invitations by e-mail address (gsi1) and the merchant's
(gsi2). Next to it, in the merchant's partition, one item per invited address names the
address's current invitation, so that inviting the same address again replaces it instead
of adding another. Both expire by TTL a day after the invitation does; the code treats an
invitation as expired from ``expires_at`` on, whatever TTL has swept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from warung.store.merchants import merchant_partition

INVITATION_LIFETIME = timedelta(days=7)
TTL_GRACE = timedelta(days=1)  # TTL deletes late anyway; nothing reads an expired one
PENDING = "pending"


@dataclass(frozen=True)
class Invitation:
    """An owner's invitation of an e-mail address to a role in a merchant."""

    invitation_id: str
    merchant_id: str
    merchant_name: str
    email: str
    role: str
    invited_by: str
    invited_at: str
    expires_at: str
    status: str = PENDING  # then accepted, declined or revoked

    def open_at(self, moment: datetime) -> bool:
        """Pending and not yet expired at ``moment``."""
        return self.status == PENDING and moment < _moment(self.expires_at)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)  # RFC 3339 as ``warung.ids.rfc3339`` writes it


def invitation_key(invitation_id: str) -> dict[str, str]:
    """One invitation, by its id."""
    return {"pk": f"INVITATION#{invitation_id}", "sk": "INVITATION"}


def invitee_partition(email: str) -> str:
    """gsi1: the pending invitations addressed to a (normalised) e-mail address."""
    return f"INVITEE#{email}"


def merchant_invitations_partition(merchant_id: str) -> str:
    """gsi2: a merchant's pending invitations."""
    return f"MINVITES#{merchant_id}"


def invitation_index(
    invitation_id: str, merchant_id: str, email: str, invited_at: str
) -> dict[str, str]:
    """A pending invitation's index attributes, oldest first in both partitions."""
    order = f"{invited_at}#{invitation_id}"
    return {
        "gsi1pk": invitee_partition(email),
        "gsi1sk": order,
        "gsi2pk": merchant_invitations_partition(merchant_id),
        "gsi2sk": order,
    }


def invited_address_key(merchant_id: str, email: str) -> dict[str, str]:
    """The current invitation of one address to one merchant (``invitation_id``)."""
    return {"pk": merchant_partition(merchant_id), "sk": f"INVITE#{email}"}


def expiry_epoch(invitation: Invitation) -> int:
    """The TTL of an invitation's items: a day after it expires."""
    return int((_moment(invitation.expires_at) + TTL_GRACE).timestamp())


def invitation_item(invitation: Invitation) -> dict[str, Any]:
    """The stored form of an invitation (with its index keys while pending)."""
    item: dict[str, Any] = {
        **invitation_key(invitation.invitation_id),
        "entity": "invitation",
        "id": invitation.invitation_id,
        "merchant_id": invitation.merchant_id,
        "merchant_name": invitation.merchant_name,
        "email": invitation.email,
        "role": invitation.role,
        "invited_by": invitation.invited_by,
        "invited_at": invitation.invited_at,
        "expires_at": invitation.expires_at,
        "status": invitation.status,
        "expires_at_epoch": expiry_epoch(invitation),
    }
    if invitation.status == PENDING:
        item |= invitation_index(
            invitation.invitation_id,
            invitation.merchant_id,
            invitation.email,
            invitation.invited_at,
        )
    return item


def invited_address_item(invitation: Invitation) -> dict[str, Any]:
    """The stored form of "this address's current invitation to this merchant"."""
    return {
        **invited_address_key(invitation.merchant_id, invitation.email),
        "entity": "invited_address",
        "invitation_id": invitation.invitation_id,
        "expires_at_epoch": expiry_epoch(invitation),
    }


def invitation_from(item: Mapping[str, Any]) -> Invitation:
    """A stored invitation as an :class:`Invitation`."""
    return Invitation(
        invitation_id=item["id"],
        merchant_id=item["merchant_id"],
        merchant_name=item["merchant_name"],
        email=item["email"],
        role=item["role"],
        invited_by=item["invited_by"],
        invited_at=item["invited_at"],
        expires_at=item["expires_at"],
        status=item["status"],
    )


def expires_at(invited_at: datetime) -> datetime:
    """When an invitation made at ``invited_at`` stops being usable."""
    return invited_at + INVITATION_LIFETIME
