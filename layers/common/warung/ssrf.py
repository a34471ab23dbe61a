"""Which URLs a merchant's webhook may point at: the SSRF policy (docs/runbook.md).

A ``webhook_url`` is chosen by a merchant, so posting to it is a server-side request forgery
risk: the URL could point at the instance metadata service, at the VPC, or at this host. The
policy runs twice:

- when the URL is set, :func:`check_webhook_url` answers ``422 invalid_webhook_url``;
- when sending, the outbound client (``warung.webhooks.deliver``) parses the URL again with
  :func:`parse_url`, resolves the host **once**, and keeps only what :func:`vet` accepts, so
  a DNS answer that changes between check and connect (rebinding) cannot redirect it.

Addresses are judged by an explicit deny list, with IPv4 addresses embedded in IPv6 forms
(IPv4-mapped, NAT64, 6to4, Teredo) unwrapped first; ``ipaddress.is_global`` is only an extra
check, since it admits some of these and its answers differ between Python versions.

Only the standard library is used, and no sockets are opened here but the resolver's.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, urlsplit

from warung.errors import FieldError, InvalidWebhookUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]
"""Host name → its addresses as text (v4 and v6); raises ``OSError`` when it does not resolve."""

MAX_URL_LENGTH: Final = 2048


# --------------------------------------------------------------------------------------------
# Addresses

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

_V4_LOOPBACK = _V4("127.0.0.0/8")
_V4_DENIED: Final[tuple[tuple[ipaddress.IPv4Network, str], ...]] = (
    (_V4("255.255.255.255/32"), "the broadcast address"),
    (_V4("0.0.0.0/8"), "'this network'"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "carrier-grade NAT shared space"),
    (_V4_LOOPBACK, "loopback"),
    (_V4("169.254.0.0/16"), "link-local, home of cloud instance metadata"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "IETF protocol assignments"),
    (_V4("192.0.2.0/24"), "documentation (TEST-NET-1)"),
    (_V4("192.88.99.0/24"), "6to4 relay anycast (deprecated)"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation (TEST-NET-2)"),
    (_V4("203.0.113.0/24"), "documentation (TEST-NET-3)"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),
)

_V6_LOOPBACK = ipaddress.IPv6Address("::1")
_NAT64_WELL_KNOWN = _V6("64:ff9b::/96")
_NAT64_LOCAL = _V6("64:ff9b:1::/48")
_SIX_TO_FOUR = _V6("2002::/16")
_TEREDO = _V6("2001::/32")
_GLOBAL_UNICAST = _V6("2000::/3")
_V6_DENIED: Final[tuple[tuple[ipaddress.IPv6Network, str], ...]] = (
    (_V6("::/128"), "the unspecified address"),
    (_V6("::1/128"), "loopback"),
    (_V6("::/8"), "reserved (IPv4-compatible and translated forms)"),
    (_V6("100::/64"), "discard-only"),
    (_V6("2001::/23"), "IETF protocol assignments (benchmarking, ORCHID, ...)"),
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("3fff::/20"), "documentation"),
    (_V6("5f00::/16"), "SRv6 segment identifiers"),
    (_V6("fc00::/7"), "unique local, home of EC2 instance metadata on IPv6"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local (deprecated)"),
    (_V6("ff00::/8"), "multicast"),
)

# What inet_aton(3) takes as a number: decimal, 0x hex, 0-prefixed octal.
_INET_ATON_PART = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")


def _inet_aton_number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:], 16)  # "0x" alone raises, as inet_aton refuses it
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)  # "08" raises: not octal
    return int(part, 10)


def _inet_aton(text: str) -> ipaddress.IPv4Address:
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_INET_ATON_PART.fullmatch(p) for p in parts):
        raise ValueError(f"{text!r} is not a valid IPv4 address")
    try:
        *head, last = [_inet_aton_number(part) for part in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not a valid IPv4 address") from None
    # 1-3 leading parts are single bytes; the last one fills the bytes that are left.
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(parts)):
        raise ValueError(f"{text!r} is not a valid IPv4 address")
    value = 0
    for number in head:
        value = value << 8 | number
    return ipaddress.IPv4Address(value << 8 * (5 - len(parts)) | last)


def parse_ip(text: str) -> IPAddress | None:
    """The address ``text`` spells, in any spelling the C library accepts; None for a name.

    IPv4 follows ``inet_aton``: 1 to 4 parts, each decimal, ``0x`` hex or ``0`` octal, so
    ``2852039166``, ``0xa9fea9fe``, ``0251.0376.0251.0376`` and ``169.254.43518`` are all
    169.254.169.254, and ``127.1`` is 127.0.0.1. Anything containing ``:`` is IPv6 (a zone
    such as ``%eth0`` is dropped). A name whose last label is numeric is meant as an address
    (no top-level domain is numeric), so one that does not parse raises ``ValueError``.
    """
    text = text.strip()
    if ":" in text:
        return ipaddress.IPv6Address(text.split("%", 1)[0])
    if text.endswith("."):
        text = text[:-1]
    if not _INET_ATON_PART.fullmatch(text.rpartition(".")[2]):
        return None
    return _inet_aton(text)


def _rfc6052_48(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    # In a /48 NAT64 prefix the IPv4 address is bits 48-63 and 72-87 (bits 64-71 are zero).
    value = int(address)
    return ipaddress.IPv4Address(((value >> 64) & 0xFFFF) << 16 | ((value >> 40) & 0xFFFF))


def _ipv4_reason(address: ipaddress.IPv4Address, *, allow_loopback: bool) -> str | None:
    if allow_loopback and address in _V4_LOOPBACK:
        return None
    for network, label in _V4_DENIED:
        if address in network:
            return f"{label} ({network})"
    if not address.is_global:
        return "not globally routable"
    return None


def _ipv6_reason(address: ipaddress.IPv6Address, *, allow_loopback: bool) -> str | None:  # noqa: C901 - one branch per reserved IPv6 range
    mapped = address.ipv4_mapped
    if mapped is not None:
        reason = _ipv4_reason(mapped, allow_loopback=allow_loopback)
        return reason and f"IPv4-mapped {mapped}, {reason}"
    if address in _NAT64_WELL_KNOWN:
        # DNS64 synthesises these for IPv4-only hosts; the embedded address decides.
        embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        reason = _ipv4_reason(embedded, allow_loopback=False)
        return reason and f"NAT64 of {embedded}, {reason}"
    if address in _NAT64_LOCAL:
        # Translated by a network's own NAT64, to wherever it likes: refused whatever it embeds.
        embedded = _rfc6052_48(address)
        reason = _ipv4_reason(embedded, allow_loopback=False) or "a private translation"
        return f"local-use NAT64 ({_NAT64_LOCAL}) of {embedded}, {reason}"
    if address in _SIX_TO_FOUR:
        # Deprecated (RFC 7526) and routed by whoever runs a relay: refused whatever it embeds.
        six_to_four = address.sixtofour
        reason = _ipv4_reason(six_to_four, allow_loopback=False) if six_to_four else None
        return f"6to4 ({_SIX_TO_FOUR}) of {six_to_four}, {reason or 'a deprecated tunnel'}"
    if address in _TEREDO:
        return f"a Teredo tunnel ({_TEREDO})"
    if allow_loopback and address == _V6_LOOPBACK:
        return None
    for network, label in _V6_DENIED:
        if address in network:
            return f"{label} ({network})"
    if address not in _GLOBAL_UNICAST:
        return f"outside global unicast ({_GLOBAL_UNICAST})"
    if not address.is_global:
        return "not globally routable"
    return None


def denied_reason(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not be sent to ``address``, or None when it is a public address.

    With ``allow_loopback`` (development only) 127.0.0.0/8 and ::1 are admitted; nothing
    else that is not public ever is.
    """
    if isinstance(address, ipaddress.IPv4Address):
        return _ipv4_reason(address, allow_loopback=allow_loopback)
    # A zone id (fe80::1%eth0) changes nothing about where the address is.
    return _ipv6_reason(ipaddress.IPv6Address(int(address)), allow_loopback=allow_loopback)


