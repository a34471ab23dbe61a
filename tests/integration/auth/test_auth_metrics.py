"""Observability: failed logins and refresh-token reuse are metrics, published as
CloudWatch embedded metric format (EMF) lines on stdout when the handler returns."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.auth_world import PASSWORD, AuthWorld, unique_email


def emitted(out: str) -> dict[str, float]:
    """The metric values of the EMF lines in ``out``, summed per metric name."""
    totals: dict[str, float] = {}
    for line in out.splitlines():
        try:
            document: Any = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                values = values if isinstance(values, list) else [values]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
    return totals


def test_given_a_wrong_password_and_an_unknown_address_when_signing_in_then_failed_logins(
    auth: AuthWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    account = auth.make_account()
    capsys.readouterr()

    wrong, _, _ = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": "not-the-password"}
    )
    first = emitted(capsys.readouterr().out)
    unknown, _, _ = auth.invoke(
        "POST", "/v1/auth/login", {"email": unique_email("nobody"), "password": PASSWORD}
    )
    second = emitted(capsys.readouterr().out)

    assert (wrong, unknown) == (401, 401)
    assert first.get("FailedLogins") == 1
    assert second.get("FailedLogins") == 1


def test_given_a_good_sign_in_when_done_then_no_failed_login_metric(
    auth: AuthWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    account = auth.make_account()
    capsys.readouterr()

    status, _, body = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": PASSWORD}
    )

    assert status == 200
    assert body["token_type"] == "Bearer"
    assert body["access_token"]
    assert body["refresh_token"]
    assert "FailedLogins" not in emitted(capsys.readouterr().out)


def test_given_a_spent_refresh_token_when_presented_again_then_refresh_token_reuse(
    auth: AuthWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    account = auth.make_account()
    _, _, pair = auth.invoke(
        "POST", "/v1/auth/login", {"email": account.email, "password": PASSWORD}
    )
    status, _, _ = auth.invoke("POST", "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert status == 200
    assert "RefreshTokenReuse" not in emitted(capsys.readouterr().out)

    status, _, body = auth.invoke(
        "POST", "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}
    )
    out = capsys.readouterr().out

    assert (status, body["code"]) == (401, "invalid_token")
    assert emitted(out).get("RefreshTokenReuse") == 1
    # and: the metric line does not carry the token
    assert pair["refresh_token"] not in out
