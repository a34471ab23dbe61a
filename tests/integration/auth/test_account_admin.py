"""Account administration: listing by e-mail, by role and all accounts,
newest first with cursors bound to the admin who got them; disabling an account."""

from __future__ import annotations

import pytest
from support.auth_world import PASSWORD, AuthWorld, plain

from auth import repository, service
from warung.errors import BadRequest, Conflict, ValidationFailed
from warung.store.accounts import Account


def ids(accounts: list[Account]) -> list[str]:
    return [a.user_id for a in accounts]


def test_given_an_address_in_any_spelling_when_listed_by_email_then_that_account_only(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)
    target = auth.make_account()
    auth.make_account()
    typed = f"  {target.email.upper()} "

    found, cursor = service.list_accounts(
        email=typed, role=None, limit=20, cursor=None, admin_id=admin.user_id
    )

    assert ids(found) == [target.user_id]
    assert cursor is None
    # and: with role=admin, a customer's address finds nothing; an unknown one neither
    assert service.list_accounts(
        email=target.email, role="admin", limit=20, cursor=None, admin_id=admin.user_id
    ) == ([], None)
    assert service.list_accounts(
        email="nobody-at-all@example.test", role=None, limit=20, cursor=None, admin_id=admin.user_id
    ) == ([], None)


def test_given_a_malformed_address_when_listed_by_email_then_422(auth: AuthWorld) -> None:
    admin = auth.make_account(admin=True)

    with pytest.raises(ValidationFailed) as refused:
        service.list_accounts(
            email="not-an-address", role=None, limit=20, cursor=None, admin_id=admin.user_id
        )

    assert [e.field for e in refused.value.errors] == ["email"]


def test_given_admins_and_customers_when_listed_by_role_admin_then_admins_newest_first(
    auth: AuthWorld,
) -> None:
    first_admin = auth.make_account(admin=True)
    customer = auth.make_account()
    second_admin = auth.make_account(admin=True)

    listed, _ = service.list_accounts(
        email=None, role="admin", limit=100, cursor=None, admin_id=first_admin.user_id
    )

    assert ids(listed)[:2] == [second_admin.user_id, first_admin.user_id]
    assert customer.user_id not in ids(listed)
    assert all("admin" in a.roles for a in listed)

    # when: the second admin loses the role, and the customer gains it
    service.administer(
        first_admin.user_id,
        second_admin.user_id,
        roles=["customer"],
        disabled=None,
        meta=auth.meta("demote"),
    )
    service.administer(
        first_admin.user_id, customer.user_id, roles=["admin"], disabled=None, meta=auth.meta("up")
    )
    listed, _ = service.list_accounts(
        email=None, role="admin", limit=100, cursor=None, admin_id=first_admin.user_id
    )

    # then: the sparse index follows the roles
    assert second_admin.user_id not in ids(listed)
    assert customer.user_id in ids(listed)
    stored = repository.get_account(second_admin.user_id)
    assert stored is not None
    assert stored.roles == frozenset()


def test_given_accounts_when_all_are_listed_then_newest_first_page_by_page(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)
    made = [auth.make_account() for _ in range(3)]

    first, cursor = service.list_accounts(
        email=None, role=None, limit=2, cursor=None, admin_id=admin.user_id
    )
    assert cursor is not None
    second, _ = service.list_accounts(
        email=None, role=None, limit=2, cursor=cursor, admin_id=admin.user_id
    )

    newest_first = [a.user_id for a in reversed(made)]
    assert ids(first) + ids(second)[:1] == newest_first
    assert set(ids(first)).isdisjoint(ids(second))
    # and: the cursor names nothing a client could read as an e-mail address or key
    assert "@" not in cursor
    assert "USER#" not in cursor


def test_given_a_cursor_of_one_admin_when_another_admin_uses_it_then_400(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)
    other_admin = auth.make_account(admin=True)
    auth.make_account()
    _, cursor = service.list_accounts(
        email=None, role=None, limit=1, cursor=None, admin_id=admin.user_id
    )
    assert cursor is not None

    with pytest.raises(BadRequest) as refused:
        service.list_accounts(
            email=None, role=None, limit=1, cursor=cursor, admin_id=other_admin.user_id
        )
    assert refused.value.http_status == 400
    assert [e.field for e in refused.value.errors] == ["cursor"]
    # and: nor in another list of the same admin (role=admin), nor forged
    with pytest.raises(BadRequest):
        service.list_accounts(
            email=None, role="admin", limit=1, cursor=cursor, admin_id=admin.user_id
        )
    forged = cursor[:10] + ("B" if cursor[10] == "A" else "A") + cursor[11:]
    with pytest.raises(BadRequest):
        service.list_accounts(email=None, role=None, limit=1, cursor=forged, admin_id=admin.user_id)


def test_given_the_api_when_another_admin_presents_a_cursor_then_problem_400(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)
    other_admin = auth.make_account(admin=True)
    auth.make_account()
    mine = service.login(admin.email, PASSWORD, auth.meta("login-1")).access_token
    theirs = service.login(other_admin.email, PASSWORD, auth.meta("login-2")).access_token
    status, _, page = auth.invoke("GET", "/v1/admin/users", token=mine, query={"limit": "1"})
    assert status == 200
    assert page["next_cursor"]

    status, _, body = auth.invoke(
        "GET",
        "/v1/admin/users",
        token=theirs,
        query={"limit": "1", "cursor": page["next_cursor"]},
    )

    assert (status, body["code"]) == (400, "validation_error")


def test_given_an_admin_when_disabling_an_account_then_disabled_and_audited_with_the_admin(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)
    customer = auth.make_account()
    token = service.login(admin.email, PASSWORD, auth.meta("login")).access_token

    status, _, body = auth.invoke(
        "PATCH", f"/v1/admin/users/{customer.user_id}", {"disabled": True}, token=token
    )

    assert status == 200
    assert (body["id"], body["disabled"]) == (customer.user_id, True)
    (entry,) = plain(auth.by_resource(f"user:{customer.user_id}"))
    assert (entry["actor_id"], entry["action"]) == (admin.user_id, "admin.user_updated")
    assert entry["changes"] == {"disabled": {"from": False, "to": True}}
    assert entry["actor_type"] == "admin"
    assert entry["ip_hash"] == auth.address_hash(auth.source_ip)


def test_given_an_admin_when_they_disable_themselves_or_drop_their_own_admin_role_then_409(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)

    with pytest.raises(Conflict):
        service.administer(
            admin.user_id, admin.user_id, roles=None, disabled=True, meta=auth.meta("self")
        )
    with pytest.raises(Conflict):
        service.administer(
            admin.user_id, admin.user_id, roles=["customer"], disabled=None, meta=auth.meta("me")
        )

    stored = repository.get_account(admin.user_id)
    assert stored is not None
    assert (stored.disabled, stored.roles) == (False, frozenset({"admin"}))
    assert auth.by_resource(f"user:{admin.user_id}") == []


def test_given_a_customer_when_listing_accounts_then_403(auth: AuthWorld) -> None:
    customer = auth.make_account()
    token = service.login(customer.email, PASSWORD, auth.meta("login")).access_token

    status, _, body = auth.invoke("GET", "/v1/admin/users", token=token)

    assert (status, body["code"]) == (403, "forbidden")
