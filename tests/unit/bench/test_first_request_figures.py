"""The first-request table's arithmetic (warung_bench.first), from constructed samples."""

from __future__ import annotations

import pytest
from warung_bench.first import (
    FirstRequestError,
    Sample,
    check_step,
    child_env,
    family_row,
    format_restored,
    format_table,
    paired_ratios,
    restored_row,
    sample_of,
)


def sample(
    import_ms: float,
    first_ms: float,
    first_wait_ms: float = 0.0,
    warm_ms: float = 0.0,
    warm_wait_ms: float = 0.0,
    argon2_ms: float | None = None,
) -> Sample:
    return Sample(import_ms, first_ms, first_wait_ms, warm_ms, warm_wait_ms, argon2_ms)


def test_first_request_total_takes_the_emulation_wait_out() -> None:
    # 200 ms import, a 150 ms first request of which 40 ms waiting on the emulation.
    s = sample(200, 150, first_wait_ms=40, warm_ms=30, warm_wait_ms=20)

    assert s.first_total_ms == 310
    # first without its wait (110) minus warm without its wait (10)
    assert s.deferred_ms == 100


def test_ratios_pair_each_round_with_its_own_baseline() -> None:
    # Round 2 is slow for everyone (the machine was busy): paired, it reads as 2x like
    # the others; medians of the raw times would not.
    baselines = [sample(100, 10), sample(300, 30), sample(100, 10)]
    family = [sample(200, 20), sample(600, 60), sample(200, 20)]

    ratios = paired_ratios(family, baselines, lambda s: s.first_total_ms)

    assert ratios == [2.0, 2.0, 2.0]


def test_a_missing_round_is_left_out_of_the_ratios() -> None:
    baselines = [sample(100, 0), None, sample(100, 0)]
    family = [sample(150, 0), sample(999, 0), None]

    assert paired_ratios(family, baselines, lambda s: s.import_ms) == [1.5]


def test_family_row_gives_medians_and_the_median_paired_ratio() -> None:
    baselines = [sample(100, 20, 10), sample(100, 20, 10), sample(200, 40, 20)]
    family = [
        sample(120, 100, 40, warm_ms=30, warm_wait_ms=20),
        sample(110, 80, 30, warm_ms=25, warm_wait_ms=15),
        sample(300, 200, 60, warm_ms=40, warm_wait_ms=20),
    ]

    row = family_row("orders cart", "GET /v1/cart", family, baselines)

    assert row["rounds"] == 3
    assert row["import_ms"] == 120
    assert row["first_ms"] == 100
    assert row["first_wait_ms"] == 40
    # Totals 180, 160, 440 over baselines 110, 110, 220: 1.636.., 1.454.., 2.0
    assert row["first_ratio"] == pytest.approx(180 / 110)
    # Imports 1.2, 1.1, 1.5
    assert row["import_ratio"] == pytest.approx(1.2)
    assert row["status"] == "OVER"
    assert row["argon2_ms"] is None


def test_login_is_judged_without_its_argon2_time() -> None:
    baselines = [sample(100, 10, 5)] * 3
    # 105 ms baseline total; login's 180 ms total holds 60 ms of Argon2 verify.
    login = [sample(100, 100, 20, argon2_ms=60)] * 3

    row = family_row("auth login", "POST /v1/auth/login", login, baselines)

    assert row["first_ratio"] == pytest.approx(180 / 105)
    assert row["first_ratio_without_argon2"] == pytest.approx(120 / 105)
    assert row["argon2_ms"] == 60
    assert row["status"] == "PASS"


def test_a_child_result_becomes_a_sample_of_its_first_and_last_warm_step() -> None:
    result = {
        "import_ms": 210.5,
        "argon2_ms": None,
        "steps": [
            {"kind": "first", "ms": 90.0, "wait_ms": 12.0},
            {"kind": "untimed", "ms": 9.0, "wait_ms": 3.0},
            {"kind": "warm", "ms": 20.0, "wait_ms": 8.0},
        ],
    }

    assert sample_of(result) == Sample(210.5, 90.0, 12.0, 20.0, 8.0, None)


def test_a_failed_answer_stops_the_family() -> None:
    with pytest.raises(FirstRequestError, match="HTTP 422"):
        check_step("orders quote", {"kind": "first", "payload": {"statusCode": 422}})
    with pytest.raises(FirstRequestError, match="failed its job"):
        check_step(
            "worker",
            {"kind": "first", "payload": {"batchItemFailures": [{"itemIdentifier": "m1"}]}},
        )
    check_step("worker", {"kind": "first", "payload": {"batchItemFailures": []}})


def test_the_child_keeps_lambdas_own_variables_and_takes_the_functions() -> None:
    lambda_like = {
        "LAMBDA_TASK_ROOT": "/build/OrdersFunction",
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
        "AWS_ACCESS_KEY_ID": "dummy",
        "PATH": "/runtime/bin",
        "AWS_REGION": "us-east-1",
    }
    local = {
        "LAMBDA_TASK_ROOT": "/src/functions/orders",
        "AWS_LAMBDA_FUNCTION_NAME": "warung-local-orders",
        "AWS_ACCESS_KEY_ID": "other",
        "PATH": "/dev/bin",
        "AWS_REGION": "ap-southeast-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "TABLE_NAME": "warung-local-main",
    }

    env = child_env(lambda_like, local)

    assert env["LAMBDA_TASK_ROOT"] == "/build/OrdersFunction"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "orders"
    assert env["AWS_ACCESS_KEY_ID"] == "dummy"
    assert env["PATH"] == "/runtime/bin"
    assert env["AWS_REGION"] == "ap-southeast-1"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["TABLE_NAME"] == "warung-local-main"


def test_the_table_shows_login_without_argon2() -> None:
    baselines = [sample(100, 10, 5)] * 3
    login = family_row("auth login", "POST", [sample(100, 100, 20, argon2_ms=60)] * 3, baselines)
    base = family_row("baseline", "GetItem", baselines, baselines)

    lines = format_table({"baseline": base, "families": [login]})

    out = "\n".join(lines)
    assert "auth login" in out
    assert "1.71x" in out  # 180 / 105
    assert "1.14x without Argon2 verify 60 ms" in out


def test_a_restored_family_counts_its_after_restore_hooks_and_first_request_only() -> None:
    # Baseline cold start 105 ms; restored from a snapshot, the import (300 ms) and priming
    # happened before it: 10 ms of after-restore hooks and a 50 ms first request with 20 ms
    # of emulation wait remain.
    baselines = [sample(100, 10, 5)] * 3
    restored = Sample(300, 50, 20, 15, 10, None, restore_ms=10)

    row = restored_row("orders cart (restored)", [restored] * 3, baselines)

    assert restored.restored_total_ms == 40
    assert row["restored_total_ms"] == 40
    assert row["restored_ratio"] == pytest.approx(40 / 105)
    assert "0.38x" in "\n".join(format_restored([row]))


def test_the_table_shows_the_shapes_floor_under_the_baseline() -> None:
    baselines = [sample(100, 10, 5)] * 3
    base = family_row("baseline", "GetItem", baselines, baselines)
    floor = family_row("shape floor", "Powertools", [sample(140, 20, 5)] * 3, baselines)

    lines = format_table({"baseline": base, "floor": floor, "families": []})

    assert lines[1].startswith("baseline")
    assert lines[2].startswith("shape floor")
    assert "1.48x" in lines[2]  # 155 / 105
