"""Password hashing (Argon2id) and the password policy (docs/product.md, Accounts and sign-in).

Hashing uses OWASP's Password Storage Cheat Sheet parameters for Argon2id: 19 MiB of memory,
2 iterations, 1 lane, a 16-byte salt and a 32-byte hash. argon2 is imported on first use and
the hasher built once per container, so a cold start that serves no sign-in or sign-up
does not pay for it.

Passwords are normalised to Unicode NFKC before they are hashed, verified or measured. The
same password can reach us as different code points: "é" composed (U+00E9) from one
keyboard, "e" + combining accent (U+0065 U+0301) from another, full-width letters from an
Asian input method. Without normalisation a user who signed up on a phone could not sign in
on a laptop. NFKC (as NIST SP 800-63B suggests) folds these to one form; it never makes two
passwords a person would consider different equal in practice.
"""

from __future__ import annotations

import os
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from warung.errors import FieldError, ValidationFailed

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 10
MAX_LENGTH = 128

# OWASP Password Storage Cheat Sheet, Argon2id: m=19456 KiB (19 MiB), t=2, p=1.
ARGON2_MEMORY_KIB = 19_456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
ARGON2_SALT_BYTES = 16
ARGON2_HASH_BYTES = 32

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

TOO_SHORT = f"Use at least {MIN_LENGTH} characters; a few unrelated words are easy to remember."
TOO_LONG = f"Use at most {MAX_LENGTH} characters."
LIKE_EMAIL = "Don't use your e-mail address, or part of it, as your password."
TOO_COMMON = (
    "This password (or a small variation of it) is one of the most commonly used; "
    "choose something less predictable."
)
PREDICTABLE = (
    "Avoid repeated characters and keyboard or number sequences such as 1234567890 or qwertyuiop."
)


# ---------------------------------------------------------------- hashing


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of a verification.

    ``needs_rehash`` is true when the password is right but its stored hash was made with
    other parameters than today's: store ``hash_password(password)`` in its place.
    """

    ok: bool
    needs_rehash: bool = False


def normalise(password: str) -> str:
    """The password in Unicode NFKC, the form that is hashed and measured."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` in PHC string format (``$argon2id$v=19$m=...``)."""
    return _hasher().hash(normalise(password))


