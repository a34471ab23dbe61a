"""The invitation use cases: an owner invites an e-mail address to a role, the person with
that (verified) address accepts or declines, the owner lists and revokes.

Inviting answers the same whether or not the address has an account (the e-mail says sign
in or sign up); nobody becomes a member without accepting (docs/decisions/0015).
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

from catalog.repository import invitations as repository
from catalog.repository import merchants as merchant_repository
from catalog.rules import invitations as rules
from catalog.rules import merchants as merchant_rules
from warung.audit import audited
from warung.auth import forget_auth_state
from warung.context import RequestMeta
from warung.dynamo import Transaction
from warung.errors import NotFound, RateLimited
from warung.ids import new_id, rfc3339, utc_now
from warung.store.invitations import INVITATION_LIFETIME, Invitation, expires_at
from warung.store.merchants import Member


class InvitationSettings(BaseModel):
    """What the invitation e-mail links to, validated at cold start."""

    model_config = ConfigDict(frozen=True)

    # The same front end as the auth function's e-mails; never a request's Host.
    public_app_url: str = Field(pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")


settings = InvitationSettings(
    public_app_url=os.environ.get("PUBLIC_APP_URL", "http://localhost:5173").rstrip("/")
)


def _resource(merchant_id: str) -> str:
    return f"merchant:{merchant_id}"


def _count_invitation(merchant_id: str, inviter_id: str) -> None:
    """Count one invitation against the merchant's and the inviter's daily limits, or 429
    without counting either when one of them is full."""
    # Imported here: only sending an invitation counts anything, and the module's records
    # cost ~2.5 ms of every catalog cold start (docs/decisions/0033-build-on-first-use.md).
    from warung import ratelimit

    limits = ratelimit.rules()
    checks = ((limits.invitations_merchant, merchant_id), (limits.invitations_inviter, inviter_id))
    for rule, subject in checks:
        decision = ratelimit.peek(rule, subject)
        if not decision.allowed:
            raise RateLimited(
                f"Too many invitations today ({rule.limit} at most); try again later.",
                retry_after=decision.retry_after,
            )
    for rule, subject in checks:
        ratelimit.enforce(
            rule, subject, detail=f"Too many invitations today ({rule.limit} at most)."
        )


# ---------------------------------------------------------------- the merchant's side


def invite(actor_id: str, merchant_id: str, email: str, role: str, meta: RequestMeta) -> None:
    """Invite ``email`` to ``role`` in an active merchant and e-mail the address; an earlier
    pending invitation of the same address to this merchant is replaced. Whether the address
    has an account changes the e-mail's wording only, never the answer."""
    # The job models (pydantic) only on the route that sends e-mail.
    from warung.jobs import InvitationEmail, enqueue

    found = merchant_repository.get_merchant(merchant_id)
    if found is None:
        raise NotFound("No such merchant.")
    merchant = found[0]
    rules.check_may_invite(merchant)
    merchant_rules.check_member_change(actor_id, None, role, merchant.owners)  # a known role
    _count_invitation(merchant_id, actor_id)
    address = rules.invited_address(email)
    account = merchant_repository.find_account(address)
    now = utc_now()
    invitation = Invitation(
        invitation_id=new_id(),
        merchant_id=merchant_id,
        merchant_name=merchant.name,
        email=address,
        role=role,
        invited_by=actor_id,
        invited_at=rfc3339(now),
        expires_at=rfc3339(expires_at(now)),
    )
    replaced = repository.current_invitation_id(merchant_id, address)
    tx = repository.add_invitation(Transaction(), invitation, replaces=replaced)
    job = InvitationEmail(
        to=address,
        merchant_name=merchant.name,
        role=role,
        invitations_url=f"{settings.public_app_url}/invitations",
        has_account=account is not None,
        expires_in_days=INVITATION_LIFETIME.days,
    )
    tx.extend(
        [
            enqueue(job, correlation_id=meta.request_id),
            audited(
                actor_id,
                "merchant.invitation_sent",
                _resource(merchant_id),
                meta,
                invitation_id=invitation.invitation_id,
                role=role,
                replaced=replaced,
            ),
        ]
    ).commit()


