"""Where merchants, their members and their geo index live in the main table
(docs/data-model.md).

The merchant side of the catalog's indexes and expressions (its keys come from
``warung.store``). Reads return domain objects; writes are returned as ``Transaction``
steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from warung import readcache
from warung.dynamo import Transaction, get_item, get_items, partition_query, query_items, to_item
from warung.errors import Conflict, NotFound
from warung.settings import get_settings
from warung.store.accounts import email_key, user_key
from warung.store.merchants import (
    MEMBER_PREFIX,
    Member,
    Merchant,
    city_key,
    city_partition,
    geo_key,
    geo_partition,
    member_from,
    member_item,
    member_key,
    merchant_from,
    merchant_item,
    merchant_key,
    merchant_partition,
    status_partition,
    webhook_key,
)


# Errors are made per request, never shared: an instance raised twice would chain one
# request's traceback onto another's.
def merchant_changed() -> Conflict:
    return Conflict("The merchant changed meanwhile; read it again and retry.")


def last_owner() -> Conflict:
    return Conflict("A merchant keeps at least one owner; add another owner first.")


def _table() -> str:
    return get_settings().table_name


def _get(key: dict[str, str], *, consistent: bool = True) -> dict[str, Any] | None:
    return get_item(key, table=_table(), consistent=consistent)


# ---------------------------------------------------------------- merchants


def get_merchant(merchant_id: str, *, consistent: bool = True) -> tuple[Merchant, int] | None:
    """The merchant and its version (for conditional updates), read consistently unless
    ``consistent`` is false (public reads)."""
    item = _get(merchant_key(merchant_id), consistent=consistent)
    return (merchant_from(item), int(item.get("version", 1))) if item else None


def require_merchant(tx: Transaction, merchant_id: str) -> Transaction:
    """The transaction commits only if the merchant exists (else 404): a write that needs
    the merchant but none of its fields checks it instead of reading it."""
    return tx.check(
        _table(),
        merchant_key(merchant_id),
        "attribute_exists(pk)",
        conflict=NotFound("No such merchant."),
    )


def add_merchant(tx: Transaction, merchant: Merchant, owner: Member) -> Transaction:
    """Create the merchant with its first owner (member item and the owner's account)."""
    tx.put(_table(), merchant_item(merchant), condition="attribute_not_exists(pk)")
    put_member(tx, owner)
    return set_membership(tx, owner.user_id, merchant.merchant_id, owner.role)


def update_merchant(
    tx: Transaction,
    merchant: Merchant,
    version: int,
    *,
    changed: Iterable[str] = (),
) -> Transaction:
    """Write ``merchant``'s ``changed`` attributes and index keys if nobody wrote since
    ``version`` (else 409)."""
    item = merchant_item(merchant)
    names_list = sorted(
        {*changed, "updated_at", "gsi1pk", "gsi1sk"}
        | ({"gsi2pk", "gsi2sk"} if merchant.active else set())
    )
    sets = {name: item[name] for name in names_list if item.get(name) is not None}
    removes = [name for name in names_list if item.get(name) is None]
    if not merchant.active:
        removes += ["gsi2pk", "gsi2sk"]
    names = {f"#f{i}": name for i, name in enumerate(sets)}
    values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(sets.values())}
    values |= {":seen": version, ":one": 1}
    expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
    expression += ", version = version + :one"
    if removes:
        names |= {f"#r{i}": name for i, name in enumerate(removes)}
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
    return tx.update(
        _table(),
        merchant_key(merchant.merchant_id),
        expression,
        condition="version = :seen",
        names=names,
        values=values,
        conflict=merchant_changed(),
    )


def index_geo(
    tx: Transaction,
    merchant: Merchant,
    cells: set[str],
    stale: frozenset[str] | set[str] = frozenset(),
) -> Transaction:
    """Put the merchant's entry in every cell of ``cells``; delete it from ``stale`` ones."""
    table = _table()
    for cell in sorted(stale - cells):
        tx.delete(table, geo_key(cell, merchant.merchant_id))
    for cell in sorted(cells):
        tx.put(
            table,
            {
                **geo_key(cell, merchant.merchant_id),
                "merchant_id": merchant.merchant_id,
                "lat": merchant.lat,
                "lon": merchant.lon,
                "max_distance_km": merchant.delivery.max_distance_km,
            },
        )
    return tx


def merchants_by_index(
    *,
    status: str | None = None,
    city: str | None = None,
    start_key: dict[str, Any] | None,
    shared: bool = False,
) -> Iterator[tuple[Merchant, dict[str, Any]]]:
    """Merchants of a status (gsi1) or active merchants of a city (gsi2), newest first,
    each with the key that resumes after it. ``shared``: a public list, read through the
    container's read cache (``warung.readcache``); the admin's lists are read fresh."""
    index, partition = (
        ("gsi2", city_partition(city_key(city)))
        if city
        else ("gsi1", status_partition(str(status)))
    )
    request = partition_query(
        partition, index=index, newest_first=True, page_size=100, start=start_key
    )
    for item, key in readcache.query_items(request) if shared else query_items(request):
        yield merchant_from(item), key


def geo_entries(cell: str) -> list[dict[str, Any]]:
    """Every active merchant whose delivery circle touches ``cell`` (id, lat, lon, reach),
    through the container's read cache: one cell's answer serves every point in it."""
    request = partition_query(geo_partition(cell))
    return [item for item, _ in readcache.query_items(request)]


