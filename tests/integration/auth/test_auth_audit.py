"""Audit (docs/product.md): every security event of an account's life is one entry, with who, what,
which resource, which request, from where, when and what changed; never a secret."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from support.auth_world import PASSWORD, AuthWorld, actions, plain, unique_email

from auth import repository, service
from auth.rules import accounts as domain
from warung.errors import InvalidCredentials, InvalidToken
from warung.observability import logger

STEP_S = 0.005  # between steps of the story whose order the clock must tell

NEW_PASSWORD = "nasi-uduk-betawi-pagi"
NEWER_PASSWORD = "es-cendol-durian-sore"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class Story:
    """What happened, step by step: the request of each step and the secrets it saw."""

    def __init__(self, world: AuthWorld) -> None:
        self.world = world
        self.requests: dict[str, Any] = {}
        self.secrets: set[str] = set()

    def meta(self, step: str) -> Any:
        meta = self.world.meta(step)
        self.requests[step] = meta
        return meta

    def keep(self, *values: str) -> None:
        for value in values:
            self.secrets.add(value)
            # What the table stores instead of a token: finding it would be as bad.
            self.secrets.add(domain.token_digest(value))


@pytest.fixture
def log_lines() -> Any:
    """Every line the function's logger writes during the test, as it formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    try:
        yield lambda: stream.getvalue().splitlines()
    finally:
        logger._logger.removeHandler(handler)


