"""Merchant webhooks: signing them, and sending them without becoming a proxy.

Signatures are shared with the payment provider's webhook::

    Warung-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

:func:`deliver` is the outbound client. Which URLs it may reach is the SSRF policy of
:mod:`warung.ssrf`, applied again at sending time: the host is resolved **once**, every
address is vetted, and the client connects to the vetted address itself, so a DNS answer
that changes between check and connect (rebinding) cannot redirect the request. TLS is still
verified against the URL's host name. No redirects are followed, one 5 s deadline covers the
whole exchange and at most 64 KiB of the answer is read.

Only the standard library is used: this runs in the job worker, where cold starts count.
"""

from __future__ import annotations

import http.client
import io
import re
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final, cast

from warung.errors import InvalidWebhookUrl

# The signature scheme lives in its own light module (no sockets, no TLS) so that what only
# verifies signatures does not import the delivery machinery; re-exported here.
from warung.signatures import (
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_S,
    signature_header,
    verify_signature,
)
from warung.ssrf import (
    IPAddress,
    Resolver,
    Target,
    addresses_of,
    parse_url,
    resolve_host,
    vet,
)

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_S",
    "Delivery",
    "DeliveryError",
    "deliver",
    "signature_header",
    "verify_signature",
]

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

USER_AGENT: Final = "Warung-Webhooks/1.0"
DELIVERY_TIMEOUT_S: Final = 5.0
MAX_RESPONSE_BYTES: Final = 64 * 1024

# --------------------------------------------------------------------------------------------
# Delivery


@dataclass(frozen=True)
class Delivery:
    """What the receiver answered. Any status is returned; only 2xx means delivered."""

    status: int
    address: str  # the vetted IP address the request went to
    body: bytes  # at most ``max_response_bytes`` of the answer
    elapsed_ms: int

    @property
    def succeeded(self) -> bool:
        """True for a 2xx answer; a redirect is a failure, since none is followed."""
        return 200 <= self.status < 300


class DeliveryError(Exception):
    """The webhook could not be delivered; ``retryable`` says whether trying later may help.

    Not retryable: the URL fails the guard (it will until the merchant changes it).
    Retryable: resolution, connection, TLS and timeout failures.
    """

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")
_RESERVED_HEADERS: Final = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def _request_head(target: Target, body: bytes, headers: Mapping[str, str]) -> bytes:
    fields = {"content-type": ("Content-Type", "application/json")}
    fields["user-agent"] = ("User-Agent", USER_AGENT)
    for name, value in headers.items():
        # Our own code passes these, but a CR/LF in a value would let it forge a request.
        if not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            raise ValueError(f"invalid webhook header {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"the {name} header of a webhook is set by deliver()")
        fields[name.lower()] = (name, value)
    lines = [f"POST {target.target} HTTP/1.1", f"Host: {target.netloc}"]
    lines += [f"{name}: {value}" for name, value in fields.values()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("ascii")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the delivery deadline passed")
    return left


class _DeadlineReader(io.RawIOBase):
    """Socket reads that each wait only until the one deadline of the whole delivery.

    A per-read timeout alone would let a receiver that trickles a byte at a time hold the
    worker for as long as it likes.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._sock.settimeout(_remaining(self._deadline))
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What ``http.client.HTTPResponse`` needs of a socket: ``makefile``."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, _mode: str = "rb") -> io.BufferedReader:  # http.client asks for "rb"
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


def _read_response(sock: socket.socket, deadline: float, max_bytes: int) -> tuple[int, bytes]:
    response = http.client.HTTPResponse(
        cast(socket.socket, _DeadlineSocket(sock, deadline)), method="POST"
    )
    response.begin()  # status line and headers; failures here are delivery failures
    body = bytearray()
    try:
        while len(body) < max_bytes:
            chunk = response.read(max_bytes - len(body))
            if not chunk:
                break
            body += chunk
    except http.client.IncompleteRead as exc:
        body += exc.partial
    except (OSError, http.client.HTTPException):
        pass  # the receiver has answered; a body cut short or too slow does not undo that
    finally:
        response.close()
    # Whatever is left unread stays unread: the connection is closed, never drained.
    return response.status, bytes(body[:max_bytes])


def _connect(
    addresses: Sequence[IPAddress], port: int, deadline: float
) -> tuple[socket.socket, IPAddress]:
    failures: list[str] = []
    for index, address in enumerate(addresses):
        # Leave the later addresses a share of the time, so one black hole does not use it all.
        budget = _remaining(deadline) / (len(addresses) - index)
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(budget)
        try:
            sock.connect((str(address), port))
        except OSError as exc:
            sock.close()
            failures.append(f"{address}: {exc}")
            continue
        return sock, address
    raise DeliveryError("could not connect (" + "; ".join(failures) + ")", retryable=True)


@cache
def _default_ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes milliseconds; once per cold start is enough.
    return ssl.create_default_context()


def deliver(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    resolve: Resolver = resolve_host,
    allow_loopback: bool = False,
    timeout_s: float = DELIVERY_TIMEOUT_S,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    ssl_context: ssl.SSLContext | None = None,
) -> Delivery:
    """POST ``body`` (JSON) to ``url`` with ``headers`` added, safely; any answer is returned.

    The URL is checked as :func:`check_webhook_url` does, the host resolved once and every
    address vetted; the connection then goes to a vetted address (the next one if it cannot
    connect), with TLS verified against the URL's host name (SNI and certificate). No redirect
    is followed: a 3xx comes back as is. ``timeout_s`` bounds the whole exchange (connect,
    TLS, send and the answer), not each step; at most ``max_response_bytes`` are read.

    Raises :class:`DeliveryError`: ``retryable=False`` when the URL fails the guard,
    ``retryable=True`` for resolution, connection, TLS and timeout failures. ``ValueError``
    for a programming error: headers with line breaks or that only this function may set
    (Host, Content-Length, Transfer-Encoding, Connection), or a context that does not verify.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    context = ssl_context or _default_ssl_context()
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise ValueError("the TLS context must verify certificates and host names")
    try:
        target = parse_url(url, allow_loopback=allow_loopback)
    except InvalidWebhookUrl as exc:
        raise DeliveryError(exc.detail, retryable=False) from exc
    head = _request_head(target, body, headers)
    try:
        names = addresses_of(target, resolve)
    except (OSError, UnicodeError) as exc:
        raise DeliveryError(f"could not resolve {target.host}: {exc}", retryable=True) from exc
    try:
        addresses = vet(target, names, allow_loopback=allow_loopback)
    except InvalidWebhookUrl as exc:
        raise DeliveryError(exc.detail, retryable=False) from exc

    try:
        sock, address = _connect(addresses, target.port, deadline)
    except TimeoutError as exc:
        raise DeliveryError(f"no connection within {timeout_s} s", retryable=True) from exc
    try:
        if target.scheme == "https":
            sock.settimeout(_remaining(deadline))
            sock = context.wrap_socket(sock, server_hostname=target.host)
        sock.settimeout(_remaining(deadline))
        sock.sendall(head + body)
        status, content = _read_response(sock, deadline, max_response_bytes)
    except TimeoutError as exc:
        raise DeliveryError(f"no answer from {address} within {timeout_s} s", True) from exc
    except ssl.SSLError as exc:
        raise DeliveryError(f"TLS with {target.host} at {address} failed: {exc}", True) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"delivery to {address} failed: {exc!r}", True) from exc
    finally:
        sock.close()
    elapsed_ms = round((time.monotonic() - started) * 1000)
    return Delivery(status, str(address), content, elapsed_ms)