def verify_password(stored_hash: str, password: str) -> PasswordCheck:
    """Whether ``password`` matches ``stored_hash``; a malformed hash never matches."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    try:
        hasher.verify(stored_hash, normalise(password))
    except (VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    return PasswordCheck(ok=True, needs_rehash=hasher.check_needs_rehash(stored_hash))


def burn_equivalent_time(password: str) -> None:
    """Do the work of a failed verification, for a sign-in whose e-mail is unknown.

    Verifies against a dummy hash made with the current parameters, so that "no such
    account" takes as long as "wrong password" and the timing tells nothing.
    """
    verify_password(_dummy_hash(), password)


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        hash_len=ARGON2_HASH_BYTES,
        salt_len=ARGON2_SALT_BYTES,
        type=Type.ID,
    )


@cache
def _dummy_hash() -> str:
    # Made once per container, on the first unknown e-mail; nobody knows its password.
    return hash_password(os.urandom(24).hex())


# ---------------------------------------------------------------- policy


def check_password_policy(password: str, *, email: str) -> None:
    """Refuse a new password that breaks the policy with a 422 listing every reason.

    Length 10..128 characters (after NFKC); not the e-mail address or its local part in any
    case; not a common password, even decorated (``Password1234!``) or in leetspeak
    (``P@ssw0rd``); no single repeated character or keyboard or number sequence.
    """
    normalised = normalise(password)
    reasons: list[str] = []
    if len(normalised) < MIN_LENGTH:
        reasons.append(TOO_SHORT)
    elif len(normalised) > MAX_LENGTH:
        reasons.append(TOO_LONG)
    forms = _forms(normalised)
    if forms & _email_forms(email):
        reasons.append(LIKE_EMAIL)
    if _is_common(forms):
        reasons.append(TOO_COMMON)
    if any(_is_predictable(form) for form in forms):
        reasons.append(PREDICTABLE)
    if reasons:
        raise ValidationFailed(
            "The password does not meet the requirements.",
            errors=[FieldError("password", reason) for reason in reasons],
        )


# Characters people wrap around a word: "password123!", "!!dragon", "sayang@2024".
_DECORATION = string.digits + string.punctuation + " "
# Separators people put inside a phrase: "i love you", "i-love-you", "i.love.you".
_SEPARATORS = str.maketrans("", "", " \t-_.")
# Common substitutions; "1" and "!" stand for "i" or "l", so both readings are tried.
_LEET = (str.maketrans("013@4$57!8", "oieaasstib"), str.maketrans("013@4$57!8", "olealsstlb"))
_MIN_STEM = 3


def _fold(text: str) -> str:
    return normalise(text).casefold()


def _stem(text: str) -> str:
    return text.strip(_DECORATION)


def _forms(normalised: str) -> set[str]:
    # The password as typed (case-insensitive), without inner separators, and undecorated.
    folded = normalised.casefold()
    compact = folded.translate(_SEPARATORS)
    forms = {folded, compact}
    forms |= {stem for stem in map(_stem, (folded, compact)) if len(stem) >= _MIN_STEM}
    return forms


def _email_forms(email: str) -> set[str]:
    address = _fold(email.strip())
    local = address.rpartition("@")[0] or address
    return _forms(address) | _forms(local)


def _is_common(forms: Iterable[str]) -> bool:
    entries, stems = _common_passwords()
    for form in forms:
        if form in entries:
            return True
        stem = _stem(form)
        if stem in stems or any(_stem(stem.translate(table)) in stems for table in _LEET):
            return True
    return False


@cache
def _common_passwords() -> tuple[frozenset[str], frozenset[str]]:
    """The shipped list, and the words its entries decorate (loaded once per container).

    The list holds only entries of 10 characters or more (shorter ones fail the length
    rule anyway), so ``password`` itself is not in it, but ``password123`` is: its stem
    ``password`` then catches every decoration of it, ``Password1234!`` included.
    """
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    entries = frozenset(line for line in map(str.strip, lines) if line and line[0] != "#")
    stems = frozenset(stem for stem in map(_stem, entries) if len(stem) >= _MIN_STEM)
    return entries, stems


# Sequences people walk along: digits, the alphabet, US keyboard rows, columns and the
# whole keyboard row after row. Neighbours in either direction count.
_WALKS = (
    "01234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "`1234567890-=",
    "~!@#$%^&*()_+",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "qazwsxedcrfvtgbyhnujmikolp",
)


def _steps() -> dict[tuple[str, str], frozenset[int]]:
    # For each pair of neighbours, the walks (and directions: 2 * walk + 0 or 1) it is on.
    steps: dict[tuple[str, str], set[int]] = {}
    for number, walk in enumerate(_WALKS):
        for direction, line in enumerate((walk, walk[::-1])):
            for pair in pairwise(line):
                steps.setdefault(pair, set()).add(2 * number + direction)
    return {pair: frozenset(ways) for pair, ways in steps.items()}


_STEPS = _steps()
_MIN_RUN = 3
_MAX_RUNS = 3
_MAX_PERIOD = 4


def _is_predictable(text: str) -> bool:
    """A single repeated character or unit (``aaaaaaaaaa``, ``abcabcabca``), or at most three
    walks along sequences (``1234567890``, ``qwertyuiop``, ``zxcvbnm123``, ``abcdef!``)."""
    if len(text) < MIN_LENGTH:
        return False
    if len(set(text)) <= 2 or any(
        text == (text[:period] * len(text))[: len(text)] for period in range(1, _MAX_PERIOD + 1)
    ):
        return True
    runs = _runs(text)
    if len(runs) > 1 and runs[-1] < _MIN_RUN:
        runs.pop()  # a trailing "!" or "1!" does not make a walk unpredictable
    return len(runs) <= _MAX_RUNS and all(run >= _MIN_RUN for run in runs)


def _runs(text: str) -> list[int]:
    # Lengths of the stretches that walk one way along one sequence (repeats included):
    # "qwerty" or "aaabbbccc" are one stretch; "were" (there and back) is not.
    runs = [1]
    ways: frozenset[int] | None = None  # the walks the current stretch may be on
    for previous, current in pairwise(text):
        if previous == current:
            runs[-1] += 1
            continue
        step = _STEPS.get((previous, current), frozenset())
        shared = step if ways is None else ways & step
        if shared:
            runs[-1] += 1
            ways = shared
        else:
            runs.append(1)
            ways = None
    return runs
