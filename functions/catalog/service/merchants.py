"""The merchant use cases: each route calls exactly one of these.

Every change and its audit entry commit in one transaction; the geo and city index entries
of a merchant change in the same transaction as its status or location. Nothing here knows
HTTP; nothing here knows keys (``repository`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from catalog.repository import merchants as repository
from catalog.rules import geo, search
from catalog.rules import merchants as domain
from warung.audit import audited, diff
from warung.auth import Caller, forget_auth_state
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.dynamo import Transaction
from warung.errors import FieldError, NotFound, ValidationFailed
from warung.ids import new_id, rfc3339, utc_now
from warung.ordering import distance
from warung.settings import get_settings
from warung.store import merchants as store
from warung.store.merchants import Delivery, Member, Merchant

Listed = tuple[Merchant, float | None]  # a merchant and, with ?near=, its distance in km


def _cells(merchant: Merchant) -> set[str]:
    return geo.covering_cells(
        float(merchant.lat), float(merchant.lon), float(merchant.delivery.max_distance_km)
    )


def _decimal(value: float | Decimal) -> Decimal:
    # Through str: 0.1 stays 0.1 rather than its binary expansion.
    return Decimal(str(value))


def _found(merchant_id: str) -> tuple[Merchant, int]:
    found = repository.get_merchant(merchant_id)
    if found is None:
        raise NotFound("No such merchant.")
    return found


# ---------------------------------------------------------------- opening a merchant


def open_merchant(caller_id: str, data: Mapping[str, Any], meta: RequestMeta) -> Merchant:
    """A new merchant, ``pending`` until an admin approves it; the caller is its owner."""
    now = rfc3339(utc_now())
    delivery = data.get("delivery") or {}
    hours = data.get("opening_hours")
    merchant = Merchant(
        merchant_id=new_id(),
        name=data["name"],
        description=data.get("description", ""),
        phone=data["phone"],
        address=dict(data["address"]),
        lat=_decimal(data["location"]["lat"]),
        lon=_decimal(data["location"]["lon"]),
        created_at=now,
        updated_at=now,
        delivery=Delivery(
            base_fee=delivery.get("base_fee", store.DEFAULT_BASE_FEE),
            per_km_fee=delivery.get("per_km_fee", store.DEFAULT_PER_KM_FEE),
            max_distance_km=_decimal(
                delivery.get("max_distance_km", store.DEFAULT_MAX_DISTANCE_KM)
            ),
        ),
        tax_rate=_decimal(data["tax_rate"])
        if data.get("tax_rate") is not None
        else store.DEFAULT_TAX_RATE,
        opening_hours=domain.check_opening_hours(hours) if hours is not None else None,
    )
    account = repository.account_summary(caller_id)
    if account is None:
        raise NotFound("No such account.")
    owner = Member(merchant.merchant_id, caller_id, "owner", account["email"], account["name"], now)
    tx = repository.add_merchant(Transaction(), merchant, owner)
    resource = f"merchant:{merchant.merchant_id}"
    tx.extend([audited(caller_id, "merchant.created", resource, meta, name=merchant.name)])
    tx.commit()
    forget_auth_state(caller_id)
    return merchant


# ---------------------------------------------------------------- reading


def merchant_for(merchant_id: str, caller: Caller | None) -> Merchant:
    """The merchant if ``caller`` may see it (anyone when active); 404 otherwise."""
    found = repository.get_merchant(merchant_id, consistent=caller is not None)
    role = caller.role_in(merchant_id) if caller else None
    if found is None or not domain.can_see(found[0], role, bool(caller and caller.is_admin)):
        raise NotFound("No such merchant.")
    return found[0]


def _filters(q: str | None, open_now: bool, city: str | None = None) -> Callable[[Merchant], bool]:
    moment = utc_now()
    terms = search.query_terms(q or "")

    def keep(merchant: Merchant) -> bool:
        return (
            merchant.active
            and search.matches(merchant.name, terms)
            and (not open_now or domain.open_at(merchant, moment))
            and (not city or store.city_key(merchant.city) == store.city_key(city))
        )

    return keep


# A filtered list (``q``, ``open_now``) examines at most this many merchants per request;
# a page may then hold fewer than ``limit`` items and ``next_cursor`` carries on from there.
MAX_EXAMINED_PER_PAGE = 500


def _first(
    rows: Iterator[tuple[Merchant, dict[str, Any]]],
    keep: Callable[[Merchant], bool],
    limit: int,
    budget: int = MAX_EXAMINED_PER_PAGE,
) -> tuple[list[Merchant], dict[str, Any] | None]:
    """The first ``limit`` merchants ``keep`` accepts, and the key to resume after them.

    Stops after ``budget`` rows whatever it found, so that one request's reads are bounded.
    """
    page: list[Merchant] = []
    for examined, (merchant, key) in enumerate(rows, start=1):
        if keep(merchant):
            page.append(merchant)
            if len(page) == limit:
                return page, key
        if examined >= budget:
            return page, key
    return page, None


def public_list(
    *,
    q: str | None,
    city: str | None,
    near: str | None,
    open_now: bool,
    limit: int,
    cursor: str | None,
) -> tuple[list[Listed], str | None]:
    """Active merchants: newest first, or with ``near`` those delivering there, nearest first."""
    scope = list_scope(
        "GET /v1/merchants", None, q=q or "", city=city or "", near=near or "", open_now=open_now
    )
    start = decode_cursor(cursor, scope)
    if near is not None:
        filtered = bool(q) or open_now or bool(city)
        return _near(near, _filters(q, open_now, city), limit, start, scope, filtered=filtered)
    rows = repository.merchants_by_index(
        status="active", city=city or None, start_key=start, shared=True
    )
    page, last = _first(rows, _filters(q, open_now), limit)
    return [(m, None) for m in page], encode_cursor(last, scope)


def _near(
    near: str,
    keep: Callable[[Merchant], bool],
    limit: int,
    start: dict[str, Any] | None,
    scope: str,
    *,
    filtered: bool,
) -> tuple[list[Listed], str | None]:
    try:
        lat, lon = geo.parse_point(near)
    except ValueError as error:
        raise ValidationFailed(str(error), errors=[FieldError("near", str(error))]) from None
    # One Query: the merchants indexed under the point's cell, then the exact distance.
    hits: list[tuple[float, str]] = []
    for entry in repository.geo_entries(geo.encode(lat, lon, geo.NEAR_PRECISION)):
        m_lat, m_lon = float(entry["lat"]), float(entry["lon"])
        if distance.delivers_to(m_lat, m_lon, float(entry["max_distance_km"]), lat, lon):
            hits.append((distance.haversine_km(m_lat, m_lon, lat, lon), entry["merchant_id"]))
    hits.sort()
    offset = int((start or {}).get("offset", 0))
    if not filtered:
        # Every geo entry is an active merchant delivering here: read only the page's. The
        # cell's entries may be the container's cached answer (up to the read cache's TTL
        # old): the profiles, read now, leave out a merchant suspended meanwhile.
        ids = [merchant_id for _, merchant_id in hits[offset : offset + limit]]
        profiles = repository.merchants_by_id(ids, consistent=False)
        page: list[Listed] = [
            (profiles[m], round(d, 2))
            for d, m in hits[offset : offset + limit]
            if m in profiles and profiles[m].active
        ]
        more = offset + limit < len(hits)
        return page, encode_cursor({"offset": offset + limit} if more else None, scope)
    profiles = repository.merchants_by_id([m for _, m in hits], consistent=False)
    listed: list[Listed] = [
        (profiles[merchant_id], round(distance, 2))
        for distance, merchant_id in hits
        if merchant_id in profiles and keep(profiles[merchant_id])
    ]
    chosen = listed[offset : offset + limit]
    more = offset + limit < len(listed)
    return chosen, encode_cursor({"offset": offset + limit} if more else None, scope)


def admin_list(
    *, status: str, limit: int, cursor: str | None, admin_id: str
) -> tuple[list[Merchant], str | None]:
    """Merchants of one status for the admin, newest first."""
    scope = list_scope("GET /v1/admin/merchants", admin_id, status=status)
    rows = repository.merchants_by_index(status=status, start_key=decode_cursor(cursor, scope))
    page, last = _first(rows, lambda _: True, limit)
    return page, encode_cursor(last, scope)


# ---------------------------------------------------------------- changing


# Which stored attributes each request field touches.
_ATTRIBUTES = {
    "location": ("lat", "lon"),
    "delivery": ("base_fee", "per_km_fee", "max_distance_km"),
}


def _patched(merchant: Merchant, changes: Mapping[str, Any]) -> Merchant:
    domain.check_merchant_fields(changes)
    updated: dict[str, Any] = {}
    for name in ("name", "description", "phone", "is_open", "accepts_cash_on_delivery"):
        if name in changes:
            updated[name] = changes[name]
    if "address" in changes:
        updated["address"] = dict(changes["address"])
    if "location" in changes:
        updated["lat"] = _decimal(changes["location"]["lat"])
        updated["lon"] = _decimal(changes["location"]["lon"])
    if "delivery" in changes:
        given = {k: v for k, v in changes["delivery"].items() if v is not None}
        if "max_distance_km" in given:
            given["max_distance_km"] = _decimal(given["max_distance_km"])
        updated["delivery"] = replace(merchant.delivery, **given)
    if "tax_rate" in changes:
        updated["tax_rate"] = _decimal(changes["tax_rate"])
    if "opening_hours" in changes:
        hours = changes["opening_hours"]
        updated["opening_hours"] = domain.check_opening_hours(hours) if hours is not None else None
    if "webhook_url" in changes:
        updated["webhook_url"] = _checked_webhook_url(changes["webhook_url"])
    return replace(merchant, **updated)


def _checked_webhook_url(url: str | None) -> str | None:
    if url is None:
        return None
    from warung.ssrf import check_webhook_url  # DNS and the SSRF rules: only here

    return check_webhook_url(url, allow_loopback=get_settings().webhook_allow_loopback)


def update_merchant(
    actor: Caller, merchant_id: str, changes: Mapping[str, Any], meta: RequestMeta
) -> Merchant:
    """Profile, opening, delivery and webhook URL changes by an owner, manager or admin."""
    merchant, version = _found(merchant_id)
    domain.may_edit(actor.role_in(merchant_id), actor.is_admin)
    after = _patched(merchant, changes)
    changed = diff(domain.profile(merchant), domain.profile(after))
    if not changed:
        return merchant
    after = replace(after, updated_at=rfc3339(utc_now()))
    attributes = [a for name in changed for a in _ATTRIBUTES.get(name, (name,))]
    tx = repository.update_merchant(Transaction(), after, version, changed=attributes)
    if after.active and ({"location", "delivery"} & set(changed)):
        repository.index_geo(tx, after, _cells(after), stale=_cells(merchant))
    if "webhook_url" in changed:
        repository.set_webhook_url(tx, merchant_id, after.webhook_url)
    resource = f"merchant:{merchant_id}"
    tx.extend([audited(actor.user_id, "merchant.updated", resource, meta, **changed)]).commit()
    return after


def change_status(admin_id: str, merchant_id: str, status: str, meta: RequestMeta) -> Merchant:
    """An admin activates (listed at once) or suspends (hidden at once) a merchant."""
    merchant, version = _found(merchant_id)
    if not domain.check_status_change(merchant, status):
        return merchant
    after = replace(merchant, status=status, updated_at=rfc3339(utc_now()))
    tx = repository.update_merchant(Transaction(), after, version, changed=["status"])
    if after.active:
        repository.index_geo(tx, after, _cells(after))
    else:
        repository.index_geo(tx, after, set(), stale=_cells(merchant))
    tx.extend(
        [
            audited(
                admin_id,
                "admin.merchant_status_changed",
                f"merchant:{merchant_id}",
                meta,
                actor_type="admin",
                status={"from": merchant.status, "to": status},
            )
        ]
    ).commit()
    return after


def rotate_webhook_secret(actor_id: str, merchant_id: str, meta: RequestMeta) -> str:
    """A new signing secret for the merchant's webhooks, returned this once."""
    secret = domain.new_webhook_secret()
    tx = repository.require_merchant(Transaction(), merchant_id)
    repository.set_webhook_secret(tx, merchant_id, secret)
    entry = audited(actor_id, "merchant.webhook_secret_rotated", f"merchant:{merchant_id}", meta)
    tx.extend([entry]).commit()
    return secret