def test_given_an_accounts_life_when_audited_then_one_entry_per_event_and_no_secret(
    auth: AuthWorld, log_lines: Any, clock: ModuleType
) -> None:
    started = datetime.now(UTC).replace(microsecond=0)
    story = Story(auth)
    issued = auth.record_secret_tokens()
    admin = auth.make_account(admin=True)
    email = unique_email("audited")
    stranger = unique_email("nobody")
    story.keep(PASSWORD, NEW_PASSWORD, NEWER_PASSWORD, "wrong-password-here")

    # given: a sign-up, its verification, a sign-in, a wrong password, an unknown address
    service.register(email, PASSWORD, "Sri Rahayu", story.meta("register"))
    account = repository.find_account_by_email(email)
    assert account is not None
    user = account.user_id
    service.verify_email(issued[-1], story.meta("verify"))
    first = service.login(email, PASSWORD, story.meta("login"))
    with pytest.raises(InvalidCredentials):
        service.login(email, "wrong-password-here", story.meta("login-wrong"))
    with pytest.raises(InvalidCredentials):
        service.login(stranger, PASSWORD, story.meta("login-unknown"))

    # and: a refresh token used twice, sign-out everywhere
    second = service.refresh(first.refresh_token, story.meta("refresh"))
    with pytest.raises(InvalidToken):
        service.refresh(first.refresh_token, story.meta("refresh-reuse"))
    refresh_record = repository.find_refresh_token(domain.token_digest(first.refresh_token))
    assert refresh_record is not None
    session_id = refresh_record["session_id"]
    third = service.login(email, PASSWORD, story.meta("login-again"))
    service.logout_everywhere(user, story.meta("logout-all"))

    # and: a password reset, a password change, a profile change and a role change, each a
    # moment after the one before (a link issued in the very millisecond of a sign-out
    # everywhere or of a password change counts as issued before it, and is refused)
    clock.advance(STEP_S)
    service.forgot_password(email, story.meta("forgot"))
    reset_token = issued[-1]
    service.reset_password(reset_token, NEW_PASSWORD, story.meta("reset"))
    clock.advance(STEP_S)
    fourth = service.login(email, NEW_PASSWORD, story.meta("login-after-reset"))
    clock.advance(STEP_S)
    service.change_password(user, NEW_PASSWORD, NEWER_PASSWORD, story.meta("change"))
    service.update_profile(user, {"name": "Sri R.", "phone": "+6281234567890"}, story.meta("me"))
    service.administer(admin.user_id, user, roles=["admin"], disabled=None, meta=story.meta("role"))
    finished = datetime.now(UTC) + timedelta(seconds=1)

    for pair in (first, second, third, fourth):
        story.keep(pair.access_token, pair.refresh_token)
    story.keep(*issued)
    stored = repository.get_account(user)
    assert stored is not None
    story.keep(stored.password_hash, account.password_hash)

    # when: the auditor reads the account's entries by actor and by resource
    by_user = auth.by_actor(user)
    about_user = auth.by_resource(f"user:{user}")
    about_session = auth.by_resource(f"session:{session_id}")
    about_stranger = auth.by_resource(f"email:{domain.subject_digest(stranger)}")
    by_admin = auth.by_actor(admin.user_id)

    # then: one entry per event, in the order they happened
    assert actions(by_user) == [
        "user.registered",
        "user.email_verified",
        "auth.login_succeeded",
        "auth.login_failed",
        "auth.refresh_reused",
        "auth.login_succeeded",
        "auth.logout_all",
        "auth.password_reset",
        "auth.login_succeeded",
        "auth.password_changed",
        "user.profile_updated",
    ]
    assert actions(about_user) == [a for a in actions(by_user) if a != "auth.refresh_reused"] + [
        "admin.user_updated"
    ]
    assert actions(about_session) == ["auth.refresh_reused"]
    assert actions(about_stranger) == ["auth.login_failed"]
    assert actions(by_admin) == ["admin.user_updated"]

    # and: each names its actor, resource, request, source, user agent and time
    steps = {
        "register": ("user.registered", user, f"user:{user}", {}),
        "verify": ("user.email_verified", user, f"user:{user}", {}),
        "login": ("auth.login_succeeded", user, f"user:{user}", {}),
        "login-wrong": ("auth.login_failed", user, f"user:{user}", {}),
        "login-unknown": (
            "auth.login_failed",
            "anonymous",
            f"email:{domain.subject_digest(stranger)}",
            {},
        ),
        "refresh-reuse": (
            "auth.refresh_reused",
            user,
            f"session:{session_id}",
            {"session_revoked": True},
        ),
        "login-again": ("auth.login_succeeded", user, f"user:{user}", {}),
        "logout-all": ("auth.logout_all", user, f"user:{user}", {}),
        "reset": ("auth.password_reset", user, f"user:{user}", {"sessions_ended": True}),
        "login-after-reset": ("auth.login_succeeded", user, f"user:{user}", {}),
        "change": ("auth.password_changed", user, f"user:{user}", {"sessions_ended": True}),
        "me": (
            "user.profile_updated",
            user,
            f"user:{user}",
            {
                "name": {"from": "Sri Rahayu", "to": "Sri R."},
                "phone": {"from": None, "to": "+6281234567890"},
            },
        ),
        "role": (
            "admin.user_updated",
            admin.user_id,
            f"user:{user}",
            {"roles": {"from": [], "to": ["admin"]}},
        ),
    }
    entries = {
        entry["request_id"]: entry
        for entry in plain(by_user + about_user + about_session + about_stranger)
    }
    for step, (action, actor, resource, changes) in steps.items():
        entry = entries[story.requests[step].request_id]
        assert (entry["action"], entry["actor_id"], entry["resource"]) == (
            action,
            actor,
            resource,
        ), step
        assert entry["changes"] == changes, step
        # the address only as its keyed hash; the user agent not at all
        assert entry["ip_hash"] == auth.address_hash(auth.source_ip), step
        assert "source_ip" not in entry, step
        assert "user_agent" not in entry, step
        assert entry["actor_type"] == ("admin" if action.startswith("admin.") else "user"), step
        assert RFC3339.match(entry["at"]), step
        at = datetime.strptime(entry["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert started <= at <= finished, step

    # and: no entry holds a password, a token, a hash of either, or an e-mail address
    raw = json.dumps(by_user + about_user + about_session + about_stranger + by_admin)
    for secret in story.secrets:
        assert secret not in raw
    assert "$argon2" not in raw
    for address in (email, stranger, admin.email):
        assert address not in raw
        assert address.split("@")[0] not in raw
    assert "@" not in raw

    # and: neither does any log line of these requests (docs/product.md, Observability and security)
    logged = "\n".join(log_lines())
    for secret in story.secrets:
        assert secret not in logged
    for address in (email, stranger, admin.email):
        assert address not in logged


def test_given_an_admin_disables_an_account_when_audited_then_the_entry_names_the_admin(
    auth: AuthWorld,
) -> None:
    admin = auth.make_account(admin=True)
    customer = auth.make_account()

    updated = service.administer(
        admin.user_id, customer.user_id, roles=None, disabled=True, meta=auth.meta("disable")
    )

    assert updated.disabled
    (entry,) = plain(auth.by_resource(f"user:{customer.user_id}"))
    assert entry["actor_id"] == admin.user_id
    assert entry["action"] == "admin.user_updated"
    assert entry["changes"] == {"disabled": {"from": False, "to": True}}
    assert entry["request_id"].startswith("req-disable-")
    assert plain(auth.by_actor(admin.user_id)) == [entry]


def test_given_a_change_that_changes_nothing_when_made_then_no_entry(auth: AuthWorld) -> None:
    admin = auth.make_account(admin=True)
    customer = auth.make_account(name="Budi")

    service.administer(
        admin.user_id, customer.user_id, roles=["customer"], disabled=False, meta=auth.meta("noop")
    )
    service.update_profile(customer.user_id, {"name": "Budi"}, auth.meta("same-name"))

    assert auth.by_resource(f"user:{customer.user_id}") == []
