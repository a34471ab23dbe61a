"""The audit log end to end: an admin reads what a new customer did, through HTTP, with the
seeded demo admin (local runtime only)."""

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


def test_admin_reads_what_a_new_customer_did_newest_first(api_url: str, admin_token: str) -> None:
    # given: a customer signed up, verified the address and signed in
    _, pair = verified_login(api_url)
    me = call(api_url, "GET", "/v1/me", token=pair["access_token"]).body

    # when: the admin reads that person's entries
    page = call(api_url, "GET", f"/v1/admin/audit?actor_id={me['id']}", token=admin_token)

    # then: their actions, newest first, each a user's, with a hashed address
    assert page.status == 200, page.body
    actions = [item["action"] for item in page.body["items"]]
    assert actions[0] == "auth.login_succeeded"
    assert actions[-1] == "user.registered"
    assert "user.email_verified" in actions
    assert all(item["actor"] == {"type": "user", "id": me["id"]} for item in page.body["items"])
    assert all(len(item["ip_hash"]) == 64 for item in page.body["items"])
    times = [item["at"] for item in page.body["items"]]
    assert times == sorted(times, reverse=True)
    # and: with two filters, exactly the one sign-in
    both = call(
        api_url,
        "GET",
        f"/v1/admin/audit?resource=user:{me['id']}&action=auth.login_succeeded",
        token=admin_token,
    )
    assert [item["action"] for item in both.body["items"]] == ["auth.login_succeeded"]


def test_reading_the_log_is_recorded_and_only_admins_may(api_url: str, admin_token: str) -> None:
    admin_id = call(api_url, "GET", "/v1/me", token=admin_token).body["id"]
    first = call(api_url, "GET", "/v1/admin/audit?action=auth.logout", token=admin_token)
    assert first.status == 200

    reads = call(
        api_url,
        "GET",
        f"/v1/admin/audit?actor_id={admin_id}&action=admin.audit.read&limit=5",
        token=admin_token,
    )

    assert reads.status == 200
    latest = reads.body["items"][0]
    assert latest["actor"] == {"type": "admin", "id": admin_id}
    assert latest["changes"]["filters"]["action"] == "auth.logout"
    # and: a customer is refused, and so is nobody
    _, pair = verified_login(api_url)
    assert call(api_url, "GET", "/v1/admin/audit", token=pair["access_token"]).status == 403
    assert call(api_url, "GET", "/v1/admin/audit").status == 401
    bad = call(api_url, "GET", "/v1/admin/audit?action=order.teleported", token=admin_token)
    assert bad.status == 422
