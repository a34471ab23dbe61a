"""Merchants for end-to-end tests: the demo accounts and new merchants through the API."""

from __future__ import annotations

import uuid
from typing import Any

from support.accounts import verified_login
from support.http import call

DEMO_PASSWORD = "warung-demo-password"
# The demo merchant open around the clock: the one to order from at any hour. Tests never
# pick a demo merchant by id (ids are time-ordered) or rely on another one's hours.
ALWAYS_OPEN_DEMO_MERCHANT = "Kedai Pak Harjo"
MONAS = {"lat": -6.1754, "lon": 106.8272}


def demo_login(api: str, email: str) -> str:
    """An access token of a seeded demo account (local runtime only)."""
    reply = call(api, "POST", "/v1/auth/login", {"email": email, "password": DEMO_PASSWORD})
    assert reply.status == 200, reply.body
    return str(reply.body["access_token"])


def demo_merchant_id(api: str, owner_token: str, name: str = ALWAYS_OPEN_DEMO_MERCHANT) -> str:
    """The id of the demo owner's merchant called ``name`` (local runtime only)."""
    memberships = call(api, "GET", "/v1/me", token=owner_token).body["memberships"]
    for membership in memberships:
        merchant = call(api, "GET", f"/v1/merchants/{membership['merchant_id']}").body
        if merchant["name"] == name:
            return str(merchant["id"])
    raise AssertionError(f"the demo owner has no merchant called {name!r}")


def new_merchant(api: str, token: str, city: str = "Jakarta", **extra: Any) -> dict[str, Any]:
    """A merchant opened by the holder of ``token`` (status ``pending``)."""
    body = {
        "name": f"Warung Sate {uuid.uuid4().hex[:6]}",
        "description": "Sate ayam dan kambing.",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. Sabang No. 10", "city": city, "postal_code": "10160"},
        "location": MONAS,
        **extra,
    }
    reply = call(api, "POST", "/v1/merchants", body, token=token)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def activate(api: str, admin_token: str, merchant_id: str, status: str = "active") -> None:
    """An admin sets the merchant's status."""
    reply = call(
        api, "PATCH", f"/v1/admin/merchants/{merchant_id}", {"status": status}, token=admin_token
    )
    assert (reply.status, reply.body["status"]) == (200, status), reply.body


def active_merchant(api: str, admin_token: str, **extra: Any) -> tuple[str, str]:
    """A new verified owner with an approved merchant: (owner's token, merchant id)."""
    _, owner = verified_login(api)
    token = str(owner["access_token"])
    merchant_id = str(new_merchant(api, token, **extra)["id"])
    activate(api, admin_token, merchant_id)
    return token, merchant_id


def join(api: str, owner_token: str, merchant_id: str, email: str, token: str, role: str) -> None:
    """The holder of ``token`` (whose verified address is ``email``) joins the active merchant
    with ``role``: the owner invites the address, the invitee accepts."""
    invited = call(
        api,
        "POST",
        f"/v1/merchants/{merchant_id}/members",
        {"email": email, "role": role},
        token=owner_token,
    )
    assert (invited.status, invited.body) == (202, {"status": "invited"}), invited.body
    mine = call(api, "GET", "/v1/me/invitations", token=token)
    assert mine.status == 200, mine.body
    [invitation] = [i for i in mine.body["items"] if i["merchant_id"] == merchant_id]
    accepted = call(api, "POST", f"/v1/invitations/{invitation['id']}/accept", token=token)
    assert (accepted.status, accepted.body) == (
        200,
        {"merchant_id": merchant_id, "role": role},
    ), accepted.body
