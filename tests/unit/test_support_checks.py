"""The suite's helper for rules that let a request through: it must see a refusal."""

from __future__ import annotations

from support.checks import refusal

from warung.errors import Forbidden


def _refuse() -> None:
    raise Forbidden("Staff may not edit products.")


def test_a_refusal_is_returned_and_a_pass_is_none() -> None:
    refused = refusal(_refuse)
    assert isinstance(refused, Forbidden)
    assert refused.detail == "Staff may not edit products."
    assert refusal(lambda: None) is None