def connectable(address: IPAddress) -> IPAddress:
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


def is_loopback(address: IPAddress) -> bool:
    address = connectable(address)
    return address in _V4_LOOPBACK or address == _V6_LOOPBACK


def resolve_host(host: str) -> list[str]:
    """Every address (IPv4 and IPv6) ``host`` resolves to, in the resolver's order.

    Raises ``OSError`` (``socket.gaierror``) when it does not resolve.
    """
    addresses: list[str] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6):
            address = str(sockaddr[0]).split("%", 1)[0]
            if address not in addresses:
                addresses.append(address)
    return addresses


# --------------------------------------------------------------------------------------------
# URLs

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# Names that never lead to the public internet: loopback, mDNS, private-use and home zones.
_LOCAL_SUFFIXES: Final = ("localhost", "local", "internal", "home.arpa")
# Kept as written in a path or query: RFC 3986 delimiters, and existing %-escapes.
_PATH_SAFE: Final = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE: Final = _PATH_SAFE + "?"


def _refuse(detail: str) -> InvalidWebhookUrl:
    return InvalidWebhookUrl(detail, errors=[FieldError("webhook_url", detail)])


@dataclass(frozen=True)
class Target:
    """A webhook URL taken apart: what the guard checks and what a delivery needs."""

    scheme: str
    host: str  # ASCII, lower case, no brackets and no trailing dot
    port: int
    target: str  # path and query, as sent in the request line
    literal: IPAddress | None

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.target}"

    @property
    def needs_loopback(self) -> bool:
        """Plain http and other ports are for a development receiver on this machine only."""
        return self.scheme != "https" or self.port != 443


