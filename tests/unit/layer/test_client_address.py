"""The caller's address that per-IP limits and audit entries see (warung.context): API
Gateway's view, or behind CloudFront the viewer address CloudFront writes, believed only next
to the origin secret CloudFront adds (docs/decisions/0024-cache-in-front.md)."""

from __future__ import annotations

from typing import Any

import pytest
from support.events import proxy_event

from warung import api, ratelimit
from warung.context import RequestMeta, client_ip, viewer_address

SECRET = "origin-secret-0123456789"
EDGE = "130.176.212.9"  # a CloudFront edge server: API Gateway's sourceIp behind it
CLIENT = "36.68.12.200"


def through(
    *,
    viewer: str | None = None,
    secret: str | None = None,
    source_ip: str = EDGE,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A login request as API Gateway hands it over."""
    headers = dict(extra or {})
    if viewer is not None:
        headers["CloudFront-Viewer-Address"] = viewer
    if secret is not None:
        headers["X-Origin-Verify"] = secret
    event = proxy_event("POST", "/v1/auth/login", body="{}", headers=headers)
    event["requestContext"]["identity"]["sourceIp"] = source_ip
    return event


def the_secret(*, fresh: bool = False) -> str:
    return SECRET


def no_cloudfront(*, fresh: bool = False) -> None:
    return None


def test_behind_cloudfront_the_client_is_the_viewer_address_it_vouches_for() -> None:
    event = through(viewer=f"{CLIENT}:51234", secret=SECRET)

    assert client_ip(event, the_secret) == CLIENT
    assert RequestMeta.from_event(event, the_secret).source_ip == CLIENT


def test_an_ipv6_viewer_address_keeps_its_address_without_the_port() -> None:
    event = through(viewer="2001:db8:85a3::8a2e:370:7334:443", secret=SECRET)

    assert client_ip(event, the_secret) == "2001:db8:85a3::8a2e:370:7334"


@pytest.mark.parametrize(
    "presented",
    [None, "", "origin-secret-guess", SECRET + "x", SECRET.upper()],
    ids=["no secret", "empty", "a guess", "longer", "other case"],
)
def test_a_viewer_address_without_the_secret_is_ignored(presented: str | None) -> None:
    # given: a client calling the stage directly and claiming to be someone else
    event = through(viewer="198.51.100.77:4000", secret=presented, source_ip=CLIENT)

    # then: its own address counts
    assert client_ip(event, the_secret) == CLIENT


def test_forwarded_for_headers_are_never_believed() -> None:
    event = through(
        secret=SECRET,
        source_ip=CLIENT,
        extra={"X-Forwarded-For": "198.51.100.77", "X-Real-Ip": "198.51.100.78"},
    )

    assert client_ip(event, the_secret) == CLIENT


def test_without_cloudfront_the_headers_mean_nothing_and_no_secret_is_read() -> None:
    event = through(viewer="198.51.100.77:4000", secret=SECRET, source_ip=CLIENT)

    assert client_ip(event, None) == CLIENT
    assert client_ip(event, no_cloudfront) == CLIENT


def test_the_secret_is_only_asked_for_when_a_viewer_address_is_claimed() -> None:
    asked: list[bool] = []

    def counted(*, fresh: bool = False) -> str:
        asked.append(fresh)
        return SECRET

    assert client_ip(through(secret=SECRET, source_ip=CLIENT), counted) == CLIENT
    assert asked == []


@pytest.mark.parametrize("value", ["", "36.68.12.200", "not-an-address:80", "36.68.12.200:x"])
def test_a_malformed_viewer_address_falls_back_to_the_gateways_view(value: str) -> None:
    assert viewer_address(value) is None
    assert client_ip(through(viewer=value, secret=SECRET), the_secret) == EDGE


def test_the_login_limit_counts_the_client_not_the_edge_it_came_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the per-IP rule is keyed on (warung.ratelimit), from the meta the routes build."""
    from warung.settings import get_settings

    monkeypatch.setenv("ORIGIN_SECRET_ARN", "arn:aws:secretsmanager:ap-southeast-1:1:secret:o")
    get_settings.cache_clear()
    read: list[str] = []

    def stored(arn: str, **_: float) -> str:
        read.append(arn)
        return SECRET

    monkeypatch.setattr("warung.secrets.get_secret", stored)
    rule = ratelimit.rules().login_attempts_ip

    def counter(event: dict[str, Any]) -> dict[str, str]:
        meta = RequestMeta.from_event(event, api.origin_secret)
        return ratelimit.counter_key(rule, meta.source_ip or "unknown", now=0)

    # given: one client through two edges, and another client through the first edge
    first = counter(through(viewer=f"{CLIENT}:1111", secret=SECRET, source_ip=EDGE))
    second = counter(through(viewer=f"{CLIENT}:2222", secret=SECRET, source_ip="130.176.1.1"))
    other = counter(through(viewer="36.68.99.1:3333", secret=SECRET, source_ip=EDGE))
    # and: a direct caller spoofing that client's address
    spoofed = counter(through(viewer=f"{CLIENT}:1111", secret="guess", source_ip="198.51.100.5"))

    # then: the client has one counter whatever edge it used; the others have their own
    assert first == second == ratelimit.counter_key(rule, CLIENT, now=0)
    assert other != first
    assert spoofed == ratelimit.counter_key(rule, "198.51.100.5", now=0)
    assert set(read) == {"arn:aws:secretsmanager:ap-southeast-1:1:secret:o"}


def test_the_routes_read_the_address_with_the_stages_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without ORIGIN_SECRET_ARN (no CloudFront: local, dev) nothing is read."""
    monkeypatch.setattr("warung.secrets.get_secret", pytest.fail)

    assert api.origin_secret() is None


def test_a_rotated_secret_is_believed_within_a_minute_and_guesses_cost_one_read_a_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from warung import secrets
    from warung.settings import get_settings

    arn = "arn:aws:secretsmanager:ap-southeast-1:1:secret:origin"
    monkeypatch.setenv("ORIGIN_SECRET_ARN", arn)
    get_settings.cache_clear()
    held = {"value": "first-secret"}
    reads: list[str] = []

    class StoredSecrets:
        def get_secret_value(self, SecretId: str) -> dict[str, str]:
            reads.append(SecretId)
            return {"SecretString": held["value"]}

    now = [5_000.0]
    monkeypatch.setattr(secrets, "_secrets_client", StoredSecrets)
    monkeypatch.setattr(secrets, "_cache", {})
    monkeypatch.setattr("warung.secrets.time.monotonic", lambda: now[0])

    def seen(secret: str, source_ip: str = EDGE) -> str | None:
        event = through(viewer=f"{CLIENT}:1234", secret=secret, source_ip=source_ip)
        return client_ip(event, api.origin_secret)

    # given: the secret read once
    assert seen("first-secret") == CLIENT
    assert len(reads) == 1
    # when: a caller floods the stage with guesses
    for _ in range(50):
        assert seen("a-guess", source_ip="198.51.100.5") == "198.51.100.5"
    # then: no more reads than one a minute
    assert len(reads) == 1

    # given: the secret is rotated and, two minutes on, CloudFront sends the new one
    held["value"] = "second-secret"
    now[0] += 120
    # then: it is believed at once (one read), long before the 15-minute copy expires
    assert seen("second-secret") == CLIENT
    assert len(reads) == 2
    assert seen("first-secret") == EDGE
    assert len(reads) == 2
