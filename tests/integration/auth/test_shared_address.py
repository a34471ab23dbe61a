"""Many customers behind one address (carrier-grade NAT, docs/decisions/0028): the
per-address limits are ceilings a crowd stays under, and the per-account lockout still
stops one abuser among them."""

from __future__ import annotations

from types import ModuleType

from support.auth_world import PASSWORD, AuthWorld, unique_email


def test_a_crowd_of_accounts_behind_one_address_all_sign_in_within_one_minute(
    auth: AuthWorld, clock: ModuleType
) -> None:
    # given 30 customers whose phones share one public address, in one minute's window
    clock.freeze(clock.epoch_s())
    crowd = [auth.make_account() for _ in range(30)]

    # when each signs in from that address
    answers = [
        auth.invoke("POST", "/v1/auth/login", {"email": a.email, "password": PASSWORD})
        for a in crowd
    ]

    # then none is turned away
    assert [status for status, _, _ in answers] == [200] * 30


def test_a_crowd_behind_one_address_may_sign_up_within_one_hour(
    auth: AuthWorld, clock: ModuleType
) -> None:
    clock.freeze(clock.epoch_s())
    statuses = [
        auth.invoke(
            "POST",
            "/v1/auth/register",
            {"email": unique_email("crowd"), "password": PASSWORD, "name": "Sri"},
        )[0]
        for _ in range(15)
    ]
    assert statuses == [202] * 15


def test_one_abuser_behind_the_address_is_still_locked_out_and_the_others_are_not(
    auth: AuthWorld, clock: ModuleType
) -> None:
    clock.freeze(clock.epoch_s())
    victim, neighbour = auth.make_account(), auth.make_account()
    # given five wrong passwords for one account from the shared address
    for _ in range(5):
        status, _, body = auth.invoke(
            "POST", "/v1/auth/login", {"email": victim.email, "password": "tebak-tebak-123"}
        )
        assert (status, body["code"]) == (401, "invalid_credentials")

    # then that account is locked, even with its right password
    status, headers, body = auth.invoke(
        "POST", "/v1/auth/login", {"email": victim.email, "password": PASSWORD}
    )
    assert (status, body["code"]) == (429, "rate_limited")
    assert int(headers["Retry-After"]) == 900
    # and another customer behind the same address signs in as usual
    status, _, _ = auth.invoke(
        "POST", "/v1/auth/login", {"email": neighbour.email, "password": PASSWORD}
    )
    assert status == 200
