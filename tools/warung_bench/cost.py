"""`make bench`, cost section: what 1,000 orders cost in AWS requests, from one order's
journey measured on the local runtime.

The journey (`JOURNEY`) is driven through the runtime in-process, step by step, as the
clients would make it: a customer browses (search, merchants near a point, one product),
signs in and reads the profile, puts 2 of one product in the cart, asks for a quote,
checks out; the payment provider calls the webhook; the customer reads the paid order; the
merchant's owner lists the orders and moves the order to accepted, preparing,
out_for_delivery and delivered. After every step the runtime's event sources are stepped
until idle (the outbox relay on the table's stream, the worker on the jobs queue), so the
e-mails and merchant notifications each step causes are counted with it.

Counted per step: API Gateway REST requests (one per step), Lambda invocations (the
route's and those of the event sources) with their duration, DynamoDB read and write
request units (warung_bench.warm's size rules, from the requests and the items as the
emulation held them), SQS requests (the relay's sends and the event source's receives and
deletes, which AWS bills to the account), e-mails sent (SES) and Secrets Manager calls.
Stream reads by Lambda's event source are free and not counted; the merchant's and the
provider's sign-ins are not part of one order (a merchant signs in once a day, not once
an order). CloudWatch Logs, metrics and X-Ray are left out.

Lambda duration: the measured wall time of each invocation on this machine (rounded up to
the millisecond, as Lambda bills), at the function's configured memory, at the arm64 price.
The local figure includes the emulation's own time, which is slower than DynamoDB's: the
duration term is an upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

TARGET_PER_1000_USD = 0.08

# On-demand list prices, us-east-1 (USD), from the AWS pricing pages of each service:
# https://aws.amazon.com/api-gateway/pricing/ , https://aws.amazon.com/lambda/pricing/ ,
# https://aws.amazon.com/dynamodb/pricing/on-demand/ , https://aws.amazon.com/sqs/pricing/ ,
# https://aws.amazon.com/ses/pricing/ , https://aws.amazon.com/secrets-manager/pricing/ .
# The list prices in force since 2024-11-01 (DynamoDB's on-demand price cut of that date),
# without the free tier; check the pages before quoting a figure, prices change. The stack
# runs in ap-southeast-1 or -3, which cost more for most of these: the us-east-1 figure is
# a floor, and swapping this table is all a regional figure needs.
PRICES_REGION = "us-east-1"
PRICES_AS_OF = "2024-11-01"
PRICES: dict[str, tuple[float, str]] = {
    "api_request": (3.50 / 1_000_000, "API Gateway REST API, per request (first 333 M/month)"),
    "lambda_request": (0.20 / 1_000_000, "Lambda, per invocation"),
    "lambda_gb_second": (0.0000133334, "Lambda arm64, per GB-second (first 7.5 G GB-s/month)"),
    "read_unit": (0.125 / 1_000_000, "DynamoDB on-demand, per read request unit"),
    "write_unit": (0.625 / 1_000_000, "DynamoDB on-demand, per write request unit"),
    "sqs_request": (0.40 / 1_000_000, "SQS standard queue, per request (64 KB chunk)"),
    "email": (0.10 / 1_000, "SES, per e-mail sent"),
    "secrets_call": (0.05 / 10_000, "Secrets Manager, per API call"),
}

TERM_NAMES = {
    "api_request": "API Gateway requests",
    "lambda_request": "Lambda invocations",
    "lambda_gb_second": "Lambda duration",
    "read_unit": "DynamoDB reads",
    "write_unit": "DynamoDB writes",
    "sqs_request": "SQS requests",
    "email": "SES e-mails",
    "secrets_call": "Secrets Manager calls",
}


@dataclass(frozen=True)
class Invocation:
    """One Lambda invocation: which function, its configured memory, how long it ran."""

    function_id: str
    memory_mb: int
    duration_ms: float

    @property
    def gb_seconds(self) -> float:
        """Billed GB-seconds: the duration rounded up to the millisecond, at the memory."""
        return math.ceil(self.duration_ms) / 1000 * self.memory_mb / 1024


@dataclass
class StepCounts:
    """What one step of the journey made AWS do."""

    name: str
    api_requests: int = 0
    invocations: list[Invocation] = field(default_factory=list)
    read_units: float = 0.0
    write_units: float = 0.0
    sqs_requests: int = 0
    emails: int = 0
    secrets_calls: int = 0
    dynamodb_calls: int = 0

    def quantities(self) -> dict[str, float]:
        """The priced quantities, by price key."""
        return {
            "api_request": float(self.api_requests),
            "lambda_request": float(len(self.invocations)),
            "lambda_gb_second": sum(i.gb_seconds for i in self.invocations),
            "read_unit": self.read_units,
            "write_unit": self.write_units,
            "sqs_request": float(self.sqs_requests),
            "email": float(self.emails),
            "secrets_call": float(self.secrets_calls),
        }


def price(quantities: dict[str, float], prices: dict[str, tuple[float, str]]) -> dict[str, float]:
    """Dollars per price key for these quantities."""
    return {key: amount * prices[key][0] for key, amount in quantities.items()}


def total_quantities(steps: Iterable[StepCounts]) -> dict[str, float]:
    """The quantities of several steps added up."""
    total: dict[str, float] = {}
    for step in steps:
        for key, amount in step.quantities().items():
            total[key] = total.get(key, 0.0) + amount
    return total


def journey_cost(
    steps: Sequence[StepCounts],
    prices: dict[str, tuple[float, str]] | None = None,
    target_per_1000: float = TARGET_PER_1000_USD,
) -> dict[str, Any]:
    """Dollars per order and per 1,000 orders, by term and by step; the three largest terms
    and API Gateway's share."""
    prices = prices or PRICES
    quantities = total_quantities(steps)
    dollars = price(quantities, prices)
    per_order = sum(dollars.values())
    ranked = sorted(dollars.items(), key=lambda kv: -kv[1])
    return {
        "per_order_usd": per_order,
        "per_1000_orders_usd": per_order * 1000,
        "target_per_1000_usd": target_per_1000,
        "within_target": per_order * 1000 <= target_per_1000,
        "quantities_per_order": quantities,
        "terms_per_1000_usd": {TERM_NAMES[k]: v * 1000 for k, v in ranked},
        "largest_terms": [TERM_NAMES[k] for k, _ in ranked[:3]],
        "per_1000_orders_without_email_usd": (per_order - dollars.get("email", 0.0)) * 1000,
        "api_gateway_share": dollars["api_request"] / per_order if per_order else 0.0,
        "api_requests_per_order": int(quantities["api_request"]),
        "steps": [
            {
                "name": s.name,
                "api_requests": s.api_requests,
                "invocations": [i.function_id for i in s.invocations],
                "lambda_ms": round(sum(i.duration_ms for i in s.invocations), 1),
                "dynamodb_calls": s.dynamodb_calls,
                "read_units": s.read_units,
                "write_units": s.write_units,
                "sqs_requests": s.sqs_requests,
                "emails": s.emails,
                "per_1000_orders_usd": sum(price(s.quantities(), prices).values()) * 1000,
            }
            for s in steps
        ],
        "prices": {
            "region": PRICES_REGION,
            "as_of": PRICES_AS_OF,
            "table": {key: {"usd": usd, "unit": unit} for key, (usd, unit) in prices.items()},
        },
    }


