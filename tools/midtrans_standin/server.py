"""A local stand-in of Midtrans Snap, in Midtrans's documented wire format.

Warung's adapter (``warung.ordering.midtrans``) talks to it unchanged: only the base URL
differs. What it speaks:

- ``POST /snap/v1/transactions`` (HTTP Basic with the server key): ``transaction_details``
  ``{order_id, gross_amount}`` and ``expiry``; answers 201 ``{token, redirect_url}``. The
  same ``X-Idempotency-Key`` with the same body answers the first answer again; another
  transaction for an ``order_id`` already used is 400, as Midtrans answers.
- ``GET /v2/<order_id>/status``: ``status_code``, ``transaction_status`` (``pending``,
  ``settlement``, ``deny``, ``expire``, ``refund``), ``gross_amount`` as a string
  (``"24145.00"``), ``currency``, ``payment_type``, ``transaction_id``, ``fraud_status``;
  404 for an unknown order.
- ``POST /v2/<order_id>/refund``: refunds a settled ``qris``/``gopay``/card payment (and
  notifies); a ``bank_transfer`` answers ``412``, as a method Midtrans cannot refund.
- ``GET /snap/v4/redirection/<token>``: the page where a person pays (a form per method);
  ``POST /snap/v4/redirection/<token>/pay`` (form or JSON ``{payment_type, outcome}``)
  settles or denies the transaction and POSTs the signed notification (``signature_key``
  = SHA-512 of order_id + status_code + gross_amount + server key) to the notification URL.

For tests: ``POST /_standin/delay`` ``{"create_s": 3.5, "times": 1}`` holds the next
answers to a create that long (after the transaction is made: a lost answer);
``GET /_standin/transactions`` lists what exists, with how many creates were made.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

REFUNDABLE = frozenset({"qris", "gopay", "shopeepay", "credit_card"})
STATUS_CODES = {
    "pending": "201",
    "settlement": "200",
    "capture": "200",
    "deny": "202",
    "expire": "407",
    "cancel": "200",
    "refund": "200",
}


def signature_key(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """Midtrans's notification signature."""
    text = order_id + status_code + gross_amount + server_key
    return hashlib.sha512(text.encode("utf-8")).hexdigest()


@dataclass
class Transaction:
    """One Snap transaction."""

    order_id: str
    gross_amount: str
    token: str
    transaction_id: str
    created_at: str
    expiry: dict[str, Any]
    status: str = "pending"
    payment_type: str = ""


