"""Webhook delivery against real receivers on loopback: what a merchant's endpoint sees.

Each test starts its own receiver (a thread, a free port) and shuts it down. TLS uses a
throwaway CA and server certificates made at test time, with ``hooks.test`` resolved to
127.0.0.1 by an injected resolver: no DNS is ever needed.
"""

from __future__ import annotations

import contextlib
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from warung.ssrf import check_webhook_url
from warung.webhooks import DeliveryError, deliver, signature_header

BODY = b'{"id":"evt_01","type":"order.paid","data":{"order_id":"ord_1"}}'
MiB = 1024 * 1024
# OpenSSL checks validity against the real clock, which `make test-clock` does not move:
# the test certificates are valid far around any shifted "now".
CERTIFICATE_MARGIN = timedelta(days=3653)


@dataclass
class Seen:
    """One request as the receiver got it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A merchant's endpoint: records requests, answers according to the path."""

    server: ThreadingHTTPServer
    scheme: str
    requests: list[Seen] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:  # noqa: C901 - one answer per receiver path
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            receiver.requests.append(
                Seen("POST", self.path, dict(self.headers.items()), self.rfile.read(length))
            )
            if self.path == "/moved":
                self._answer(302, b"", {"Location": "/elsewhere"})
            elif self.path == "/big":
                self._answer(200, b"x" * MiB)
            elif self.path == "/stall":
                receiver.release.wait(5)
            elif self.path == "/trickle":
                # Headers one byte at a time, each well within a per-read timeout.
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40:
                    if receiver.release.wait(0.05):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            else:
                self._answer(202, b'{"received":true}')

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # The sender may stop reading: exactly what it should do with 1 MiB.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def start_receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(tls: ssl.SSLContext | None = None) -> Receiver:
        server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        receiver = Receiver(server, "https" if tls else "http")
        server.RequestHandlerClass = _handler(receiver)
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: receiver.server_names.append(name)
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.release.set()
        receiver.server.shutdown()
        receiver.server.server_close()


def loopback(host: str) -> list[str]:
    return ["127.0.0.1"]


# --- plain http to a development receiver -----------------------------------------------------


def test_receiver_gets_the_exact_body_and_headers(start_receiver: Callable[..., Receiver]) -> None:
    receiver = start_receiver()
    signature = signature_header("whsec_merchant", BODY, int(time.time()))

    delivery = deliver(
        receiver.url("/hooks/warung?source=test"),
        BODY,
        {"Warung-Signature": signature, "Warung-Event": "order.paid"},
        allow_loopback=True,
    )

    assert (delivery.status, delivery.body, delivery.address) == (
        202,
        b'{"received":true}',
        "127.0.0.1",
    )
    assert delivery.succeeded
    assert delivery.elapsed_ms >= 0
    [seen] = receiver.requests
    assert (seen.method, seen.path, seen.body) == ("POST", "/hooks/warung?source=test", BODY)
    assert seen.headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Content-Length"] == str(len(BODY))
    assert seen.headers["User-Agent"] == "Warung-Webhooks/1.0"
    assert seen.headers["Warung-Signature"] == signature
    assert seen.headers["Warung-Event"] == "order.paid"


def test_without_the_loopback_allowance_nothing_is_sent(
    start_receiver: Callable[..., Receiver],
) -> None:
    receiver = start_receiver()

    with pytest.raises(DeliveryError) as caught:
        deliver(receiver.url("/hooks/warung"), BODY, {})

    assert caught.value.retryable is False
    assert receiver.requests == []


def test_a_name_is_resolved_once_and_the_vetted_address_is_used(
    start_receiver: Callable[..., Receiver],
) -> None:
    receiver = start_receiver()
    lookups: list[str] = []

    def rebinding(host: str) -> list[str]:
        # A second answer would point elsewhere; it must never be asked for.
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["169.254.169.254"]

    delivery = deliver(
        receiver.url("/h", host="hooks.test"), BODY, {}, resolve=rebinding, allow_loopback=True
    )

    assert (delivery.status, delivery.address, lookups) == (202, "127.0.0.1", ["hooks.test"])
    assert receiver.requests[0].headers["Host"] == f"hooks.test:{receiver.port}"


