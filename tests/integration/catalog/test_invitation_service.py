"""Invitations against the emulation's tables: what inviting writes (the same whether or not
the address has an account), the invitee's answers, the owner's list and revocation, the
7-day expiry with the clock moved, and the daily limits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from support.audit import audit_actions
from support.stacks import new_account, provision_stage, reset_function_caches, run_as
from support.whole_models import whole_dynamodb_client

import catalog.repository.invitations
import catalog.service.invitations
import catalog.service.merchants
from warung.context import RequestMeta
from warung.dynamo import dynamodb_client, from_item, to_item
from warung.errors import Conflict, MerchantNotActive, NotFound, RateLimited
from warung.settings import get_settings

STAGE = "inviteit"
DAY_S = 24 * 3600


@pytest.fixture(scope="module")
def invitation_stack(app_stack: Any) -> Any:
    return provision_stage(app_stack.endpoint_url, STAGE)


@pytest.fixture(autouse=True)
def world(app_stack: Any, invitation_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    run_as(invitation_stack, "CatalogFunction", app_stack.endpoint_url, monkeypatch)
    yield
    reset_function_caches(app_stack.endpoint_url)


def meta() -> RequestMeta:
    return RequestMeta(f"req-{uuid.uuid4().hex[:8]}", "203.0.113.9", "invite-it/1.0")


def item(pk: str, sk: str) -> dict[str, Any] | None:
    response = dynamodb_client().get_item(
        TableName=get_settings().table_name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True
    )
    return from_item(response["Item"]) if "Item" in response else None


def outbox_jobs(correlation_id: str) -> list[dict[str, Any]]:
    # A test may look at the whole (small, private) table; request paths never Scan.
    pages = (
        whole_dynamodb_client()
        .get_paginator("scan")
        .paginate(
            TableName=get_settings().table_name,
            FilterExpression="begins_with(pk, :outbox) AND correlation_id = :cid",
            ExpressionAttributeValues={":outbox": {"S": "OUTBOX#"}, ":cid": {"S": correlation_id}},
        )
    )
    return [from_item(found) for page in pages for found in page["Items"]]


def active_merchant(owner_id: str, name: str = "Warung Bu Sri") -> str:
    body = {
        "name": name,
        "description": "Gudeg",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. Sabang 10", "city": "Jakarta", "postal_code": "10160"},
        "location": {"lat": -6.1754, "lon": 106.8272},
    }
    merchant = catalog.service.merchants.open_merchant(owner_id, body, meta())
    catalog.service.merchants.change_status("admin", merchant.merchant_id, "active", meta())
    return merchant.merchant_id


def pending_id(user_id: str, mid: str) -> str:
    [found] = [
        i for i in catalog.service.invitations.my_invitations(user_id) if i.merchant_id == mid
    ]
    return found.invitation_id


def test_inviting_an_account_and_a_stranger_writes_the_same_and_e_mails_both() -> None:
    owner, invitee = new_account(), new_account("Rina")
    mid = active_merchant(owner.user_id, "Warung Bu Tini")
    stranger = f"Nobody-{uuid.uuid4().hex[:8]}@Example.test"
    sent = {}
    for address in (invitee.email, stranger):
        request = meta()
        catalog.service.invitations.invite(owner.user_id, mid, address, "staff", request)
        [job] = outbox_jobs(request.request_id)
        sent[address] = job["payload"]
    # the e-mail: the merchant's name, the role and the app's link, nothing the owner wrote
    assert sent[invitee.email] == {
        "to": invitee.email,
        "merchant_name": "Warung Bu Tini",
        "role": "staff",
        "invitations_url": "http://localhost:5173/invitations",
        "has_account": True,
        "expires_in_days": 7,
    }
    assert sent[stranger]["to"] == stranger.lower()
    assert sent[stranger]["has_account"] is False
    # no name either way: the address may not be the account holder's until it is verified
    assert "name" not in sent[invitee.email]
    assert "name" not in sent[stranger]
    listed = catalog.service.invitations.merchant_invitations(mid)
    assert sorted(i.email for i in listed) == sorted([invitee.email, stranger.lower()])
    # nobody is a member before accepting
    assert [m.user_id for m in catalog.service.merchants.members(mid)] == [owner.user_id]
    stored = item(f"USER#{invitee.user_id}", "PROFILE")
    assert stored is not None
    assert stored["memberships"] == {}
    assert audit_actions(f"merchant:{mid}").count("merchant.invitation_sent") == 2


def test_inviting_an_address_again_replaces_its_pending_invitation() -> None:
    owner, invitee = new_account(), new_account()
    mid = active_merchant(owner.user_id)
    catalog.service.invitations.invite(owner.user_id, mid, invitee.email, "staff", meta())
    first = pending_id(invitee.user_id, mid)
    catalog.service.invitations.invite(owner.user_id, mid, invitee.email.upper(), "manager", meta())
    [again] = catalog.service.invitations.my_invitations(invitee.user_id)
    assert (again.role, again.invitation_id != first) == ("manager", True)
    assert item(f"INVITATION#{first}", "INVITATION") is None
    assert [i.invitation_id for i in catalog.service.invitations.merchant_invitations(mid)] == [
        again.invitation_id
    ]
    with pytest.raises(NotFound):
        catalog.service.invitations.accept(invitee.user_id, first, meta())


def test_a_pending_merchant_cannot_invite() -> None:
    owner = new_account()
    body = {
        "name": "Belum",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. Sabang 10", "city": "Jakarta", "postal_code": "10160"},
        "location": {"lat": -6.1754, "lon": 106.8272},
    }
    mid = catalog.service.merchants.open_merchant(owner.user_id, body, meta()).merchant_id
    request = meta()
    with pytest.raises(MerchantNotActive):
        catalog.service.invitations.invite(owner.user_id, mid, "a@example.test", "staff", request)
    assert outbox_jobs(request.request_id) == []
    assert catalog.service.invitations.merchant_invitations(mid) == []


def test_accepting_makes_a_member_in_one_transaction_with_the_invitation_and_its_audit() -> None:
    owner, invitee = new_account(), new_account("Rina")
    mid = active_merchant(owner.user_id)
    catalog.service.invitations.invite(owner.user_id, mid, invitee.email, "manager", meta())
    invitation_id = pending_id(invitee.user_id, mid)

    member = catalog.service.invitations.accept(invitee.user_id, invitation_id, meta())

    assert (member.user_id, member.role, member.name) == (invitee.user_id, "manager", "Rina")
    account = item(f"USER#{invitee.user_id}", "PROFILE")
    assert account is not None
    assert account["memberships"] == {mid: "manager"}
    stored = item(f"INVITATION#{invitation_id}", "INVITATION")
    assert stored is not None
    assert stored["status"] == "accepted"
    assert "gsi1pk" not in stored
    assert "gsi2pk" not in stored
    assert item(f"MERCHANT#{mid}", f"INVITE#{invitee.email}") is None
    assert catalog.service.invitations.my_invitations(invitee.user_id) == []
    assert catalog.service.invitations.merchant_invitations(mid) == []
    assert "merchant.invitation_accepted" in audit_actions(f"merchant:{mid}")
    with pytest.raises(NotFound):  # once only
        catalog.service.invitations.accept(invitee.user_id, invitation_id, meta())


def test_only_the_invitee_may_answer_and_a_declined_or_revoked_one_is_gone() -> None:
    owner, invitee, other = new_account(), new_account(), new_account()
    mid = active_merchant(owner.user_id)
    catalog.service.invitations.invite(owner.user_id, mid, invitee.email, "staff", meta())
    invitation_id = pending_id(invitee.user_id, mid)
    for answer in (catalog.service.invitations.accept, catalog.service.invitations.decline):
        with pytest.raises(NotFound):
            answer(other.user_id, invitation_id, meta())
        with pytest.raises(NotFound):
            answer(owner.user_id, invitation_id, meta())
    catalog.service.invitations.decline(invitee.user_id, invitation_id, meta())
    with pytest.raises(NotFound):
        catalog.service.invitations.accept(invitee.user_id, invitation_id, meta())

    catalog.service.invitations.invite(owner.user_id, mid, invitee.email, "staff", meta())
    revoked = pending_id(invitee.user_id, mid)
    with pytest.raises(NotFound):  # another merchant's id path
        catalog.service.invitations.revoke(owner.user_id, "elsewhere", revoked, meta())
    catalog.service.invitations.revoke(owner.user_id, mid, revoked, meta())
    with pytest.raises(NotFound):
        catalog.service.invitations.accept(invitee.user_id, revoked, meta())
    assert catalog.service.invitations.merchant_invitations(mid) == []
    actions = audit_actions(f"merchant:{mid}")
    assert {"merchant.invitation_declined", "merchant.invitation_revoked"} <= set(actions)
    assert "merchant.invitation_accepted" not in actions


def test_an_invitation_expires_seven_days_after_it_was_made(clock: ModuleType) -> None:
    owner, invitee = new_account(), new_account()
    mid = active_merchant(owner.user_id)
    catalog.service.invitations.invite(owner.user_id, mid, invitee.email, "staff", meta())
    invitation_id = pending_id(invitee.user_id, mid)
    clock.advance(7 * DAY_S - 1)
    assert [i.invitation_id for i in catalog.service.invitations.my_invitations(invitee.user_id)]
    clock.advance(1)
    assert catalog.service.invitations.my_invitations(invitee.user_id) == []
    assert catalog.service.invitations.merchant_invitations(mid) == []
    with pytest.raises(NotFound):
        catalog.service.invitations.accept(invitee.user_id, invitation_id, meta())
    assert item(f"INVITATION#{invitation_id}", "INVITATION") is not None  # TTL has not run
    # a new invitation replaces the expired one
    catalog.service.invitations.invite(owner.user_id, mid, invitee.email, "staff", meta())
    fresh = pending_id(invitee.user_id, mid)
    assert catalog.service.invitations.accept(invitee.user_id, fresh, meta()).role == "staff"


def test_a_merchant_invites_twenty_addresses_a_day(clock: ModuleType) -> None:
    clock.freeze(clock.epoch_s() - clock.epoch_s() % DAY_S + 3600)  # 01:00 UTC, a day ahead
    owner = new_account()
    mid = active_merchant(owner.user_id)
    for n in range(20):
        catalog.service.invitations.invite(
            owner.user_id, mid, f"m{n}@example.test", "staff", meta()
        )
    request = meta()
    with pytest.raises(RateLimited) as refused:
        catalog.service.invitations.invite(owner.user_id, mid, "m20@example.test", "staff", request)
    assert refused.value.retry_after == 23 * 3600
    assert outbox_jobs(request.request_id) == []
    clock.advance(23 * 3600)
    catalog.service.invitations.invite(owner.user_id, mid, "m20@example.test", "staff", meta())


def test_an_owner_invites_fifty_addresses_a_day_across_merchants(clock: ModuleType) -> None:
    clock.freeze(clock.epoch_s() - clock.epoch_s() % DAY_S + 3600)
    owner = new_account()
    merchants = [active_merchant(owner.user_id) for _ in range(3)]
    for n in range(50):
        mid = merchants[n // 20]
        catalog.service.invitations.invite(
            owner.user_id, mid, f"o{n}@example.test", "staff", meta()
        )
    with pytest.raises(RateLimited):
        catalog.service.invitations.invite(
            owner.user_id, merchants[2], "o50@example.test", "staff", meta()
        )
    clock.advance(23 * 3600)  # the next day
    catalog.service.invitations.invite(
        owner.user_id, merchants[2], "o50@example.test", "staff", meta()
    )


def test_a_last_owner_invited_to_a_lesser_role_cannot_accept_it() -> None:
    owner = new_account()
    mid = active_merchant(owner.user_id)
    catalog.service.invitations.invite(owner.user_id, mid, owner.email, "staff", meta())
    with pytest.raises(Conflict):
        catalog.service.invitations.accept(owner.user_id, pending_id(owner.user_id, mid), meta())
    [still] = catalog.service.merchants.members(mid)
    assert still.role == "owner"
