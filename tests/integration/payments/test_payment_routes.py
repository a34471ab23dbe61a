"""The payments function's routes end to end through its Lambda handler, with API Gateway
REST proxy events: the signed webhook, a customer's payment, the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest
from support.events import FakeContext
from support.payments_world import TOTAL, PaymentsWorld, payments_app

from warung.ids import new_id, utc_now

WEBHOOK = "/v1/payments/webhook"
EVENTS = Path(__file__).resolve().parents[3] / "events" / "payments"


def emf_points(output: str) -> dict[str, int]:
    """Metric name → total, from the EMF lines the function printed."""
    totals: dict[str, int] = {}
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        point = json.loads(line)
        for metric in point["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = point[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            totals[metric["Name"]] = totals.get(metric["Name"], 0) + int(sum(values))
    return totals


# ---------------------------------------------------------------- the webhook


@pytest.mark.parametrize("as_base64", [False, True])
def test_signed_webhook_pays_the_order(world: PaymentsWorld, as_base64: bool) -> None:
    shop = world.shop()
    body, signature = world.signed(world.event(shop))

    status, headers, answer = world.invoke(
        "POST",
        WEBHOOK,
        body=body if as_base64 else body.decode(),
        headers={"Warung-Signature": signature},
    )

    assert (status, answer) == (200, {"received": True, "duplicate": False})
    assert headers["X-Request-Id"]
    assert world.order(shop)["status"] == "paid"


def test_same_webhook_twice_is_200_both_times_and_pays_once(world: PaymentsWorld) -> None:
    shop = world.shop()
    body, signature = world.signed(world.event(shop))
    hook = {"Warung-Signature": signature}

    first = world.invoke("POST", WEBHOOK, body=body.decode(), headers=hook)
    second = world.invoke("POST", WEBHOOK, body=body.decode(), headers=hook)

    assert (first[0], first[2]["duplicate"]) == (200, False)
    assert (second[0], second[2]["duplicate"]) == (200, True)
    assert world.order(shop)["version"] == 2


def test_bad_signature_is_400_counted_and_changes_nothing(
    world: PaymentsWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = world.shop()
    body, _ = world.signed(world.event(shop))
    forged = f"t={int(utc_now().timestamp())},v1={'0' * 64}"
    capsys.readouterr()

    status, headers, problem = world.invoke(
        "POST", WEBHOOK, body=body.decode(), headers={"Warung-Signature": forged}
    )

    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert problem["code"] == "invalid_signature"
    output = capsys.readouterr().out
    assert emf_points(output).get("WebhookSignatureFailures") == 1
    assert world.secret() not in output  # never logged
    assert world.order(shop)["status"] == "pending_payment"


def test_body_changed_after_signing_is_400(world: PaymentsWorld) -> None:
    shop = world.shop()
    body, signature = world.signed(world.event(shop, amount=1))
    tampered = body.replace(b'"amount": 1', f'"amount": {TOTAL}'.encode())
    assert tampered != body

    status, _, problem = world.invoke(
        "POST", WEBHOOK, body=tampered.decode(), headers={"Warung-Signature": signature}
    )

    assert (status, problem["code"]) == (400, "invalid_signature")
    assert world.order(shop)["status"] == "pending_payment"


@pytest.mark.parametrize("age", [301, -301])
def test_stale_or_future_signature_is_400(
    world: PaymentsWorld, age: int, clock: ModuleType
) -> None:
    # The clock stands still: a signature 301 s off stays 301 s off however slow the call.
    shop = world.shop()
    body, signature = world.signed(world.event(shop), at=clock.epoch_s() - age)

    status, _, problem = world.invoke(
        "POST", WEBHOOK, body=body.decode(), headers={"Warung-Signature": signature}
    )

    assert (status, problem["code"]) == (400, "invalid_signature")


def test_missing_signature_is_400(world: PaymentsWorld) -> None:
    shop = world.shop()
    body, _ = world.signed(world.event(shop))

    status, _, problem = world.invoke("POST", WEBHOOK, body=body.decode())

    assert (status, problem["code"]) == (400, "invalid_signature")


def test_unknown_payment_is_still_200_so_the_provider_stops(world: PaymentsWorld) -> None:
    shop = world.shop()
    body, signature = world.signed(world.event(shop, payment_id=new_id("pay_")))

    status, _, answer = world.invoke(
        "POST", WEBHOOK, body=body.decode(), headers={"Warung-Signature": signature}
    )

    assert (status, answer["received"]) == (200, True)
    assert world.order(shop)["status"] == "pending_payment"


def test_paying_webhook_counts_the_paid_order(
    world: PaymentsWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = world.shop()
    body, signature = world.signed(world.event(shop))
    capsys.readouterr()

    world.invoke("POST", WEBHOOK, body=body.decode(), headers={"Warung-Signature": signature})

    points = emf_points(capsys.readouterr().out)
    assert (points.get("OrdersPaid"), points.get("PaymentsSucceeded")) == (1, 1)


def test_wrong_amount_is_counted(world: PaymentsWorld, capsys: pytest.CaptureFixture[str]) -> None:
    shop = world.shop()
    body, signature = world.signed(world.event(shop, amount=TOTAL + 1))
    capsys.readouterr()

    status, _, _ = world.invoke(
        "POST", WEBHOOK, body=body.decode(), headers={"Warung-Signature": signature}
    )

    assert status == 200
    assert emf_points(capsys.readouterr().out).get("PaymentAmountMismatches") == 1
    assert world.order(shop)["status"] == "pending_payment"


# ---------------------------------------------------------------- reading a payment


def test_customer_reads_their_payment(world: PaymentsWorld) -> None:
    shop = world.shop()
    token = world.token_for(shop.order.customer_id)

    status, headers, payment = world.invoke(
        "GET", f"/v1/payments/{shop.payment.payment_id}", token=token
    )

    assert status == 200
    assert payment == {
        "id": shop.payment.payment_id,
        "order_id": shop.order.order_id,
        "status": "pending",
        "amount": TOTAL,
        "currency": "IDR",
        "provider": "simulator",
        "action_url": None,
    }
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("payment_status", ["expired", "cancelled", "refund_pending"])
def test_customer_reads_a_closed_payment(world: PaymentsWorld, payment_status: str) -> None:
    shop = world.shop(order_status="expired", payment_status=payment_status)
    token = world.token_for(shop.order.customer_id)

    status, _, payment = world.invoke("GET", f"/v1/payments/{shop.payment.payment_id}", token=token)

    assert (status, payment["status"]) == (200, payment_status)


def test_someone_elses_payment_is_404_like_a_missing_one(world: PaymentsWorld) -> None:
    shop = world.shop()
    stranger = world.token_for(new_id())

    theirs = world.invoke("GET", f"/v1/payments/{shop.payment.payment_id}", token=stranger)
    missing = world.invoke("GET", f"/v1/payments/{new_id('pay_')}", token=stranger)

    assert (theirs[0], theirs[2]["code"]) == (404, "not_found")
    assert theirs[2]["detail"] == missing[2]["detail"]


def test_anonymous_read_is_401(world: PaymentsWorld) -> None:
    shop = world.shop()
    status, _, problem = world.invoke("GET", f"/v1/payments/{shop.payment.payment_id}")
    assert (status, problem["code"]) == (401, "unauthorized")


# ---------------------------------------------------------------- the simulator


def test_simulation_is_queued_with_the_request_as_correlation_id(world: PaymentsWorld) -> None:
    shop = world.shop()
    token = world.token_for(shop.order.customer_id)

    status, headers, answer = world.invoke(
        "POST",
        f"/v1/payments/{shop.payment.payment_id}/simulate",
        body=json.dumps({"outcome": "succeeded"}),
        token=token,
    )

    assert (status, answer) == (202, {"status": "accepted"})
    (job,) = world.jobs(headers["X-Request-Id"])
    assert job["job_type"] == "payment.simulate"
    assert job["payload"] == {
        "payment_id": shop.payment.payment_id,
        "order_id": shop.order.order_id,
        "amount": TOTAL,
        "currency": "IDR",
        "outcome": "succeeded",
    }
    (entry,) = world.audit(f"payment:{shop.payment.payment_id}")
    assert (entry["action"], entry["actor_id"]) == (
        "payment.simulation_requested",
        shop.order.customer_id,
    )
    assert entry["request_id"] == headers["X-Request-Id"]


@pytest.mark.parametrize("payment_status", ["succeeded", "refund_pending", "refunded"])
def test_simulating_a_settled_payment_is_409(world: PaymentsWorld, payment_status: str) -> None:
    shop = world.shop(order_status="paid", payment_status=payment_status)
    token = world.token_for(shop.order.customer_id)

    status, headers, problem = world.invoke(
        "POST",
        f"/v1/payments/{shop.payment.payment_id}/simulate",
        body=json.dumps({"outcome": "succeeded"}),
        token=token,
    )

    assert (status, problem["code"]) == (409, "conflict")
    assert world.jobs(headers["X-Request-Id"]) == []


def test_payment_settled_between_the_read_and_the_commit_is_409_and_queues_nothing(
    world: PaymentsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = world.shop()
    token = world.token_for(shop.order.customer_id)
    repository = payments_app().routes.service.repository  # the copy the app uses
    real_get_payment = repository.get_payment

    def read_then_paid_elsewhere(payment_id: str) -> object:
        found = real_get_payment(payment_id)  # still pending when the route reads it...
        world.apply(world.event(shop))  # ...then the provider's success lands
        return found

    monkeypatch.setattr(repository, "get_payment", read_then_paid_elsewhere)

    status, headers, problem = world.invoke(
        "POST",
        f"/v1/payments/{shop.payment.payment_id}/simulate",
        body=json.dumps({"outcome": "succeeded"}),
        token=token,
    )

    assert (status, problem["code"]) == (409, "conflict")
    assert world.payment(shop)["status"] == "succeeded"
    assert world.jobs(headers["X-Request-Id"]) == []
    actions = world.audit_actions(f"payment:{shop.payment.payment_id}")
    assert "payment.simulation_requested" not in actions


def test_simulating_someone_elses_payment_is_404(world: PaymentsWorld) -> None:
    shop = world.shop()
    status, _, problem = world.invoke(
        "POST",
        f"/v1/payments/{shop.payment.payment_id}/simulate",
        body=json.dumps({"outcome": "failed"}),
        token=world.token_for(new_id()),
    )
    assert (status, problem["code"]) == (404, "not_found")


def test_unknown_field_in_a_simulation_is_422(world: PaymentsWorld) -> None:
    shop = world.shop()
    status, _, problem = world.invoke(
        "POST",
        f"/v1/payments/{shop.payment.payment_id}/simulate",
        body=json.dumps({"outcome": "succeeded", "amount": 1}),
        token=world.token_for(shop.order.customer_id),
    )
    assert (status, problem["code"]) == (422, "validation_error")


def test_without_the_simulator_the_route_does_not_exist(
    world: PaymentsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warung.settings import get_settings

    shop = world.shop()
    token = world.token_for(shop.order.customer_id)
    monkeypatch.setenv("PAYMENT_PROVIDER", "midtrans")
    get_settings.cache_clear()
    payments_app()  # loaded already: the setting is read per request
    path = f"/v1/payments/{shop.payment.payment_id}/simulate"
    body = json.dumps({"outcome": "succeeded"})

    signed_in = world.invoke("POST", path, body=body, token=token)
    anonymous = world.invoke("POST", path, body=body)

    assert (signed_in[0], signed_in[2]["code"]) == (404, "not_found")
    assert (anonymous[0], anonymous[2]["code"]) == (404, "not_found")
    assert world.jobs(signed_in[1]["X-Request-Id"]) == []


# ---------------------------------------------------------------- the sample events


@pytest.mark.parametrize(
    ("sample", "status", "code"),
    [
        ("webhook-bad-signature.json", 400, "invalid_signature"),
        ("webhook-unsigned.json", 400, "invalid_signature"),
        ("get-payment-anonymous.json", 401, "unauthorized"),
        ("simulate-payment-anonymous.json", 401, "unauthorized"),
    ],
)
def test_sample_events_get_their_documented_answer(
    world: PaymentsWorld, sample: str, status: int, code: str
) -> None:
    event = json.loads((EVENTS / sample).read_text())

    response = payments_app().handler(event, FakeContext())

    assert response["statusCode"] == status
    assert json.loads(response["body"])["code"] == code
