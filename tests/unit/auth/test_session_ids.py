"""Ids carry their creation time (warung.ids): the guard ends sessions by it. They also
pack into 16 bytes, as pagination cursors carry them."""

from __future__ import annotations

from types import ModuleType

import pytest

from warung.ids import id_bytes, id_from_bytes, id_time_ms, new_id


def new_id_at(clock: ModuleType, epoch_seconds: float, prefix: str = "") -> str:
    clock.freeze(epoch_seconds)
    return new_id(prefix)


@pytest.mark.parametrize(
    "epoch_seconds",
    [
        pytest.param(0.0, id="epoch"),
        pytest.param(1_800_000_000.123, id="2027"),
        pytest.param(1_800_000_000.999, id="last-ms-of-a-second"),
        pytest.param((2**48 - 1) / 1000, id="largest-48-bit-ms"),
    ],
)
def test_given_an_id_made_at_a_moment_when_read_back_then_the_same_millisecond(
    clock: ModuleType, epoch_seconds: float
) -> None:
    made = new_id_at(clock, epoch_seconds)

    assert len(made) == 26
    assert id_time_ms(made) == int(epoch_seconds * 1000)


def test_given_a_prefixed_id_when_read_back_then_the_prefix_is_ignored(
    clock: ModuleType,
) -> None:
    made = new_id_at(clock, 1_800_000_000.5, prefix="ses_")

    assert made.startswith("ses_")
    assert id_time_ms(made) == 1_800_000_000_500


def test_given_ids_of_successive_milliseconds_when_sorted_then_in_time_order(
    clock: ModuleType,
) -> None:
    moments = [1_800_000_000.000, 1_800_000_000.001, 1_800_000_000.002, 1_800_000_001.0]
    made = [new_id_at(clock, moment) for moment in moments]

    assert sorted(made) == made
    assert [id_time_ms(m) for m in made] == [int(m * 1000) for m in moments]


def test_given_a_lower_case_id_when_read_back_then_the_same_time(
    clock: ModuleType,
) -> None:
    made = new_id_at(clock, 1_800_000_000.123)

    assert id_time_ms(made.lower()) == 1_800_000_000_123


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("01J", id="too-short"),
        pytest.param("01JUUUUUUU0000000000000000", id="u-is-not-crockford"),
        pytest.param("0!JA0000000000000000000000", id="punctuation"),
    ],
)
def test_given_something_that_is_not_an_id_when_read_then_value_error(value: str) -> None:
    with pytest.raises(ValueError, match="not an id"):
        id_time_ms(value)


@pytest.mark.parametrize("epoch_seconds", [0.0, 1_800_000_000.123, (2**48 - 1) / 1000])
def test_given_an_id_when_packed_into_16_bytes_then_it_comes_back_the_same(
    clock: ModuleType, epoch_seconds: float
) -> None:
    made = new_id_at(clock, epoch_seconds)

    packed = id_bytes(made)

    assert packed is not None
    assert len(packed) == 16
    assert id_from_bytes(packed) == made


@pytest.mark.parametrize(
    "other",
    [
        "",
        "ORDER",
        "01M8XX6CWFHM8HEE7QV4YSR5S",
        "01m8xx6cwfhm8hee7qv4ysr5s4",
        "81M8XX6CWFHM8HEE7QV4YSR5S4",
    ],
    ids=["empty", "word", "25-characters", "lower-case", "over-128-bits"],
)
def test_given_a_string_that_is_not_an_id_as_made_then_it_has_no_16_bytes(other: str) -> None:
    assert id_bytes(other) is None