@dataclass
class StandIn:
    """The stand-in's state and its HTTP server."""

    server_key: Callable[[], str]
    notification_url: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    transactions: dict[str, Transaction] = field(default_factory=dict)
    answers: dict[str, tuple[int, dict[str, Any], bytes]] = field(default_factory=dict)
    creates: int = 0
    delay_s: float = 0.0
    delays_left: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Its base URL (both Midtrans hosts in one)."""
        assert self.server is not None
        return f"http://{self.host}:{self.server.server_address[1]}"

    def start(self) -> StandIn:
        """Serve in a daemon thread."""
        stand_in = self

        class Handler(_Handler):
            state = stand_in

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="midtrans-standin", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # ------------------------------------------------------------ what it does

    def notification(self, tx: Transaction) -> dict[str, Any]:
        """The notification Midtrans sends for ``tx``'s current status, signed."""
        code = STATUS_CODES.get(tx.status, "200")
        body = self.status_of(tx)
        body["signature_key"] = signature_key(tx.order_id, code, tx.gross_amount, self.server_key())
        return body

    def status_of(self, tx: Transaction) -> dict[str, Any]:
        """The status API's answer for ``tx``."""
        code = STATUS_CODES.get(tx.status, "200")
        return {
            "status_code": code,
            "status_message": "Success, transaction is found",
            "transaction_id": tx.transaction_id,
            "order_id": tx.order_id,
            "gross_amount": tx.gross_amount,
            "currency": "IDR",
            "payment_type": tx.payment_type or "bank_transfer",
            "transaction_time": tx.created_at,
            "transaction_status": tx.status,
            "fraud_status": "accept",
        }

    def notify(self, tx: Transaction) -> tuple[dict[str, Any], int | None]:
        """POST the signed notification; the receiver's HTTP status (None if unreachable)."""
        body = self.notification(tx)
        if not self.notification_url:
            return body, None
        request = urllib.request.Request(  # noqa: S310 - a configured local URL
            self.notification_url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return body, int(answer.status)
        except urllib.error.HTTPError as error:
            return body, int(error.code)
        except OSError:
            return body, None


class _Handler(BaseHTTPRequestHandler):
    state: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - quiet
        return

    # ------------------------------------------------------------ plumbing

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller stopped waiting (a timeout, as intended by /_standin/delay)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        expected = base64.b64encode(f"{self.state.server_key()}:".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def _unauthorized(self) -> None:
        self._send(
            401,
            {
                "status_code": "401",
                "status_message": "Access denied due to unauthorized transaction",
                "error_messages": ["Access denied due to unauthorized transaction"],
            },
        )

    # ------------------------------------------------------------ routes

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if path == "/_standin/transactions":
            with self.state.lock:
                listing = {
                    "creates": self.state.creates,
                    "transactions": [
                        {**self.state.status_of(tx), "token": tx.token, "expiry": tx.expiry}
                        for tx in self.state.transactions.values()
                    ],
                }
            self._send(200, listing)
        elif len(parts) == 3 and parts[0] == "v2" and parts[2] == "status":
            if not self._authorized():
                self._unauthorized()
                return
            tx = self.state.transactions.get(parts[1])
            if tx is None:
                self._send(
                    404, {"status_code": "404", "status_message": "Transaction doesn't exist."}
                )
                return
            self._send(200, self.state.status_of(tx))
        elif len(parts) == 4 and parts[:3] == ["snap", "v4", "redirection"]:
            self._page(parts[3])
        else:
            self._send(404, {"status_code": "404", "status_message": "Not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        parts = [unquote(p) for p in path.strip("/").split("/")]
        raw = self._body()
        if path == "/snap/v1/transactions":
            self._create(raw)
        elif path == "/_standin/delay":
            asked = json.loads(raw or b"{}")
            with self.state.lock:
                self.state.delay_s = float(asked.get("create_s", 0))
                self.state.delays_left = int(asked.get("times", 1))
            self._send(200, {"ok": True})
        elif len(parts) == 3 and parts[0] == "v2" and parts[2] == "refund":
            self._refund(parts[1], raw)
        elif len(parts) == 5 and parts[:3] == ["snap", "v4", "redirection"] and parts[4] == "pay":
            self._pay(parts[3], raw)
        else:
            self._send(404, {"status_code": "404", "status_message": "Not found"})

    def _create(self, raw: bytes) -> None:
        if not self._authorized():
            self._unauthorized()
            return
        key = self.headers.get("X-Idempotency-Key") or ""
        try:
            asked = json.loads(raw)
            details = asked["transaction_details"]
            order_id = str(details["order_id"])
            amount = int(details["gross_amount"])
        except (ValueError, KeyError, TypeError):
            self._send(400, {"error_messages": ["transaction_details is required"]})
            return
        with self.state.lock:
            remembered = self.state.answers.get(key) if key else None
            if remembered is not None and remembered[2] == raw:
                status, answer = remembered[0], remembered[1]
            elif remembered is not None:
                status, answer = 409, {"error_messages": ["idempotency-key is not unique"]}
            elif order_id in self.state.transactions:
                status = 400
                answer = {"error_messages": ["transaction_details.order_id sudah digunakan"]}
            else:
                token = uuid.uuid4().hex
                self.state.transactions[order_id] = Transaction(
                    order_id=order_id,
                    gross_amount=f"{amount}.00",
                    token=token,
                    transaction_id=str(uuid.uuid4()),
                    created_at=time.strftime("%Y-%m-%d %H:%M:%S"),
                    expiry=dict(asked.get("expiry") or {}),
                )
                self.state.creates += 1
                status = 201
                answer = {
                    "token": token,
                    "redirect_url": f"{self.state.url}/snap/v4/redirection/{token}",
                }
                if key:
                    self.state.answers[key] = (status, answer, raw)
            delay = 0.0
            if self.state.delays_left > 0:
                self.state.delays_left -= 1
                delay = self.state.delay_s
        if delay:
            time.sleep(delay)  # made, but answered too late: the caller times out
        self._send(status, answer)

    def _by_token(self, token: str) -> Transaction | None:
        return next((t for t in self.state.transactions.values() if t.token == token), None)

    def _page(self, token: str) -> None:
        tx = self._by_token(token)
        if tx is None:
            self._send(404, b"<p>Unknown transaction</p>", "text/html; charset=utf-8")
            return
        order = html.escape(tx.order_id)
        forms = "".join(
            f'<form method="post" action="/snap/v4/redirection/{token}/pay">'
            f'<input type="hidden" name="payment_type" value="{method}">'
            f'<input type="hidden" name="outcome" value="settlement">'
            f'<button type="submit">Pay with {method}</button></form>'
            for method in ("qris", "gopay", "bank_transfer")
        )
        page = (
            "<!doctype html><title>Midtrans stand-in</title>"
            f"<h1>Order {order}</h1><p>Rp {html.escape(tx.gross_amount)} "
            f"({html.escape(tx.status)})</p>{forms}"
        )
        self._send(200, page.encode(), "text/html; charset=utf-8")

    def _pay(self, token: str, raw: bytes) -> None:
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            asked = json.loads(raw or b"{}")
        else:
            asked = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        outcome = str(asked.get("outcome") or "settlement")
        if outcome not in ("settlement", "deny", "expire", "pending"):
            self._send(400, {"error_messages": ["outcome must be settlement, deny or expire"]})
            return
        with self.state.lock:
            tx = self._by_token(token)
            if tx is None:
                self._send(404, {"status_code": "404", "status_message": "Unknown token"})
                return
            tx.payment_type = str(asked.get("payment_type") or "qris")
            tx.status = outcome
        sent, delivered = self.state.notify(tx)
        self._send(200, {"notification": sent, "delivered": delivered})

    def _refund(self, order_id: str, raw: bytes) -> None:
        if not self._authorized():
            self._unauthorized()
            return
        with self.state.lock:
            tx = self.state.transactions.get(order_id)
            if tx is None:
                self._send(
                    404, {"status_code": "404", "status_message": "Transaction doesn't exist."}
                )
                return
            if tx.status != "settlement" or tx.payment_type not in REFUNDABLE:
                self._send(
                    200,
                    {
                        "status_code": "412",
                        "status_message": "Merchant cannot modify status of the transaction",
                    },
                )
                return
            asked = json.loads(raw or b"{}")
            tx.status = "refund"
        # In a thread: the caller (a function of the local runtime) is still running, and
        # the notification it causes must not wait for it.
        threading.Thread(target=self.state.notify, args=(tx,), daemon=True).start()
        self._send(
            200,
            {
                "status_code": "200",
                "status_message": "Success, refund request is approved",
                "transaction_id": tx.transaction_id,
                "order_id": tx.order_id,
                "gross_amount": tx.gross_amount,
                "refund_amount": f"{int(asked.get('amount', 0))}.00",
                "refund_key": asked.get("refund_key"),
                "transaction_status": "refund",
            },
        )
