"""Account administration end to end, with the seeded demo admin (local runtime only)."""

from __future__ import annotations

import pytest
from support.accounts import verified_login
from support.http import call

pytestmark = pytest.mark.usefixtures("local_only")

DEMO_PASSWORD = "warung-demo-password"


@pytest.fixture(scope="module")
def admin_token(api_url: str) -> str:
    login = call(
        api_url, "POST", "/v1/auth/login", {"email": "admin@example.com", "password": DEMO_PASSWORD}
    )
    assert login.status == 200, login.body
    return str(login.body["access_token"])


def test_admin_finds_an_account_by_email(api_url: str, admin_token: str) -> None:
    email, _ = verified_login(api_url)
    page = call(api_url, "GET", f"/v1/admin/users?email={email}", token=admin_token)
    assert page.status == 200
    assert [u["email"] for u in page.body["items"]] == [email]
    assert page.body["next_cursor"] is None
    assert "password_hash" not in page.body["items"][0]


def test_admin_lists_admins_and_pages_through_everyone(api_url: str, admin_token: str) -> None:
    admins = call(api_url, "GET", "/v1/admin/users?role=admin", token=admin_token)
    assert "admin@example.com" in [u["email"] for u in admins.body["items"]]
    assert all("admin" in u["roles"] for u in admins.body["items"])
    first = call(api_url, "GET", "/v1/admin/users?limit=2", token=admin_token)
    assert len(first.body["items"]) == 2
    second = call(
        api_url,
        "GET",
        f"/v1/admin/users?limit=2&cursor={first.body['next_cursor']}",
        token=admin_token,
    )
    assert second.status == 200
    assert not {u["id"] for u in first.body["items"]} & {u["id"] for u in second.body["items"]}
    forged = call(api_url, "GET", "/v1/admin/users?limit=2&cursor=Zm9yZ2Vk", token=admin_token)
    assert (forged.status, forged.body["code"]) == (400, "validation_error")


def test_disabled_account_is_locked_out_at_once(api_url: str, admin_token: str) -> None:
    _, pair = verified_login(api_url)
    me = call(api_url, "GET", "/v1/me", token=pair["access_token"]).body
    reply = call(
        api_url, "PATCH", f"/v1/admin/users/{me['id']}", {"disabled": True}, token=admin_token
    )
    assert (reply.status, reply.body["disabled"]) == (200, True)
    assert call(api_url, "GET", "/v1/me", token=pair["access_token"]).status == 401
    assert (
        call(api_url, "POST", "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}).status
        == 401
    )


def test_admin_cannot_remove_their_own_admin_role(api_url: str, admin_token: str) -> None:
    me = call(api_url, "GET", "/v1/me", token=admin_token).body
    reply = call(
        api_url, "PATCH", f"/v1/admin/users/{me['id']}", {"roles": ["customer"]}, token=admin_token
    )
    assert (reply.status, reply.body["code"]) == (409, "conflict")
    assert "admin" in call(api_url, "GET", "/v1/me", token=admin_token).body["roles"]


def test_promotion_takes_effect_and_customers_are_kept_out(api_url: str, admin_token: str) -> None:
    _, pair = verified_login(api_url)
    token = str(pair["access_token"])
    assert call(api_url, "GET", "/v1/admin/users", token=token).status == 403
    me = call(api_url, "GET", "/v1/me", token=token).body
    promoted = call(
        api_url, "PATCH", f"/v1/admin/users/{me['id']}", {"roles": ["admin"]}, token=admin_token
    )
    assert promoted.body["roles"] == ["customer", "admin"]
    assert call(api_url, "GET", "/v1/admin/users", token=token).status == 200


def test_unknown_account_is_404(api_url: str, admin_token: str) -> None:
    reply = call(
        api_url,
        "PATCH",
        "/v1/admin/users/01NOSUCHUSER0000000000000",
        {"disabled": True},
        token=admin_token,
    )
    assert (reply.status, reply.body["code"]) == (404, "not_found")
