"""The auth function's account rules (auth.rules.accounts): e-mail addresses, sessions, roles."""

from __future__ import annotations

import pytest
from support.checks import refusal as refusal_of

from auth.rules import accounts as domain
from auth.rules.accounts import cannot_disable_self, new_roles, normalise_email
from warung.errors import Conflict, ValidationFailed
from warung.store.accounts import Account, Session

ADMIN_ID = "01JADMIN000000000000000000"
OTHER_ADMIN_ID = "01JADMIN000000000000000001"
CUSTOMER_ID = "01JCUSTOMER000000000000000"
T_MS = 1_800_000_000_123  # a session's creation time, epoch ms


def account(
    user_id: str = CUSTOMER_ID,
    *,
    roles: frozenset[str] = frozenset(),
    disabled: bool = False,
    tokens_valid_after_ms: int = 0,
) -> Account:
    return Account(
        user_id=user_id,
        email="budi@example.com",
        name="Budi",
        password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        created_at="2027-01-15T08:00:00Z",
        roles=roles,
        disabled=disabled,
        tokens_valid_after_ms=tokens_valid_after_ms,
    )


def session(*, revoked: bool = False, created_ms: int = T_MS) -> Session:
    lifetime = int(domain.SESSION_LIFETIME.total_seconds())
    return Session(
        session_id="01JSESSION0000000000000000",
        user_id=CUSTOMER_ID,
        created_ms=created_ms,
        expires_at=created_ms // 1000 + lifetime,
        revoked=revoked,
    )


def refusal(raw: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        normalise_email(raw)
    return refused.value


# ---------------------------------------------------------------- e-mail addresses


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        pytest.param("budi@example.com", "budi@example.com", id="already-canonical"),
        pytest.param("  Budi.Santoso@Example.COM \t\n", "budi.santoso@example.com", id="trim-case"),
        pytest.param(
            "\u00a0budi@example.com\u3000", "budi@example.com", id="no-break-and-ideographic-space"
        ),
        pytest.param(
            "\uff22\uff55\uff44\uff49\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
            "budi@example.com",
            id="full-width-nfkc",
        ),
        pytest.param("sri+orders@mail.example.co.id", "sri+orders@mail.example.co.id", id="plus"),
    ],
)
def test_given_a_typed_address_when_normalised_then_one_canonical_form(
    typed: str, stored: str
) -> None:
    assert normalise_email(typed) == stored


def test_given_two_spellings_of_one_address_when_normalised_then_they_are_equal() -> None:
    # One account per person, however their keyboard typed the address.
    assert normalise_email("BUDI@EXAMPLE.COM") == normalise_email(" budi@example.com ")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("budi", id="no-at"),
        pytest.param("budi@", id="no-domain"),
        pytest.param("@example.com", id="no-local-part"),
        pytest.param("budi@example", id="no-dot-in-domain"),
        pytest.param("budi@example.com.", id="trailing-dot"),
        pytest.param("budi@example..com", id="empty-label"),
        pytest.param("bu di@example.com", id="inner-space"),
        pytest.param("budi@exa mple.com", id="space-in-domain"),
        pytest.param("budi@sri@example.com", id="two-ats"),
        pytest.param("a" * 65 + "@example.com", id="local-part-over-64"),
        pytest.param("a" * 64 + "@" + "b" * 186 + ".com", id="255-characters"),
    ],
)
def test_given_a_malformed_address_when_normalised_then_422_on_field_email(raw: str) -> None:
    error = refusal(raw)

    assert error.http_status == 422
    assert error.code == "validation_error"
    assert [e.field for e in error.errors] == ["email"]


def test_given_the_longest_allowed_address_when_normalised_then_accepted() -> None:
    longest = "a" * 64 + "@" + "b" * 185 + ".com"
    assert len(longest) == 254

    assert normalise_email(longest) == longest


def test_given_a_malformed_address_when_refused_then_the_message_does_not_echo_it() -> None:
    error = refusal("secret-person@@example.com")

    assert "secret-person" not in error.detail
    assert all("secret-person" not in e.message for e in error.errors)


# ---------------------------------------------------------------- presented tokens


def test_given_a_token_this_api_issues_when_presented_then_looked_up_by_its_digest() -> None:
    token = domain.new_secret_token()
    assert domain.presented_digest(token) == domain.token_digest(token)
    for edge in ("A" * 16, "z" * 512, "a-b_c" * 4):
        assert domain.presented_digest(edge) == domain.token_digest(edge)


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "abc",
        "A" * 15,
        "A" * 513,
        "A" * 20 + " ",
        "abc+def/ghi=jklmnop",
        "tökentokentokentoken",
        "A" * 20 + "\n",
    ],
    ids=["empty", "short", "15", "513", "space", "base64-not-url", "not-ascii", "newline"],
)
def test_given_a_string_of_another_shape_when_presented_then_not_looked_up(presented: str) -> None:
    assert domain.presented_digest(presented) is None


