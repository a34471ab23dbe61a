"""Where accounts, sessions and one-time tokens live in the main table (docs/data-model.md).

The only module of the auth function that knows indexes and expressions (its keys come
from ``warung.store``). Reads return domain objects; writes are returned as ``Transaction``
steps or done here when they stand alone.
"""

from __future__ import annotations

from typing import Any

from auth.rules.accounts import EndedSessionsChanged, SpentRefreshToken
from warung import clock
from warung.dynamo import Transaction, get_item, get_items, query_items, to_item
from warung.errors import Conflict, InvalidToken
from warung.ids import new_id
from warung.settings import get_settings
from warung.store.accounts import (
    ADMINS_PARTITION,
    USERS_PARTITION,
    Account,
    Session,
    account_from,
    account_index,
    account_item,
    email_key,
    one_time_token_key,
    refresh_token_key,
    session_from,
    session_index,
    session_key,
    user_key,
)
from warung.store.orders import cod_standing_from, cod_standing_key


def _table() -> str:
    return get_settings().table_name


def _get(key: dict[str, str], *, consistent: bool = True) -> dict[str, Any] | None:
    return get_item(key, table=_table(), consistent=consistent)


# ---------------------------------------------------------------- accounts


def get_account(user_id: str) -> Account | None:
    """The account, read consistently."""
    item = _get(user_key(user_id))
    return account_from(item) if item else None


def email_taken(email: str) -> bool:
    """Whether an account holds ``email`` (one consistent read of its reservation)."""
    return _get(email_key(email)) is not None


def find_account_by_email(email: str) -> Account | None:
    """The account registered with ``email`` (two consistent reads)."""
    reservation = _get(email_key(email))
    return get_account(reservation["user_id"]) if reservation else None


def account_of_address(email: str) -> Account | None:
    """The account registered with ``email``, in two consistent reads whether it has one or
    not (for an address without one, the second read is of an id no account has): routes
    that answer the same either way do the same work either way."""
    reservation = _get(email_key(email))
    account = get_account(reservation["user_id"] if reservation else new_id())
    return account if reservation else None


def add_account(tx: Transaction, account: Account) -> Transaction:
    """Reserve the address and create the account; a taken address is a ``Conflict``."""
    table = _table()
    return tx.put(
        table,
        {**email_key(account.email), "user_id": account.user_id},
        condition="attribute_not_exists(pk)",
        conflict=Conflict("This e-mail address is taken."),
    ).put(table, account_item(account), condition="attribute_not_exists(pk)")


def update_account(
    tx: Transaction,
    user_id: str,
    changes: dict[str, Any],
    *,
    updated_at: str,
    remove: tuple[str, ...] = (),
) -> Transaction:
    """Set ``changes`` on an existing account (and remove ``remove``)."""
    # A None value removes the attribute (DynamoDB stores no nulls here).
    remove = tuple(remove) + tuple(name for name, value in changes.items() if value is None)
    changes = {name: value for name, value in changes.items() if value is not None}
    names = {f"#f{i}": name for i, name in enumerate(changes)}
    values = {f":v{i}": value for i, value in enumerate(changes.values())}
    sets = [f"#f{i} = :v{i}" for i in range(len(changes))] + ["updated_at = :updated_at"]
    values[":updated_at"] = updated_at
    expression = "SET " + ", ".join(sets)
    if remove:
        names.update({f"#r{i}": name for i, name in enumerate(remove)})
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    return tx.update(
        _table(),
        user_key(user_id),
        expression,
        condition="attribute_exists(pk)",
        names=names,
        values=values,
    )


def cod_revoked(user_id: str) -> bool:
    """Whether the customer lost cash on delivery (their standing, read consistently)."""
    (item,) = get_items([cod_standing_key(user_id)], table=_table())
    return cod_standing_from(item).revoked


def set_cash_on_delivery(tx: Transaction, user_id: str, allowed: bool, *, at: str) -> Transaction:
    """Give cash on delivery back (the failures so far no longer count) or take it away."""
    if allowed:
        expression = "SET revoked = :no, restored_at = :at, failures = :none"
        values: dict[str, Any] = {":no": False, ":at": at, ":none": []}
    else:
        expression = "SET revoked = :yes, revoked_at = :at"
        values = {":yes": True, ":at": at}
    return tx.update(_table(), cod_standing_key(user_id), expression, values=values)


def admin_index(account: Account, is_admin: bool) -> tuple[dict[str, str], tuple[str, ...]]:
    """The sparse admin index fields to set, or to remove, for ``is_admin``."""
    if is_admin:
        fields = account_index(account.created_at, account.user_id, admin=True)
        return {k: v for k, v in fields.items() if k.startswith("gsi1")}, ()
    return {}, ("gsi1pk", "gsi1sk")


def list_accounts(
    *, admins_only: bool, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[Account], dict[str, Any] | None]:
    """Up to ``limit`` accounts, newest first, by index (never a Scan), and the key that
    resumes after the last of them (``None`` when the list ended)."""
    index, partition = ("gsi1", ADMINS_PARTITION) if admins_only else ("gsi2", USERS_PARTITION)
    request: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": index,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": f"{index}pk"},
        "ExpressionAttributeValues": to_item({":pk": partition}),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start_key:
        request["ExclusiveStartKey"] = start_key
    accounts: list[Account] = []
    for item, key in query_items(request):
        accounts.append(account_from(item))
        if len(accounts) == limit:
            return accounts, key
    return accounts, None


# ---------------------------------------------------------------- one-time tokens


