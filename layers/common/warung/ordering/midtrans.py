"""Midtrans Snap, the real payment provider (docs/decisions/0020-midtrans-snap.md).

Four calls, in Midtrans's documented wire format:

- create: ``POST <app host>/snap/v1/transactions`` with ``transaction_details`` (the order id
  and the gross amount in whole rupiah) and ``expiry`` (the order's payment window); the
  answer's ``redirect_url`` is where the customer pays;
- notification: Midtrans POSTs JSON whose ``signature_key`` is the SHA-512 hex of
  ``order_id + status_code + gross_amount + server key``, over the strings as received
  (``gross_amount`` is a string such as ``"24145.00"``);
- status: ``GET <api host>/v2/<order_id>/status``, Midtrans's own record, which is what
  Warung acts on;
- refund: ``POST <api host>/v2/<order_id>/refund``.

Every request carries HTTP Basic authentication (the server key, no password) and
``X-Idempotency-Key``; timeouts are short and only timeouts and 5xx answers are retried, a
bounded number of times, with the same key. The hosts are fixed by the stage (sandbox, or
production on ``prod``; the local stand-in on the local and test stages): no URL of a
request comes from outside.

This module is imported only by the code that calls Midtrans, never at cold start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import quote

import urllib3

from warung.errors import FieldError, InvalidSignature, ValidationFailed
from warung.ordering.payments import (
    Notification,
    ProviderCheckout,
    ProviderStatus,
    ProviderUnavailable,
    StatusKind,
)
from warung.settings import get_settings
from warung.store.payments import MIDTRANS

SANDBOX: Final = ("https://app.sandbox.midtrans.com", "https://api.sandbox.midtrans.com")
PRODUCTION: Final = ("https://app.midtrans.com", "https://api.midtrans.com")
ATTEMPTS: Final = 3
"""At most this many tries of one call (the first and two retries), all with one key."""
TIMEOUT: Final = urllib3.Timeout(connect=1.0, read=2.0)
BUDGET_S: Final = 6.0
"""No retry starts after this many seconds: an API request (10 s) keeps time to answer."""
_NOTIFICATION_FIELDS: Final = ("order_id", "status_code", "gross_amount", "signature_key")


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """Midtrans's ``signature_key``: SHA-512 hex of the four strings, as received."""
    return hashlib.sha512(
        (order_id + status_code + gross_amount + server_key).encode("utf-8")
    ).hexdigest()


def rupiah(gross_amount: str) -> int | None:
    """Whole rupiah of a Midtrans amount string ("24145.00"); None if it is not whole."""
    try:
        value = Decimal(gross_amount)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def status_kind(transaction_status: str, fraud_status: str = "") -> StatusKind:
    """Warung's reading of Midtrans's ``transaction_status`` (and ``fraud_status`` for a
    card's ``capture``: only ``accept`` is money received)."""
    match transaction_status:
        case "settlement":
            return "paid"
        case "capture":
            return "paid" if fraud_status in ("", "accept") else "pending"
        case "pending" | "authorize":
            return "pending"
        case "deny" | "cancel" | "expire" | "failure":
            return "failed"
        case "refund" | "chargeback":
            return "refunded"
        case "partial_refund" | "partial_chargeback":
            return "partially_refunded"
    return "unknown"


@dataclass(frozen=True)
class Answer:
    """A Midtrans answer: the HTTP status and its JSON body (empty if it had none)."""

    status: int
    body: dict[str, Any]


