"""The auth use cases: each route calls exactly one of these.

Every state change and its audit entry (and its e-mail job) commit in one transaction.
Nothing here knows HTTP; nothing here knows keys (``repository`` does).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field

from auth import repository
from auth.rules import accounts as domain
from auth.rules import passwords
from warung import clock, ratelimit
from warung.audit import audited, diff
from warung.auth import forget_auth_state, session_listing_end
from warung.context import RequestMeta
from warung.cursors import decode_cursor, encode_cursor, list_scope
from warung.dynamo import Transaction
from warung.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidToken,
    NotFound,
)
from warung.ids import new_id, rfc3339, utc_now
from warung.observability import MetricUnit, logger, mask_email, metrics
from warung.store.accounts import Account, Session


class AuthSettings(BaseModel):
    """The auth function's own configuration, validated at cold start."""

    model_config = ConfigDict(frozen=True)

    # Links in e-mails always point here, whatever Host or X-Forwarded-Host a request said.
    public_app_url: str = Field(pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")


settings = AuthSettings(
    public_app_url=os.environ.get("PUBLIC_APP_URL", "http://localhost:5173").rstrip("/")
)


_BAD_VERIFICATION_LINK = "This verification link is not valid; ask for a new one."
_BAD_RESET_LINK = "This reset link is not valid; ask for a new one."
_LOCKED_SIGN_IN = "Too many failed sign-ins for this account; try again later."


@dataclass(frozen=True)
class TokenPair:
    """What a successful sign-in or refresh returns."""

    access_token: str
    refresh_token: str
    expires_in: int


# ---------------------------------------------------------------- sign-up and verification


def register(email_raw: str, password: str, name: str, meta: RequestMeta) -> None:
    """Create an account and send its verification e-mail; the same outcome if it exists."""
    email = domain.normalise_email(email_raw)
    passwords.check_password_policy(password, email=email)
    ratelimit.enforce(ratelimit.rules().registrations_ip, meta.source_ip or "unknown")
    if repository.email_taken(email):
        # Same answer, same work: nobody learns whether the address has an account.
        passwords.burn_equivalent_time(password)
        logger.info("sign-up for an existing address", extra={"email": mask_email(email)})
        return
    created_at = rfc3339(utc_now())
    account = Account(
        user_id=new_id(),
        email=email,
        name=name,
        password_hash=passwords.hash_password(password),
        created_at=created_at,
    )
    tx = repository.add_account(Transaction(), account)
    tx.extend([audited(account.user_id, "user.registered", f"user:{account.user_id}", meta)])
    _add_verification(tx, account.email, account, meta)
    try:
        tx.commit()
    except Conflict:
        logger.info("concurrent sign-up for one address", extra={"email": mask_email(email)})


def _add_verification(
    tx: Transaction, email: str, account: Account | None, meta: RequestMeta
) -> None:
    _add_one_time_link(tx, "VERIFY", email, account, meta)


def _add_one_time_link(
    tx: Transaction,
    kind: Literal["VERIFY", "RESET"],
    email: str,
    account: Account | None,
    meta: RequestMeta,
) -> None:
    """A one-time token of ``kind`` (``VERIFY``, ``RESET``) and the job that e-mails its link,
    sealed (``warung.links``), within the address's e-mail limit.

    ``account`` ``None`` (no account may get this link) does the same work: a decoy token
    that can never be spent, and a job whose sealed content says *no account*, on which
    the worker sends nothing.
    """
    # The job models (pydantic, ~15 ms to import) and the AEAD only on the routes that send
    # e-mail.
    from warung.jobs import OneTimeLinkEmail, PasswordResetEmail, VerificationEmail, enqueue
    from warung.links import LinkJob, seal_link

    if not ratelimit.hit(ratelimit.rules().emails_address, email).allowed:
        logger.info("one-time link not sent: limit", extra={"email": mask_email(email)})
        return
    lifetime = domain.VERIFICATION_LIFETIME if kind == "VERIFY" else domain.RESET_LIFETIME
    token = domain.new_secret_token()
    expires = clock.epoch_s() + int(lifetime.total_seconds())
    repository.add_one_time_token(
        tx,
        kind,
        domain.token_digest(token),
        account.user_id if account else new_id(),
        expires,
        clock.epoch_ms(),
        used=account is None,
    )
    path = "verify-email" if kind == "VERIFY" else "reset-password"
    url = f"{settings.public_app_url}/{path}?token={token}" if account else None
    model: type[OneTimeLinkEmail] = VerificationEmail if kind == "VERIFY" else PasswordResetEmail
    job_id = new_id()
    sealed = seal_link(url, LinkJob(job_id, model.job_type, email))
    if kind == "VERIFY":
        job: OneTimeLinkEmail = VerificationEmail(
            to=email,
            sealed_link=sealed,
            expires_in_hours=int(lifetime.total_seconds() // 3600),
        )
    else:
        job = PasswordResetEmail(
            to=email, sealed_link=sealed, expires_in_minutes=int(lifetime.total_seconds() // 60)
        )
    tx.extend([enqueue(job, correlation_id=meta.request_id, job_id=job_id)])


def resend_verification(email_raw: str, meta: RequestMeta) -> None:
    """Send a new verification e-mail to an unverified account. Any other address (none,
    verified, disabled) gets the same work and no e-mail."""
    email = domain.normalise_email(email_raw)
    account = repository.account_of_address(email)
    if account is not None and (account.email_verified or account.disabled):
        account = None
    tx = Transaction()
    _add_verification(tx, email, account, meta)
    tx.commit()


def verify_email(token: str, meta: RequestMeta) -> None:
    """Mark the address verified. A link of an account that is already verified (this link
    again, or another one) succeeds and changes nothing; a malformed, unknown or expired
    link, or a used one whose account is not verified, is 400 ``invalid_token``."""
    digest = domain.presented_digest(token)
    record = repository.find_one_time_token("VERIFY", digest) if digest else None
    if digest is None or record is None or record["expires_at"] <= clock.epoch_s():
        raise InvalidToken(_BAD_VERIFICATION_LINK, status=400)
    user_id = record["user_id"]
    if _is_verified(user_id):
        return
    if record["used"]:
        raise InvalidToken(_BAD_VERIFICATION_LINK, status=400)
    tx = repository.spend_one_time_token(Transaction(), "VERIFY", digest, clock.epoch_s())
    repository.update_account(tx, user_id, {"email_verified": True}, updated_at=rfc3339(utc_now()))
    tx.extend([audited(user_id, "user.email_verified", f"user:{user_id}", meta)])
    try:
        tx.commit()
    except InvalidToken:
        # The same link twice at once (a double click): the other request verified it.
        if not _is_verified(user_id):
            raise
        return
    forget_auth_state(user_id)


def _is_verified(user_id: str) -> bool:
    account = repository.get_account(user_id)
    return account is not None and account.email_verified


# ---------------------------------------------------------------- sessions


def login(email_raw: str, password: str, meta: RequestMeta) -> TokenPair:
    """Sign in: a new session with a rotating refresh token and a 15-minute access token."""
    rules = ratelimit.rules()
    ratelimit.enforce(rules.login_attempts_ip, meta.source_ip or "unknown")
    email = domain.normalise_email(email_raw)
    # Counted before the password is verified, so parallel guesses cannot all pass a check
    # made before any of them failed (docs/decisions/0014).
    attempt = ratelimit.claim_attempt(rules.login_failures, email, detail=_LOCKED_SIGN_IN)
    account = repository.find_account_by_email(email)
    if account is None:
        passwords.burn_equivalent_time(password)
        _failed_login(None, attempt, meta)
    check = passwords.verify_password(account.password_hash, password)
    if not check.ok:
        _failed_login(account, attempt, meta)
    if account.disabled:
        ratelimit.give_back(attempt)
        raise Forbidden("This account is disabled.")
    tx = Transaction()
    if check.needs_rehash:
        repository.update_account(
            tx,
            account.user_id,
            {"password_hash": passwords.hash_password(password)},
            updated_at=rfc3339(utc_now()),
        )
    pair = _open_session(tx, account, meta, attempt)
    logger.info("signed in", extra={"user_id": account.user_id})
    return pair


def _failed_login(
    account: Account | None, attempt: ratelimit.Attempt, meta: RequestMeta
) -> NoReturn:
    ratelimit.attempt_failed(attempt)
    metrics.add_metric(name="FailedLogins", unit=MetricUnit.Count, value=1)
    email = attempt.subject
    if account is None:
        entry = audited(
            "anonymous", "auth.login_failed", f"email:{domain.subject_digest(email)}", meta
        )
    else:
        entry = audited(account.user_id, "auth.login_failed", f"user:{account.user_id}", meta)
    Transaction().extend([entry]).commit()
    raise InvalidCredentials("The e-mail address or the password is wrong.")


def _open_session(
    tx: Transaction, account: Account, meta: RequestMeta, attempt: ratelimit.Attempt
) -> TokenPair:
    from warung.tokens import issue_access_token

    now_ms = clock.epoch_ms()
    session = Session(
        session_id=new_id(),
        user_id=account.user_id,
        created_ms=now_ms,
        expires_at=now_ms // 1000 + int(domain.SESSION_LIFETIME.total_seconds()),
    )
    refresh = domain.new_secret_token()
    repository.add_session(tx, session, domain.token_digest(refresh))
    tx.extend([audited(account.user_id, "auth.login_succeeded", f"user:{account.user_id}", meta)])
    without_give_back = Transaction(list(tx.items), list(tx.conflicts))
    try:
        # The sign-in attempt is given back in the same transaction: one round trip less.
        ratelimit.give_back_step(tx, attempt).commit()
    except ratelimit.CountingRestarted:
        without_give_back.commit()  # its counting ended meanwhile: nothing to give back
    access, expires_in = issue_access_token(account.user_id, session.session_id)
    return TokenPair(access, refresh, expires_in)


def refresh(refresh_token: str, meta: RequestMeta) -> TokenPair:
    """Rotate: the presented token is spent; a spent token presented again ends its session."""
    from warung.tokens import issue_access_token

    digest = domain.presented_digest(refresh_token)
    record = repository.find_refresh_token(digest) if digest else None
    if digest is None or record is None:
        raise InvalidToken("Unknown refresh token; sign in again.", status=400)
    if record["spent"]:
        _refresh_reuse(record, meta)
    session, account = repository.session_and_account(record["session_id"], record["user_id"])
    if session is None or account is None or not session.usable(clock.epoch_s(), account):
        raise InvalidToken("This session has ended; sign in again.")
    successor = domain.new_secret_token()
    tx = repository.rotate_refresh_token(
        Transaction(), session, digest, domain.token_digest(successor)
    )
    try:
        tx.commit()
    except domain.SpentRefreshToken:
        # Spent by a concurrent request between our read and our write: that is reuse too.
        # (A session ended meanwhile by a logout is not: that is a plain 401.)
        _refresh_reuse(record, meta)
    access, expires_in = issue_access_token(account.user_id, session.session_id)
    return TokenPair(access, successor, expires_in)


def _refresh_reuse(record: dict[str, Any], meta: RequestMeta) -> NoReturn:
    # A spent token again means it leaked (or a client bug): end the whole session, so the
    # newest token of the chain, possibly the thief's, stops working too.
    metrics.add_metric(name="RefreshTokenReuse", unit=MetricUnit.Count, value=1)
    user_id, session_id = record["user_id"], record["session_id"]
    entry = audited(
        user_id, "auth.refresh_reused", f"session:{session_id}", meta, session_revoked=True
    )
    _end_session(user_id, session_id, entry)
    logger.warning("refresh token reused; session revoked", extra={"user_id": user_id})
    raise InvalidToken("This refresh token was already used; the session has ended.")


def logout(refresh_token: str, meta: RequestMeta) -> None:
    """End the session of ``refresh_token`` (again: no harm); an unknown token is 400."""
    digest = domain.presented_digest(refresh_token)
    record = repository.find_refresh_token(digest) if digest else None
    if record is None:
        raise InvalidToken("Unknown refresh token.", status=400)
    user_id, session_id = record["user_id"], record["session_id"]
    entry = audited(user_id, "auth.logout", f"session:{session_id}", meta)
    _end_session(user_id, session_id, entry)


def _end_session(user_id: str, session_id: str, entry: tuple[dict[str, Any], None]) -> None:
    """Revoke the session (its refresh tokens) and list it in the account's auth state, so
    that every guard refuses its access tokens within its 30-second cache."""
    for round_ in range(3):
        account = repository.get_account(user_id)
        tx = repository.revoke_session(Transaction(), session_id)
        if account is not None:
            now = clock.epoch_s()
            repository.list_ended_session(tx, account, session_id, session_listing_end(now), now)
        try:
            tx.extend([entry]).commit()
            break
        except domain.EndedSessionsChanged:
            if round_ == 2:  # the first entry is created once: this does not go on
                raise
    forget_auth_state(user_id)


def logout_everywhere(user_id: str, meta: RequestMeta) -> None:
    """End every session and every access token already issued to the account."""
    tx = repository.update_account(
        Transaction(),
        user_id,
        {"tokens_valid_after_ms": clock.epoch_ms()},
        updated_at=rfc3339(utc_now()),
    )
    tx.extend([audited(user_id, "auth.logout_all", f"user:{user_id}", meta)]).commit()
    forget_auth_state(user_id)


# ---------------------------------------------------------------- passwords


def forgot_password(email_raw: str, meta: RequestMeta) -> None:
    """E-mail a single-use reset link (1 hour). Any address without an enabled account
    gets the same work and no e-mail."""
    email = domain.normalise_email(email_raw)
    account = repository.account_of_address(email)
    if account is not None and account.disabled:
        account = None
    tx = Transaction()
    _add_one_time_link(tx, "RESET", email, account, meta)
    tx.commit()


def reset_password(token: str, new_password: str, meta: RequestMeta) -> None:
    """Set a new password with a reset token; every session ends."""
    digest = domain.presented_digest(token)
    record = repository.find_one_time_token("RESET", digest) if digest else None
    if (
        digest is None
        or record is None
        or record["used"]
        or record["expires_at"] <= clock.epoch_s()
    ):
        raise InvalidToken(_BAD_RESET_LINK, status=400)
    account = repository.get_account(record["user_id"])
    # A link sent before the password last changed (another reset, a change) is stale.
    if account is None or int(record.get("issued_ms", 0)) <= account.tokens_valid_after_ms:
        raise InvalidToken(_BAD_RESET_LINK, status=400)
    passwords.check_password_policy(new_password, email=account.email)
    tx = repository.spend_one_time_token(Transaction(), "RESET", digest, clock.epoch_s())
    # The reset proves the mailbox: a lock someone else's guesses set ends with it.
    ratelimit.release_step(tx, ratelimit.rules().login_failures, account.email)
    _set_password(tx, account, new_password, "auth.password_reset", meta)


def change_password(user_id: str, current: str, new_password: str, meta: RequestMeta) -> None:
    """Change the password knowing the current one; every session ends."""
    account = repository.get_account(user_id)
    if account is None:
        raise NotFound("No such account.")
    # A stolen access token must not become unlimited password guessing: the same lockout
    # as signing in applies, counted before verifying (docs/decisions/0014).
    attempt = ratelimit.claim_attempt(
        ratelimit.rules().login_failures,
        account.email,
        detail="Too many wrong passwords for this account; try again later.",
    )
    if not passwords.verify_password(account.password_hash, current).ok:
        ratelimit.attempt_failed(attempt)
        metrics.add_metric(name="FailedLogins", unit=MetricUnit.Count, value=1)
        entry = audited(user_id, "auth.password_change_failed", f"user:{user_id}", meta)
        Transaction().extend([entry]).commit()
        raise InvalidCredentials("The current password is wrong.")
    ratelimit.give_back(attempt)
    passwords.check_password_policy(new_password, email=account.email)
    _set_password(Transaction(), account, new_password, "auth.password_changed", meta)


def _set_password(
    tx: Transaction, account: Account, password: str, action: str, meta: RequestMeta
) -> None:
    repository.update_account(
        tx,
        account.user_id,
        {
            "password_hash": passwords.hash_password(password),
            "tokens_valid_after_ms": clock.epoch_ms(),
        },
        updated_at=rfc3339(utc_now()),
    )
    tx.extend(
        [audited(account.user_id, action, f"user:{account.user_id}", meta, sessions_ended=True)]
    )
    tx.commit()
    forget_auth_state(account.user_id)


# ---------------------------------------------------------------- profile


def profile(user_id: str) -> Account:
    """The caller's own account."""
    account = repository.get_account(user_id)
    if account is None:
        raise NotFound("No such account.")
    return account


def update_profile(user_id: str, changes: dict[str, Any], meta: RequestMeta) -> Account:
    """Change name and/or phone; the audit entry lists what changed."""
    account = profile(user_id)
    before = {"name": account.name, "phone": account.phone}
    after = {**before, **changes}
    changed = diff(before, after)
    if not changed:
        return account
    tx = repository.update_account(
        Transaction(), user_id, {k: after[k] for k in changed}, updated_at=rfc3339(utc_now())
    )
    tx.extend(
        [audited(user_id, "user.profile_updated", f"user:{user_id}", meta, **changed)]
    ).commit()
    return replace(account, **{k: after[k] for k in changed})


# ---------------------------------------------------------------- administration


def list_accounts(
    *, email: str | None, role: str | None, limit: int, cursor: str | None, admin_id: str
) -> tuple[list[Account], str | None]:
    """Accounts for the admin, newest first; by e-mail, by role, or all."""
    if email:
        account = repository.find_account_by_email(domain.normalise_email(email))
        matches = [account] if account and (role != "admin" or "admin" in account.roles) else []
        return matches, None
    scope = list_scope("GET /v1/admin/users", admin_id, role=role or "")
    start = decode_cursor(cursor, scope)
    accounts, last = repository.list_accounts(
        admins_only=role == "admin", limit=limit, start_key=start
    )
    return accounts, encode_cursor(last, scope)


def administer(
    admin_id: str,
    user_id: str,
    *,
    roles: Sequence[str] | None,
    disabled: bool | None,
    meta: RequestMeta,
    cash_on_delivery: bool | None = None,
) -> Account:
    """Change an account's global roles and/or disable it, and give back (or take away) its
    cash on delivery (docs/product.md, Cash on delivery); audited with what changed."""
    target = repository.get_account(user_id)
    if target is None:
        raise NotFound("No such account.")
    changes: dict[str, Any] = {}
    new_roles = target.roles
    if roles is not None:
        new_roles = domain.new_roles(admin_id, target, roles)
        if new_roles != target.roles:
            changes["roles"] = sorted(new_roles)
    if disabled is not None:
        domain.cannot_disable_self(admin_id, target, disabled)
        if disabled != target.disabled:
            changes["disabled"] = disabled
    ended = {"tokens_valid_after_ms": clock.epoch_ms()} if changes.get("disabled") else {}
    cod_allowed = None
    if cash_on_delivery is not None and repository.cod_revoked(user_id) == cash_on_delivery:
        cod_allowed = cash_on_delivery  # allowed now iff it was taken away, and back
    if not changes and cod_allowed is None:
        return target
    before = {"roles": sorted(target.roles), "disabled": target.disabled}
    changed = diff(before, {**before, **changes})
    tx = Transaction()
    if cod_allowed is not None:
        changed["cash_on_delivery"] = {"from": not cod_allowed, "to": cod_allowed}
        repository.set_cash_on_delivery(tx, user_id, cod_allowed, at=rfc3339(utc_now()))
    if changes:
        index_set, index_removed = repository.admin_index(target, "admin" in new_roles)
        # Disabling also ends every session: re-enabling later does not revive old tokens.
        repository.update_account(
            tx,
            user_id,
            {**changes, **index_set, **ended},
            updated_at=rfc3339(utc_now()),
            remove=index_removed,
        )
    tx.extend(
        [
            audited(
                admin_id,
                "admin.user_updated",
                f"user:{user_id}",
                meta,
                actor_type="admin",
                **changed,
            )
        ]
    )
    tx.commit()
    forget_auth_state(user_id)
    return replace(target, roles=new_roles, disabled=changes.get("disabled", target.disabled))