def merchants_by_id(merchant_ids: list[str], *, consistent: bool = True) -> dict[str, Merchant]:
    """The profiles of ``merchant_ids`` (BatchGetItem). Public listings read eventually
    consistently (half the read units; they are cacheable for 30 s anyway)."""
    items = get_items(
        [merchant_key(m) for m in merchant_ids], table=_table(), consistent=consistent
    )
    return {item["id"]: merchant_from(item) for item in items if item is not None}


# ---------------------------------------------------------------- members


def put_member(tx: Transaction, member: Member) -> Transaction:
    """Add a member or change their role."""
    return tx.put(_table(), member_item(member))


def delete_member(tx: Transaction, merchant_id: str, user_id: str) -> Transaction:
    """Remove a member (it must still be there)."""
    return tx.delete(
        _table(),
        member_key(merchant_id, user_id),
        condition="attribute_exists(pk)",
        conflict=NotFound("No such member."),
    )


def merchant_with_members(merchant_id: str) -> tuple[Merchant | None, list[Member]]:
    """The merchant (``None`` if there is none) and every member of it, in one Query of its
    partition: ``MEMBER#...`` sorts before ``PROFILE``, and ``WEBHOOK`` (the signing
    secret) after it, out of the range read."""
    request: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :member AND :profile",
        "ExpressionAttributeValues": to_item(
            {
                ":pk": merchant_partition(merchant_id),
                ":member": MEMBER_PREFIX,
                ":profile": merchant_key(merchant_id)["sk"],
            }
        ),
        "ConsistentRead": True,
    }
    merchant: Merchant | None = None
    members: list[Member] = []
    for item, _ in query_items(request):
        if item["sk"] == merchant_key(merchant_id)["sk"]:
            merchant = merchant_from(item)
        else:
            members.append(member_from(item))
    return merchant, members


def merchant_and_member(
    merchant_id: str, user_id: str | None, *, with_account: bool = False
) -> tuple[Merchant | None, Member | None, dict[str, Any] | None]:
    """The merchant, the member ``user_id`` of it and, ``with_account``, that account's id,
    e-mail and name (``None`` for any not stored, or a disabled account): one consistent
    BatchGetItem."""
    keys: list[Mapping[str, Any]] = [merchant_key(merchant_id)]
    if user_id is not None:
        keys.append(member_key(merchant_id, user_id))
        if with_account:
            keys.append(user_key(user_id))
    # Keys not asked for read as None.
    profile, member, account = [*get_items(keys, table=_table(), consistent=True), None, None][:3]
    summary = None
    if account is not None and not account.get("disabled"):
        summary = {"user_id": account["id"], "email": account["email"], "name": account["name"]}
    return (
        merchant_from(profile) if profile else None,
        member_from(member) if member else None,
        summary,
    )


def change_owner_count(tx: Transaction, merchant_id: str, delta: int) -> Transaction:
    """One owner more or less; never below one (409), whatever runs concurrently."""
    condition = "attribute_exists(pk)" if delta > 0 else "owners > :one"
    return tx.update(
        _table(),
        merchant_key(merchant_id),
        "SET owners = owners + :delta",
        condition=condition,
        values={":delta": delta, ":one": 1} if delta < 0 else {":delta": delta},
        conflict=last_owner() if delta < 0 else NotFound("No such merchant."),
    )


def set_membership(
    tx: Transaction, user_id: str, merchant_id: str, role: str | None
) -> Transaction:
    """The account's ``memberships`` map (what the auth guard reads): set or drop a role."""
    names = {"#m": merchant_id}
    if role is None:
        return tx.update(_table(), user_key(user_id), "REMOVE memberships.#m", names=names)
    return tx.update(
        _table(),
        user_key(user_id),
        "SET memberships.#m = :role",
        condition="attribute_exists(pk)",
        names=names,
        values={":role": role},
        conflict=NotFound("No such account."),
    )


def find_account(email: str) -> dict[str, Any] | None:
    """The account registered with ``email``: id, e-mail, name (two consistent reads; an
    invitation's e-mail and the demo seed, ``warung_demo.merchants``, use it)."""
    user_id = user_id_of(email)
    account = _get(user_key(user_id)) if user_id else None
    if account is None or account.get("disabled"):
        return None
    return {"user_id": account["id"], "email": account["email"], "name": account["name"]}


def user_id_of(email: str) -> str | None:
    """The id of the account registered with ``email`` (its e-mail reservation, read
    consistently), if any."""
    reservation = _get(email_key(email))
    return str(reservation["user_id"]) if reservation else None


def memberships_of(user_id: str) -> dict[str, str]:
    """The account's roles by merchant (its ``memberships`` map; the demo seed,
    ``warung_demo.merchants``, uses it)."""
    account = _get(user_key(user_id)) or {}
    return dict(account.get("memberships") or {})


def account_summary(user_id: str) -> dict[str, Any] | None:
    """An account's id, e-mail and name."""
    account = _get(user_key(user_id))
    if account is None:
        return None
    return {"user_id": account["id"], "email": account["email"], "name": account["name"]}


# ---------------------------------------------------------------- webhook target


def set_webhook_url(tx: Transaction, merchant_id: str, url: str | None) -> Transaction:
    """Where the worker sends the merchant's events (the secret, if any, stays)."""
    if url is None:
        return tx.update(_table(), webhook_key(merchant_id), "REMOVE #url", names={"#url": "url"})
    return tx.update(
        _table(),
        webhook_key(merchant_id),
        "SET #url = :url",
        names={"#url": "url"},
        values={":url": url},
    )


def set_webhook_secret(tx: Transaction, merchant_id: str, secret: str) -> Transaction:
    """The secret the worker signs the merchant's events with (the URL, if any, stays)."""
    return tx.update(
        _table(), webhook_key(merchant_id), "SET secret = :secret", values={":secret": secret}
    )
