"""Payment providers behind one small interface (docs/product.md, Payments).

A provider does four things for Warung: it opens a transaction for an order and gives the
page where the customer pays (:meth:`PaymentProvider.create`); it tells us, through an
authenticated notification, that a payment or a refund happened
(:meth:`PaymentProvider.verify_notification`); it answers what it knows of a transaction
(:meth:`PaymentProvider.fetch_status`), which is what Warung acts on, never the
notification's body alone; and it refunds a payment when asked
(:meth:`PaymentProvider.refund`). Midtrans Snap is ``warung.ordering.midtrans`` (imported
only where it is used: it is not on the cold path of the functions that never call it).

The ``simulator`` provider, for the local and dev stages, plays the provider's part itself:
``POST /v1/payments/{id}/simulate`` queues a ``payment.simulate`` job, and the worker sends
the signed webhook a real provider would send, to this stage's own webhook URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warung import clock
from warung.errors import FieldError, ValidationFailed
from warung.signatures import SIGNATURE_HEADER, signature_header, verify_signature
from warung.store.payments import MIDTRANS, SIMULATOR

__all__ = [
    "MIDTRANS",
    "SIMULATOR",
    "EventData",
    "EventType",
    "Notification",
    "PaymentProvider",
    "ProviderCheckout",
    "ProviderEvent",
    "ProviderStatus",
    "ProviderUnavailable",
    "SimulatorProvider",
    "provider_named",
]

EventType = Literal["payment.succeeded", "payment.failed", "refund.succeeded"]


class EventData(BaseModel):
    """What an event is about."""

    model_config = ConfigDict(extra="ignore", defer_build=True)  # built by the webhook only

    payment_id: str = Field(min_length=1, max_length=64)
    order_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(strict=True, ge=0)
    currency: str = Field(min_length=3, max_length=3)


class ProviderEvent(BaseModel):
    """A provider's event, as ``POST /v1/payments/webhook`` receives it."""

    model_config = ConfigDict(extra="ignore", defer_build=True)  # built by the webhook only

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    type: EventType
    data: EventData


class ProviderUnavailable(Exception):
    """The provider did not answer in time, or answered 5xx after the bounded retries: the
    caller keeps what it has and tries again later with the same idempotency key."""


@dataclass(frozen=True)
class ProviderCheckout:
    """The provider's transaction for an order: where the customer pays (``None`` for the
    simulator, whose payments are played through ``/v1/payments/{id}/simulate``)."""

    action_url: str | None
    token: str = ""


StatusKind = Literal["pending", "paid", "failed", "refunded", "partially_refunded", "unknown"]


@dataclass(frozen=True)
class ProviderStatus:
    """What the provider's own records say of a transaction (the status API's answer)."""

    order_id: str
    kind: StatusKind
    raw_status: str = ""
    amount: int | None = None
    currency: str = "IDR"
    transaction_id: str = ""
    payment_type: str = ""


@dataclass(frozen=True)
class Notification:
    """An authenticated notification: the transaction to look up and what it claims. The
    simulator's notifications are events of Warung's own signed format (``event``); a real
    provider's claims are checked against :meth:`PaymentProvider.fetch_status`."""

    order_id: str
    transaction_id: str
    claimed_status: str
    claimed_amount: str
    event: ProviderEvent | None = None


class PaymentProvider(Protocol):
    """What Warung needs from a payment provider."""

    name: str

    def create(
        self, *, order_id: str, amount: int, currency: str, expiry_minutes: int, start: str
    ) -> ProviderCheckout:
        """Open the provider's transaction for ``order_id`` (also its idempotency key: a
        retry never opens a second one). :class:`ProviderUnavailable` on timeouts and 5xx."""
        ...

    def fetch_status(self, order_id: str) -> ProviderStatus:
        """The provider's record of the order's transaction (``kind="unknown"`` if none)."""
        ...

    def verify_notification(
        self, headers: Mapping[str, str], body: bytes, *, now: int | None = None
    ) -> Notification:
        """The notification of a webhook request, once its authenticity is proven (else
        :class:`InvalidSignature`, 400); an authentic body that is not one is 422."""
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

    def create(
        self, *, order_id: str, amount: int, currency: str, expiry_minutes: int, start: str
    ) -> ProviderCheckout:
        """Nothing to open: the simulator's payments are played by their customer."""
        del amount, currency, expiry_minutes, start
        return ProviderCheckout(action_url=None, token=order_id)

    def fetch_status(self, order_id: str) -> ProviderStatus:
        """The simulator keeps no records of its own: its signed events are its word."""
        return ProviderStatus(order_id=order_id, kind="unknown")

    def verify_notification(
        self, headers: Mapping[str, str], body: bytes, *, now: int | None = None
    ) -> Notification:
        """The signed event (:meth:`parse_event`): Warung's own format, its own word."""
        event = self.parse_event(headers, body, now=now)
        return Notification(
            order_id=event.data.order_id,
            transaction_id=event.id,
            claimed_status=event.type,
            claimed_amount=str(event.data.amount),
            event=event,
        )

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
    """The provider a payment was made with (``payment.provider``), with its secret (the
    simulator's webhook secret, or Midtrans's server key)."""
    if name == SIMULATOR:
        return SimulatorProvider(secret, webhook_url, allow_loopback=allow_loopback)
    if name == MIDTRANS:
        from warung.ordering.midtrans import MidtransProvider  # only where it is used

        return MidtransProvider.for_stage(secret)
    raise ValueError(f"unknown payment provider {name!r}")