def merchant_invitations(merchant_id: str) -> list[Invitation]:
    """The merchant's pending invitations that have not expired, oldest first."""
    now = utc_now()
    return [i for i in repository.pending_of_merchant(merchant_id) if i.open_at(now)]


def revoke(actor_id: str, merchant_id: str, invitation_id: str, meta: RequestMeta) -> None:
    """Withdraw a pending invitation of the merchant (404 if there is none by that id)."""
    invitation = repository.get_invitation(invitation_id)
    if invitation is None or invitation.merchant_id != merchant_id:
        raise NotFound("No such invitation.")
    if not invitation.open_at(utc_now()):
        raise NotFound("No such invitation.")
    tx = repository.close_invitation(Transaction(), invitation, "revoked")
    tx.extend(
        [
            audited(
                actor_id,
                "merchant.invitation_revoked",
                _resource(merchant_id),
                meta,
                invitation_id=invitation_id,
                role=invitation.role,
            )
        ]
    ).commit()


# ---------------------------------------------------------------- the invitee's side


def _caller_address(user_id: str) -> str:
    account = merchant_repository.account_summary(user_id)
    if account is None:
        raise NotFound("No such account.")
    return rules.invited_address(account["email"])


def my_invitations(user_id: str) -> list[Invitation]:
    """The pending, unexpired invitations addressed to the caller's e-mail, oldest first."""
    now = utc_now()
    return [i for i in repository.pending_for(_caller_address(user_id)) if i.open_at(now)]


def accept(user_id: str, invitation_id: str, meta: RequestMeta) -> Member:
    """Make the caller a member with the invited role: the member, the account's
    ``memberships``, the invitation's state and the audit entry commit together."""
    invitation = repository.get_invitation(invitation_id)
    if invitation is None:
        raise NotFound("No such invitation.")
    merchant, current, account = merchant_repository.merchant_and_member(
        invitation.merchant_id, user_id, with_account=True
    )
    if merchant is None or account is None:
        raise NotFound("No such invitation.")
    rules.answerable(invitation, rules.invited_address(account["email"]), utc_now())
    merchant_rules.check_member_change(user_id, current, invitation.role, merchant.owners)
    member = Member(
        invitation.merchant_id,
        user_id,
        invitation.role,
        account["email"],
        account["name"],
        current.added_at if current else rfc3339(utc_now()),
    )
    tx = repository.close_invitation(Transaction(), invitation, "accepted")
    merchant_repository.put_member(tx, member)
    merchant_repository.set_membership(tx, user_id, invitation.merchant_id, invitation.role)
    was_owner = current is not None and current.role == "owner"
    if invitation.role == "owner" and not was_owner:
        merchant_repository.change_owner_count(tx, invitation.merchant_id, +1)
    elif was_owner and invitation.role != "owner":
        merchant_repository.change_owner_count(tx, invitation.merchant_id, -1)
    changes = {
        "invitation_id": invitation_id,
        "user_id": user_id,
        "role": {"from": current.role if current else None, "to": invitation.role},
        "invited_by": invitation.invited_by,
    }
    tx.extend(
        [
            audited(
                user_id,
                "merchant.invitation_accepted",
                _resource(invitation.merchant_id),
                meta,
                **changes,
            )
        ]
    ).commit()
    forget_auth_state(user_id)
    return member


def decline(user_id: str, invitation_id: str, meta: RequestMeta) -> None:
    """Turn an invitation down; the merchant's owners see it leave their list."""
    invitation = rules.answerable(
        repository.get_invitation(invitation_id), _caller_address(user_id), utc_now()
    )
    tx = repository.close_invitation(Transaction(), invitation, "declined")
    tx.extend(
        [
            audited(
                user_id,
                "merchant.invitation_declined",
                _resource(invitation.merchant_id),
                meta,
                invitation_id=invitation_id,
            )
        ]
    ).commit()
