"""Invitations end to end: inviting answers the same for every address, nobody joins a
merchant without accepting, and the owner sees and revokes what is pending (local runtime
only: it needs the seeded admin and /_local/mail)."""

from __future__ import annotations

from typing import Any

import pytest
from support.accounts import verified_login
from support.clock import room_in_window
from support.http import call, unique_email, wait_for_mail
from support.merchants import active_merchant, demo_login, new_merchant

pytestmark = pytest.mark.usefixtures("local_only")

DAY_S = 24 * 3600


@pytest.fixture(scope="module")
def admin_token(api_url: str) -> str:
    return demo_login(api_url, "admin@example.com")


def invite(api: str, owner_token: str, mid: str, email: str, role: str = "staff") -> Any:
    return call(
        api,
        "POST",
        f"/v1/merchants/{mid}/members",
        {"email": email, "role": role},
        token=owner_token,
    )


def my_invitations(api: str, token: str) -> list[dict[str, Any]]:
    reply = call(api, "GET", "/v1/me/invitations", token=token)
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


def invitation_to(api: str, token: str, mid: str) -> dict[str, Any]:
    [found] = [i for i in my_invitations(api, token) if i["merchant_id"] == mid]
    return found


def test_an_account_and_an_unknown_address_get_the_same_answer_and_an_e_mail(
    api_url: str, admin_token: str
) -> None:
    # given an active merchant, an existing account and an address nobody registered
    owner_token, mid = active_merchant(api_url, admin_token)
    name = call(api_url, "GET", f"/v1/merchants/{mid}").body["name"]
    known, _ = verified_login(api_url)
    unknown = unique_email("stranger")

    # when the owner invites both
    replies = [invite(api_url, owner_token, mid, email) for email in (known, unknown)]

    # then both answers are identical, with neither an id nor a name
    assert [(r.status, r.body) for r in replies] == [(202, {"status": "invited"})] * 2
    assert replies[0].header("Content-Type") == replies[1].header("Content-Type")
    # and both addresses are e-mailed the merchant's name and a link to the app
    # (the known address has its verification e-mail too)
    expected = ((known, 2, "Sign in with this e-mail address"), (unknown, 1, "Sign up"))
    for email, count, wording in expected:
        mails = wait_for_mail(api_url, email, count=count)
        [mail] = [m for m in mails if name in m["subject"]]
        assert name in mail["text"]
        assert wording in mail["text"]
        assert "/invitations" in mail["text"]


def test_an_invitee_becomes_a_member_only_by_accepting(api_url: str, admin_token: str) -> None:
    owner_token, mid = active_merchant(api_url, admin_token)
    email, login = verified_login(api_url)
    token = login["access_token"]
    assert invite(api_url, owner_token, mid, email.upper(), "manager").status == 202

    invitation = invitation_to(api_url, token, mid)
    assert set(invitation) == {
        "id",
        "merchant_id",
        "merchant_name",
        "role",
        "invited_at",
        "expires_at",
    }
    assert invitation["role"] == "manager"
    # not a member yet: the merchant's member routes do not know the invitee
    members = call(api_url, "GET", f"/v1/merchants/{mid}/members", token=token)
    assert (members.status, members.body["code"]) == (404, "not_found")

    accepted = call(api_url, "POST", f"/v1/invitations/{invitation['id']}/accept", token=token)
    assert (accepted.status, accepted.body) == (200, {"merchant_id": mid, "role": "manager"})
    members = call(api_url, "GET", f"/v1/merchants/{mid}/members", token=token)
    assert members.status == 200
    assert [(m["email"], m["role"]) for m in members.body["items"]][1:] == [(email, "manager")]
    me = call(api_url, "GET", "/v1/me", token=token).body
    assert {"merchant_id": mid, "role": "manager"} in me["memberships"]
    assert my_invitations(api_url, token) == []
    again = call(api_url, "POST", f"/v1/invitations/{invitation['id']}/accept", token=token)
    assert again.status == 404


def test_only_the_invitee_answers_and_a_declined_invitation_is_gone(
    api_url: str, admin_token: str
) -> None:
    owner_token, mid = active_merchant(api_url, admin_token)
    email, login = verified_login(api_url)
    token = login["access_token"]
    _, other = verified_login(api_url)
    invite(api_url, owner_token, mid, email)
    invitation_id = invitation_to(api_url, token, mid)["id"]

    for answer in ("accept", "decline"):
        for stranger in (other["access_token"], owner_token):
            reply = call(
                api_url, "POST", f"/v1/invitations/{invitation_id}/{answer}", token=stranger
            )
            assert (reply.status, reply.body["code"]) == (404, "not_found")

    declined = call(api_url, "POST", f"/v1/invitations/{invitation_id}/decline", token=token)
    assert declined.status == 204
    assert my_invitations(api_url, token) == []
    listed = call(api_url, "GET", f"/v1/merchants/{mid}/invitations", token=owner_token)
    assert listed.body["items"] == []
    late = call(api_url, "POST", f"/v1/invitations/{invitation_id}/accept", token=token)
    assert late.status == 404
    assert call(api_url, "GET", f"/v1/merchants/{mid}/members", token=token).status == 404


def test_the_owner_lists_and_revokes_and_a_revoked_invitation_cannot_be_accepted(
    api_url: str, admin_token: str
) -> None:
    owner_token, mid = active_merchant(api_url, admin_token)
    email, login = verified_login(api_url)
    token = login["access_token"]
    invite(api_url, owner_token, mid, email, "staff")
    invite(api_url, owner_token, mid, email, "manager")  # again: replaces the first

    listed = call(api_url, "GET", f"/v1/merchants/{mid}/invitations", token=owner_token)
    assert listed.status == 200
    [pending] = listed.body["items"]
    assert (pending["email"], pending["role"]) == (email, "manager")
    assert [i["id"] for i in my_invitations(api_url, token)] == [pending["id"]]

    revoked = call(
        api_url, "DELETE", f"/v1/merchants/{mid}/invitations/{pending['id']}", token=owner_token
    )
    assert revoked.status == 204
    accept = call(api_url, "POST", f"/v1/invitations/{pending['id']}/accept", token=token)
    assert (accept.status, accept.body["code"]) == (404, "not_found")
    assert my_invitations(api_url, token) == []
    twice = call(
        api_url, "DELETE", f"/v1/merchants/{mid}/invitations/{pending['id']}", token=owner_token
    )
    assert twice.status == 404
    # only owners see a merchant's invitations
    outsider = call(api_url, "GET", f"/v1/merchants/{mid}/invitations", token=token)
    assert outsider.status == 404


def test_a_pending_merchant_cannot_invite(api_url: str) -> None:
    _, owner = verified_login(api_url)
    mid = new_merchant(api_url, owner["access_token"])["id"]
    refused = invite(api_url, owner["access_token"], mid, unique_email())
    assert (refused.status, refused.body["code"]) == (409, "merchant_not_active")


def test_the_twenty_first_invitation_of_a_merchant_in_a_day_is_429(
    api_url: str, admin_token: str
) -> None:
    room_in_window(DAY_S, needed_s=60)
    owner_token, mid = active_merchant(api_url, admin_token)
    for n in range(20):
        assert invite(api_url, owner_token, mid, unique_email(f"team{n}")).status == 202
    refused = invite(api_url, owner_token, mid, unique_email("one-more"))
    assert (refused.status, refused.body["code"]) == (429, "rate_limited")
    assert 0 < int(refused.header("Retry-After") or 0) <= DAY_S
    listed = call(api_url, "GET", f"/v1/merchants/{mid}/invitations", token=owner_token)
    assert len(listed.body["items"]) == 20
