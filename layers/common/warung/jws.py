"""JWS compact serialization (RFC 7515) with ES256 (RFC 7518 §3.4) and nothing else, on
``cryptography`` (docs/decisions/0031-jws-on-cryptography.md).

``warung.tokens`` decides what a token must say; this module only reads and writes the
three segments, strictly:

- base64url without padding, from its 64 characters only, and canonical (the unused low
  bits of the last character are zero): a segment decodes to one byte string or is refused;
- the header and the claims are JSON objects, without repeated member names;
- a signature is the 64 bytes ``r || s`` (32 bytes each, big-endian), as JWS writes ECDSA
  signatures; anything else, a DER-encoded signature included, does not verify;
- a public key comes from a JWK of curve P-256 (``x``, ``y``: 32 bytes each, a point on
  the curve).

Only ``cryptography.hazmat.primitives.asymmetric.ec`` and its neighbours are imported:
reading a PEM private key (``serialization``, which pulls SSH and every key type) is left
to the one function that signs.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ES256 = "ES256"
COORDINATE_BYTES = 32  # P-256: x, y, r and s are 256-bit numbers
SIGNATURE_BYTES = 2 * COORDINATE_BYTES
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class MalformedJWS(ValueError):
    """A token that is not three well-formed segments (base64url, a JSON object header)."""


class MalformedJSON(ValueError):
    """Bytes that are not one JSON object with distinct member names."""


@dataclass(frozen=True)
class CompactJWS:
    """A token split and decoded, its signature not checked yet."""

    header: dict[str, Any]
    payload: bytes  # the claims' JSON: read it only once the signature verified
    signing_input: bytes  # "<header segment>.<payload segment>", what the signature covers
    signature: bytes


# ---------------------------------------------------------------- encoding


def b64url_encode(data: bytes) -> str:
    """``data`` in base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """The bytes of a base64url segment; ``ValueError`` for padding, a character outside
    the alphabet, an impossible length or a non-canonical last character."""
    if len(segment) % 4 == 1 or not _BASE64URL.issuperset(segment):
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error:
        raise ValueError("not unpadded base64url") from None
    if b64url_encode(data) != segment:  # stray bits in the last character
        raise ValueError("not canonical base64url")
    return data


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise MalformedJSON("a member name is repeated")
    return document


def json_object(data: bytes) -> dict[str, Any]:
    """The JSON object ``data`` holds; ``MalformedJSON`` for anything else (another JSON
    value, invalid UTF-8 or JSON, a member name given twice: which one would count?)."""
    try:
        document = json.loads(data.decode("utf-8"), object_pairs_hook=_object_without_repeats)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedJSON(str(exc)) from None
    if not isinstance(document, dict):
        raise MalformedJSON("not a JSON object")
    return document


# ---------------------------------------------------------------- compact form


def parse(token: str) -> CompactJWS:
    """The header, payload and signature of a compact JWS; ``MalformedJWS`` unless it is
    three base64url segments whose first is a JSON object."""
    segments = token.split(".")
    if len(segments) != 3:
        raise MalformedJWS("a JWS has three segments")
    header_segment, payload_segment, signature_segment = segments
    try:
        header = json_object(b64url_decode(header_segment))
        payload = b64url_decode(payload_segment)
        signature = b64url_decode(signature_segment)
    except ValueError as exc:  # MalformedJSON is one
        raise MalformedJWS(str(exc)) from None
    signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
    return CompactJWS(header, payload, signing_input, signature)


def sign_es256(
    header: Mapping[str, Any], claims: Mapping[str, Any], key: ec.EllipticCurvePrivateKey
) -> str:
    """A compact JWS of ``claims``, signed with ``key`` (ES256). The header's members are
    written sorted, ``alg`` among them; the claims in their given order."""
    header_json = json.dumps({**header, "alg": ES256}, separators=(",", ":"), sort_keys=True)
    claims_json = json.dumps(dict(claims), separators=(",", ":"))
    signing_input = f"{b64url_encode(header_json.encode())}.{b64url_encode(claims_json.encode())}"
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(COORDINATE_BYTES, "big") + s.to_bytes(COORDINATE_BYTES, "big")
    return f"{signing_input}.{b64url_encode(raw)}"


def verify_es256(jws: CompactJWS, key: ec.EllipticCurvePublicKey) -> bool:
    """Whether ``jws`` carries a valid ES256 signature by ``key`` (the header's ``alg`` is
    the caller's to check: it is never read here)."""
    if len(jws.signature) != SIGNATURE_BYTES:
        return False
    r = int.from_bytes(jws.signature[:COORDINATE_BYTES], "big")
    s = int.from_bytes(jws.signature[COORDINATE_BYTES:], "big")
    if r == 0 or s == 0:  # never valid; DER of a zero is still accepted as an encoding
        return False
    try:
        key.verify(encode_dss_signature(r, s), jws.signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# ---------------------------------------------------------------- keys


def public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a JWK (``kty`` EC, ``crv`` P-256, ``x``, ``y``); private
    members are never read. ``ValueError`` for anything else, a point off the curve too."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("not an EC P-256 key")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise ValueError("the key's coordinates are missing")
    x_bytes, y_bytes = b64url_decode(x), b64url_decode(y)
    if len(x_bytes) != COORDINATE_BYTES or len(y_bytes) != COORDINATE_BYTES:
        raise ValueError("a P-256 coordinate is 32 bytes")
    numbers = ec.EllipticCurvePublicNumbers(
        x=int.from_bytes(x_bytes, "big"), y=int.from_bytes(y_bytes, "big"), curve=ec.SECP256R1()
    )
    return numbers.public_key()  # ValueError when the point is not on the curve
