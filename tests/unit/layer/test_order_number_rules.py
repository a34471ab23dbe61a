"""Order numbers for people (warung.ordering.numbers): their form, their alphabet, where
their randomness comes from, and how a number typed by a person is read."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterator

import pytest

from warung.ordering import numbers
from warung.ordering.numbers import ALPHABET, new_order_number, parse_order_number

FORM = re.compile(r"^WRG-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}$")


def cycling() -> Iterator[int]:
    """0, 1, 2, ... 29, 0, 1, ...: every symbol in turn."""
    value = 0
    while True:
        yield value
        value = (value + 1) % len(ALPHABET)


def always(value: int) -> numbers.RandomBelow:
    """A source that draws ``value`` every time."""
    return lambda n: value


# ---------------------------------------------------------------- the alphabet


def test_the_alphabet_has_thirty_distinct_digits_and_capital_letters() -> None:
    assert len(ALPHABET) == 30
    assert len(set(ALPHABET)) == 30
    assert all(symbol.isdigit() or "A" <= symbol <= "Z" for symbol in ALPHABET)


@pytest.mark.parametrize("confusable", ["0", "O", "1", "I", "L", "U"])
def test_the_alphabet_leaves_out_the_symbols_people_confuse(confusable: str) -> None:
    assert confusable not in ALPHABET
    assert confusable.lower() not in ALPHABET


def test_the_alphabet_is_the_digits_and_letters_left_once_the_confusable_ones_go() -> None:
    everything = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    assert "".join(s for s in everything if s not in "01OILU") == ALPHABET


# ---------------------------------------------------------------- drawing a number


def test_a_number_is_wrg_and_two_groups_of_four_symbols() -> None:
    drawn = [new_order_number() for _ in range(200)]

    assert all(FORM.match(number) for number in drawn), drawn
    assert {len(number) for number in drawn} == {13}


def test_the_symbols_come_from_the_injected_source_in_order() -> None:
    source = cycling()
    asked: list[int] = []

    def randbelow(n: int) -> int:
        asked.append(n)
        return next(source)

    assert new_order_number(randbelow) == "WRG-2345-6789"
    assert new_order_number(randbelow) == "WRG-ABCD-EFGH"
    assert asked == [30] * 16  # one draw below 30 per symbol


def test_the_lowest_and_highest_draws_give_the_first_and_last_symbols() -> None:
    assert new_order_number(always(0)) == "WRG-2222-2222"
    assert new_order_number(lambda n: n - 1) == "WRG-ZZZZ-ZZZZ"


def test_every_symbol_of_the_alphabet_can_be_drawn_in_every_place() -> None:
    drawn = [new_order_number(always(symbol)) for symbol in range(30)]

    for place in range(8):
        column = {number.replace("-", "")[3 + place] for number in drawn}
        assert column == set(ALPHABET), place


def test_the_default_source_is_the_operating_systems_cryptographic_randomness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def recorded(n: int) -> int:
        calls.append(n)
        return 7

    monkeypatch.setattr(secrets, "randbelow", recorded)

    assert new_order_number() == "WRG-9999-9999"
    assert calls == [30] * 8


def test_numbers_drawn_at_random_spread_over_the_alphabet() -> None:
    # 2,000 numbers, 16,000 symbols: each of the 30 about 533 times. A source that favoured
    # a few symbols, or left some out, would fall far outside these generous bounds.
    counts = Counter("".join(new_order_number()[4:].replace("-", "") for _ in range(2000)))

    assert set(counts) == set(ALPHABET)
    assert 350 < min(counts.values()) <= max(counts.values()) < 720


# ---------------------------------------------------------------- reading a typed number


@pytest.mark.parametrize(
    "typed",
    [
        "WRG-7K4Q-2M9X",
        "wrg-7k4q-2m9x",
        "Wrg-7K4q-2m9X",
        "WRG7K4Q2M9X",
        "wrg7k4q2m9x",
        "7K4Q-2M9X",
        "7k4q2m9x",
        "WRG 7K4Q 2M9X",
        " WRG-7K4Q-2M9X ",
    ],
)
def test_a_number_is_read_in_any_case_with_or_without_dashes_and_prefix(typed: str) -> None:
    assert parse_order_number(typed) == "WRG-7K4Q-2M9X"


def test_eight_symbols_that_start_with_wrg_are_the_symbols_not_the_prefix() -> None:
    assert parse_order_number("WRG2-3456") == "WRG-WRG2-3456"


def test_a_drawn_number_reads_back_as_itself() -> None:
    for _ in range(100):
        number = new_order_number()
        assert parse_order_number(number) == number
        assert parse_order_number(number.lower().replace("-", "")) == number


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "WRG",
        "WRG-7K4Q-2M9",  # seven symbols
        "WRG-7K4Q-2M9XX",  # nine
        "WRG-0K4Q-2M9X",  # zero
        "WRG-OK4Q-2M9X",  # letter O
        "WRG-1K4Q-2M9X",  # one
        "WRG-IK4Q-2M9X",  # letter I
        "WRG-LK4Q-2M9X",  # letter L
        "WRG-UK4Q-2M9X",  # letter U
        "ABC-7K4Q-2M9X",  # another prefix
        "WRG-7K4Q_2M9X",
        "WRG-7K4Q-2M9É",
        "01JDX4Y4S5N7Q8R9T0V1W2X3Y4",  # an order id is not a number
    ],
)
def test_anything_else_is_refused_with_what_a_number_looks_like(typed: str) -> None:
    with pytest.raises(ValueError, match=r"looks like WRG-7K4Q-2M9X"):
        parse_order_number(typed)


def test_the_example_in_the_messages_is_a_valid_number() -> None:
    assert parse_order_number(numbers.EXAMPLE) == numbers.EXAMPLE


def test_the_pattern_the_api_documents_matches_the_numbers_drawn_and_nothing_else() -> None:
    pattern = re.compile(numbers.PATTERN)

    assert all(pattern.match(new_order_number()) for _ in range(100))
    assert pattern.match(numbers.EXAMPLE)
    for wrong in ("wrg-7k4q-2m9x", "WRG7K4Q2M9X", "WRG-7K4Q-2M9O", "WRG-7K4Q-2M9", "7K4Q-2M9X"):
        assert not pattern.match(wrong), wrong
