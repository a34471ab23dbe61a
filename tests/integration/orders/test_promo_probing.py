"""Promo codes cannot be found by guessing (docs/product.md, "Promo codes"): a customer may
try 10 unknown codes an hour on quote and checkout together; then every code gets 429 with
Retry-After until the hour ends, so the answer no longer tells a real code from a guess."""

from __future__ import annotations

import uuid
from types import ModuleType

import pytest
from support.orders_world import NEAR, customer, merchant_with, meta, place

import orders.service
from warung.auth import Caller
from warung.errors import ApiError, RateLimited, ValidationFailed


def _hour_start_plus(clock: ModuleType, seconds: int) -> None:
    """Stop the clock ``seconds`` into an hour, so the window's end is known."""
    clock.freeze(float(clock.epoch_s() // 3600 * 3600 + seconds))


def _guess(buyer: Caller, code: str, *, checkout: bool = False) -> ApiError:
    def attempt() -> object:
        return place(buyer, code) if checkout else orders.service.quote(buyer.user_id, NEAR, code)

    with pytest.raises((ValidationFailed, RateLimited)) as refused:
        attempt()
    assert isinstance(refused.value, ApiError)
    return refused.value


def _real_code(**limits: int) -> str:
    code = f"REAL{uuid.uuid4().hex[:6].upper()}"
    orders.service.create_promo(
        "admin", {"code": code, "type": "fixed", "value": 5000, **limits}, meta()
    )
    return code


def test_ten_unknown_codes_an_hour_then_429_with_retry_after(clock: ModuleType) -> None:
    _hour_start_plus(clock, 600)
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)

    # quote and checkout count together
    answers = [_guess(buyer, f"GUESS{i}", checkout=i % 2 == 1) for i in range(10)]
    assert all(
        isinstance(a, ValidationFailed) and a.errors[0].field == "promo_code" for a in answers
    )

    eleventh = _guess(buyer, "GUESS10")
    assert isinstance(eleventh, RateLimited)
    assert eleventh.status == 429
    assert eleventh.headers["Retry-After"] == "3000"
    assert "unknown promo codes" in str(eleventh.detail)


def test_once_limited_a_real_code_gets_429_too_until_the_hour_ends(clock: ModuleType) -> None:
    _hour_start_plus(clock, 60)
    real = _real_code()
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)
    for i in range(10):
        _guess(buyer, f"NOPE{i}")

    assert isinstance(_guess(buyer, real), RateLimited)  # the answer tells nothing
    # the quote without a code is not limited
    assert orders.service.quote(buyer.user_id, NEAR, None).breakdown.discount == 0

    clock.advance(3540)  # the next hour
    assert orders.service.quote(buyer.user_id, NEAR, real).breakdown.discount == 5000


def test_a_real_codes_unmet_conditions_are_still_shown_and_not_counted(
    clock: ModuleType,
) -> None:
    _hour_start_plus(clock, 60)
    demanding = _real_code(min_subtotal=1_000_000)
    _, _, product = merchant_with(stock=None)
    buyer = customer()
    orders.service.set_cart_item(buyer.user_id, product, 1)

    answers = [_guess(buyer, demanding) for _ in range(12)]

    assert {type(a) for a in answers} == {ValidationFailed}
    last = answers[-1]
    assert isinstance(last, ValidationFailed)
    assert "at least 1000000 rupiah" in last.errors[0].message


def test_the_limit_is_per_account(clock: ModuleType) -> None:
    _hour_start_plus(clock, 60)
    _, _, product = merchant_with(stock=None)
    prober, neighbour = customer(), customer()
    for who in (prober, neighbour):
        orders.service.set_cart_item(who.user_id, product, 1)
    for i in range(10):
        _guess(prober, f"MISS{i}")

    assert isinstance(_guess(prober, "MISS10"), RateLimited)
    assert isinstance(_guess(neighbour, "MISS10"), ValidationFailed)
