"""Merchants end to end: a customer opens one, the demo admin approves it, its owner runs it
(local runtime only: it needs the seeded admin)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from support.accounts import verified_login
from support.http import call
from support.merchants import MONAS, demo_login, join, new_merchant

pytestmark = pytest.mark.usefixtures("local_only")


@pytest.fixture(scope="module")
def admin_token(api_url: str) -> str:
    return demo_login(api_url, "admin@example.com")


def _ids(reply: Any) -> list[str]:
    assert reply.status == 200, reply.body
    return [m["id"] for m in reply.body["items"]]


def test_merchant_lifecycle_from_opening_to_suspension(api_url: str, admin_token: str) -> None:
    # given a verified customer who opens a merchant
    owner_email, owner = verified_login(api_url)
    owner_token = owner["access_token"]
    city = f"Kota-{uuid.uuid4().hex[:8]}"
    merchant = new_merchant(api_url, owner_token, city)
    mid = merchant["id"]
    assert merchant["status"] == "pending"
    assert merchant["delivery"] == {"base_fee": 8000, "per_km_fee": 2500, "max_distance_km": 15}
    assert merchant["tax_rate"] == "0.11"
    me = call(api_url, "GET", "/v1/me", token=owner_token).body
    assert {"merchant_id": mid, "role": "owner"} in me["memberships"]

    # then it is not listed, and only its members and admins see it
    assert mid not in _ids(call(api_url, "GET", f"/v1/merchants?city={city}"))
    assert call(api_url, "GET", f"/v1/merchants/{mid}").status == 404
    assert call(api_url, "GET", f"/v1/merchants/{mid}", token=owner_token).status == 200
    pending = call(api_url, "GET", "/v1/admin/merchants?status=pending", token=admin_token)
    assert mid in _ids(pending)

    # when the admin activates it, it is listed: everywhere, by city and by distance
    reply = call(
        api_url, "PATCH", f"/v1/admin/merchants/{mid}", {"status": "active"}, token=admin_token
    )
    assert (reply.status, reply.body["status"]) == (200, "active")
    listed = call(api_url, "GET", f"/v1/merchants?city={city.upper()}")
    assert _ids(listed) == [mid]
    assert listed.header("Cache-Control") == "public, max-age=30"
    assert mid in _ids(call(api_url, "GET", "/v1/merchants?limit=100"))
    near = call(api_url, "GET", "/v1/merchants?near=-6.1950,106.8230&limit=100")
    found = next(m for m in near.body["items"] if m["id"] == mid)
    assert 2.0 < found["distance_km"] < 2.5
    distances = [m["distance_km"] for m in near.body["items"]]
    assert distances == sorted(distances)
    far = call(api_url, "GET", "/v1/merchants?near=-6.9175,107.6191&limit=100")  # Bandung
    assert mid not in _ids(far)
    name_word = merchant["name"].split()[-1][:4]
    assert mid in _ids(call(api_url, "GET", f"/v1/merchants?q=sat%20{name_word}"))
    public = call(api_url, "GET", f"/v1/merchants/{mid}")
    assert public.status == 200
    assert public.header("Cache-Control") == "public, max-age=30"

    # the owner invites a manager and a staff member, who accept; the manager edits the
    # profile, staff cannot
    manager_email, manager = verified_login(api_url)
    staff_email, staff = verified_login(api_url)
    for email, login, role in ((manager_email, manager, "manager"), (staff_email, staff, "staff")):
        join(api_url, owner_token, mid, email, login["access_token"], role)
    members = call(api_url, "GET", f"/v1/merchants/{mid}/members", token=owner_token)
    assert [m["role"] for m in members.body["items"]] == ["owner", "manager", "staff"]
    assert owner_email in [m["email"] for m in members.body["items"]]
    edited = call(
        api_url,
        "PATCH",
        f"/v1/merchants/{mid}",
        {"description": "Sate madura.", "is_open": False},
        token=manager["access_token"],
    )
    assert edited.status == 200, edited.body
    assert (edited.body["description"], edited.body["open_now"]) == ("Sate madura.", False)
    denied = call(
        api_url, "PATCH", f"/v1/merchants/{mid}", {"name": "X"}, token=staff["access_token"]
    )
    assert (denied.status, denied.body["code"]) == (403, "forbidden")
    status = call(api_url, "PATCH", f"/v1/merchants/{mid}", {"status": "active"}, token=owner_token)
    assert status.status == 422
    assert call(api_url, "GET", "/v1/merchants?open_now=true&limit=100").status == 200
    assert mid not in _ids(call(api_url, "GET", f"/v1/merchants?city={city}&open_now=true"))

    # the last owner cannot leave; a manager can be removed
    me_id = me["id"]
    last = call(api_url, "DELETE", f"/v1/merchants/{mid}/members/{me_id}", token=owner_token)
    assert (last.status, last.body["code"]) == (409, "conflict")

    # when the admin suspends it, it disappears at once
    reply = call(
        api_url, "PATCH", f"/v1/admin/merchants/{mid}", {"status": "suspended"}, token=admin_token
    )
    assert reply.status == 200
    assert mid not in _ids(call(api_url, "GET", f"/v1/merchants?city={city}"))
    near = call(api_url, "GET", "/v1/merchants?near=-6.1950,106.8230&limit=100")
    assert mid not in _ids(near)
    assert call(api_url, "GET", f"/v1/merchants/{mid}").status == 404
    assert call(api_url, "GET", f"/v1/merchants/{mid}", token=owner_token).status == 200


def test_another_merchants_owner_gets_404_on_everything(api_url: str) -> None:
    _, first = verified_login(api_url)
    _, second = verified_login(api_url)
    mid = new_merchant(api_url, first["access_token"], "Bogor")["id"]
    new_merchant(api_url, second["access_token"], "Bogor")
    stranger = second["access_token"]
    for method, path, body in (
        ("GET", f"/v1/merchants/{mid}", None),
        ("PATCH", f"/v1/merchants/{mid}", {"name": "Mine now"}),
        ("POST", f"/v1/merchants/{mid}/webhook-secret", None),
        ("GET", f"/v1/merchants/{mid}/members", None),
        ("POST", f"/v1/merchants/{mid}/members", {"email": "a@example.com", "role": "owner"}),
        ("DELETE", f"/v1/merchants/{mid}/members/someone", None),
    ):
        reply = call(api_url, method, path, body, token=stranger)
        assert (reply.status, reply.body["code"]) == (404, "not_found"), (method, path)


def test_webhook_url_is_vetted_and_the_secret_is_shown_once(api_url: str) -> None:
    _, owner = verified_login(api_url)
    token = owner["access_token"]
    mid = new_merchant(api_url, token, "Bekasi")["id"]
    metadata = call(
        api_url,
        "PATCH",
        f"/v1/merchants/{mid}",
        {"webhook_url": "https://169.254.169.254/"},
        token=token,
    )
    assert (metadata.status, metadata.body["code"]) == (422, "invalid_webhook_url")
    first = call(api_url, "POST", f"/v1/merchants/{mid}/webhook-secret", token=token)
    assert first.status == 200
    assert first.body["secret"].startswith("whsec_")
    second = call(api_url, "POST", f"/v1/merchants/{mid}/webhook-secret", token=token)
    assert second.body["secret"] != first.body["secret"]
    profile = call(api_url, "GET", f"/v1/merchants/{mid}", token=token)
    assert first.body["secret"] not in str(profile.body)
    assert second.body["secret"] not in str(profile.body)


def test_opening_needs_a_verified_account_and_valid_fields(api_url: str) -> None:
    assert call(api_url, "POST", "/v1/merchants", {"name": "x"}).status == 401
    _, owner = verified_login(api_url)
    token = owner["access_token"]
    body = {
        "name": "Warung",
        "description": "",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. A", "city": "Jakarta", "postal_code": "10160"},
        "location": {"lat": 91, "lon": 0},
        "delivery": {"base_fee": -1, "per_km_fee": 2500, "max_distance_km": 5},
        "tax_rate": 1.5,
    }
    reply = call(api_url, "POST", "/v1/merchants", body, token=token)
    assert reply.status == 422
    fields = {e["field"] for e in reply.body["errors"]}
    assert {"location.lat", "delivery.base_fee", "tax_rate"} <= fields
    hours = {**body, "location": MONAS, "delivery": None, "tax_rate": None}
    hours["opening_hours"] = {"mon": ["22:00-02:00"]}
    reply = call(api_url, "POST", "/v1/merchants", hours, token=token)
    assert (reply.status, reply.body["errors"][0]["field"]) == (422, "opening_hours.mon.0")


def test_the_demo_owner_runs_an_active_merchant(api_url: str) -> None:
    token = demo_login(api_url, "owner@example.com")
    memberships = call(api_url, "GET", "/v1/me", token=token).body["memberships"]
    # The local seed: three merchants in Jakarta (tests/e2e/catalog/test_demo_data.py).
    assert [m["role"] for m in memberships] == ["owner", "owner", "owner"]
    listed = _ids(call(api_url, "GET", "/v1/merchants?city=jakarta&limit=100"))
    for membership in memberships:
        mid = membership["merchant_id"]
        public = call(api_url, "GET", f"/v1/merchants/{mid}")
        assert (public.status, public.body["status"]) == (200, "active")
        assert mid in listed