# ---------------------------------------------------------------- sessions


def test_given_a_fresh_session_when_checked_then_usable() -> None:
    assert session().usable(T_MS // 1000 + 1, account())


def test_given_a_session_when_its_30_days_pass_then_it_is_not_usable() -> None:
    assert domain.SESSION_LIFETIME.total_seconds() == 30 * 24 * 3600
    s = session()
    thirty_days = 30 * 24 * 3600

    assert s.expires_at == T_MS // 1000 + thirty_days
    assert s.usable(s.expires_at - 1, account())
    assert not s.usable(s.expires_at, account())
    assert not s.usable(s.expires_at + 1, account())


def test_given_a_revoked_session_when_checked_then_not_usable() -> None:
    assert not session(revoked=True).usable(T_MS // 1000 + 1, account())


def test_given_a_disabled_account_when_its_session_is_checked_then_not_usable() -> None:
    assert not session().usable(T_MS // 1000 + 1, account(disabled=True))


@pytest.mark.parametrize(
    ("valid_after_ms", "usable"),
    [
        pytest.param(0, True, id="never-signed-out"),
        pytest.param(T_MS - 1, True, id="signed-out-1ms-before-the-session"),
        pytest.param(T_MS, False, id="signed-out-the-same-millisecond"),
        pytest.param(T_MS + 1, False, id="signed-out-1ms-after"),
    ],
)
def test_given_sign_out_everywhere_when_a_session_is_checked_then_ended_to_the_millisecond(
    valid_after_ms: int, usable: bool
) -> None:
    owner = account(tokens_valid_after_ms=valid_after_ms)

    assert session().usable(T_MS // 1000 + 1, owner) is usable


# ---------------------------------------------------------------- roles


def test_given_an_unknown_role_when_requested_then_422_on_field_roles() -> None:
    with pytest.raises(ValidationFailed) as refused:
        new_roles(ADMIN_ID, account(), ["admin", "superuser"])

    assert refused.value.http_status == 422
    assert [e.field for e in refused.value.errors] == ["roles"]
    assert "superuser" in refused.value.errors[0].message


def test_given_customer_and_admin_when_requested_then_only_admin_is_stored() -> None:
    # "customer" is every account's role: it is never stored.
    assert new_roles(ADMIN_ID, account(), ["customer", "admin"]) == frozenset({"admin"})
    assert new_roles(ADMIN_ID, account(), ["customer"]) == frozenset()
    assert new_roles(ADMIN_ID, account(), []) == frozenset()


def test_given_an_admin_when_they_drop_their_own_admin_role_then_409() -> None:
    me = account(ADMIN_ID, roles=frozenset({"admin"}))

    for requested in ([], ["customer"]):
        with pytest.raises(Conflict) as refused:
            new_roles(ADMIN_ID, me, requested)
        assert refused.value.http_status == 409
        assert refused.value.code == "conflict"


def test_given_an_admin_when_they_keep_their_own_admin_role_then_allowed() -> None:
    me = account(ADMIN_ID, roles=frozenset({"admin"}))

    assert new_roles(ADMIN_ID, me, ["admin", "customer"]) == frozenset({"admin"})


def test_given_another_admin_when_they_drop_an_admins_role_then_allowed() -> None:
    target = account(ADMIN_ID, roles=frozenset({"admin"}))

    assert new_roles(OTHER_ADMIN_ID, target, ["customer"]) == frozenset()


def test_given_an_admin_when_they_make_a_customer_admin_then_allowed() -> None:
    assert new_roles(ADMIN_ID, account(), ["admin"]) == frozenset({"admin"})


# ---------------------------------------------------------------- disabling


def test_given_an_admin_when_they_disable_themselves_then_409() -> None:
    me = account(ADMIN_ID, roles=frozenset({"admin"}))

    with pytest.raises(Conflict) as refused:
        cannot_disable_self(ADMIN_ID, me, True)

    assert refused.value.http_status == 409


@pytest.mark.parametrize("disabled", [False, None])
def test_given_an_admin_when_they_enable_or_leave_themselves_then_allowed(
    disabled: bool | None,
) -> None:
    admin = account(ADMIN_ID, roles=frozenset({"admin"}))
    assert refusal_of(lambda: cannot_disable_self(ADMIN_ID, admin, disabled)) is None


def test_given_an_admin_when_they_disable_someone_else_then_allowed() -> None:
    assert refusal_of(lambda: cannot_disable_self(ADMIN_ID, account(), True)) is None
    other_admin = account(OTHER_ADMIN_ID, roles=frozenset({"admin"}))
    assert refusal_of(lambda: cannot_disable_self(ADMIN_ID, other_admin, True)) is None
