"""The cost per 1,000 orders (warung_bench.cost), from constructed counts."""

from __future__ import annotations

import pytest
from warung_bench.cost import Invocation, StepCounts, folding_savings, journey_cost
from warung_bench.journey import sqs_requests
from warung_bench.warm import AwsCall

PRICES = {
    "api_request": (3.50 / 1_000_000, "per request"),
    "lambda_request": (0.20 / 1_000_000, "per invocation"),
    "lambda_gb_second": (0.0000133334, "per GB-s"),
    "read_unit": (0.125 / 1_000_000, "per RRU"),
    "write_unit": (0.625 / 1_000_000, "per WRU"),
    "sqs_request": (0.40 / 1_000_000, "per request"),
    "email": (0.10 / 1_000, "per e-mail"),
    "secrets_call": (0.05 / 10_000, "per call"),
}


def test_lambda_bills_whole_milliseconds_at_the_configured_memory() -> None:
    # 10.2 ms is billed as 11 ms; 512 MB is half a GB.
    assert Invocation("OrdersFunction", 512, 10.2).gb_seconds == pytest.approx(0.011 * 0.5)


def test_one_api_call_with_its_lambda_and_units_costs_its_sum() -> None:
    step = StepCounts(
        "GET /v1/me",
        api_requests=1,
        invocations=[Invocation("AuthFunction", 1024, 20.0)],
        read_units=1.0,
    )

    cost = journey_cost([step], PRICES)

    per_order = 3.5e-6 + 0.2e-6 + 0.020 * 1 * 0.0000133334 + 0.125e-6
    assert cost["per_order_usd"] == pytest.approx(per_order)
    assert cost["per_1000_orders_usd"] == pytest.approx(per_order * 1000)
    assert cost["api_requests_per_order"] == 1
    assert cost["api_gateway_share"] == pytest.approx(3.5e-6 / per_order)


def test_fifteen_calls_of_api_gateway_alone_are_about_five_cents_per_thousand() -> None:
    steps = [StepCounts(f"step {n}", api_requests=1) for n in range(15)]

    cost = journey_cost(steps, PRICES)

    assert cost["per_1000_orders_usd"] == pytest.approx(0.0525)
    assert cost["within_target"] is True
    assert cost["largest_terms"][0] == "API Gateway requests"


def test_the_largest_terms_are_ranked_and_the_target_judged() -> None:
    steps = [
        StepCounts("checkout", api_requests=1, write_units=20.0),
        StepCounts("paid", api_requests=1, write_units=30.0, emails=2, sqs_requests=3),
    ]

    cost = journey_cost(steps, PRICES, target_per_1000=0.08)

    # e-mails 0.2 $/order·1000 > writes 50 x 0.625e-6 x 1000 > API 2 x 3.5e-6 x 1000
    assert cost["largest_terms"] == ["SES e-mails", "DynamoDB writes", "API Gateway requests"]
    assert cost["terms_per_1000_usd"]["SES e-mails"] == pytest.approx(0.2)
    assert cost["per_1000_orders_usd"] > 0.08
    assert cost["within_target"] is False
    assert cost["per_1000_orders_without_email_usd"] == pytest.approx(
        cost["per_1000_orders_usd"] - 0.2
    )
    assert [s["name"] for s in cost["steps"]] == ["checkout", "paid"]


def test_folding_names_what_each_foldable_step_costs() -> None:
    steps = [
        StepCounts("GET /v1/me", api_requests=1, read_units=1.0),
        StepCounts("POST /v1/orders", api_requests=1, write_units=10.0),
    ]
    cost = journey_cost(steps, PRICES)

    saved = folding_savings(cost, {"GET /v1/me": "the sign-in answer", "GET /nope": "x"})

    assert saved == [
        {
            "step": "GET /v1/me",
            "how": "the sign-in answer",
            "per_1000_orders_usd": pytest.approx((3.5e-6 + 0.125e-6) * 1000),
        }
    ]


def test_empty_polls_of_the_queue_are_not_the_orders() -> None:
    calls = [
        AwsCall("sqs", "ReceiveMessage"),
        AwsCall("sqs", "ReceiveMessage"),
        AwsCall("sqs", "ReceiveMessage"),
        AwsCall("sqs", "SendMessageBatch"),
        AwsCall("sqs", "DeleteMessageBatch"),
        AwsCall("dynamodb", "GetItem"),
    ]
    worker = [Invocation("WorkerFunction", 512, 30.0), Invocation("AuthFunction", 1024, 5.0)]

    # The send, the delete, and the one receive that fetched the worker's batch.
    assert sqs_requests(calls, worker, {"WorkerFunction"}) == 3