def add_one_time_token(
    tx: Transaction,
    kind: str,
    digest: str,
    user_id: str,
    expires_at: int,
    issued_ms: int | None = None,
    *,
    used: bool = False,
) -> Transaction:
    """A single-use token; TTL removes it a day after it expired. One stored ``used`` is a
    decoy: it has the shape of a token and can never be spent."""
    issued_ms = issued_ms if issued_ms is not None else clock.epoch_ms()
    return tx.put(
        _table(),
        {
            **one_time_token_key(kind, digest),
            "user_id": user_id,
            "issued_ms": issued_ms,
            "expires_at": expires_at,
            "used": used,
            "expires_at_epoch": expires_at + 86_400,
        },
        condition="attribute_not_exists(pk)",
    )


def find_one_time_token(kind: str, digest: str) -> dict[str, Any] | None:
    """The token's record (user, expiry, used) or ``None``."""
    return _get(one_time_token_key(kind, digest))


def spend_one_time_token(tx: Transaction, kind: str, digest: str, now: int) -> Transaction:
    """Mark the token used; fails (400 invalid_token) if used or expired in the meantime."""
    return tx.update(
        _table(),
        one_time_token_key(kind, digest),
        "SET used = :true",
        condition="used = :false AND expires_at > :now",
        values={":true": True, ":false": False, ":now": now},
        conflict=InvalidToken("This link was already used or has expired.", status=400),
    )


# ---------------------------------------------------------------- sessions and refresh tokens


def add_session(tx: Transaction, session: Session, refresh_digest: str) -> Transaction:
    """A new session and its first refresh token."""
    table = _table()
    return tx.put(
        table,
        {
            **session_key(session.session_id),
            "user_id": session.user_id,
            "created_ms": session.created_ms,
            "expires_at": session.expires_at,
            "revoked": False,
            "expires_at_epoch": session.expires_at,
            **session_index(session.user_id, session.created_ms),
        },
        condition="attribute_not_exists(pk)",
    ).put(
        table,
        {
            **refresh_token_key(refresh_digest),
            "session_id": session.session_id,
            "user_id": session.user_id,
            "spent": False,
            "expires_at_epoch": session.expires_at,
        },
        condition="attribute_not_exists(pk)",
    )


def find_refresh_token(digest: str) -> dict[str, Any] | None:
    """The refresh token's record (session, user, spent) or ``None``."""
    return _get(refresh_token_key(digest))


def get_session(session_id: str) -> Session | None:
    """The session, read consistently."""
    item = _get(session_key(session_id))
    return session_from(session_id, item) if item else None


def session_and_account(session_id: str, user_id: str) -> tuple[Session | None, Account | None]:
    """The session and its account, read consistently in one BatchGetItem."""
    session, account = get_items([session_key(session_id), user_key(user_id)], table=_table())
    return (
        session_from(session_id, session) if session else None,
        account_from(account) if account else None,
    )


def rotate_refresh_token(
    tx: Transaction, session: Session, spent_digest: str, new_digest: str
) -> Transaction:
    """Spend the presented token and issue its successor, atomically.

    If the presented token was spent in the meantime (a concurrent use), the condition
    fails and the caller treats it as reuse.
    """
    table = _table()
    return (
        tx.update(
            table,
            refresh_token_key(spent_digest),
            "SET spent = :true",
            condition="spent = :false",
            values={":true": True, ":false": False},
            conflict=SpentRefreshToken("This refresh token was already used."),
        )
        .put(
            table,
            {
                **refresh_token_key(new_digest),
                "session_id": session.session_id,
                "user_id": session.user_id,
                "spent": False,
                "expires_at_epoch": session.expires_at,
            },
            condition="attribute_not_exists(pk)",
        )
        .check(
            table,
            session_key(session.session_id),
            "revoked = :false",
            values={":false": False},
            conflict=InvalidToken("This session has ended; sign in again."),
        )
    )


def revoke_session(tx: Transaction, session_id: str) -> Transaction:
    """End a session: none of its refresh tokens works any more."""
    return tx.update(
        _table(),
        session_key(session_id),
        "SET revoked = :true",
        condition="attribute_exists(pk)",
        values={":true": True},
    )


def list_ended_session(
    tx: Transaction, account: Account, session_id: str, until: int, now: int
) -> Transaction:
    """List ``session_id`` in the account's ``revoked_sessions`` (the guard's cached state)
    until ``until``, and drop the entries whose time has passed (``now``).

    Each entry is set on its own, so two sessions ended at once do not overwrite each other;
    only the first entry creates the map, and a concurrent first one fails the commit with
    ``EndedSessionsChanged`` (read the account again and retry).
    """
    if account.revoked_sessions is None:
        return tx.update(
            _table(),
            user_key(account.user_id),
            "SET #ended = :ended",
            condition="attribute_exists(pk) AND attribute_not_exists(#ended)",
            names={"#ended": "revoked_sessions"},
            values={":ended": {session_id: until}},
            conflict=EndedSessionsChanged("The ended sessions changed meanwhile."),
        )
    expired = [
        sid for sid, end in account.revoked_sessions.items() if end <= now and sid != session_id
    ]
    names = {"#ended": "revoked_sessions", "#sid": session_id}
    names.update({f"#x{i}": sid for i, sid in enumerate(expired)})
    expression = "SET #ended.#sid = :until"
    if expired:
        expression += " REMOVE " + ", ".join(f"#ended.#x{i}" for i in range(len(expired)))
    return tx.update(
        _table(),
        user_key(account.user_id),
        expression,
        condition="attribute_exists(#ended)",
        names=names,
        values={":until": until},
        conflict=EndedSessionsChanged("The ended sessions changed meanwhile."),
    )
