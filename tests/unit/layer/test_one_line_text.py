"""User text that reaches e-mails is one line without control characters."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

from warung.models import OneLineText, RequestModel
from warung.text import one_line


class Named(RequestModel):
    name: OneLineText = Field(min_length=1, max_length=100)


@pytest.mark.parametrize(
    "text",
    [
        "Sri Rahayu",
        "Budi Santoso — Café",
        "Warung Bu Tini (Jl. Sabang 10)",
        "日本語の名前",
        "warung.id",
    ],
)
def test_ordinary_one_line_text_is_accepted_as_typed(text: str) -> None:
    assert Named(name=text).name == text


@pytest.mark.parametrize(
    "text",
    [
        "Bob\nClick http://evil.example",
        "Bob\r\nBcc: victim@example.com",
        "Bob\rOver",
        "Tab\there",
        "Null\x00byte",
        "Escape\x1b[31m",
        "Del\x7f",
        "C1\x85next line",
        "Line\u2028separator",
        "Para\u2029separator",
        "evil\u202egnp.exe",
        "isolate\u2066x\u2069",
    ],
)
def test_line_breaks_and_control_characters_are_refused(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Named(name=text)

    (error,) = caught.value.errors()
    assert error["loc"] == ("name",)
    assert "line" in error["msg"] or "direction" in error["msg"]


def test_surrounding_whitespace_is_trimmed_before_the_check() -> None:
    assert Named(name="  Sri Rahayu\n").name == "Sri Rahayu"


def test_one_line_says_why_it_refuses() -> None:
    with pytest.raises(ValueError, match="one line, without line breaks or control characters"):
        one_line("a\nb")