class MidtransProvider:
    """Midtrans Snap for one stage, with that stage's server key."""

    name = MIDTRANS

    def __init__(
        self,
        server_key: str,
        *,
        app_base: str,
        api_base: str,
        http: urllib3.PoolManager | None = None,
        timeout: urllib3.Timeout = TIMEOUT,
    ) -> None:
        self._server_key = server_key
        self.app_base = app_base.rstrip("/")
        self.api_base = api_base.rstrip("/")
        self._http = http or urllib3.PoolManager(retries=False, timeout=timeout)
        self._timeout = timeout

    def __repr__(self) -> str:  # never the key
        return f"MidtransProvider(app_base={self.app_base!r}, api_base={self.api_base!r})"

    @classmethod
    def for_stage(cls, server_key: str) -> MidtransProvider:
        """The provider of this stage: production hosts on prod, sandbox elsewhere, the
        local stand-in where the local and test stages say so."""
        settings = get_settings()
        if settings.midtrans_base_url:
            return cls(
                server_key, app_base=settings.midtrans_base_url, api_base=settings.midtrans_base_url
            )
        app, api = PRODUCTION if settings.is_production else SANDBOX
        return cls(server_key, app_base=app, api_base=api)

    # ------------------------------------------------------------ the calls

    def create(
        self, *, order_id: str, amount: int, currency: str, expiry_minutes: int, start: str
    ) -> ProviderCheckout:
        """Snap's create transaction; the order id is its ``order_id`` and the idempotency
        key, so that a retry (now or from ``GET /v1/payments/{id}``) opens nothing new.
        ``start`` is the order's creation time, ``yyyy-MM-dd HH:mm:ss +0700``."""
        if currency != "IDR":
            raise ValueError("Midtrans Snap takes rupiah only")
        body = {
            "transaction_details": {"order_id": order_id, "gross_amount": amount},
            "expiry": {"start_time": start, "unit": "minutes", "duration": expiry_minutes},
        }
        answer = self._call("POST", f"{self.app_base}/snap/v1/transactions", order_id, body)
        url = answer.body.get("redirect_url")
        if answer.status not in (200, 201) or not isinstance(url, str) or not url:
            raise RuntimeError(f"Midtrans refused the transaction ({answer.status})")
        return ProviderCheckout(action_url=url, token=str(answer.body.get("token", "")))

    def fetch_status(self, order_id: str) -> ProviderStatus:
        """``GET /v2/<order_id>/status``; a transaction Midtrans does not know is
        ``unknown``."""
        answer = self._call(
            "GET", f"{self.api_base}/v2/{quote(order_id, safe='')}/status", order_id, None
        )
        code = str(answer.body.get("status_code", answer.status))
        if answer.status == 404 or code == "404":
            return ProviderStatus(order_id=order_id, kind="unknown")
        if answer.status != 200:
            raise RuntimeError(f"Midtrans's status API answered {answer.status}")
        raw = str(answer.body.get("transaction_status", ""))
        return ProviderStatus(
            order_id=str(answer.body.get("order_id", order_id)),
            kind=status_kind(raw, str(answer.body.get("fraud_status", ""))),
            raw_status=raw,
            amount=rupiah(str(answer.body.get("gross_amount", ""))),
            currency=str(answer.body.get("currency", "IDR")),
            transaction_id=str(answer.body.get("transaction_id", "")),
            payment_type=str(answer.body.get("payment_type", "")),
        )

    def refund(self, *, payment_id: str, order_id: str, amount: int, currency: str) -> None:
        """``POST /v2/<order_id>/refund`` of the whole amount; the refund key is the
        payment id (one refund per payment). :class:`RefundNotSupported` when Midtrans
        cannot refund the method (bank transfers): an operator refunds by hand."""
        del currency
        body = {"refund_key": f"refund-{payment_id}", "amount": amount, "reason": "order ended"}
        answer = self._call(
            "POST",
            f"{self.api_base}/v2/{quote(order_id, safe='')}/refund",
            f"refund-{payment_id}",
            body,
        )
        code = str(answer.body.get("status_code", answer.status))
        if code in ("200", "201"):
            return
        if code in ("412", "418"):
            raise RefundNotSupported(str(answer.body.get("status_message", "not refundable")))
        raise RuntimeError(f"Midtrans's refund API answered {code}")

    # ------------------------------------------------------------ notifications

    def verify_notification(
        self, headers: Mapping[str, str], body: bytes, *, now: int | None = None
    ) -> Notification:
        """Check ``signature_key`` in constant time over the strings exactly as received;
        a missing or wrong one is :class:`InvalidSignature` (400)."""
        del headers, now  # Midtrans signs the body's fields, without a timestamp
        try:
            fields = json.loads(body)
        except ValueError:
            raise InvalidSignature("The notification is not JSON.") from None
        if not isinstance(fields, dict) or not all(
            isinstance(fields.get(name), str) for name in _NOTIFICATION_FIELDS
        ):
            raise InvalidSignature("The notification is not signed.")
        expected = signature(
            fields["order_id"], fields["status_code"], fields["gross_amount"], self._server_key
        )
        if not hmac.compare_digest(expected.encode(), str(fields["signature_key"]).encode()):
            raise InvalidSignature("The notification's signature_key does not match.")
        status = fields.get("transaction_status")
        if not isinstance(status, str) or not fields["order_id"]:
            raise ValidationFailed(
                "The notification is not one we understand.",
                errors=[FieldError("transaction_status", "missing")],
            )
        return Notification(
            order_id=fields["order_id"],
            transaction_id=str(fields.get("transaction_id") or ""),
            claimed_status=status,
            claimed_amount=fields["gross_amount"],
        )

    # ------------------------------------------------------------ HTTP

    def _call(self, method: str, url: str, key: str, body: dict[str, Any] | None) -> Answer:
        token = base64.b64encode(f"{self._server_key}:".encode()).decode()
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Authorization": f"Basic {token}",
            "X-Idempotency-Key": key,
        }
        payload = json.dumps(body).encode() if body is not None else None
        last = "no attempt"
        started = time.monotonic()
        for attempt in range(ATTEMPTS):
            if attempt and time.monotonic() - started > BUDGET_S - 3.0:
                break
            try:
                response = self._http.request(
                    method,
                    url,
                    body=payload,
                    headers=headers,
                    timeout=self._timeout,
                    retries=False,
                    redirect=False,
                )
            except urllib3.exceptions.HTTPError as error:  # timeouts, refused connections
                last = type(error).__name__
                continue
            if response.status >= 500:
                last = f"HTTP {response.status}"
                continue
            try:
                parsed = json.loads(response.data or b"{}")
            except ValueError:
                parsed = {}
            return Answer(response.status, parsed if isinstance(parsed, dict) else {})
        raise ProviderUnavailable(f"Midtrans did not answer ({last}) after {ATTEMPTS} tries")


class RefundNotSupported(Exception):
    """Midtrans cannot refund this payment's method: it is refunded by hand."""