def test_a_name_resolving_to_a_private_address_is_not_contacted(
    start_receiver: Callable[..., Receiver],
) -> None:
    receiver = start_receiver()

    with pytest.raises(DeliveryError) as caught:
        deliver(
            receiver.url("/h", host="hooks.test"),
            BODY,
            {},
            resolve=lambda host: ["127.0.0.1", "10.0.0.1"],
            allow_loopback=True,
        )

    assert caught.value.retryable is False
    assert receiver.requests == []


def test_the_next_address_is_tried_when_one_refuses_the_connection(
    start_receiver: Callable[..., Receiver],
) -> None:
    receiver = start_receiver()  # listens on 127.0.0.1 only, so 127.0.0.2 refuses

    delivery = deliver(
        receiver.url("/h", host="hooks.test"),
        BODY,
        {},
        resolve=lambda host: ["127.0.0.2", "127.0.0.1"],
        allow_loopback=True,
    )

    assert (delivery.status, delivery.address) == (202, "127.0.0.1")
    assert len(receiver.requests) == 1


def test_connection_refused_everywhere_is_retryable() -> None:
    with pytest.raises(DeliveryError) as caught:
        deliver("http://127.0.0.1:1/h", BODY, {}, allow_loopback=True)
    assert caught.value.retryable is True


def test_a_redirect_is_returned_not_followed(start_receiver: Callable[..., Receiver]) -> None:
    receiver = start_receiver()

    delivery = deliver(receiver.url("/moved"), BODY, {}, allow_loopback=True)

    assert delivery.status == 302
    assert not delivery.succeeded
    assert [seen.path for seen in receiver.requests] == ["/moved"]


def test_only_64_kib_of_a_1_mib_answer_is_read(start_receiver: Callable[..., Receiver]) -> None:
    receiver = start_receiver()

    delivery = deliver(receiver.url("/big"), BODY, {}, allow_loopback=True)

    assert delivery.status == 200
    assert delivery.body == b"x" * 64 * 1024


def test_a_receiver_that_stalls_fails_retryably_within_the_timeout(
    start_receiver: Callable[..., Receiver],
) -> None:
    receiver = start_receiver()
    started = time.monotonic()

    with pytest.raises(DeliveryError) as caught:
        deliver(receiver.url("/stall"), BODY, {}, allow_loopback=True, timeout_s=0.5)

    assert caught.value.retryable is True
    assert 0.4 < time.monotonic() - started < 1.5
    assert len(receiver.requests) == 1


def test_the_timeout_covers_the_whole_answer_not_each_read(
    start_receiver: Callable[..., Receiver],
) -> None:
    receiver = start_receiver()  # 40+ bytes at 50 ms each: 2 s, every read quick
    started = time.monotonic()

    with pytest.raises(DeliveryError) as caught:
        deliver(receiver.url("/trickle"), BODY, {}, allow_loopback=True, timeout_s=0.5)

    assert caught.value.retryable is True
    assert time.monotonic() - started < 1.5