def folding_savings(cost: dict[str, Any], foldable: dict[str, str]) -> list[dict[str, Any]]:
    """What each foldable step costs per 1,000 orders (what folding it away would save, at
    most: the step whose work moves into another keeps its writes)."""
    by_name = {s["name"]: s for s in cost["steps"]}
    return [
        {"step": name, "how": how, "per_1000_orders_usd": by_name[name]["per_1000_orders_usd"]}
        for name, how in foldable.items()
        if name in by_name
    ]


def print_cost_report(section: dict[str, Any], out: Any = None) -> None:
    """The cost section, as text."""
    import sys

    out = out or sys.stdout

    def emit(line: str = "") -> None:
        print(line, file=out)

    if section.get("skipped") or section.get("error"):
        emit(
            "Cost per 1,000 orders: "
            + (section.get("skipped") or f"NOT MEASURED: {section.get('error')}")
        )
        return
    cost = section["cost"]
    prices = cost["prices"]
    emit(
        f"Cost per 1,000 orders: one order's journey on the local runtime, on-demand prices "
        f"of {prices['region']} (as of {prices['as_of']}, no free tier)"
    )
    emit(
        f"{'step':<44}  {'API':>3}  {'Lambda (ms)':<12}  {'DDB':>3}  {'RRU':>5}  {'WRU':>5}  "
        f"{'SQS':>3}  {'mail':>4}  {'$/1000':>7}"
    )
    for s in cost["steps"]:
        lam = f"{len(s['invocations'])} ({s['lambda_ms']:.0f})"
        emit(
            f"{s['name']:<44}  {s['api_requests']:>3}  {lam:<12}  {s['dynamodb_calls']:>3}  "
            f"{s['read_units']:>5.1f}  {s['write_units']:>5.1f}  {s['sqs_requests']:>3}  "
            f"{s['emails']:>4}  {s['per_1000_orders_usd']:>7.4f}"
        )
    q = cost["quantities_per_order"]
    emit(
        f"  per order: {cost['api_requests_per_order']} API calls, "
        f"{q['lambda_request']:.0f} invocations ({q['lambda_gb_second']:.3f} GB-s), "
        f"{q['read_unit']:.1f} read units, {q['write_unit']:.1f} write units, "
        f"{q['sqs_request']:.0f} SQS requests, {q['email']:.0f} e-mails, "
        f"{q['secrets_call']:.0f} Secrets Manager calls"
    )
    emit(
        "  per 1,000 orders, by term: "
        + ", ".join(f"{name} ${usd:.4f}" for name, usd in cost["terms_per_1000_usd"].items() if usd)
    )
    verdict = "within" if cost["within_target"] else "OVER"
    emit(
        f"  TOTAL ${cost['per_1000_orders_usd']:.4f} per 1,000 orders ({verdict} the "
        f"${cost['target_per_1000_usd']:.2f} target); largest: "
        f"{', '.join(cost['largest_terms'])}; API Gateway's share "
        f"{cost['api_gateway_share']:.0%}"
    )
    emit(
        f"  without the e-mails (SES): ${cost['per_1000_orders_without_email_usd']:.4f} per "
        f"1,000 orders; each e-mail per order adds ${PRICES['email'][0] * 1000:.2f} per 1,000"
    )
    for item in section.get("foldable", []):
        emit(
            f"  could be folded: {item['step']} (${item['per_1000_orders_usd']:.4f} per "
            f"1,000): {item['how']}"
        )
    for note in section.get("notes", []):
        emit(f"  note: {note}")