def _split_netloc(netloc: str) -> tuple[str, str | None, bool]:
    if netloc.startswith("["):
        end = netloc.find("]")
        rest = netloc[end + 1 :] if end > 0 else "?"
        if rest and not rest.startswith(":"):
            raise _refuse("The webhook URL's host is malformed.")
        return netloc[1:end], rest[1:] if rest else None, True
    host, colon, port = netloc.rpartition(":")
    return (host, port, False) if colon else (netloc, None, False)


def _normalise_name(text: str) -> str:
    if not text.isascii():
        try:
            # IDNA 2003 also maps full-width digits and ideographic dots to ASCII: an address
            # typed in full-width forms becomes an ordinary IP literal, and is caught as one.
            text = text.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise _refuse("The webhook URL's host is not a valid domain name.") from exc
    text = text.lower()
    return text[:-1] if text.endswith(".") else text


def _check_name(host: str, *, allow_loopback: bool) -> None:
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _refuse("The webhook URL's host is not a valid domain name.")
    if allow_loopback:
        return  # development: the resolved addresses decide
    if any(host == suffix or host.endswith("." + suffix) for suffix in _LOCAL_SUFFIXES):
        raise _refuse(f"The webhook URL's host {host} is a local name, not a public one.")
    if len(labels) < 2:
        raise _refuse(f"The webhook URL's host {host} is not a fully qualified domain name.")


def _parse_port(port_text: str | None, scheme: str, *, allow_loopback: bool) -> int:
    if not port_text:
        port = 443 if scheme == "https" else 80
    elif re.fullmatch(r"[0-9]{1,5}", port_text) and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise _refuse("The webhook URL's port is not valid.")
    if port != 443 and not allow_loopback:
        raise _refuse("The webhook URL must use port 443.")
    return port


