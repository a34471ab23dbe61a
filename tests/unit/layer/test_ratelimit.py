"""Rate-limit configuration and fixed-window arithmetic (no AWS)."""

from __future__ import annotations

import pytest

from warung.ratelimit import Rule, counter_key, retry_after, rules, window_start
from warung.settings import Rate, get_settings

FIFTEEN_MINUTES = Rule("login_failures", 5, 900)


def test_defaults_are_the_limits_of_the_spec() -> None:
    limits = rules()
    assert limits.login_failures == Rule("login_failures", 5, 900)
    # per address only ceilings (carrier-grade NAT: docs/decisions/0028)
    assert limits.login_attempts_ip == Rule("login_attempts_ip", 300, 60)
    assert limits.registrations_ip == Rule("registrations_ip", 300, 3600)
    assert limits.emails_address == Rule("emails_address", 3, 3600)
    assert limits.invitations_merchant == Rule("invitations_merchant", 20, 86400)
    assert limits.invitations_inviter == Rule("invitations_inviter", 50, 86400)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("RATE_LOGIN_FAILURES_PER_ACCOUNT", "3/600", Rate(3, 600)),
        ("RATE_LOGIN_ATTEMPTS_PER_IP", " 100 / 60 ", Rate(100, 60)),
        ("RATE_REGISTRATIONS_PER_IP", "1/1", Rate(1, 1)),
        ("RATE_EMAILS_PER_ADDRESS", "5/86400", Rate(5, 86400)),
    ],
)
def test_limits_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: Rate
) -> None:
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    assert getattr(get_settings(), variable.lower()) == expected


@pytest.mark.parametrize(
    "value",
    ["5", "5/", "/900", "0/900", "5/0", "-1/60", "5/15m", "five/900", "5.5/60", "\u0665/900"],
)
def test_a_malformed_limit_fails_at_cold_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RATE_LOGIN_FAILURES_PER_ACCOUNT", value)
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="rate_login_failures_per_account"):
        get_settings()


def test_an_empty_variable_keeps_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_EMAILS_PER_ADDRESS", "")
    get_settings.cache_clear()
    assert rules().emails_address.limit == 3


@pytest.mark.parametrize(
    ("now", "start", "wait"),
    [
        (1_800_000_000, 1_800_000_000, 900),  # the first second of a window: a full window
        (1_800_000_001, 1_800_000_000, 899),
        (1_800_000_899, 1_800_000_000, 1),  # the last second: never 0
        (1_800_000_900, 1_800_000_900, 900),  # the next window starts afresh
    ],
)
def test_window_start_and_retry_after_at_the_edges(now: int, start: int, wait: int) -> None:
    assert 1_800_000_000 % 900 == 0
    assert window_start(FIFTEEN_MINUTES, now) == start
    assert retry_after(FIFTEEN_MINUTES, now) == wait


def test_one_second_windows_always_wait_one_second() -> None:
    rule = Rule("burst", 1, 1)
    assert [retry_after(rule, t) for t in (0, 1, 17)] == [1, 1, 1]
    assert window_start(rule, 17) == 17


def test_key_holds_rule_and_window_but_not_the_address() -> None:
    key = counter_key(FIFTEEN_MINUTES, "Budi.Santoso@Example.com", 1_800_000_450)
    assert key["sk"] == "1800000000"
    assert key["pk"].startswith("RL#login_failures#")
    assert "budi" not in key["pk"].lower()
    assert "example" not in key["pk"].lower()
    assert len(key["pk"].rsplit("#", 1)[1]) == 32


def test_the_same_address_in_another_case_shares_a_counter() -> None:
    now = 1_800_000_000
    assert counter_key(FIFTEEN_MINUTES, " budi@example.com", now) == counter_key(
        FIFTEEN_MINUTES, "BUDI@example.COM", now
    )
    assert counter_key(FIFTEEN_MINUTES, "budi@example.com", now) != counter_key(
        FIFTEEN_MINUTES, "sari@example.com", now
    )


@pytest.mark.parametrize(
    ("name", "limit", "window"), [("x", 0, 60), ("x", 1, 0), ("", 1, 60), ("a#b", 1, 60)]
)
def test_a_nonsensical_rule_is_refused(name: str, limit: int, window: int) -> None:
    with pytest.raises(ValueError, match="rule"):
        Rule(name, limit, window)


class _ThrottledCounter:
    """A counter item written faster than its partition takes: DynamoDB throttles it."""

    def update_item(self, **_: object) -> object:
        from botocore.exceptions import ClientError

        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "hot"}},
            "UpdateItem",
        )


def test_a_source_hitting_its_counter_faster_than_dynamodb_takes_gets_429_not_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import warung.ratelimit
    from warung.errors import RateLimited

    monkeypatch.setattr(warung.ratelimit, "dynamodb_client", _ThrottledCounter)
    with pytest.raises(RateLimited) as refused:
        warung.ratelimit.enforce(Rule("login_attempts_ip", 300, 60), "203.0.113.9", now=60)
    assert (refused.value.status, refused.value.retry_after) == (429, 1)