# --- TLS -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """A throwaway CA and server certificates signed by it, as PEM files."""

    ca: Path
    servers: dict[str, tuple[Path, Path]]  # host name → (certificate, key)

    def server_context(self, host: str) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*self.servers[host])
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def _pki_with_cryptography(directory: Path, hosts: list[str]) -> Pki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def write(name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Path:
        (directory / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path = directory / f"{name}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    def usage(*, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=not ca,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Warung test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CERTIFICATE_MARGIN)
        .not_valid_after(now + CERTIFICATE_MARGIN)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(ca=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    servers: dict[str, tuple[Path, Path]] = {}
    for host in hosts:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CERTIFICATE_MARGIN)
            .not_valid_after(now + CERTIFICATE_MARGIN)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        servers[host] = (write(host, cert, key), directory / f"{host}.key")
    return Pki(write("ca", ca_cert, ca_key), servers)


def _pki_with_openssl(directory: Path, hosts: list[str]) -> Pki:
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(
        "req", "-x509", *ec_key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=Warung test CA",
        "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    servers: dict[str, tuple[Path, Path]] = {}
    for host in hosts:
        (directory / f"{host}.ext").write_text(
            f"subjectAltName=DNS:{host}\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
        )
        openssl("req", *ec_key, "-keyout", f"{host}.key", "-out", f"{host}.csr",
                "-subj", f"/CN={host}")  # fmt: skip
        openssl(
            "x509", "-req", "-in", f"{host}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", str(abs(hash(host)) or 1), "-days", "1",
            "-extfile", f"{host}.ext", "-out", f"{host}.pem",
        )  # fmt: skip
        servers[host] = (directory / f"{host}.pem", directory / f"{host}.key")
    return Pki(directory / "ca.pem", servers)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    hosts = ["hooks.test", "other.test"]
    try:
        import cryptography  # noqa: F401
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither the cryptography package nor the openssl CLI is available")
        return _pki_with_openssl(directory, hosts)
    return _pki_with_cryptography(directory, hosts)


def test_tls_is_verified_against_the_url_host_while_connecting_to_the_vetted_address(
    pki: Pki, start_receiver: Callable[..., Receiver]
) -> None:
    receiver = start_receiver(tls=pki.server_context("hooks.test"))

    delivery = deliver(
        receiver.url("/hooks/warung", host="hooks.test"),
        BODY,
        {"Warung-Signature": "t=1,v1=" + "0" * 64},
        resolve=loopback,
        allow_loopback=True,
        ssl_context=pki.client_context(),
    )

    assert (delivery.status, delivery.address) == (202, "127.0.0.1")
    assert receiver.server_names == ["hooks.test"]
    [seen] = receiver.requests
    assert seen.headers["Host"] == f"hooks.test:{receiver.port}"
    assert seen.body == BODY


def test_a_certificate_for_another_name_is_refused(
    pki: Pki, start_receiver: Callable[..., Receiver]
) -> None:
    receiver = start_receiver(tls=pki.server_context("other.test"))

    with pytest.raises(DeliveryError) as caught:
        deliver(
            receiver.url("/hooks/warung", host="hooks.test"),
            BODY,
            {},
            resolve=loopback,
            allow_loopback=True,
            ssl_context=pki.client_context(),
        )

    assert caught.value.retryable is True
    assert "TLS" in str(caught.value)
    assert receiver.requests == []


def test_a_certificate_from_an_unknown_authority_is_refused(
    pki: Pki, start_receiver: Callable[..., Receiver]
) -> None:
    receiver = start_receiver(tls=pki.server_context("hooks.test"))

    with pytest.raises(DeliveryError, match="TLS"):
        deliver(
            receiver.url("/h", host="hooks.test"), BODY, {}, resolve=loopback, allow_loopback=True
        )  # the system's trust store, which has no test CA

    assert receiver.requests == []


def test_a_context_that_does_not_verify_is_a_programming_error() -> None:
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError, match="verify"):
        deliver(
            "https://hooks.test:8443/",
            BODY,
            {},
            resolve=loopback,
            allow_loopback=True,
            ssl_context=lax,
        )


def test_url_vetted_when_set_is_vetted_again_when_sending(
    start_receiver: Callable[..., Receiver],
) -> None:
    """DNS rebinding between the two moments: public when set, private when sending."""
    receiver = start_receiver()
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    def rebinding(host: str) -> list[str]:
        return next(answers)

    url = f"https://hooks.example.com/{receiver.port}"
    assert check_webhook_url(url, resolve=rebinding) == url  # when the merchant sets it

    with pytest.raises(DeliveryError) as caught:  # when the worker sends
        deliver(url, BODY, {}, resolve=rebinding)

    assert caught.value.retryable is False
    assert receiver.requests == []
