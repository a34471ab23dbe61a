"""Payments: a customer's payment, the provider's signed webhook, and the payment
simulator of the local and dev stages (docs/product.md, Payments)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from payments import service
from payments.models import PaymentOut, SimulationAccepted, SimulationRequest, WebhookReceipt
from warung.api import UNAUTHORIZED, WarungRouter, request_meta
from warung.auth import BEARER_SECURITY, AuthGate, Caller, current_caller, signed_in
from warung.errors import InvalidJson, NotFound
from warung.models import view_of
from warung.settings import get_settings
from warung.signatures import SIGNATURE_HEADER, SIGNATURE_TOLERANCE_S
from warung.store.payments import Payment

router = WarungRouter()  # type: ignore[no-untyped-call]
TAGS = ["payments"]
NOT_YOURS: dict[int, OpenAPIResponse] = {
    404: {"description": "No such payment, or not one of yours."}
}


class SimulatorGate(AuthGate):
    """A signed-in caller, on a stage with the payment simulator; elsewhere the route does
    not exist (404 for everyone, before authentication or validation)."""

    def check(self, app: APIGatewayRestResolver) -> Caller:
        """404 without the simulator, else the signed-in check."""
        if not get_settings().payment_simulator:
            raise NotFound("There is no payment simulator on this stage.")
        return super().check(app)


simulator_customer: dict[str, Any] = {
    "security": BEARER_SECURITY,
    "middlewares": [SimulatorGate()],
}


def payment_view(payment: Payment) -> PaymentOut:
    return view_of(PaymentOut, payment, id=payment.payment_id)


def raw_body() -> bytes:
    """The request body exactly as sent: what the provider signed."""
    event = router.current_event.raw_event
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidJson("The body is not valid base64.") from exc
    return str(body).encode("utf-8")


@router.get(
    "/v1/payments/<payment_id>",
    tags=TAGS,
    operation_id="getPayment",
    summary="One of your payments",
    **signed_in,
    responses={
        200: {
            "description": "The payment.",
            "content": {"application/json": {"model": PaymentOut}},
        },
        **UNAUTHORIZED,
        **NOT_YOURS,
    },
)
def get_payment(payment_id: str) -> PaymentOut:
    return payment_view(service.current_payment(current_caller(router), payment_id))


@router.post(
    "/v1/payments/<payment_id>/simulate",
    status_code=202,
    tags=TAGS,
    operation_id="simulatePayment",
    summary="Play the payment provider for one of your open payments (local and dev stages)",
    description=(
        "Only where the simulator provider is configured; elsewhere this route answers 404. "
        "The simulator then sends `POST /v1/payments/webhook` a correctly signed "
        "`payment.succeeded` or `payment.failed` event, as a provider would."
    ),
    **simulator_customer,
    responses={
        202: {
            "description": "Queued; the signed webhook follows.",
            "content": {"application/json": {"model": SimulationAccepted}},
        },
        **UNAUTHORIZED,
        404: {"description": "No such payment, not one of yours, or no simulator here."},
        409: {"description": "The payment is no longer pending or failed."},
    },
)
def simulate_payment(payment_id: str, body: SimulationRequest) -> Response[str]:
    caller = current_caller(router)
    service.request_simulation(caller, payment_id, body.outcome, request_meta(router))
    return Response(202, "application/json", SimulationAccepted().model_dump_json())


@router.post(
    "/v1/payments/webhook",
    tags=TAGS,
    operation_id="receivePaymentWebhook",
    summary="The payment provider's signed events",
    description=(
        "Called by the payment provider, not by clients. **Midtrans** "
        "(`PaymentProvider=midtrans`): its HTTP notification as Midtrans sends it (JSON with "
        "`order_id`, `status_code`, `gross_amount` as a string, `transaction_status`, "
        "`transaction_id`, `signature_key` = SHA-512 hex of order_id + status_code + "
        "gross_amount + server key); a missing or wrong `signature_key` is 400 "
        "`invalid_signature`; otherwise Warung reads the transaction's status from Midtrans "
        "and acts on that only (a notification it contradicts changes nothing, audited). "
        f"**Simulator**: header `{SIGNATURE_HEADER}: "
        't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (several `v1` '
        'values are accepted while a secret rotates). Body `{id, type: "payment.succeeded" '
        '| "payment.failed" | "refund.succeeded", data: {payment_id, order_id, amount, '
        "currency}}`. A bad signature, or a timestamp more than "
        f"{SIGNATURE_TOLERANCE_S} s from now: 400 `invalid_signature`. An event id seen "
        "before: 200 with `duplicate: true` and no second effect. An event about an unknown "
        "payment, or with an amount or currency that is not the payment's, is recorded and "
        "audited but pays nothing; it is still answered 200, so the provider stops retrying."
    ),
    responses={
        200: {
            "description": "Received (applied now, or before).",
            "content": {"application/json": {"model": WebhookReceipt}},
        },
        400: {"description": "Missing, malformed, stale or wrong signature (`signature_key`)."},
    },
)
def receive_webhook() -> WebhookReceipt:
    receipt = service.receive_webhook(
        router.current_event.headers or {}, raw_body(), request_meta(router)
    )
    return WebhookReceipt(duplicate=receipt.duplicate)
