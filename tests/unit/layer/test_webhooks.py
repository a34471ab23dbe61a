"""Webhook signatures, and the guard that keeps webhook URLs off private networks
(docs/product.md)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Callable

import pytest
from support.checks import refusal as refusal_of

from warung.errors import InvalidSignature, InvalidWebhookUrl
from warung.settings import get_settings
from warung.ssrf import check_webhook_url, denied_reason, parse_ip
from warung.webhooks import signature_header, verify_signature

SECRET = "whsec_unit"
BODY = b'{"id":"evt_01","type":"order.paid","data":{"order_id":"ord_1"}}'
NOW = 1_780_000_000

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


def public_dns(host: str) -> list[str]:
    return [PUBLIC_V4, PUBLIC_V6]


def dns(*addresses: str) -> Callable[[str], list[str]]:
    return lambda host: list(addresses)


def no_dns(host: str) -> list[str]:
    raise AssertionError(f"{host} is an address or a refused name; it must not be looked up")


def refusal(url: str, resolve: Callable[[str], list[str]], **kwargs: bool) -> InvalidWebhookUrl:
    with pytest.raises(InvalidWebhookUrl) as caught:
        check_webhook_url(url, resolve=resolve, **kwargs)
    return caught.value


# --- signatures ------------------------------------------------------------------------------


def test_signature_header_is_t_and_hex_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, BODY, NOW) == f"t={NOW},v1={expected}"


def test_a_signed_body_verifies() -> None:
    header = signature_header(SECRET, BODY, NOW)
    assert refusal_of(lambda: verify_signature(header, BODY, SECRET, now=NOW)) is None


def test_wrong_secret_is_refused() -> None:
    header = signature_header("whsec_someone_else", BODY, NOW)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(header, BODY, SECRET, now=NOW)


def test_changed_body_is_refused() -> None:
    header = signature_header(SECRET, BODY, NOW)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(header, BODY.replace(b"ord_1", b"ord_2"), SECRET, now=NOW)


def test_timestamp_is_part_of_what_is_signed() -> None:
    mac = signature_header(SECRET, BODY, NOW).split("v1=")[1]
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(f"t={NOW + 1},v1={mac}", BODY, SECRET, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("garbage", id="no-pairs"),
        pytest.param(f"t={NOW}", id="no-v1"),
        pytest.param("v1=" + "a" * 64, id="no-timestamp"),
        pytest.param(f"t=soon,v1={'a' * 64}", id="timestamp-not-a-number"),
        pytest.param(f"t=-{NOW},v1={'a' * 64}", id="negative-timestamp"),
        pytest.param(f"t={NOW},t={NOW},v1={'a' * 64}", id="two-timestamps"),
        pytest.param(f"t={NOW},v1=xyz", id="v1-not-hex"),
        pytest.param(f"t={NOW},v1={'a' * 63}", id="v1-too-short"),
        pytest.param(f"t={NOW},v1={'a' * 64}," + ",".join(["v1=" + "b" * 64] * 20), id="too-long"),
    ],
)
def test_malformed_or_missing_header_is_refused(header: str | None) -> None:
    with pytest.raises(InvalidSignature) as caught:
        verify_signature(header, BODY, SECRET, now=NOW)
    assert caught.value.http_status == 400
    assert caught.value.code == "invalid_signature"


@pytest.mark.parametrize(
    ("sent_at", "accepted"),
    [
        pytest.param(NOW - 301, False, id="301s-old"),
        pytest.param(NOW + 301, False, id="301s-in-the-future"),
        pytest.param(NOW - 299, True, id="299s-old"),
        pytest.param(NOW + 299, True, id="299s-in-the-future"),
        pytest.param(NOW - 300, True, id="exactly-300s-old"),
    ],
)
def test_timestamp_must_be_within_300_seconds_of_now(sent_at: int, accepted: bool) -> None:
    header = signature_header(SECRET, BODY, sent_at)
    if accepted:
        verify_signature(header, BODY, SECRET, now=NOW)
    else:
        with pytest.raises(InvalidSignature, match="300 s"):
            verify_signature(header, BODY, SECRET, now=NOW)


def test_any_of_several_v1_values_may_match_during_a_key_rotation() -> None:
    old = signature_header("whsec_old", BODY, NOW).split("v1=")[1]
    new = signature_header(SECRET, BODY, NOW).split("v1=")[1]
    verify_signature(f"t={NOW},v1={old},v1={new}", BODY, SECRET, now=NOW)
    verify_signature(f"t={NOW}, v1={new}, v1={old}", BODY, SECRET, now=NOW)
    verify_signature(f"t={NOW},v1={new.upper()}", BODY, SECRET, now=NOW)
    with pytest.raises(InvalidSignature):
        verify_signature(f"t={NOW},v1={old},v1={old}", BODY, SECRET, now=NOW)


def test_unknown_schemes_are_ignored_but_do_not_count() -> None:
    good = signature_header(SECRET, BODY, NOW)
    verify_signature(f"{good},v0=legacy", BODY, SECRET, now=NOW)
    mac = good.split("v1=")[1]
    with pytest.raises(InvalidSignature):
        verify_signature(f"t={NOW},v2={mac}", BODY, SECRET, now=NOW)


# --- addresses in every spelling -------------------------------------------------------------

# Hosts as a merchant could type them: each names a non-public address (or is localhost).
REFUSED_HOSTS = [
    pytest.param("127.0.0.1", id="loopback"),
    pytest.param("127.1", id="loopback-short-form"),
    pytest.param("0x7f.1", id="loopback-hex-short-form"),
    pytest.param("017700000001", id="loopback-octal-integer"),
    pytest.param("127.0.0.1.", id="loopback-trailing-dot"),
    pytest.param("\uff11\uff12\uff17.\uff10.\uff10.\uff11", id="loopback-full-width-digits"),
    pytest.param("localhost", id="localhost"),
    pytest.param("localhost.", id="localhost-trailing-dot"),
    pytest.param("LOCALHOST", id="localhost-upper-case"),
    pytest.param("api.localhost", id="localhost-subdomain"),
    pytest.param("0.0.0.0", id="this-network"),
    pytest.param("0", id="this-network-integer"),
    pytest.param("10.0.0.1", id="private-10"),
    pytest.param("172.16.0.1", id="private-172.16"),
    pytest.param("172.31.255.254", id="private-172.31"),
    pytest.param("192.168.1.1", id="private-192.168"),
    pytest.param("100.64.0.1", id="cgnat"),
    pytest.param("100.127.255.254", id="cgnat-top"),
    pytest.param("169.254.169.254", id="imds"),
    pytest.param("2852039166", id="imds-decimal"),
    pytest.param("0xa9fea9fe", id="imds-hex"),
    pytest.param("0XA9FEA9FE", id="imds-hex-upper"),
    pytest.param("0251.0376.0251.0376", id="imds-octal"),
    pytest.param("169.254.43518", id="imds-three-parts"),
    pytest.param("[::1]", id="v6-loopback"),
    pytest.param("[::]", id="v6-unspecified"),
    pytest.param("[::ffff:169.254.169.254]", id="v4-mapped-imds-dotted"),
    pytest.param("[::ffff:a9fe:a9fe]", id="v4-mapped-imds-hex"),
    pytest.param("[::ffff:127.0.0.1]", id="v4-mapped-loopback"),
    pytest.param("[::169.254.169.254]", id="v4-compatible-imds"),
    pytest.param("[fd00:ec2::254]", id="ula-ec2-imds"),
    pytest.param("[fe80::1]", id="v6-link-local"),
    pytest.param("[fec0::1]", id="v6-site-local"),
    pytest.param("[2002:a9fe:a9fe::]", id="6to4-of-imds"),
    pytest.param("[2002:7f00:1::1]", id="6to4-of-loopback"),
    pytest.param("[2002:0a00:0001::1]", id="6to4-of-private"),
    pytest.param("[64:ff9b::a9fe:a9fe]", id="nat64-of-imds"),
    pytest.param("[64:ff9b::10.0.0.1]", id="nat64-of-private"),
    pytest.param("[64:ff9b:1:a9fe:a9:fe00::]", id="nat64-local-use-of-imds"),
    pytest.param("[2001::1]", id="teredo"),
    pytest.param("224.0.0.1", id="v4-multicast"),
    pytest.param("239.255.255.250", id="v4-multicast-ssdp"),
    pytest.param("[ff02::1]", id="v6-multicast"),
    pytest.param("198.18.0.1", id="benchmarking"),
    pytest.param("192.0.2.1", id="test-net-1"),
    pytest.param("198.51.100.1", id="test-net-2"),
    pytest.param("203.0.113.1", id="test-net-3"),
    pytest.param("240.0.0.1", id="reserved-240"),
    pytest.param("255.255.255.255", id="broadcast"),
    pytest.param("[2001:db8::1]", id="v6-documentation"),
]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_non_public_host_is_refused_in_every_spelling(host: str) -> None:
    error = refusal(f"https://{host}/hooks/warung", no_dns)
    assert error.http_status == 422
    assert error.code == "invalid_webhook_url"
    assert [e.field for e in error.errors] == ["webhook_url"]
    assert "public" in error.detail


# What a name can resolve to; all of them must be refused whatever the host is called.
NON_PUBLIC_ADDRESSES = [
    pytest.param("127.0.0.1", id="loopback"),
    pytest.param("127.255.255.254", id="loopback-top"),
    pytest.param("0.0.0.0", id="this-network"),
    pytest.param("10.1.2.3", id="private-10"),
    pytest.param("172.16.0.1", id="private-172.16"),
    pytest.param("172.31.0.1", id="private-172.31"),
    pytest.param("192.168.0.10", id="private-192.168"),
    pytest.param("100.64.0.1", id="cgnat"),
    pytest.param("169.254.169.254", id="imds"),
    pytest.param("169.254.170.2", id="ecs-task-metadata"),
    pytest.param("192.0.0.8", id="ietf-protocol-assignments"),
    pytest.param("192.88.99.1", id="6to4-relay-anycast"),
    pytest.param("198.19.255.1", id="benchmarking"),
    pytest.param("192.0.2.7", id="test-net-1"),
    pytest.param("198.51.100.7", id="test-net-2"),
    pytest.param("203.0.113.7", id="test-net-3"),
    pytest.param("224.0.0.251", id="v4-multicast"),
    pytest.param("240.1.2.3", id="reserved-240"),
    pytest.param("255.255.255.255", id="broadcast"),
    pytest.param("::1", id="v6-loopback"),
    pytest.param("::", id="v6-unspecified"),
    pytest.param("::ffff:169.254.169.254", id="v4-mapped-imds"),
    pytest.param("::ffff:10.0.0.1", id="v4-mapped-private"),
    pytest.param("fd00:ec2::254", id="ula-ec2-imds"),
    pytest.param("fc00::1", id="ula-fc"),
    pytest.param("fe80::a9fe:a9fe", id="v6-link-local"),
    pytest.param("fe80::1%eth0", id="v6-link-local-with-zone"),
    pytest.param("fec0::1", id="v6-site-local"),
    pytest.param("2002:a9fe:a9fe::1", id="6to4-of-imds"),
    pytest.param("2002:c0a8:0001::1", id="6to4-of-private"),
    pytest.param("64:ff9b::a9fe:a9fe", id="nat64-of-imds"),
    pytest.param("64:ff9b::7f00:1", id="nat64-of-loopback"),
    pytest.param("64:ff9b:1::1", id="nat64-local-use"),
    pytest.param("2001:0:4136:e378:8000:63bf:3fff:fdd2", id="teredo"),
    pytest.param("2001:2::1", id="v6-benchmarking"),
    pytest.param("2001:db8::1", id="v6-documentation"),
    pytest.param("3fff::1", id="v6-documentation-3fff"),
    pytest.param("100::1", id="v6-discard-only"),
    pytest.param("ff05::1:3", id="v6-multicast"),
    pytest.param("2852039166", id="imds-decimal-from-a-resolver"),
]


@pytest.mark.parametrize("address", NON_PUBLIC_ADDRESSES)
def test_public_name_resolving_to_a_non_public_address_is_refused(address: str) -> None:
    error = refusal("https://hooks.merchant.example.com/warung", dns(address))
    assert "resolves to" in error.detail
    assert [e.field for e in error.errors] == ["webhook_url"]


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.1", "fd00:ec2::254", "::1"])
def test_one_non_public_address_among_public_ones_is_enough_to_refuse(address: str) -> None:
    first = refusal("https://hooks.merchant.example.com/", dns(PUBLIC_V4, address))
    last = refusal("https://hooks.merchant.example.com/", dns(address, PUBLIC_V6))
    assert first.code == last.code == "invalid_webhook_url"
    assert "not a public address" in first.detail


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("2002:a9fe:a9fe::", id="6to4-of-imds"),
        pytest.param("64:ff9b::a9fe:a9fe", id="nat64-of-imds"),
        pytest.param("64:ff9b:1::a", id="nat64-local-use"),
        pytest.param("224.0.0.1", id="v4-multicast"),
        pytest.param("ff0e::1", id="v6-global-multicast"),
    ],
)
def test_addresses_that_ipaddress_may_call_global_are_still_denied(address: str) -> None:
    # is_global admits some of these, and answers differently on Python 3.11 and 3.13.
    assert denied_reason(ipaddress.ip_address(address)) is not None


def test_nat64_of_a_public_address_is_allowed_as_dns64_would_answer() -> None:
    assert denied_reason(ipaddress.ip_address("64:ff9b::5db8:d70e")) is None
    assert check_webhook_url(
        "https://hooks.merchant.example.com/", resolve=dns("64:ff9b::5db8:d70e")
    ) == ("https://hooks.merchant.example.com/")


def test_6to4_is_refused_even_when_it_embeds_a_public_address() -> None:
    assert "6to4" in (denied_reason(ipaddress.ip_address("2002:5db8:d70e::1")) or "")


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2852039166", "169.254.169.254"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("169.254.0xa9fe", "169.254.169.254"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("::ffff:a9fe:a9fe", "::ffff:a9fe:a9fe"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_ip_literals_are_read_the_way_inet_aton_reads_them(spelling: str, address: str) -> None:
    parsed = parse_ip(spelling)
    assert parsed is not None
    assert ipaddress.ip_address(int(parsed)).compressed == ipaddress.ip_address(address).compressed


@pytest.mark.parametrize("text", ["1.2.3.256", "08.1.1.1", "0x", "1.2.3.4.5", "4294967296"])
def test_a_numeric_host_that_is_no_valid_address_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid IPv4"):
        parse_ip(text)
    refusal(f"https://{text}/", no_dns)


def test_names_are_not_addresses() -> None:
    assert parse_ip("hooks.merchant.example.com") is None
    assert parse_ip("0x1.example.com") is None


# --- URL rules ---------------------------------------------------------------------------------


def test_public_host_is_accepted_and_the_url_normalised() -> None:
    url = "https://hooks.merchant.example.com/warung/orders?v=1"
    assert check_webhook_url(url, resolve=public_dns) == url


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        pytest.param(
            "https://hooks.merchant.example.com:443/x", "https://hooks.merchant.example.com/x"
        ),
        pytest.param("HTTPS://Hooks.Merchant.EXAMPLE.com", "https://hooks.merchant.example.com/"),
        pytest.param("https://hooks.merchant.example.com./", "https://hooks.merchant.example.com/"),
        pytest.param(
            "https://warung.b\u00fccher.example/", "https://warung.xn--bcher-kva.example/"
        ),
        pytest.param("https://hooks.example.com/p\u00e4th", "https://hooks.example.com/p%C3%A4th"),
    ],
)
def test_explicit_port_case_trailing_dot_and_idna_are_normalised(url: str, normal: str) -> None:
    assert check_webhook_url(url, resolve=public_dns) == normal


def test_the_normalised_host_is_what_gets_resolved() -> None:
    asked: list[str] = []

    def recording(host: str) -> list[str]:
        asked.append(host)
        return [PUBLIC_V4]

    check_webhook_url("https://Warung.B\u00fccher.Example./", resolve=recording)
    assert asked == ["warung.xn--bcher-kva.example"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        pytest.param("http://hooks.example.com/", "https", id="http"),
        pytest.param("ftp://hooks.example.com/", "https", id="ftp"),
        pytest.param("file:///etc/passwd", "https", id="file"),
        pytest.param("hooks.example.com/warung", "https", id="no-scheme"),
        pytest.param("https://hooks.example.com:8443/", "port 443", id="port-8443"),
        pytest.param("https://hooks.example.com:80/", "port 443", id="port-80"),
        pytest.param("https://hooks.example.com:0443x/", "port", id="port-garbage"),
        pytest.param("https://hooks.example.com:99999/", "port", id="port-out-of-range"),
        pytest.param("https://user@hooks.example.com/", "user name", id="user"),
        pytest.param("https://user:pass@hooks.example.com/", "user name", id="user-and-password"),
        pytest.param("https://hooks.example.com@169.254.169.254/", "user name", id="at-trick"),
        pytest.param("https:///warung", "needs a host", id="no-host"),
        pytest.param("https://:443/", "needs a host", id="port-but-no-host"),
        pytest.param("https://hooks.example.com/#top", "fragment", id="fragment"),
        pytest.param("https://hooks.example.com\\@evil.example/", "backslash", id="backslash"),
        pytest.param("https://hooks.exa\tmple.com/", "control", id="tab-in-host"),
        pytest.param("https://hooks.example.com/a b", "spaces", id="space"),
        pytest.param("https://intranet/", "fully qualified", id="single-label"),
        pytest.param("https://printer.local/", "local name", id="mdns"),
        pytest.param("https://metadata.google.internal/", "local name", id="internal"),
        pytest.param("https://router.home.arpa/", "local name", id="home-arpa"),
        pytest.param("https://hooks_.-bad.example.com/", "domain name", id="bad-label"),
        pytest.param("https://%31%32%37.0.0.1/", "not a valid", id="percent-encoded-host"),
        pytest.param("https://hooks%2eexample.com/", "domain name", id="percent-in-name"),
        pytest.param("https://[10.0.0.1]/", "not a valid URL", id="v4-in-brackets"),
        pytest.param("https://[fe80::1%25eth0]/", "IPv6", id="v6-zone"),
        pytest.param("https://93.184.215.14/", "not an IP address", id="public-v4-literal"),
        pytest.param(f"https://[{PUBLIC_V6}]/", "not an IP address", id="public-v6-literal"),
    ],
)
def test_url_rules(url: str, reason: str) -> None:
    assert reason in refusal(url, public_dns).detail


def test_url_of_2048_characters_is_accepted_and_2049_refused() -> None:
    base = "https://hooks.merchant.example.com/"
    assert check_webhook_url(base + "a" * (2048 - len(base)), resolve=public_dns)
    assert "2048" in refusal(base + "a" * (2049 - len(base)), public_dns).detail


def test_host_that_does_not_resolve_is_refused() -> None:
    def nxdomain(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert "does not resolve" in refusal("https://nowhere.example.com/", nxdomain).detail
    assert "does not resolve" in refusal("https://nowhere.example.com/", dns()).detail


def test_resolver_answers_that_are_no_addresses_are_refused() -> None:
    refused = refusal("https://hooks.merchant.example.com/", dns("hooks.elsewhere.example"))
    assert refused.code == "invalid_webhook_url"


# --- the development allowance -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "http://127.0.0.1:8080/hook",
        "http://127.1:9000/",
        "http://[::1]:8080/hook",
        "https://[::1]:8443/",
    ],
)
def test_allow_loopback_admits_a_receiver_on_this_machine(url: str) -> None:
    assert check_webhook_url(url, resolve=no_dns, allow_loopback=True)


def test_allow_loopback_admits_names_that_resolve_to_loopback() -> None:
    local = dns("127.0.0.1", "::1")
    assert check_webhook_url("http://localhost:8080/", resolve=local, allow_loopback=True) == (
        "http://localhost:8080/"
    )
    assert check_webhook_url("https://hooks.test:8443/", resolve=local, allow_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "https://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/",
        "http://0.0.0.0:8080/",
        "http://192.168.1.1:8080/",
        "http://[::ffff:169.254.169.254]/",
    ],
)
def test_allow_loopback_still_refuses_every_other_private_address(url: str) -> None:
    assert refusal(url, no_dns, allow_loopback=True).code == "invalid_webhook_url"


def test_allow_loopback_keeps_plain_http_and_other_ports_for_loopback_only() -> None:
    assert "https on port 443" in (
        refusal("http://hooks.merchant.example.com/", public_dns, allow_loopback=True).detail
    )
    refusal("https://hooks.merchant.example.com:8443/", public_dns, allow_loopback=True)
    refusal("http://hooks.test:8080/", dns("127.0.0.1", PUBLIC_V4), allow_loopback=True)
    refusal("http://hooks.test:8080/", dns("10.0.0.1"), allow_loopback=True)


# --- configuration -----------------------------------------------------------------------------


def test_loopback_webhooks_are_off_by_default() -> None:
    assert get_settings().webhook_allow_loopback is False


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_loopback_webhooks_cannot_be_enabled_on_deployed_stages(
    monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="WEBHOOK_ALLOW_LOOPBACK"):
        get_settings()


@pytest.mark.parametrize("stage", ["local", "test"])
def test_loopback_webhooks_can_be_enabled_locally(
    monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    assert get_settings().webhook_allow_loopback is True