# ---------------------------------------------------------------- members


def members(merchant_id: str) -> list[Member]:
    """Everyone with a role in the merchant, owners first."""
    merchant, found = repository.merchant_with_members(merchant_id)
    if merchant is None:
        raise NotFound("No such merchant.")
    order = {role: i for i, role in enumerate(domain.MEMBER_ROLES)}
    return sorted(found, key=lambda m: (order[m.role], m.email))


def remove_member(actor_id: str, merchant_id: str, user_id: str, meta: RequestMeta) -> None:
    """Take a member's role away; the last owner stays (409)."""
    merchant, current, _ = repository.merchant_and_member(merchant_id, user_id)
    if merchant is None:
        raise NotFound("No such merchant.")
    if current is None:
        raise NotFound("No such member.")
    domain.check_member_change(actor_id, current, None, merchant.owners)
    tx = repository.delete_member(Transaction(), merchant_id, user_id)
    repository.set_membership(tx, user_id, merchant_id, None)
    if current.role == "owner":
        repository.change_owner_count(tx, merchant_id, -1)
    changes = {"user_id": user_id, "role": {"from": current.role, "to": None}}
    tx.extend(
        [audited(actor_id, "merchant.member_removed", f"merchant:{merchant_id}", meta, **changes)]
    ).commit()
    forget_auth_state(user_id)