def _parse_host(
    host_text: str, *, bracketed: bool, allow_loopback: bool
) -> tuple[str, IPAddress | None]:
    """The normal form of the host and, for an IP literal, its address (which is vetted)."""
    literal: IPAddress | None
    if bracketed:
        try:
            if "%" in host_text:  # a zone (%25eth0) only means something on the sender's LAN
                raise ValueError(host_text)
            literal = ipaddress.IPv6Address(host_text)
        except ValueError as exc:
            raise _refuse("The webhook URL's host is not a valid IPv6 address.") from exc
        host = literal.compressed
    else:
        host = _normalise_name(host_text)
        if ":" in host:
            raise _refuse("The webhook URL's host is malformed.")
        try:
            literal = parse_ip(host)
        except ValueError as exc:
            raise _refuse(f"The webhook URL's host {host} is not a valid IP address.") from exc
        if literal is None:
            _check_name(host, allow_loopback=allow_loopback)
            return host, None
        host = str(literal)
    reason = denied_reason(literal, allow_loopback=allow_loopback)
    if reason:
        raise _refuse(f"The webhook URL's host {host} is not a public address: {reason}.")
    if not (allow_loopback and is_loopback(literal)):
        raise _refuse("The webhook URL must name its host, not an IP address.")
    return host, literal


def parse_url(url: str, *, allow_loopback: bool) -> Target:
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(f"The webhook URL is longer than {MAX_URL_LENGTH} characters.")
    # urlsplit silently drops tabs and newlines, and some clients read "\" as "/": refuse them.
    if any(c <= " " or c in {"\x7f", "\\"} for c in url):
        raise _refuse("The webhook URL contains spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _refuse("The webhook URL is not a valid URL.") from exc
    if parts.scheme != "https" and not (allow_loopback and parts.scheme == "http"):
        raise _refuse("The webhook URL must use https.")
    if "#" in url:
        raise _refuse("The webhook URL must not have a fragment.")
    if "@" in parts.netloc:
        raise _refuse("The webhook URL must not contain a user name or password.")
    host_text, port_text, bracketed = _split_netloc(parts.netloc)
    if not host_text:
        raise _refuse("The webhook URL needs a host.")
    port = _parse_port(port_text, parts.scheme, allow_loopback=allow_loopback)
    host, literal = _parse_host(host_text, bracketed=bracketed, allow_loopback=allow_loopback)

    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if not path.startswith("/"):
        path = "/" + path
    query = quote(parts.query, safe=_QUERY_SAFE)
    target = f"{path}?{query}" if query else path
    return Target(parts.scheme, host, port, target, literal)


def vet(target: Target, addresses: Sequence[str], *, allow_loopback: bool) -> list[IPAddress]:
    """The addresses to connect to, once every one of them is allowed."""
    if not addresses:
        raise _refuse(f"The webhook URL's host {target.host} does not resolve.")
    vetted: list[IPAddress] = []
    for text in addresses:
        try:
            address = parse_ip(text)
        except ValueError:
            address = None
        if address is None:
            raise _refuse(f"The webhook URL's host {target.host} does not resolve to an address.")
        reason = denied_reason(address, allow_loopback=allow_loopback)
        if reason:
            raise _refuse(
                f"The webhook URL's host {target.host} resolves to {address}, "
                f"which is not a public address: {reason}."
            )
        if connectable(address) not in vetted:
            vetted.append(connectable(address))
    if target.needs_loopback and not all(is_loopback(address) for address in vetted):
        raise _refuse("The webhook URL must use https on port 443.")
    return vetted


def addresses_of(target: Target, resolve: Resolver) -> list[str]:
    if target.literal is not None:
        return [str(target.literal)]
    return list(resolve(target.host))


def check_webhook_url(
    url: str, *, resolve: Resolver = resolve_host, allow_loopback: bool = False
) -> str:
    """The normalised ``url`` if a webhook may be sent there, else :class:`InvalidWebhookUrl`.

    Rules (docs/product.md, Notifications and jobs): https on port 443; a host, without
    user info; at most 2048 characters; no fragment; a host name rather than an IP literal;
    and every address the name resolves to must be public (see :func:`denied_reason`).
    ``allow_loopback`` (development only) admits a receiver on 127.0.0.0/8 or ::1, over http
    or https and on any port.
    The normal form has a lower-case ASCII (IDNA) host, no trailing dot and no default port.
    """
    target = parse_url(url, allow_loopback=allow_loopback)
    try:
        addresses = addresses_of(target, resolve)
    except (OSError, UnicodeError) as exc:
        raise _refuse(f"The webhook URL's host {target.host} does not resolve.") from exc
    vet(target, addresses, allow_loopback=allow_loopback)
    return target.url
