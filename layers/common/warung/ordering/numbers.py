"""Order numbers for people: ``WRG-7K4Q-2M9X``, short enough to read out on the phone.

An order's id is a 26-character ULID, made for keys; its number is what a customer and a
merchant quote to each other. Eight symbols drawn at random (cryptographic randomness)
from an alphabet of 30 that leaves out the symbols people confuse:

- ``0`` and ``O``, ``1``, ``I`` and ``L``: they look alike in many fonts;
- ``U``: it is read as ``V``, and it keeps words out of the numbers.

That leaves ``23456789`` and ``ABCDEFGHJKMNPQRSTVWXYZ``: 30^8, about 6.6e11 numbers.
Checkout claims a number with a conditional put of its uniqueness item in the order's own
transaction and draws another if it was taken (docs/decisions/0011-order-numbers.md).

Pure: no AWS, no clock. The source of randomness is a parameter, so tests choose the draw.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "WRG"
SYMBOLS = 8  # two groups of four
EXAMPLE = "WRG-7K4Q-2M9X"
PATTERN = f"^{PREFIX}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$"  # a number as the API shows it

RandomBelow = Callable[[int], int]
"""``randbelow(n)``: a uniformly random integer in ``[0, n)``, as :func:`secrets.randbelow`."""

_SEPARATORS = str.maketrans("", "", "- ")
_SYMBOL_SET = frozenset(ALPHABET)


def new_order_number(randbelow: RandomBelow | None = None) -> str:
    """A fresh order number, ``WRG-XXXX-XXXX``, its eight symbols drawn with ``randbelow``
    (default :func:`secrets.randbelow`, the operating system's cryptographic randomness)."""
    draw = randbelow or secrets.randbelow
    return _formatted("".join(ALPHABET[draw(len(ALPHABET))] for _ in range(SYMBOLS)))


def parse_order_number(text: str) -> str:
    """The order number ``text`` stands for, as the API shows it (``WRG-7K4Q-2M9X``).

    People type numbers as they can: any case, with or without the dashes (or with spaces),
    with or without the ``WRG`` prefix. Anything else is a ``ValueError`` that says what a
    number looks like.
    """
    symbols = text.upper().translate(_SEPARATORS)
    if len(symbols) == len(PREFIX) + SYMBOLS and symbols.startswith(PREFIX):
        symbols = symbols[len(PREFIX) :]
    if len(symbols) != SYMBOLS or not set(symbols) <= _SYMBOL_SET:
        raise ValueError(
            f"An order number looks like {EXAMPLE}: {SYMBOLS} symbols from 2-9 and A-Z "
            "without I, L, O and U."
        )
    return _formatted(symbols)


def _formatted(symbols: str) -> str:
    half = SYMBOLS // 2
    return f"{PREFIX}-{symbols[:half]}-{symbols[half:]}"
