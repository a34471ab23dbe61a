"""Merchant rules: defaults, opening hours, visibility, who may change what, last owner."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

import catalog.rules.merchants
from warung.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from warung.store import merchants as store

domain = catalog.rules.merchants


def merchant(**changes: Any) -> store.Merchant:
    base = store.Merchant(
        merchant_id="m1",
        name="Warung Bu Sri",
        description="",
        phone="+6281234567890",
        address={"line1": "Jl. Sabang 10", "city": "Jakarta", "postal_code": "10160"},
        lat=Decimal("-6.1754"),
        lon=Decimal("106.8272"),
        created_at="2026-11-26T01:00:00Z",
        updated_at="2026-11-26T01:00:00Z",
    )
    return replace(base, **changes)


def test_a_new_merchant_is_pending_with_the_spec_defaults() -> None:
    m = merchant()
    assert m.status == "pending"
    assert (m.delivery.base_fee, m.delivery.per_km_fee) == (8000, 2500)
    assert m.delivery.max_distance_km == Decimal(15)
    assert m.tax_rate == Decimal("0.11")
    assert isinstance(m.tax_rate, Decimal)


def test_opening_hours_accept_weekday_intervals_in_jakarta_time() -> None:
    hours = {"mon": ["08:00-14:00", "17:00-24:00"], "sat": []}
    assert domain.check_opening_hours(hours) == hours


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"monday": ["08:00-10:00"]}, "opening_hours.monday"),
        ({"mon": ["22:00-02:00"]}, "opening_hours.mon.0"),
        ({"tue": ["8:00-10:00"]}, "opening_hours.tue.0"),
        ({"wed": ["10:00-10:00"]}, "opening_hours.wed.0"),
        ({"thu": ["10:00-24:30"]}, "opening_hours.thu.0"),
    ],
)
def test_malformed_opening_hours_are_422_on_the_field(
    hours: dict[str, list[str]], field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        domain.check_opening_hours(hours)
    assert [e.field for e in raised.value.errors] == [field]


def test_open_now_follows_the_switch_and_the_hours_in_utc_plus_7() -> None:
    m = merchant(opening_hours={"thu": ["08:00-14:00"]})
    # Thursday 2026-11-26 01:30 UTC is 08:30 in Jakarta.
    assert domain.open_at(m, datetime(2026, 11, 26, 1, 30, tzinfo=UTC))
    assert not domain.open_at(m, datetime(2026, 11, 26, 0, 30, tzinfo=UTC))  # 07:30
    assert not domain.open_at(m, datetime(2026, 11, 26, 7, 0, tzinfo=UTC))  # 14:00, closed
    assert not domain.open_at(replace(m, is_open=False), datetime(2026, 11, 26, 1, 30, tzinfo=UTC))
    assert domain.open_at(merchant(), datetime(2026, 11, 26, 20, 0, tzinfo=UTC))  # no hours


def test_only_active_merchants_are_public() -> None:
    assert domain.can_see(merchant(status="active"), None, False)
    for status in ("pending", "suspended"):
        assert not domain.can_see(merchant(status=status), None, False)
        assert domain.can_see(merchant(status=status), "staff", False)
        assert domain.can_see(merchant(status=status), None, True)


def test_owners_managers_and_admins_edit_staff_do_not() -> None:
    for role, is_admin in (("owner", False), ("manager", False), (None, True)):
        domain.may_edit(role, is_admin)
    with pytest.raises(Forbidden):
        domain.may_edit("staff", False)


def test_status_changes_are_activate_and_suspend_only() -> None:
    assert domain.check_status_change(merchant(), "active")
    assert not domain.check_status_change(merchant(status="active"), "active")
    with pytest.raises(InvalidTransition):
        domain.check_status_change(merchant(status="active"), "pending")


def test_the_last_owner_cannot_leave_or_step_down() -> None:
    owner = store.Member("m1", "u1", "owner", "a@example.com", "A", "2026-11-26T01:00:00Z")
    with pytest.raises(Conflict):
        domain.check_member_change("u1", owner, None, owners=1)
    with pytest.raises(Conflict):
        domain.check_member_change("u1", owner, "manager", owners=1)
    domain.check_member_change("u1", owner, None, owners=2)
    domain.check_member_change("u1", None, "staff", owners=1)


def test_city_keys_ignore_case_accents_and_spacing() -> None:
    assert store.city_key("  Jakarta  Pusat ") == store.city_key("JAKARTA pusat")
    assert store.city_key("Bogór") == "bogor"


def test_webhook_secrets_are_prefixed_and_unguessable() -> None:
    first, second = domain.new_webhook_secret(), domain.new_webhook_secret()
    assert first.startswith("whsec_")
    assert len(first) > 40
    assert first != second


def test_members_of_any_role_and_admins_are_insiders_others_are_not() -> None:
    for role in domain.MEMBER_ROLES:
        assert domain.is_insider(role, False)
    assert domain.is_insider(None, True)
    assert not domain.is_insider(None, False)


def test_only_anonymous_reads_of_public_things_are_cacheable() -> None:
    assert domain.cache_control(public=True, signed_in=False) == "public, max-age=30"
    assert domain.cache_control(public=True, signed_in=True) == "no-store"
    assert domain.cache_control(public=False, signed_in=False) == "no-store"
    assert domain.cache_control(public=False, signed_in=True) == "no-store"


def test_fields_a_merchant_always_has_cannot_be_removed_with_null() -> None:
    domain.check_merchant_fields({"name": "Baru", "description": None, "webhook_url": None})
    with pytest.raises(ValidationFailed) as raised:
        domain.check_merchant_fields({"phone": None, "name": "Baru", "delivery": None})
    assert [e.field for e in raised.value.errors] == ["phone", "delivery"]


def test_cash_on_delivery_is_offered_unless_switched_off_and_cannot_be_nulled() -> None:
    on = merchant()
    assert store.merchant_from(store.merchant_item(on)).accepts_cash_on_delivery is True
    item = store.merchant_item(on)
    stored = {k: v for k, v in item.items() if k != "accepts_cash_on_delivery"}
    assert store.merchant_from(stored).accepts_cash_on_delivery is True  # stored before it
    off = merchant(accepts_cash_on_delivery=False)
    assert store.merchant_from(store.merchant_item(off)).accepts_cash_on_delivery is False
    assert domain.profile(off)["accepts_cash_on_delivery"] is False
    with pytest.raises(ValidationFailed) as raised:
        domain.check_merchant_fields({"accepts_cash_on_delivery": None})
    assert [e.field for e in raised.value.errors] == ["accepts_cash_on_delivery"]
