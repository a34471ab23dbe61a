"""`make load`'s scenario: the mix it states, and which answers fail a run (a 5xx, a
connection error, a 429 the scenario did not mean, anything unexpected) and which do not."""

from __future__ import annotations

import math

import pytest
from warung_load import scenario
from warung_load.cli import LoadError, check_target
from warung_load.scenario import Figures, Tally, Verdict, judge


def _weight(*names: str) -> int:
    return sum(task.weight for task in scenario.MIX if task.name in names)


def test_the_mix_is_two_thirds_browsing_a_quarter_ordering_and_some_signing_in() -> None:
    assert sum(task.weight for task in scenario.MIX) == 100
    assert _weight("search", "menu", "nearby") == 65
    assert _weight("order") == 25
    assert _weight("sign_in") == 5
    assert _weight("lockout") == 5


def test_every_route_of_the_report_belongs_to_a_task_of_the_mix() -> None:
    called = {route for task in scenario.MIX for route in task.routes}
    assert called == set(scenario.ROUTES)
    order = next(task for task in scenario.MIX if task.name == "order")
    assert [r.name for r in order.routes[:4]] == [
        "PUT /v1/cart/items/{id}",
        "POST /v1/cart/quote",
        "POST /v1/orders",
        "POST /v1/payments/{id}/simulate",
    ]


def test_expected_answers_pass_the_run() -> None:
    tally = Tally()
    for route in scenario.ROUTES:
        for status in route.expected:
            assert tally.record(route, status) is Verdict.OK
    assert tally.exit_code() == 0
    assert tally.verdict_line().startswith("PASS")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_on_any_route_fails_the_run(status: int) -> None:
    tally = Tally()
    tally.record(scenario.SEARCH, 200)
    assert tally.record(scenario.SEARCH, status) is Verdict.SERVER_ERROR
    assert tally.exit_code() == 1
    assert tally.verdict_line() == "FAIL: 1 5xx (GET /v1/products?q=)"


def test_a_429_the_scenario_did_not_mean_fails_the_run() -> None:
    tally = Tally()
    for route in (scenario.SIGN_IN, scenario.CHECKOUT, scenario.SEARCH):
        assert tally.record(route, 429) is Verdict.UNPLANNED_429
    assert tally.exit_code() == 1
    assert "3 unplanned 429" in tally.verdict_line()


def test_the_decoys_lockout_is_the_planned_429_and_passes() -> None:
    tally = Tally()
    assert tally.record(scenario.LOCKOUT, 401) is Verdict.OK
    assert tally.record(scenario.LOCKOUT, 429) is Verdict.OK
    assert tally.exit_code() == 0
    assert tally.planned_429 == {"POST /v1/auth/login (decoy)": 1}
    # the same 429 on the customer's own sign-in is not planned
    assert judge(scenario.SIGN_IN, 429) is Verdict.UNPLANNED_429


@pytest.mark.parametrize("status", [None, 0])
def test_no_answer_at_all_is_a_connection_error_and_fails_the_run(status: int | None) -> None:
    tally = Tally()
    assert tally.record(scenario.CHECKOUT, status) is Verdict.CONNECTION
    assert tally.exit_code() == 1
    assert tally.verdict_line() == "FAIL: 1 connection errors (POST /v1/orders)"


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_any_other_unexpected_answer_fails_the_run(status: int) -> None:
    tally = Tally()
    assert tally.record(scenario.CHECKOUT, status) is Verdict.UNEXPECTED
    assert tally.exit_code() == 1


def test_the_table_shows_percentiles_and_failures_per_route_and_in_total() -> None:
    tally = Tally()
    for _ in range(3):
        tally.record(scenario.SEARCH, 200)
    tally.record(scenario.SEARCH, 503)
    tally.record(scenario.CHECKOUT, 201)
    tally.record(scenario.LOCKOUT, 429)
    rows = [
        Figures("POST /v1/orders", 1, 120, 120, 120),
        Figures("GET /v1/products?q=", 4, 15, 40, 44),
        Figures("POST /v1/auth/login (decoy)", 1, 90, 90, 90),
    ]
    table = scenario.format_table(rows, tally, Figures("total", 6, 20, 110, 120)).splitlines()
    assert table[0].split() == ["route", "reqs", "p50", "p95", "p99", "5xx", "conn", "429", "other"]
    assert table[2].split() == ["GET", "/v1/products?q=", "4", "15", "40", "44", "1", "0", "0", "0"]
    assert table[4].split()[-8:] == ["1", "120", "120", "120", "0", "0", "0", "0"]
    assert table[6].split() == ["total", "6", "20", "110", "120", "1", "0", "0", "0"]
    assert "planned 429: 1 on POST /v1/auth/login (decoy)" in table[7]
    assert table[8] == "FAIL: 1 5xx (GET /v1/products?q=)"


def test_a_route_without_requests_shows_no_times() -> None:
    nan = math.nan
    table = scenario.format_table([Figures("GET /v1/orders/{id}", 0, nan, nan, nan)], Tally())
    assert (
        table.splitlines()[2].split() == ["GET", "/v1/orders/{id}", "0", "-", "-", "-"] + ["0"] * 4
    )


@pytest.mark.parametrize(("text", "expected"), [("30", 30), ("30s", 30), ("2m", 120), ("1h", 3600)])
def test_durations_read_as_people_write_them(text: str, expected: int) -> None:
    assert scenario.seconds(text) == expected


@pytest.mark.parametrize("text", ["", "0", "1d", "-5s", "30 s", "soon"])
def test_a_duration_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        scenario.seconds(text)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:3000", True),
        ("http://localhost:4566", True),
        ("http://[::1]:3000", True),
        ("http://10.0.0.5:3000", False),
        ("https://abc.execute-api.ap-southeast-1.amazonaws.com/prod", False),
    ],
)
def test_loopback_is_this_machine_only(url: str, loopback: bool) -> None:
    assert scenario.is_loopback(url) is loopback


def test_the_pool_is_only_ever_written_to_a_loopback_emulation() -> None:
    check_target("http://127.0.0.1:3000", "http://127.0.0.1:4566")
    check_target("https://api.example.com", None)  # a deployed stack, named by API_URL
    with pytest.raises(LoadError, match="loopback"):
        check_target("http://127.0.0.1:3000", "http://10.0.0.5:4566")
    with pytest.raises(LoadError, match="loopback"):
        check_target("https://api.example.com", "http://127.0.0.1:4566")
    with pytest.raises(LoadError, match="loopback"):
        check_target(None, "http://127.0.0.1:4566")
