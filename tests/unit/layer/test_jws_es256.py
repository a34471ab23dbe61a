"""Access tokens on ``cryptography`` alone (docs/decisions/0031-jws-on-cryptography.md).

Tokens written by a general JWT library (PyJWT, a test-only dependency) verify here, and
ours verify there; and every token that bends the compact form (padding, stray characters,
a DER signature, a header that is not ours, a JSON value that is not an object, a member
given twice) is refused with the 401 ``invalid_token`` the API answers.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from warung_ops import signing_keys

from warung import jws, tokens
from warung.errors import InvalidToken

NOW = 1_800_000_000
ISSUER, AUDIENCE = "https://api.warung.example", "warung-api"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class Keys:
    """One signing key as the stores hold it: the secret's private key, the set's JWK."""

    kid: str
    private: ec.EllipticCurvePrivateKey
    jwk: dict[str, Any]


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[Keys]:
    kid, pem, jwk = signing_keys.generate_key()
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    secret = json.dumps({"kid": kid, "private_key_pem": pem})
    key_set = json.dumps({"keys": [jwk]})
    monkeypatch.setattr(tokens, "_fetch_signing_secret", lambda: secret)
    monkeypatch.setattr(tokens, "_fetch_jwks", lambda *, force=False: key_set)
    tokens.clear_caches()
    yield Keys(kid, private, jwk)
    tokens.clear_caches()


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "usr_1",
        "sid": "ses_1",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 900,
        "jti": "jti-1",
        "token_use": "access",
    }
    claims.update(changes)
    return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_segment(text: str) -> str:
    return _b64(text.encode())


def _header(keys: Keys, **changes: Any) -> dict[str, Any]:
    return {"alg": "ES256", "typ": "at+jwt", "kid": keys.kid, **changes}


def _signed(keys: Keys, header_json: str, payload_json: str) -> str:
    """A token with exactly these header and payload texts, validly signed (r || s)."""
    signing_input = f"{_json_segment(header_json)}.{_json_segment(payload_json)}"
    der = keys.private.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    return f"{signing_input}.{_b64(_raw_signature(der))}"


def _raw_signature(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _pyjwt(keys: Keys, claims: dict[str, Any] | None = None) -> str:
    """A token of ours as PyJWT writes it."""
    return jwt.encode(
        claims or _claims(),
        keys.private,
        algorithm="ES256",
        headers={"typ": "at+jwt", "kid": keys.kid},
    )


def _refusal(token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as raised:
        tokens.verify_access_token(token, now=NOW)
    assert (raised.value.http_status, raised.value.code) == (401, "invalid_token")
    return raised.value


# ---------------------------------------------------------------- either way round


def test_a_token_signed_by_pyjwt_verifies_here(keys: Keys) -> None:
    token = _pyjwt(keys)

    claims = tokens.verify_access_token(token, now=NOW + 10)

    assert (claims.sub, claims.sid, claims.jti, claims.iat, claims.exp) == (
        "usr_1",
        "ses_1",
        "jti-1",
        NOW,
        NOW + 900,
    )


def test_a_token_issued_here_verifies_with_pyjwt_against_the_published_jwk(keys: Keys) -> None:
    token, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW)
    published = tokens.jwks_document()["keys"][0]

    decoded = jwt.decode(
        token,
        jwt.PyJWK(published),
        algorithms=["ES256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )

    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": keys.kid, "typ": "at+jwt"}
    assert (decoded["sub"], decoded["sid"], decoded["exp"]) == ("usr_1", "ses_1", NOW + 900)


def test_header_and_payload_segments_are_the_ones_pyjwt_writes(keys: Keys) -> None:
    token, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW)
    claims = jwt.decode(token, options={"verify_signature": False})

    theirs = _pyjwt(keys, claims)

    assert token.rsplit(".", 1)[0] == theirs.rsplit(".", 1)[0]
    assert len(base64.urlsafe_b64decode(token.rsplit(".", 1)[1] + "==")) == 64  # r || s


# ---------------------------------------------------------------- refused, and why


def _alg(keys: Keys, alg: str) -> str:
    # A header naming another algorithm over a validly ES256-signed body: only `alg` differs.
    header = json.dumps(_header(keys, alg=alg), separators=(",", ":"))
    return _signed(keys, header, json.dumps(_claims()))


def _rs256(keys: Keys) -> str:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(), rsa_key, algorithm="RS256", headers=_header(keys, alg="RS256"))


def _hs256(keys: Keys) -> str:
    # The classic confusion: an HMAC keyed with the public JWK that anyone can fetch.
    header = _json_segment(json.dumps(_header(keys, alg="HS256")))
    signing_input = f"{header}.{_json_segment(json.dumps(_claims()))}"
    secret = json.dumps(keys.jwk).encode()
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), 'sha256').digest())}"


def _none(keys: Keys) -> str:
    header = json.dumps(_header(keys, alg="none"))
    return f"{_json_segment(header)}.{_json_segment(json.dumps(_claims()))}."


def _unknown_kid(keys: Keys) -> str:
    # A well-made token of a key pair that is not in the set, under its own thumbprint.
    kid, pem, _ = signing_keys.generate_key()
    other = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(other, ec.EllipticCurvePrivateKey)
    return jwt.encode(_claims(), other, algorithm="ES256", headers=_header(keys, kid=kid))


def _altered_payload(keys: Keys) -> str:
    header, _, signature = _pyjwt(keys).split(".")
    return f"{header}.{_json_segment(json.dumps(_claims(sub='usr_admin')))}.{signature}"


def _altered_signature(keys: Keys) -> str:
    header, payload, signature = _pyjwt(keys).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    return f"{header}.{payload}.{_b64(bytes(raw))}"


def _signature_of(keys: Keys, make: Callable[[bytes, bytes], bytes]) -> str:
    """A token whose signature segment is ``make(raw r||s, DER)`` of a valid signature."""
    header, payload, _ = _pyjwt(keys).split(".")
    der = keys.private.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    return f"{header}.{payload}.{_b64(make(_raw_signature(der), der))}"


def _r_s(r: int, s: int) -> Callable[[bytes, bytes], bytes]:
    return lambda _raw, _der: r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _padded(index: int) -> Callable[[Keys], str]:
    def forge(keys: Keys) -> str:
        segments = _pyjwt(keys, _claims(jti="jti-12")).split(".")
        segments[index] += "=" * (-len(segments[index]) % 4 or 4)
        return ".".join(segments)

    return forge


def _character(index: int, character: str) -> Callable[[Keys], str]:
    def forge(keys: Keys) -> str:
        segments = _pyjwt(keys).split(".")
        segment = segments[index]
        segments[index] = segment[:8] + character + segment[9:]
        return ".".join(segments)

    return forge


def _non_canonical_last_character(keys: Keys) -> str:
    # 64 bytes take 86 characters, the last of which carries 4 unused bits: set one.
    header, payload, signature = _pyjwt(keys).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    return f"{header}.{payload}.{signature[:-1]}{alphabet[last | 1]}"


def _kid_number(keys: Keys) -> str:
    return _signed(
        keys, json.dumps({"alg": "ES256", "typ": "at+jwt", "kid": 7}), json.dumps(_claims())
    )


def _extra_header_member(name: str, value: Any) -> Callable[[Keys], str]:
    return lambda keys: _signed(
        keys, json.dumps(_header(keys, **{name: value})), json.dumps(_claims())
    )


REFUSED: dict[str, tuple[Callable[[Keys], str], str]] = {
    # the header: ES256 whatever it says, and only our three members
    "alg none, no signature": (_none, "algorithm is not accepted"),
    "alg none over an ES256 signature": (lambda k: _alg(k, "none"), "algorithm is not accepted"),
    "alg HS256 keyed with the public JWK": (_hs256, "algorithm is not accepted"),
    "alg RS256": (_rs256, "algorithm is not accepted"),
    "alg ES384": (lambda k: _alg(k, "ES384"), "algorithm is not accepted"),
    "alg es256 in lower case": (lambda k: _alg(k, "es256"), "algorithm is not accepted"),
    "unknown kid": (_unknown_kid, "signing key is unknown"),
    "kid a number": (_kid_number, "not a well-formed JWT"),
    "crit header": (_extra_header_member("crit", ["exp"]), "members other than"),
    "b64 false header": (_extra_header_member("b64", False), "members other than"),
    "jku header": (_extra_header_member("jku", "https://evil.example/jwks"), "members other than"),
    "embedded jwk header": (_extra_header_member("jwk", {"kty": "EC"}), "members other than"),
    # the signature: 64 bytes r || s, of this header and payload, by the kid's key
    "altered payload": (_altered_payload, "signature does not verify"),
    "altered signature": (_altered_signature, "signature does not verify"),
    "signature one byte short": (
        lambda k: _signature_of(k, lambda raw, _der: raw[:-1]),
        "signature does not verify",
    ),
    "signature one byte long": (
        lambda k: _signature_of(k, lambda raw, _der: raw + b"\x00"),
        "signature does not verify",
    ),
    "signature in DER form": (lambda k: _signature_of(k, lambda _raw, der: der), "does not verify"),
    "signature r = 0, s = 0": (lambda k: _signature_of(k, _r_s(0, 0)), "does not verify"),
    "signature r, s = the curve order": (
        lambda k: _signature_of(k, _r_s(P256_ORDER, P256_ORDER)),
        "signature does not verify",
    ),
    "empty signature": (lambda k: _signature_of(k, lambda _raw, _der: b""), "does not verify"),
    # the compact form: three segments of unpadded base64url
    "padded header": (_padded(0), "not a well-formed JWT"),
    "padded payload": (_padded(1), "not a well-formed JWT"),
    "padded signature": (_padded(2), "not a well-formed JWT"),
    "'+' in the header (base64, not base64url)": (_character(0, "+"), "not a well-formed JWT"),
    "'/' in the payload": (_character(1, "/"), "not a well-formed JWT"),
    "'!' in the signature": (_character(2, "!"), "not a well-formed JWT"),
    "space in the payload": (_character(1, " "), "not a well-formed JWT"),
    "non-ASCII letter in the header": (_character(0, "é"), "not a well-formed JWT"),
    "stray bits in the signature's last character": (
        _non_canonical_last_character,
        "not a well-formed JWT",
    ),
    "impossible segment length": (
        lambda k: _pyjwt(k).replace(".", "A.", 1),
        "not a well-formed JWT",
    ),
    "two segments": (lambda k: _pyjwt(k).rsplit(".", 1)[0], "not a well-formed JWT"),
    "four segments": (lambda k: _pyjwt(k) + ".AAAA", "not a well-formed JWT"),
    # JSON objects only, each member once
    "header an array": (lambda k: _signed(k, "[]", json.dumps(_claims())), "not a well-formed"),
    "header a string": (lambda k: _signed(k, '"ES256"', json.dumps(_claims())), "well-formed"),
    "header not JSON": (lambda k: _signed(k, "{alg: ES256}", json.dumps(_claims())), "well-formed"),
    "header with alg twice": (
        lambda k: _signed(
            k, json.dumps(_header(k, alg="none"))[:-1] + ', "alg": "ES256"}', json.dumps(_claims())
        ),
        "not a well-formed JWT",
    ),
    "payload an array": (
        lambda k: _signed(k, json.dumps(_header(k)), json.dumps([_claims()])),
        "is malformed",
    ),
    "payload a number": (lambda k: _signed(k, json.dumps(_header(k)), "42"), "is malformed"),
    "payload not UTF-8": (
        lambda k: _signed_bytes(k, json.dumps(_header(k)).encode(), b'{"sub":"\xff"}'),
        "is malformed",
    ),
    "payload with sub twice": (
        lambda k: _signed(
            k, json.dumps(_header(k)), json.dumps(_claims())[:-1] + ', "sub": "usr_admin"}'
        ),
        "is malformed",
    ),
    # the claims, as before
    "expired": (
        lambda k: _pyjwt(k, _claims(iat=NOW - 1000, nbf=NOW - 1000, exp=NOW - 31)),
        "expired",
    ),
    "sub a number": (lambda k: _pyjwt(k, _claims(sub=42)), "is malformed"),
    "jti a list": (lambda k: _pyjwt(k, _claims(jti=["a"])), "is malformed"),
    "aud empty": (lambda k: _pyjwt(k, _claims(aud="")), "lacks the 'aud' claim"),
    "iss null": (
        lambda k: _signed(k, json.dumps(_header(k)), json.dumps(_claims(iss=None))),
        "lacks the 'iss' claim",
    ),
}


def _signed_bytes(keys: Keys, header: bytes, payload: bytes) -> str:
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    der = keys.private.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    return f"{signing_input}.{_b64(_raw_signature(der))}"


@pytest.mark.parametrize(("forge", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_forged_or_bent_token_is_refused(
    keys: Keys, forge: Callable[[Keys], str], reason: str
) -> None:
    token = forge(keys)

    refused = _refusal(token)

    assert reason in refused.detail
    assert token.split(".")[0] not in refused.detail


def test_the_untouched_token_of_each_forgery_verifies(keys: Keys) -> None:
    # The forgeries start from tokens like these: what refuses them is what they changed.
    assert tokens.verify_access_token(_pyjwt(keys), now=NOW).sub == "usr_1"
    header = json.dumps(_header(keys))
    assert tokens.verify_access_token(_signed(keys, header, json.dumps(_claims())), now=NOW)
    raw = _signature_of(keys, lambda raw, _der: raw)
    assert tokens.verify_access_token(raw, now=NOW).jti == "jti-1"


# ---------------------------------------------------------------- the parts


@pytest.mark.parametrize(
    "segment", ["QQ==", "QQ=", "Q", "QR", "QQ+", "QQ/", "QQ QQ", "Q\nQ", "QUI=", "QUJD\n"]
)
def test_base64url_decoding_refuses_what_is_not_canonical_unpadded_base64url(segment: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        jws.b64url_decode(segment)


@pytest.mark.parametrize(
    ("segment", "data"), [("", b""), ("QQ", b"A"), ("QUI", b"AB"), ("-_8", b"\xfb\xff")]
)
def test_base64url_decoding_reads_unpadded_base64url(segment: str, data: bytes) -> None:
    assert jws.b64url_decode(segment) == data
    assert jws.b64url_encode(data) == segment


def test_a_jwk_becomes_the_same_public_key(keys: Keys) -> None:
    public = jws.public_key_from_jwk(keys.jwk)

    assert public.public_numbers() == keys.private.public_key().public_numbers()


@pytest.mark.parametrize(
    "change",
    [
        {"crv": "P-384"},
        {"kty": "RSA"},
        {"x": None},
        {"x": "AA"},
        {"y": _b64(b"\x01" * 32)},  # off the curve
        {"x": "padded=="},
    ],
)
def test_a_jwk_that_is_not_a_p256_point_is_refused(keys: Keys, change: dict[str, Any]) -> None:
    jwk = {**keys.jwk, **change}

    with pytest.raises(ValueError, match=r"EC P-256|coordinate|base64url|curve"):
        jws.public_key_from_jwk({k: v for k, v in jwk.items() if v is not None})


def test_a_key_set_entry_for_another_algorithm_is_not_used(
    keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_set = json.dumps({"keys": [{**keys.jwk, "alg": "ES384"}]})
    monkeypatch.setattr(tokens, "_fetch_jwks", lambda *, force=False: key_set)
    tokens.clear_caches()

    assert tokens.jwks_document() == {"keys": []}
    assert "signing key is unknown" in _refusal(_pyjwt(keys)).detail
