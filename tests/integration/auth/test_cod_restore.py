"""An admin gives a customer back cash on delivery (or takes it away) with
``PATCH /v1/admin/users/{id}`` ``{"cash_on_delivery": …}``: the customer's standing changes,
audited with the account's other administrative changes; asking for what is already so
changes and audits nothing."""

from __future__ import annotations

from support.audit import audit_entries
from support.auth_world import AuthWorld

from auth import repository, service


def test_given_a_customer_when_an_admin_takes_cod_away_and_gives_it_back_then_both_audited(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)
    customer = auth.make_account()
    assert repository.cod_revoked(customer.user_id) is False

    service.administer(
        admin.user_id,
        customer.user_id,
        roles=None,
        disabled=None,
        cash_on_delivery=False,
        meta=auth.meta("revoke"),
    )
    assert repository.cod_revoked(customer.user_id) is True

    service.administer(
        admin.user_id,
        customer.user_id,
        roles=None,
        disabled=None,
        cash_on_delivery=True,
        meta=auth.meta("restore"),
    )

    assert repository.cod_revoked(customer.user_id) is False
    entries = [
        e for e in audit_entries(f"user:{customer.user_id}") if e["action"] == "admin.user_updated"
    ]
    assert [e["changes"]["cash_on_delivery"] for e in entries] == [
        {"from": True, "to": False},
        {"from": False, "to": True},
    ]
    assert all(e["actor_id"] == admin.user_id for e in entries)


def test_given_a_customer_with_cod_when_restored_again_then_nothing_is_written(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)
    customer = auth.make_account()

    account = service.administer(
        admin.user_id,
        customer.user_id,
        roles=None,
        disabled=None,
        cash_on_delivery=True,
        meta=auth.meta("noop"),
    )

    assert account.user_id == customer.user_id
    assert repository.cod_revoked(customer.user_id) is False
    assert [
        e for e in audit_entries(f"user:{customer.user_id}") if e["action"] == "admin.user_updated"
    ] == []
