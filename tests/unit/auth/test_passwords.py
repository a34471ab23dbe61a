"""Password hashing and the password policy (docs/product.md)."""

from __future__ import annotations

import statistics
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from auth.rules import passwords
from auth.rules.passwords import (
    LIKE_EMAIL,
    PREDICTABLE,
    TOO_COMMON,
    TOO_LONG,
    TOO_SHORT,
    PasswordCheck,
    burn_equivalent_time,
    check_password_policy,
    hash_password,
    verify_password,
)
from warung.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[3]

EMAIL = "budi.santoso@example.com"
STRONG = "kopi tubruk di teras jam lima"


def refusals(password: str, email: str = EMAIL) -> list[str]:
    """The reasons given for refusing ``password``; empty when it is accepted."""
    refused: ValidationFailed | None = None
    try:
        check_password_policy(password, email=email)
    except ValidationFailed as error:
        refused = error
    if refused is None:
        return []
    assert refused.http_status == 422
    assert {error.field for error in refused.errors} == {"password"}
    return [error.message for error in refused.errors]


def full_width(text: str) -> str:
    """``text`` typed with an East Asian input method: ASCII letters and digits full-width."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


# ---------------------------------------------------------------- hashing


def test_hash_uses_argon2id_with_owasp_parameters_and_verifies() -> None:
    stored = hash_password(STRONG)

    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, STRONG) == PasswordCheck(ok=True, needs_rehash=False)


def test_each_hash_has_its_own_salt() -> None:
    assert hash_password(STRONG) != hash_password(STRONG)


def test_wrong_password_does_not_verify() -> None:
    stored = hash_password(STRONG)

    assert verify_password(stored, STRONG + "!") == PasswordCheck(ok=False)
    assert verify_password(stored, STRONG.upper()) == PasswordCheck(ok=False)


def test_a_malformed_stored_hash_never_verifies() -> None:
    assert not verify_password("not-a-hash", STRONG).ok
    assert not verify_password("", STRONG).ok


def test_hash_made_with_other_parameters_verifies_and_asks_for_a_rehash() -> None:
    from argon2 import PasswordHasher, Type

    old = PasswordHasher(time_cost=1, memory_cost=19_456, parallelism=1, type=Type.ID)
    stored = old.hash(STRONG)

    assert verify_password(stored, STRONG) == PasswordCheck(ok=True, needs_rehash=True)
    assert verify_password(stored, "something else entirely") == PasswordCheck(ok=False)
    assert verify_password(hash_password(STRONG), STRONG).needs_rehash is False


def test_composed_and_decomposed_accents_are_the_same_password() -> None:
    composed = "café au lait à la gare"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed

    assert verify_password(hash_password(composed), decomposed).ok
    assert verify_password(hash_password(decomposed), composed).ok


def test_full_width_characters_are_the_same_password() -> None:
    assert verify_password(hash_password(full_width("Warung kopi pagi")), "Warung kopi pagi").ok


def test_hasher_is_built_once() -> None:
    assert passwords._hasher() is passwords._hasher()


def test_unknown_email_costs_as_much_as_a_wrong_password() -> None:
    stored = hash_password(STRONG)
    burn_equivalent_time("warm up the dummy hash")  # made once per container

    def elapsed(action: Callable[[], object]) -> float:
        start = time.perf_counter()
        action()
        return time.perf_counter() - start

    verify = statistics.median(elapsed(lambda: verify_password(stored, "wrong")) for _ in range(3))
    burn = statistics.median(elapsed(lambda: burn_equivalent_time("wrong")) for _ in range(3))

    assert 0.5 <= burn / verify <= 2.0


def test_dummy_hash_uses_the_current_parameters() -> None:
    assert passwords._dummy_hash().startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords._dummy_hash() is passwords._dummy_hash()


# ---------------------------------------------------------------- length


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Kx8#mQ2!v", TOO_SHORT),  # 9 characters
        ("Kx8#mQ2!vL" * 12 + "Kx8#mQ2!v", TOO_LONG),  # 129 characters
    ],
)
def test_length_outside_10_to_128_is_refused(password: str, reason: str) -> None:
    assert refusals(password) == [reason]


@pytest.mark.parametrize(
    "password",
    [
        "Kx8#mQ2!vL",  # 10 characters
        "Kx8#mQ2!vL" * 12 + "Kx8#mQ2!",  # 128 characters
        full_width("Kx8#mQ2!vL"),  # 10 once normalised
    ],
)
def test_length_of_10_to_128_is_accepted(password: str) -> None:
    assert refusals(password) == []


def test_length_counts_characters_not_bytes() -> None:
    assert refusals("ケーキと紅茶を飲む時間") == []  # 11 characters, 33 bytes
    assert refusals("ケーキと紅茶を飲む") == [TOO_SHORT]  # 9 characters, 27 bytes


def test_length_is_measured_after_normalisation() -> None:
    # "ﬃ" (one ligature character) is "ffi" in NFKC: 8 + 3 = 11 characters.
    assert TOO_SHORT not in refusals("ﬃ-Kx8#mQ2")
    # Nine combining sequences compose to nine characters: too short.
    assert refusals(unicodedata.normalize("NFD", "éàüñçöîkz")) == [TOO_SHORT]


# ---------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    "password",
    [
        "budi.santoso@example.com",
        "Budi.Santoso@Example.COM",
        "budi.santoso",
        "BUDI.SANTOSO",
        "budisantoso",
        "budi.santoso2024!",
    ],
)
def test_the_email_address_or_its_local_part_is_refused(password: str) -> None:
    assert LIKE_EMAIL in refusals(password)


def test_a_password_that_merely_contains_a_name_is_accepted() -> None:
    assert refusals("budi suka kopi tubruk hitam") == []


# ---------------------------------------------------------------- common passwords


@pytest.mark.parametrize(
    "password",
    [
        "password123",
        "Password1234!",
        "PASSWORD2024",
        "P@ssw0rd2024",
        "iloveyou1234",
        "Sunshine2023!",
        "trustno1trustno1",
        "sayang12345",
        "Bismillah123",
        "akusayangkamu",
        "Jakarta1945!",
        "nasigoreng!!",
        "Warung2025!",
        "warungkopi123",
        "Indonesia!2026",
        "01-02-1990",
        "1q2w3e4r5t6y",
    ],
)
def test_common_passwords_and_their_decorations_are_refused(password: str) -> None:
    assert TOO_COMMON in refusals(password)


def test_common_password_list_has_only_long_unique_lowercase_entries() -> None:
    lines = passwords.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    entries = [line for line in lines if not line.startswith("#")]

    assert 50_000 <= len(entries) <= 120_000
    assert passwords.COMMON_PASSWORDS_FILE.stat().st_size < 2_000_000
    assert min(len(entry) for entry in entries) >= 10
    assert max(len(entry) for entry in entries) <= 128
    assert len(set(entries)) == len(entries)
    assert all(entry == entry.strip().lower() and entry for entry in entries)
    assert {"password123", "iloveyou123", "qwertyuiop", "sayang12345", "warung2025!"} <= set(
        entries
    )


def test_common_password_list_is_loaded_once() -> None:
    assert passwords._common_passwords() is passwords._common_passwords()


# ---------------------------------------------------------------- sequences and repeats


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaa",
        "ZZZZZZZZZZZZZZZ",
        "éééééééééé",
        "abcabcabcabc",
        "1212121212",
        "1234567890",
        "0987654321",
        "7890123456",
        "abcdefghij",
        "zyxwvutsrq",
        "qwertyuiop",
        "poiuytrewq",
        "asdfghjkl;",
        "zxcvbnm123!",
        "asdf1234zxcv",
        "qwerty asdfgh",
        "1qaz2wsx3edc",
        "~!@#$%^&*()_+",
    ],
)
def test_repeats_and_keyboard_or_number_sequences_are_refused(password: str) -> None:
    assert PREDICTABLE in refusals(password)


@pytest.mark.parametrize(
    "password",
    [
        STRONG,
        "correct horse battery staple",
        "Semangat Pagi Kopi Hitam",
        "Pelangi-Senja-Merah",
        "My cat eats 3 mangoes",
        "trees were wet",
        "Kx8#mQ2!vL9z",
        "café au lait à la gare",
    ],
)
def test_strong_passwords_are_accepted(password: str) -> None:
    assert refusals(password) == []


def test_every_reason_is_given_at_once() -> None:
    assert refusals("1234567890", email="1234567890@example.com") == [
        LIKE_EMAIL,
        TOO_COMMON,
        PREDICTABLE,
    ]
    assert refusals("ratna", email="ratna@example.com") == [TOO_SHORT, LIKE_EMAIL]


def test_refusal_is_a_422_problem_with_friendly_field_errors() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_password_policy("Password1234!", email=EMAIL)

    problem = refused.value.problem("req-1")
    assert problem["status"] == 422
    assert problem["code"] == "validation_error"
    assert problem["errors"] == [{"field": "password", "message": TOO_COMMON}]
