"""The catalog's merchant use cases against the emulation's tables (created from the real
template, under a stage of their own): what each change writes, and the index entries that
appear and disappear with a merchant's status and location."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.audit import audit_entries
from support.stacks import new_account, provision_stage, reset_function_caches, run_as

import catalog.repository.merchants
import catalog.rules.geo
import catalog.rules.merchants
import catalog.service.invitations
import catalog.service.merchants
from warung.auth import Caller
from warung.context import RequestMeta
from warung.dynamo import Transaction, dynamodb_client, from_item, to_item
from warung.errors import Conflict, NotFound
from warung.ids import new_id
from warung.settings import get_settings

ROOT = Path(__file__).resolve().parents[3]

STAGE = "catalogit"
MONAS = {"lat": -6.1754, "lon": 106.8272}


@pytest.fixture(scope="module")
def catalog_stack(app_stack: Any) -> Any:
    return provision_stage(app_stack.endpoint_url, STAGE)


@pytest.fixture
def world(app_stack: Any, catalog_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    run_as(catalog_stack, "CatalogFunction", app_stack.endpoint_url, monkeypatch)
    yield
    reset_function_caches(app_stack.endpoint_url)


def meta() -> RequestMeta:
    return RequestMeta(f"req-{uuid.uuid4().hex[:8]}", "203.0.113.9", "catalog-it/1.0")


def account() -> Any:
    return new_account()


def item(pk: str, sk: str) -> dict[str, Any] | None:
    response = dynamodb_client().get_item(
        TableName=get_settings().table_name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True
    )
    return from_item(response["Item"]) if "Item" in response else None


def stored_item(pk: str, sk: str) -> dict[str, Any]:
    """The item at ``pk``/``sk``, which must be there."""
    found = item(pk, sk)
    assert found is not None, (pk, sk)
    return found


def open_one(owner_id: str, city: str = "Jakarta", **extra: Any) -> Any:
    body = {
        "name": "Warung Bu Sri",
        "description": "Gudeg",
        "phone": "+6281234567890",
        "address": {"line1": "Jl. Sabang 10", "city": city, "postal_code": "10160"},
        "location": MONAS,
        **extra,
    }
    return catalog.service.merchants.open_merchant(owner_id, body, meta())


def join(owner_id: str, mid: str, member: Any, role: str) -> Any:
    """``member`` joins the (active) merchant with ``role``: invited, then accepting."""
    catalog.service.invitations.invite(owner_id, mid, member.email, role, meta())
    [invitation] = [
        found
        for found in catalog.service.invitations.my_invitations(member.user_id)
        if found.merchant_id == mid
    ]
    return catalog.service.invitations.accept(member.user_id, invitation.invitation_id, meta())


def caller(user_id: str, memberships: dict[str, str], admin: bool = False) -> Caller:
    roles = frozenset({"customer", "admin"} if admin else {"customer"})
    return Caller(user_id, "s", roles, True, memberships)


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """The DynamoDB operations made inside the block, in order."""
    made: list[str] = []

    def record(model: Any, **_: Any) -> None:
        made.append(model.name)

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", record, unique_id="catalog-it-calls")
    try:
        yield made
    finally:
        events.unregister("before-call.dynamodb", unique_id="catalog-it-calls")


def audit_actions(merchant_id: str) -> list[str]:
    return sorted(entry["action"] for entry in audit_entries(f"merchant:{merchant_id}"))


@pytest.mark.usefixtures("world")
def test_opening_writes_the_merchant_its_owner_the_membership_and_an_audit_entry() -> None:
    owner = account()
    merchant = open_one(
        owner.user_id,
        delivery={"base_fee": 5000, "per_km_fee": 0, "max_distance_km": Decimal("7.5")},
    )
    mid = merchant.merchant_id
    stored = item(f"MERCHANT#{mid}", "PROFILE")
    assert stored is not None
    assert (stored["status"], stored["gsi1pk"], stored["tax_rate"]) == (
        "pending",
        "MSTATUS#pending",
        "0.11",
    )
    assert "gsi2pk" not in stored  # not listed by city until active
    assert stored["max_distance_km"] == Decimal("7.5")
    assert stored_item(f"MERCHANT#{mid}", f"MEMBER#{owner.user_id}")["role"] == "owner"
    assert stored_item(f"USER#{owner.user_id}", "PROFILE")["memberships"] == {mid: "owner"}
    assert audit_actions(mid) == ["merchant.created"]


@pytest.mark.usefixtures("world")
def test_activation_indexes_and_suspension_unindexes_in_one_step(clock: ModuleType) -> None:
    owner, admin = account(), account()
    city = f"Kota {uuid.uuid4().hex[:6]}"
    mid = open_one(owner.user_id, city).merchant_id
    catalog.service.merchants.change_status(admin.user_id, mid, "active", meta())
    cells = catalog.rules.geo.covering_cells(MONAS["lat"], MONAS["lon"], 15.0)
    assert cells
    assert all(item(f"GEO#{cell}", f"MERCHANT#{mid}") for cell in cells)
    listed, _ = catalog.service.merchants.public_list(
        q=None, city=city.lower(), near=None, open_now=False, limit=10, cursor=None
    )
    assert [m.merchant_id for m, _ in listed] == [mid]
    near, _ = catalog.service.merchants.public_list(
        q="bu sr", city=None, near="-6.1950,106.8230", open_now=False, limit=100, cursor=None
    )
    assert mid in [m.merchant_id for m, _ in near]

    catalog.service.merchants.change_status(admin.user_id, mid, "suspended", meta())
    assert not any(item(f"GEO#{cell}", f"MERCHANT#{mid}") for cell in cells)
    # the city's list is the container's cached page for up to the TTL (decision 0034)
    clock.advance(get_settings().read_cache_ttl_seconds)
    listed, _ = catalog.service.merchants.public_list(
        q=None, city=city, near=None, open_now=False, limit=10, cursor=None
    )
    assert listed == []
    assert audit_actions(mid) == [
        "admin.merchant_status_changed",
        "admin.merchant_status_changed",
        "merchant.created",
    ]


@pytest.mark.usefixtures("world")
def test_moving_an_active_merchant_moves_its_geo_entries() -> None:
    owner, admin = account(), account()
    mid = open_one(owner.user_id).merchant_id
    catalog.service.merchants.change_status(admin.user_id, mid, "active", meta())
    before = catalog.rules.geo.covering_cells(MONAS["lat"], MONAS["lon"], 15.0)
    bandung = {"lat": -6.9175, "lon": 107.6191}
    updated = catalog.service.merchants.update_merchant(
        caller(owner.user_id, {mid: "owner"}),
        mid,
        {"location": bandung, "delivery": {"max_distance_km": Decimal(5)}},
        meta(),
    )
    assert updated.lat == Decimal("-6.9175")
    after = catalog.rules.geo.covering_cells(bandung["lat"], bandung["lon"], 5.0)
    assert all(item(f"GEO#{cell}", f"MERCHANT#{mid}") for cell in after)
    assert not any(item(f"GEO#{cell}", f"MERCHANT#{mid}") for cell in before - after)


@pytest.mark.usefixtures("world")
def test_a_write_based_on_a_stale_read_is_409() -> None:
    owner = account()
    mid = open_one(owner.user_id).merchant_id
    read = catalog.repository.merchants.get_merchant(mid)
    assert read is not None
    merchant, version = read
    catalog.service.merchants.update_merchant(
        caller(owner.user_id, {mid: "owner"}), mid, {"name": "Baru"}, meta()
    )
    tx = catalog.repository.merchants.update_merchant(
        Transaction(), merchant, version, changed=["name"]
    )
    with pytest.raises(Conflict):
        tx.commit()


@pytest.mark.usefixtures("world")
def test_members_and_the_last_owner_rule_hold_in_the_accounts_too() -> None:
    first, second = account(), account()
    mid = open_one(first.user_id).merchant_id
    catalog.service.merchants.change_status("admin", mid, "active", meta())
    join(first.user_id, mid, second, "manager")
    assert stored_item(f"USER#{second.user_id}", "PROFILE")["memberships"] == {mid: "manager"}
    with pytest.raises(Conflict):
        catalog.service.merchants.remove_member(first.user_id, mid, first.user_id, meta())
    join(first.user_id, mid, second, "owner")
    catalog.service.merchants.remove_member(second.user_id, mid, first.user_id, meta())
    assert stored_item(f"USER#{first.user_id}", "PROFILE")["memberships"] == {}
    assert [m.user_id for m in catalog.service.merchants.members(mid)] == [second.user_id]
    assert stored_item(f"MERCHANT#{mid}", "PROFILE")["owners"] == 1
    assert "merchant.member_removed" in audit_actions(mid)


@pytest.mark.usefixtures("world")
def test_the_webhook_secret_reaches_the_workers_record_only() -> None:
    owner = account()
    mid = open_one(owner.user_id).merchant_id
    secret = catalog.service.merchants.rotate_webhook_secret(owner.user_id, mid, meta())
    assert stored_item(f"MERCHANT#{mid}", "WEBHOOK")["secret"] == secret
    assert secret not in str(item(f"MERCHANT#{mid}", "PROFILE"))
    assert secret not in str(audit_entries(f"merchant:{mid}"))


@pytest.mark.usefixtures("world")
def test_lists_page_with_signed_cursors_that_belong_to_one_list() -> None:
    from warung.errors import BadRequest

    owner, admin = account(), account()
    city = f"Kota {uuid.uuid4().hex[:6]}"
    opened = [open_one(owner.user_id, city).merchant_id for _ in range(3)]
    for mid in opened:
        catalog.service.merchants.change_status(admin.user_id, mid, "active", meta())

    def page(cursor: str | None) -> tuple[list[str], str | None]:
        listed, next_cursor = catalog.service.merchants.public_list(
            q=None, city=city, near=None, open_now=False, limit=2, cursor=cursor
        )
        return [m.merchant_id for m, _ in listed], next_cursor

    first, cursor = page(None)
    assert first == opened[::-1][:2]  # newest first
    second, _ = page(cursor)
    assert second == opened[:1]
    with pytest.raises(BadRequest):
        catalog.service.merchants.public_list(
            q=None, city="Bogor", near=None, open_now=False, limit=2, cursor=cursor
        )
    near_first, near_cursor = catalog.service.merchants.public_list(
        q=None, city=city, near="-6.1754,106.8272", open_now=False, limit=2, cursor=None
    )
    assert len(near_first) == 2
    assert near_cursor is not None
    near_rest, end = catalog.service.merchants.public_list(
        q=None, city=city, near="-6.1754,106.8272", open_now=False, limit=2, cursor=near_cursor
    )
    assert {m.merchant_id for m, _ in near_first + near_rest} == set(opened)
    assert end is None


@pytest.mark.usefixtures("world")
def test_member_reads_are_one_round_trip_each_and_404s_stay_the_same() -> None:
    first, second = account(), account()
    mid = open_one(first.user_id).merchant_id
    catalog.service.merchants.rotate_webhook_secret(
        first.user_id, mid, meta()
    )  # a WEBHOOK item too

    catalog.service.merchants.change_status("admin", mid, "active", meta())
    added = join(first.user_id, mid, second, "staff")
    assert (added.user_id, added.role, added.email) == (second.user_id, "staff", second.email)

    with dynamodb_calls() as calls:
        listed = catalog.service.merchants.members(mid)
    assert [(m.user_id, m.role) for m in listed] == [
        (first.user_id, "owner"),
        (second.user_id, "staff"),
    ]
    assert calls == ["Query"]

    with dynamodb_calls() as calls:
        catalog.service.merchants.remove_member(first.user_id, mid, second.user_id, meta())
    assert calls == ["BatchGetItem", "TransactWriteItems"]
    assert item(f"MERCHANT#{mid}", f"MEMBER#{second.user_id}") is None
    assert stored_item(f"USER#{second.user_id}", "PROFILE")["memberships"] == {}

    unknown = new_id()
    for attempt in (
        lambda: catalog.service.merchants.members(unknown),
        lambda: catalog.service.invitations.invite(
            first.user_id, unknown, second.email, "staff", meta()
        ),
        lambda: catalog.service.merchants.remove_member(
            first.user_id, unknown, second.user_id, meta()
        ),
        lambda: catalog.service.merchants.rotate_webhook_secret(first.user_id, unknown, meta()),
    ):
        with pytest.raises(NotFound) as raised:
            attempt()
        assert raised.value.detail == "No such merchant."
    with pytest.raises(NotFound) as raised:
        catalog.service.merchants.remove_member(first.user_id, mid, second.user_id, meta())
    assert raised.value.detail == "No such member."
    assert item(f"MERCHANT#{unknown}", "WEBHOOK") is None  # a refused rotation writes nothing
    assert audit_actions(unknown) == []


@pytest.mark.usefixtures("world")
def test_rotating_the_webhook_secret_is_one_transaction_and_reads_nothing() -> None:
    owner = account()
    mid = open_one(owner.user_id).merchant_id
    with dynamodb_calls() as calls:
        secret = catalog.service.merchants.rotate_webhook_secret(owner.user_id, mid, meta())
    assert calls == ["TransactWriteItems"]
    assert stored_item(f"MERCHANT#{mid}", "WEBHOOK")["secret"] == secret
