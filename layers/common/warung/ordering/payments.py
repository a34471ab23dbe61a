"""Payment providers behind one small interface (docs/product.md, Payments).

A provider does two things for Warung: it tells us, through a signed webhook, that a
payment or a refund happened (:meth:`PaymentProvider.parse_event`), and it refunds a payment
when asked (:meth:`PaymentProvider.refund`, called by the worker from a ``payment.refund``
job, so that a slow provider never holds an API request). Midtrans, Xendit or Stripe would
each be one more class here, mapping their event shapes onto :class:`ProviderEvent`.

The ``simulator`` provider, for the local and dev stages, plays the provider's part itself:
``POST /v1/payments/{id}/simulate`` queues a ``payment.simulate`` job, and the worker sends
the signed webhook a real provider would send, to this stage's own webhook URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warung import clock
from warung.errors import FieldError, ValidationFailed
from warung.signatures import SIGNATURE_HEADER, signature_header, verify_signature
from warung.store.payments import SIMULATOR

__all__ = [
    "SIMULATOR",
    "EventData",
    "EventType",
    "PaymentProvider",
    "ProviderEvent",
    "SimulatorProvider",
    "provider_named",
]

EventType = Literal["payment.succeeded", "payment.failed", "refund.succeeded"]


class EventData(BaseModel):
    """What an event is about."""

    model_config = ConfigDict(extra="ignore")

    payment_id: str = Field(min_length=1, max_length=64)
    order_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(strict=True, ge=0)
    currency: str = Field(min_length=3, max_length=3)


class ProviderEvent(BaseModel):
    """A provider's event, as ``POST /v1/payments/webhook`` receives it."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    type: EventType
    data: EventData


class PaymentProvider(Protocol):
    """What Warung needs from a payment provider."""

    name: str

    def parse_event(
        self, headers: Mapping[str, str], body: bytes, *, now: int | None = None
    ) -> ProviderEvent:
        """The event of a webhook request, once its signature is proven (else
        :class:`InvalidSignature`, 400); a signed body that is not an event is 422."""
        ...

    def refund(self, *, payment_id: str, order_id: str, amount: int, currency: str) -> None:
        """Ask for the payment to be refunded (the confirmation comes as a webhook).
        Raises on failure so that the job is retried."""
        ...


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


class SimulatorProvider:
    """The stand-in provider: Warung's own signature scheme (``Warung-Signature``) with a
    secret from Secrets Manager; its events are sent by the worker."""

    name = SIMULATOR

    def __init__(self, secret: str, webhook_url: str = "", *, allow_loopback: bool = False):
        self.secret = secret
        self.webhook_url = webhook_url
        self.allow_loopback = allow_loopback

    def parse_event(
        self, headers: Mapping[str, str], body: bytes, *, now: int | None = None
    ) -> ProviderEvent:
        """Verify ``Warung-Signature`` (HMAC-SHA256, ±300 s, constant-time) and parse."""
        verify_signature(
            _header(headers, SIGNATURE_HEADER),
            body,
            self.secret,
            now=clock.epoch_s() if now is None else now,
        )
        try:
            return ProviderEvent.model_validate_json(body)
        except ValidationError as error:
            problems = [
                FieldError(".".join(str(p) for p in e["loc"]) or "body", e["msg"])
                for e in error.errors()
            ]
            raise ValidationFailed("The event is not one we understand.", errors=problems) from None

    def signed(self, event: ProviderEvent, *, now: int | None = None) -> tuple[bytes, str]:
        """The body of ``event`` and its signature header value."""
        body = json.dumps(event.model_dump(mode="json"), separators=(",", ":")).encode()
        stamp = clock.epoch_s() if now is None else now
        return body, signature_header(self.secret, body, stamp)

    def send(self, event: ProviderEvent) -> None:
        """POST ``event`` to the webhook URL, signed; raise unless it was accepted (2xx)."""
        from warung.webhooks import deliver

        body, signature = self.signed(event)
        delivery = deliver(
            self.webhook_url,
            body,
            {"Content-Type": "application/json", SIGNATURE_HEADER: signature},
            allow_loopback=self.allow_loopback,
        )
        if not 200 <= delivery.status < 300:
            raise RuntimeError(f"the payment webhook answered {delivery.status}")

    def simulate(
        self, *, payment_id: str, order_id: str, amount: int, currency: str, outcome: str
    ) -> None:
        """Send what a provider sends when a payment succeeds or fails. The event id is the
        same for a repeated simulation of one outcome, as a provider's retry would be."""
        kind: EventType = "payment.succeeded" if outcome == "succeeded" else "payment.failed"
        data = EventData(payment_id=payment_id, order_id=order_id, amount=amount, currency=currency)
        self.send(ProviderEvent(id=f"evt_sim_{payment_id}_{outcome}", type=kind, data=data))

    def refund(self, *, payment_id: str, order_id: str, amount: int, currency: str) -> None:
        """Refund at once and confirm with a ``refund.succeeded`` webhook."""
        data = EventData(payment_id=payment_id, order_id=order_id, amount=amount, currency=currency)
        self.send(
            ProviderEvent(id=f"evt_sim_{payment_id}_refund", type="refund.succeeded", data=data)
        )


def provider_named(
    name: str, *, secret: str, webhook_url: str = "", allow_loopback: bool = False
) -> PaymentProvider:
    """The provider a payment was made with (``payment.provider``)."""
    if name == SIMULATOR:
        return SimulatorProvider(secret, webhook_url, allow_loopback=allow_loopback)
    raise ValueError(f"unknown payment provider {name!r}")
