"""Where invitations live in the main table (docs/data-model.md): one item per invitation,
indexed by invitee and by merchant while pending, and one item per invited address in the
merchant's partition naming its current invitation (keys from ``warung.store.invitations``).
"""

from __future__ import annotations

from itertools import islice

from warung.dynamo import Transaction, get_item, partition_query, query_items
from warung.errors import Conflict, NotFound
from warung.settings import get_settings
from warung.store.invitations import (
    PENDING,
    Invitation,
    invitation_from,
    invitation_item,
    invitation_key,
    invited_address_item,
    invited_address_key,
    invitee_partition,
    merchant_invitations_partition,
)

# A list shows at most this many pending invitations. The merchant's are bounded by its
# daily limit times the 7 days an invitation lasts; an address's by the merchants that invite it.
MAX_LISTED = 200


def _table() -> str:
    return get_settings().table_name


def no_such_invitation() -> NotFound:
    return NotFound("No such invitation.")


def invited_meanwhile() -> Conflict:
    return Conflict("This address was invited meanwhile; read the invitations again.")


def get_invitation(invitation_id: str) -> Invitation | None:
    """One invitation, read consistently."""
    item = get_item(invitation_key(invitation_id), table=_table(), consistent=True)
    return invitation_from(item) if item else None


def current_invitation_id(merchant_id: str, email: str) -> str | None:
    """The id of the address's current invitation to the merchant, if any (consistent)."""
    item = get_item(invited_address_key(merchant_id, email), table=_table(), consistent=True)
    return str(item["invitation_id"]) if item else None


def add_invitation(tx: Transaction, invitation: Invitation, *, replaces: str | None) -> Transaction:
    """Write ``invitation`` as the address's current one, deleting the one it ``replaces``;
    409 if another request changed the address's invitation since it was read."""
    table = _table()
    tx.put(table, invitation_item(invitation), condition="attribute_not_exists(pk)")
    if replaces is None:
        tx.put(
            table,
            invited_address_item(invitation),
            condition="attribute_not_exists(pk)",
            conflict=invited_meanwhile(),
        )
        return tx
    tx.put(
        table,
        invited_address_item(invitation),
        condition="invitation_id = :old",
        values={":old": replaces},
        conflict=invited_meanwhile(),
    )
    return tx.delete(table, invitation_key(replaces))


def close_invitation(tx: Transaction, invitation: Invitation, status: str) -> Transaction:
    """Mark a pending invitation ``status`` (accepted, declined, revoked): it leaves both
    indexes and stops being the address's current one. 404 if it is no longer pending."""
    table = _table()
    tx.update(
        table,
        invitation_key(invitation.invitation_id),
        "SET #status = :status REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk",
        condition="#status = :pending",
        names={"#status": "status"},
        values={":status": status, ":pending": PENDING},
        conflict=no_such_invitation(),
    )
    return tx.delete(
        table,
        invited_address_key(invitation.merchant_id, invitation.email),
        condition="attribute_not_exists(pk) OR invitation_id = :id",
        values={":id": invitation.invitation_id},
        conflict=no_such_invitation(),
    )


def pending_for(email: str) -> list[Invitation]:
    """The invitations addressed to ``email`` still marked pending, oldest first (gsi1;
    expired ones included: the caller filters by time)."""
    request = partition_query(invitee_partition(email), index="gsi1", page_size=100)
    return [invitation_from(item) for item, _ in islice(query_items(request), MAX_LISTED)]


def pending_of_merchant(merchant_id: str) -> list[Invitation]:
    """The merchant's invitations still marked pending, oldest first (gsi2)."""
    request = partition_query(merchant_invitations_partition(merchant_id), index="gsi2")
    return [invitation_from(item) for item, _ in islice(query_items(request), MAX_LISTED)]
