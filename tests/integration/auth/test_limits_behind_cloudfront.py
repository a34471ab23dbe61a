"""Behind CloudFront the per-IP limits still count clients, not edges
(docs/decisions/0024-cache-in-front.md): the auth function believes CloudFront's viewer
address only next to the stage's origin secret, read from Secrets Manager like in AWS."""

from __future__ import annotations

import uuid
from types import ModuleType

import pytest
from support.auth_world import PASSWORD, AuthWorld, unique_email, unique_ip

from warung.settings import get_settings

SECRET = "origin-" + uuid.uuid4().hex


@pytest.fixture
def behind_cloudfront(auth: AuthWorld, monkeypatch: pytest.MonkeyPatch) -> AuthWorld:
    """The stage's origin secret exists and the function knows where (ORIGIN_SECRET_ARN)."""
    from warung_local.emulation import aws_client

    secret = aws_client("secretsmanager", auth.endpoint_url).create_secret(
        Name=f"warung/authit/origin-secret-{uuid.uuid4().hex[:8]}", SecretString=SECRET
    )
    monkeypatch.setenv("ORIGIN_SECRET_ARN", secret["ARN"])
    # the per-address ceiling set low (20 a minute; the stage's is 300 for shared addresses,
    # decisions/0028): what is tested is whose address is counted, not the ceiling
    monkeypatch.setenv("RATE_LOGIN_ATTEMPTS_PER_IP", "20/60")
    get_settings.cache_clear()
    return auth


@pytest.fixture
def frozen_window(clock: ModuleType) -> int:
    """Every attempt falls in one minute's window, whatever the wall clock does."""
    now: int = clock.epoch_s()
    clock.freeze(now)
    return now


def via_edge(client: str, secret: str = SECRET) -> dict[str, str]:
    """What CloudFront adds to a request of ``client`` (port as CloudFront writes it)."""
    return {"CloudFront-Viewer-Address": f"{client}:51000", "X-Origin-Verify": secret}


def test_one_client_through_many_edges_meets_its_limit_and_a_neighbour_at_its_edge_does_not(
    behind_cloudfront: AuthWorld, frozen_window: int
) -> None:
    auth = behind_cloudfront
    account = auth.make_account()
    client, edge = "36.68.12.200", unique_ip()
    # given: 20 failed sign-ins of one client, each through another edge server
    for _ in range(20):
        status, _, _ = auth.invoke(
            "POST",
            "/v1/auth/login",
            {"email": unique_email("guess"), "password": PASSWORD},
            source_ip=unique_ip(),
            headers=via_edge(client),
        )
        assert status == 401

    # when: the 21st comes through yet another edge
    status, _, body = auth.invoke(
        "POST",
        "/v1/auth/login",
        {"email": account.email, "password": PASSWORD},
        source_ip=edge,
        headers=via_edge(client),
    )

    # then: it is refused; another client through that same edge signs in
    assert (status, body["code"]) == (429, "rate_limited")
    status, _, _ = auth.invoke(
        "POST",
        "/v1/auth/login",
        {"email": account.email, "password": PASSWORD},
        source_ip=edge,
        headers=via_edge("36.68.99.1"),
    )
    assert status == 200


def test_a_caller_claiming_other_addresses_without_the_secret_is_counted_as_itself(
    behind_cloudfront: AuthWorld, frozen_window: int
) -> None:
    auth = behind_cloudfront
    account = auth.make_account()
    caller = unique_ip()
    # given: 20 attempts from one address, each claiming another viewer address
    for n in range(20):
        status, _, _ = auth.invoke(
            "POST",
            "/v1/auth/login",
            {"email": unique_email("guess"), "password": PASSWORD},
            source_ip=caller,
            headers=via_edge(f"198.51.100.{n + 1}", secret="a-guess"),
        )
        assert status == 401

    # when: the 21st claims a fresh address too, with no secret at all
    status, _, body = auth.invoke(
        "POST",
        "/v1/auth/login",
        {"email": account.email, "password": PASSWORD},
        source_ip=caller,
        headers={"CloudFront-Viewer-Address": "198.51.100.200:443", "X-Forwarded-For": "1.2.3.4"},
    )

    # then: all 21 counted against the caller's own address
    assert (status, body["code"]) == (429, "rate_limited")
