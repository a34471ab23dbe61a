"""Invitation rules: addresses as accounts store them, who may invite, who may answer, and
the 7-day life of an invitation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import catalog.rules.invitations
from warung.errors import MerchantNotActive, NotFound
from warung.store import invitations as store
from warung.store.merchants import Merchant

rules = catalog.rules.invitations
MADE = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def invitation(**changes: str) -> store.Invitation:
    base = store.Invitation(
        invitation_id="i1",
        merchant_id="m1",
        merchant_name="Warung Bu Sri",
        email="rina@example.com",
        role="staff",
        invited_by="u1",
        invited_at="2026-11-26T01:00:00Z",
        expires_at="2026-12-03T01:00:00Z",
    )
    return replace(base, **changes)


def merchant(status: str) -> Merchant:
    return Merchant(
        merchant_id="m1",
        name="Warung Bu Sri",
        description="",
        phone="+6281234567890",
        address={"line1": "Jl. Sabang 10", "city": "Jakarta", "postal_code": "10160"},
        lat=Decimal("-6.1754"),
        lon=Decimal("106.8272"),
        created_at="2026-11-26T01:00:00Z",
        updated_at="2026-11-26T01:00:00Z",
        status=status,
    )


def test_an_invited_address_is_compared_as_accounts_store_it() -> None:
    assert rules.invited_address("  Rina@Example.COM ") == "rina@example.com"
    assert (
        rules.invited_address("\uff32\uff29\uff2e\uff21@example.com") == "rina@example.com"
    )  # NFKC


def test_an_invitation_lasts_seven_days() -> None:
    assert store.expires_at(MADE) == MADE + timedelta(days=7)
    made = invitation()
    assert made.open_at(MADE + timedelta(days=7) - timedelta(seconds=1))
    assert not made.open_at(MADE + timedelta(days=7))


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_only_an_active_merchant_invites(status: str) -> None:
    with pytest.raises(MerchantNotActive) as refused:
        rules.check_may_invite(merchant(status))
    assert (refused.value.http_status, refused.value.code) == (409, "merchant_not_active")
    rules.check_may_invite(merchant("active"))


def test_the_invitee_answers_a_pending_unexpired_invitation() -> None:
    assert rules.answerable(invitation(), "rina@example.com", MADE) == invitation()


@pytest.mark.parametrize(
    ("found", "email", "moment"),
    [
        (None, "rina@example.com", MADE),
        (invitation(), "someone@example.com", MADE),
        (invitation(status="accepted"), "rina@example.com", MADE),
        (invitation(status="declined"), "rina@example.com", MADE),
        (invitation(status="revoked"), "rina@example.com", MADE),
        (invitation(), "rina@example.com", MADE + timedelta(days=7)),
    ],
    ids=["unknown", "someone-else", "accepted", "declined", "revoked", "expired"],
)
def test_every_other_case_is_the_same_404(
    found: store.Invitation | None, email: str, moment: datetime
) -> None:
    with pytest.raises(NotFound) as refused:
        rules.answerable(found, email, moment)
    assert refused.value.detail == "No such invitation."


def test_only_a_pending_invitation_is_in_the_invitee_and_merchant_indexes() -> None:
    stored = store.invitation_item(invitation())
    assert (stored["gsi1pk"], stored["gsi2pk"]) == ("INVITEE#rina@example.com", "MINVITES#m1")
    assert stored["gsi1sk"] == "2026-11-26T01:00:00Z#i1"
    assert stored["expires_at_epoch"] == int((MADE + timedelta(days=8)).timestamp())
    assert store.invitation_from(stored) == invitation()
    answered = store.invitation_item(invitation(status="accepted"))
    assert not {"gsi1pk", "gsi2pk"} & set(answered)
