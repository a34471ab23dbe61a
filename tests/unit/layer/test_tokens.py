"""Access tokens: issue and verify, every way a token must be refused, and key rotation.

The two stores (the signing secret and the JWK Set parameter) are in memory here; the
JWK Set is read through a snapshot that only a forced fetch renews, as Powertools' cache
behaves within its five minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from warung_ops import signing_keys

from warung import tokens
from warung.errors import InvalidToken
from warung.settings import get_settings

NOW = 1_800_000_000
ISSUER, AUDIENCE = "https://api.warung.example", "warung-api"


class MemorySecret:
    """The parts of a Secrets Manager client that signing_keys uses."""

    def __init__(self) -> None:
        self.value = json.dumps({"kid": None})  # as the template creates it

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        return {"SecretString": self.value}

    def put_secret_value(self, SecretId: str, SecretString: str) -> None:
        self.value = SecretString


class MemoryParameter:
    """The parts of an SSM client that signing_keys uses."""

    def __init__(self) -> None:
        self.value = json.dumps({"keys": []})

    def get_parameter(self, Name: str) -> dict[str, Any]:
        return {"Parameter": {"Value": self.value}}

    def put_parameter(self, Name: str, Value: str, Type: str, Overwrite: bool) -> None:
        assert (Type, Overwrite) == ("String", True)
        self.value = Value


@dataclass
class Stores:
    """The key stores, the JWK Set as a verifier last fetched it, and a monotonic clock."""

    secret: MemorySecret = field(default_factory=MemorySecret)
    parameter: MemoryParameter = field(default_factory=MemoryParameter)
    jwks_snapshot: str | None = None
    jwks_fetches: list[bool] = field(default_factory=list)  # the `force` of each fetch
    clock: float = 1000.0

    def rotate(self, *, now: int = NOW, force: bool = True) -> str:
        return signing_keys.rotate(
            self.secret, self.parameter, "secret-arn", "/jwks", now=now, force=force
        )

    def fetch_jwks(self, *, force: bool = False) -> str:
        self.jwks_fetches.append(force)
        if force or self.jwks_snapshot is None:
            self.jwks_snapshot = self.parameter.value
        return self.jwks_snapshot

    @property
    def kid(self) -> str:
        return str(json.loads(self.secret.value)["kid"])

    @property
    def private_key(self) -> Any:
        pem = json.loads(self.secret.value)["private_key_pem"].encode()
        return serialization.load_pem_private_key(pem, password=None)

    @property
    def jwks(self) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = json.loads(self.parameter.value)["keys"]
        return keys


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stores]:
    memory = Stores()
    monkeypatch.setattr(tokens, "_fetch_signing_secret", lambda: memory.secret.value)
    monkeypatch.setattr(tokens, "_fetch_jwks", memory.fetch_jwks)
    monkeypatch.setattr(tokens, "_clock", lambda: memory.clock)
    tokens.clear_caches()
    memory.rotate(now=NOW - 3600)
    yield memory
    tokens.clear_caches()


# ---------------------------------------------------------------- helpers


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(document: dict[str, Any]) -> str:
    return _b64(json.dumps(document, separators=(",", ":")).encode())


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
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def _sign(stores: Stores, claims: dict[str, Any], *, key: Any = None, **header: Any) -> str:
    headers = {"typ": "at+jwt", "kid": stores.kid, **header}
    headers = {k: v for k, v in headers.items() if v is not None}
    return jwt.encode(claims, key or stores.private_key, algorithm="ES256", headers=headers)


def _public_pem(stores: Stores) -> bytes:
    key = stores.private_key.public_key()
    return bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _alg_none(stores: Stores) -> str:
    header = {"alg": "none", "typ": "at+jwt", "kid": stores.kid}
    return f"{_segment(header)}.{_segment(_claims())}."


def _hs256_with_public_key(stores: Stores) -> str:
    # The classic confusion: an HMAC "signed" with the public key everyone can fetch.
    header = {"alg": "HS256", "typ": "at+jwt", "kid": stores.kid}
    signing_input = f"{_segment(header)}.{_segment(_claims())}"
    mac = hmac.new(_public_pem(stores), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _stripped_signature(stores: Stores) -> str:
    return _sign(stores, _claims()).rsplit(".", 1)[0] + "."


def _altered_payload(stores: Stores) -> str:
    header, _, signature = _sign(stores, _claims()).split(".")
    return f"{header}.{_segment(_claims(sub='usr_admin'))}.{signature}"


def _altered_signature(stores: Stores) -> str:
    header, payload, signature = _sign(stores, _claims()).split(".")
    # A character in the middle: the last one also carries padding bits.
    flipped = signature[:20] + ("A" if signature[20] != "A" else "B") + signature[21:]
    return f"{header}.{payload}.{flipped}"


def _foreign_key_under_a_known_kid(stores: Stores) -> str:
    return _sign(stores, _claims(), key=ec.generate_private_key(ec.SECP256R1()))


def _unknown_kid(stores: Stores) -> str:
    other_kid, other_pem, _ = signing_keys.generate_key()
    key = serialization.load_pem_private_key(other_pem.encode(), password=None)
    return _sign(stores, _claims(), key=key, kid=other_kid)


# Each forged token, and the words of the detail that show which check refused it.
REJECTED: dict[str, tuple[Callable[[Stores], str], str]] = {
    "alg none": (_alg_none, "algorithm"),
    "HS256 signed with the public key PEM": (_hs256_with_public_key, "algorithm"),
    "unknown kid": (_unknown_kid, "key is unknown"),
    "no kid": (lambda s: _sign(s, _claims(), kid=None), "(kid)"),
    "stripped signature": (_stripped_signature, "signature does not verify"),
    "altered payload with the old signature": (_altered_payload, "signature does not verify"),
    "altered signature": (_altered_signature, "signature does not verify"),
    "expired": (
        lambda s: _sign(s, _claims(iat=NOW - 1000, nbf=NOW - 1000, exp=NOW - 31)),
        "expired",
    ),
    "nbf in the future": (lambda s: _sign(s, _claims(nbf=NOW + 31)), "not valid yet"),
    "iat in the future beyond leeway": (lambda s: _sign(s, _claims(iat=NOW + 31)), "not valid yet"),
    "wrong iss": (lambda s: _sign(s, _claims(iss="https://evil.example")), "(iss)"),
    "wrong aud": (lambda s: _sign(s, _claims(aud="another-api")), "(aud)"),
    "aud as a list": (lambda s: _sign(s, _claims(aud=[AUDIENCE, "another-api"])), "(aud)"),
    "missing sub": (lambda s: _sign(s, _claims(sub=None)), "'sub'"),
    "missing exp": (lambda s: _sign(s, _claims(exp=None)), "'exp'"),
    "missing jti": (lambda s: _sign(s, _claims(jti=None)), "'jti'"),
    "missing sid": (lambda s: _sign(s, _claims(sid=None)), "'sid'"),
    "token_use refresh": (lambda s: _sign(s, _claims(token_use="refresh")), "(token_use)"),
    "typ JWT instead of at+jwt": (lambda s: _sign(s, _claims(), typ="JWT"), "(typ)"),
    "no typ": (lambda s: _sign(s, _claims(), typ=None), "(typ)"),
    "exp not a number": (lambda s: _sign(s, _claims(exp="soon")), "times are malformed"),
    "opaque random string (a refresh token)": (lambda _s: secrets.token_urlsafe(32), "well-formed"),
    "empty string": (lambda _s: "", "well-formed"),
    "signed by a key not in the JWKS under a kid that is": (
        _foreign_key_under_a_known_kid,
        "signature does not verify",
    ),
}


# ---------------------------------------------------------------- issue and verify


def test_issued_token_verifies_with_its_claims(stores: Stores) -> None:
    token, expires_in = tokens.issue_access_token("usr_1", "ses_1", now=NOW)

    claims = tokens.verify_access_token(token, now=NOW + 10)

    assert expires_in == 900
    assert (claims.sub, claims.sid, claims.iat, claims.exp) == ("usr_1", "ses_1", NOW, NOW + 900)
    assert claims.iat_ms == NOW * 1000
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "typ": "at+jwt", "kid": stores.kid}
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "usr_1",
        "sid": "ses_1",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 900,
        "jti": claims.jti,
        "token_use": "access",
    }
    assert len(base64.urlsafe_b64decode(claims.jti + "==")) == 16  # 128 random bits


def test_each_token_gets_its_own_jti(stores: Stores) -> None:
    first, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW)
    second, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW)

    assert tokens.verify_access_token(first, now=NOW).jti != (
        tokens.verify_access_token(second, now=NOW).jti
    )


def test_token_is_accepted_until_its_expiry_plus_leeway(stores: Stores) -> None:
    token, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW)

    assert tokens.verify_access_token(token, now=NOW + 900 + 29).sub == "usr_1"
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify_access_token(token, now=NOW + 900 + 30)


def test_small_clock_skew_is_tolerated(stores: Stores) -> None:
    token, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW + 30)

    assert tokens.verify_access_token(token, now=NOW).sub == "usr_1"


def test_lifetime_follows_the_setting(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESS_TOKEN_TTL_SECONDS", "600")
    get_settings.cache_clear()

    token, expires_in = tokens.issue_access_token("usr_1", "ses_1", now=NOW)

    assert expires_in == 600
    assert tokens.verify_access_token(token, now=NOW).exp == NOW + 600


def test_a_lifetime_over_15_minutes_is_refused_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESS_TOKEN_TTL_SECONDS", "901")
    get_settings.cache_clear()

    with pytest.raises(RuntimeError, match="access_token_ttl_seconds"):
        get_settings()


@pytest.mark.parametrize(("forge", "reason"), REJECTED.values(), ids=REJECTED.keys())
def test_token_is_rejected(stores: Stores, forge: Callable[[Stores], str], reason: str) -> None:
    token = forge(stores)

    with pytest.raises(InvalidToken) as raised:
        tokens.verify_access_token(token, now=NOW)

    assert raised.value.http_status == 401
    assert raised.value.code == "invalid_token"
    assert reason in raised.value.detail
    if token:
        assert token not in raised.value.detail
        assert token.split(".")[0] not in raised.value.detail


def test_issuing_without_a_key_is_a_server_error(stores: Stores) -> None:
    stores.secret.value = json.dumps({"kid": None})

    with pytest.raises(tokens.SigningKeyUnavailable, match="rotate"):
        tokens.issue_access_token("usr_1", "ses_1", now=NOW)


def test_jwks_document_is_the_public_key_set(stores: Stores) -> None:
    old_kid = stores.kid
    new_kid = stores.rotate(now=NOW)

    document = tokens.jwks_document()

    assert [key["kid"] for key in document["keys"]] == [new_kid, old_kid]
    stored = stores.jwks[0]
    assert document["keys"][0] == {
        "kty": "EC",
        "crv": "P-256",
        "x": stored["x"],
        "y": stored["y"],
        "kid": new_kid,
        "use": "sig",
        "alg": "ES256",
    }  # no "iat" (kept for rotations), and never a private part


def test_jwks_document_leaves_out_what_could_not_verify(stores: Stores) -> None:
    stored = json.loads(stores.parameter.value)
    stored["keys"].append({"kid": "hmac", "kty": "oct", "k": "c2VjcmV0"})
    stored["keys"].append({"kid": "short", "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})
    off_curve = _b64(b"\x01" * 32)
    stored["keys"].append(
        {"kid": "off-curve", "kty": "EC", "crv": "P-256", "x": off_curve, "y": off_curve}
    )
    stores.parameter.value = json.dumps(stored)

    assert [key["kid"] for key in tokens.jwks_document()["keys"]] == [stores.kid]


# ---------------------------------------------------------------- rotation


def test_after_a_rotation_old_and_new_tokens_verify(stores: Stores) -> None:
    # given: a token signed before the rotation, and a verifier that cached the old set
    old_token, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW)
    tokens.verify_access_token(old_token, now=NOW)
    old_kid = stores.kid

    # when: the key rotates and a token is signed with the new key
    new_kid = stores.rotate(now=NOW + 1800, force=False)
    new_token, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW + 1800)

    # then: the signer switched, and the verifier accepts both (refetching the set once)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid != old_kid
    assert tokens.verify_access_token(new_token, now=NOW + 1800).sub == "usr_1"
    assert tokens.verify_access_token(old_token, now=NOW + 800).sub == "usr_1"
    assert stores.jwks_fetches.count(True) == 1
    assert [key["kid"] for key in stores.jwks] == [new_kid, old_kid]


def test_a_token_of_a_key_dropped_from_the_set_is_rejected(stores: Stores) -> None:
    first_token, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW)
    first_kid = stores.kid

    stores.rotate(now=NOW + 1800)
    stores.rotate(now=NOW + 3600)
    stores.clock += 3600  # verifier's set renewed since (Powertools' max_age ran out)
    stores.jwks_snapshot = None

    assert first_kid not in [key["kid"] for key in stores.jwks]
    assert len(stores.jwks) == 2
    with pytest.raises(InvalidToken, match="signing key is unknown"):
        tokens.verify_access_token(first_token, now=NOW + 10)


def test_unknown_kids_refetch_the_set_at_most_once_a_minute(stores: Stores) -> None:
    garbage = [_unknown_kid(stores) for _ in range(5)]

    for token in garbage:
        with pytest.raises(InvalidToken):
            tokens.verify_access_token(token, now=NOW)
    assert stores.jwks_fetches.count(True) == 1

    stores.clock += 59
    with pytest.raises(InvalidToken):
        tokens.verify_access_token(garbage[0], now=NOW)
    assert stores.jwks_fetches.count(True) == 1

    stores.clock += 2
    with pytest.raises(InvalidToken):
        tokens.verify_access_token(garbage[0], now=NOW)
    assert stores.jwks_fetches.count(True) == 2


def test_known_kids_do_not_refetch(stores: Stores) -> None:
    token, _ = tokens.issue_access_token("usr_1", "ses_1", now=NOW)

    for _ in range(3):
        tokens.verify_access_token(token, now=NOW)

    assert True not in stores.jwks_fetches


def test_rotating_again_too_soon_is_refused(stores: Stores) -> None:
    # given: a second key that replaced the fixture's first one just now
    created = NOW
    stores.rotate(now=created, force=False)
    current = stores.kid
    too_soon = created + signing_keys.MIN_ROTATION_INTERVAL_S - 1

    # when / then: a rotation that would drop the first key is refused, unless forced
    with pytest.raises(signing_keys.RotationTooSoon, match="--force"):
        stores.rotate(now=too_soon, force=False)
    assert stores.kid == current
    assert stores.rotate(now=too_soon, force=True) != current


def test_a_rotation_that_drops_no_key_is_never_too_soon(stores: Stores) -> None:
    # given: the set holds only the current key (the fixture's first rotation)
    first = stores.kid

    # when: rotating a second later
    second = stores.rotate(now=NOW - 3600 + 1, force=False)

    # then: nothing was dropped, so nothing had to wait
    assert [key["kid"] for key in stores.jwks] == [second, first]


def test_rotation_waits_out_a_token_lifetime_and_the_signers_cache() -> None:
    assert signing_keys.MIN_ROTATION_INTERVAL_S >= 900 + tokens.CACHE_MAX_AGE_S


def test_rotation_keeps_the_newest_and_previous_key_and_secret_holds_one(stores: Stores) -> None:
    kids = [stores.kid]
    for step in (1, 2, 3):
        kids.append(stores.rotate(now=NOW + step * 3600, force=False))

    assert [key["kid"] for key in stores.jwks] == [kids[3], kids[2]]
    assert [key["iat"] for key in stores.jwks] == [NOW + 3 * 3600, NOW + 2 * 3600]
    secret = json.loads(stores.secret.value)
    assert set(secret) == {"kid", "private_key_pem"}
    assert secret["kid"] == kids[3]
    assert all("d" not in key for key in stores.jwks)


# ---------------------------------------------------------------- key ids


def test_kid_is_the_rfc7638_thumbprint() -> None:
    # RFC 8037 appendix A.3: the thumbprint of its example Ed25519 public key.
    example = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert signing_keys.jwk_thumbprint(example) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

    kid, _pem, jwk = signing_keys.generate_key()
    required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    assert kid == jwk["kid"] == _b64(hashlib.sha256(canonical).digest())
