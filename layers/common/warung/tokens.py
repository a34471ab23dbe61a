"""Access tokens (docs/product.md, Accounts and sign-in): short-lived ES256 JWTs, issued
by the auth function and verified by every function against the public keys of the JWK Set.

Where the keys live (``warung_ops.signing_keys`` creates and rotates them):

- the private signing key in a Secrets Manager secret (``JWT_SIGNING_SECRET_ID``, readable
  by the auth function only): ``{"kid": "<kid>", "private_key_pem": "<PKCS#8 PEM>"}``;
- the public keys in an SSM String parameter (``JWKS_PARAMETER_NAME``, readable by every
  function): ``{"keys": [<JWK>, ...]}``, the new key first, then the one it replaced.

Both are read through the layer's botocore reader (``warung.secrets``; Powertools'
parameters utility would import boto3 on the first signed-in request) and cached for five
minutes. After a rotation a verifier meets a ``kid`` its cached set does not hold yet: it
fetches the set again, at most once a minute, so that a stream of made-up kids cannot turn
into a stream of SSM calls.

Tokens are JWS compact serializations written and read by ``warung.jws`` on
``cryptography`` alone (docs/decisions/0031-jws-on-cryptography.md): a general JWT library
costs a first signed-in request ~40 ms of imports for one algorithm. The checks are all
here, in one place, and the time checks (``exp``, ``nbf``, ``iat``, with 30 s of leeway)
take ``now`` from ``warung.clock``, or as given in the tests.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, TypeGuard

from cryptography.hazmat.primitives.asymmetric.ec import (
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)

from warung import clock, jws
from warung.errors import InvalidToken
from warung.secrets import get_parameter, get_secret
from warung.settings import get_settings

ALGORITHMS = [jws.ES256]  # the only algorithm accepted; never taken from the token
TOKEN_TYPE = "at+jwt"  # noqa: S105 - RFC 9068 §2.1: an access token, not any other JWT
TOKEN_USE = "access"  # noqa: S105 - the claim that tells it from other tokens of ours
LEEWAY_S = 30
REQUIRED_CLAIMS = ["iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti", "token_use"]
CACHE_MAX_AGE_S = 300  # how long a fetched secret or JWK Set is used before asking again
UNKNOWN_KID_REFETCH_S = 60  # at most one extra JWK Set fetch per minute for unknown kids
PUBLIC_JWK_MEMBERS = ("kty", "crv", "x", "y", "kid", "use", "alg")
HEADER_MEMBERS = frozenset({"alg", "typ", "kid"})  # what our tokens' headers hold, exactly


class SigningKeyUnavailable(RuntimeError):
    """The auth function has no signing key (not configured, or never rotated in)."""


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says: the account, its session and the token's times."""

    sub: str
    sid: str
    jti: str
    iat: int
    exp: int

    @property
    def iat_ms(self) -> int:
        """``iat`` in epoch milliseconds (to compare with stored millisecond times)."""
        return self.iat * 1000


@dataclass(frozen=True)
class _SigningKey:
    kid: str
    key: EllipticCurvePrivateKey


@dataclass(frozen=True)
class _KeySet:
    public: list[dict[str, str]]  # what the JWKS endpoint serves
    by_kid: dict[str, EllipticCurvePublicKey]


# ---------------------------------------------------------------- loading the stores


def _fetch_signing_secret() -> str:
    """The signing secret's value (cached for CACHE_MAX_AGE_S)."""
    secret_id = get_settings().jwt_signing_secret_id
    if not secret_id:
        raise SigningKeyUnavailable("JWT_SIGNING_SECRET_ID is not set for this function")
    return get_secret(secret_id, max_age=CACHE_MAX_AGE_S)


def _fetch_jwks(*, force: bool = False) -> str:
    """The JWK Set parameter's value (cached for CACHE_MAX_AGE_S unless ``force``)."""
    name = get_settings().jwks_parameter_name
    if not name:
        raise RuntimeError("JWKS_PARAMETER_NAME is not set for this function")
    return get_parameter(name, max_age=CACHE_MAX_AGE_S, force=force)


def _clock() -> float:
    return time.monotonic()


def _load_signing_key(raw: str) -> _SigningKey:
    # Only the signer reads a PEM: `serialization` imports every key type and SSH (~20 ms),
    # which verifying functions do not need.
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    document = json.loads(raw)
    kid, pem = document.get("kid"), document.get("private_key_pem")
    if not kid or not pem:
        raise SigningKeyUnavailable(
            "the signing secret holds no key yet: run `make rotate-signing-key`"
        )
    key = load_pem_private_key(str(pem).encode("ascii"), password=None)
    if not isinstance(key, EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SigningKeyUnavailable("the signing key is not an EC P-256 key")
    return _SigningKey(kid=str(kid), key=key)


def _load_key_set(raw: str) -> _KeySet:
    document = json.loads(raw)
    public: list[dict[str, str]] = []
    by_kid: dict[str, EllipticCurvePublicKey] = {}
    for entry in document.get("keys") or []:
        kid = entry.get("kid") if isinstance(entry, dict) else None
        if not isinstance(kid, str) or entry.get("alg", jws.ES256) != jws.ES256:
            continue
        try:
            by_kid[kid] = jws.public_key_from_jwk(entry)  # EC P-256 only
        except ValueError:
            continue  # one bad entry must not take the other keys down with it
        # Standard public members only: not the stored creation time, never a private part.
        public.append({name: str(entry[name]) for name in PUBLIC_JWK_MEMBERS if name in entry})
    return _KeySet(public=public, by_kid=by_kid)


class _KeyCache:
    """The keys loaded in this execution environment.

    The stores' values come from ``warung.secrets`` (itself cached); a key is parsed again
    only when the value it came from changed, since parsing a PEM or a JWK costs more than
    comparing.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signing: tuple[str, _SigningKey] | None = None
        self._key_set: tuple[str, _KeySet] | None = None
        self._last_forced_fetch: float | None = None

    def clear(self) -> None:
        with self._lock:
            self._signing = self._key_set = self._last_forced_fetch = None

    def signing_key(self) -> _SigningKey:
        raw = _fetch_signing_secret()
        with self._lock:
            if self._signing is None or self._signing[0] != raw:
                self._signing = (raw, _load_signing_key(raw))
            return self._signing[1]

    def key_set(self, *, force: bool = False) -> _KeySet:
        raw = _fetch_jwks(force=force)
        with self._lock:
            if self._key_set is None or self._key_set[0] != raw:
                self._key_set = (raw, _load_key_set(raw))
            return self._key_set[1]

    def verification_key(self, kid: str) -> EllipticCurvePublicKey | None:
        """The public key for ``kid``; an unknown kid refetches the set, at most once a minute."""
        key = self.key_set().by_kid.get(kid)
        if key is not None:
            return key
        with self._lock:
            moment = _clock()
            last = self._last_forced_fetch
            if last is not None and moment - last < UNKNOWN_KID_REFETCH_S:
                return None
            self._last_forced_fetch = moment
        return self.key_set(force=True).by_kid.get(kid)


_keys = _KeyCache()


def clear_caches() -> None:
    """Forget the loaded keys and the refetch timer (tests; ``warung.secrets`` has its own
    cache)."""
    _keys.clear()


# ---------------------------------------------------------------- the API


def issue_access_token(user_id: str, session_id: str, *, now: int | None = None) -> tuple[str, int]:
    """A signed access token for a session, and its lifetime in seconds (``expires_in``).

    Raises ``SigningKeyUnavailable`` (a 500: a deployment mistake) when no key is set up.
    """
    settings = get_settings()
    signing = _keys.signing_key()
    issued_at = clock.epoch_s() if now is None else now
    ttl = settings.access_token_ttl_seconds
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "sid": session_id,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + ttl,
        "jti": secrets.token_urlsafe(16),  # 128 random bits
        "token_use": TOKEN_USE,
    }
    token = jws.sign_es256({"typ": TOKEN_TYPE, "kid": signing.kid}, claims, signing.key)
    return token, ttl


def verify_access_token(token: str, *, now: int | None = None) -> AccessClaims:
    """The claims of a valid access token; ``InvalidToken`` (401) for anything else.

    Checked: ES256 only, ``typ`` at+jwt, a ``kid`` of the JWK Set, the signature, ``exp``,
    ``nbf`` and ``iat`` (30 s leeway), ``iss`` and ``aud`` exactly, every required claim,
    and ``token_use`` "access". The detail says which check failed, never the token.
    """
    claims = _verified_claims(token)
    if claims.get("token_use") != TOKEN_USE:
        raise InvalidToken("The token is not an access token (token_use).")
    if not isinstance(claims.get("sid"), str):
        raise InvalidToken("The access token's session (sid) is malformed.")
    iat, nbf, exp = (claims.get(name) for name in ("iat", "nbf", "exp"))
    if not (_is_int(iat) and _is_int(nbf) and _is_int(exp)):
        raise InvalidToken("The access token's times are malformed.")
    moment = clock.epoch_s() if now is None else now
    if exp <= moment - LEEWAY_S:
        raise InvalidToken("The access token has expired.")
    if nbf > moment + LEEWAY_S or iat > moment + LEEWAY_S:
        raise InvalidToken("The access token is not valid yet.")
    return AccessClaims(sub=claims["sub"], sid=claims["sid"], jti=claims["jti"], iat=iat, exp=exp)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _verified_claims(token: str) -> dict[str, Any]:
    """The claims of a token whose header, key and signature are good, after the checks of
    issuer, audience and the presence of every required claim."""
    try:
        parsed = jws.parse(token)
    except jws.MalformedJWS:
        raise InvalidToken("The access token is not a well-formed JWT.") from None
    key = _key_for(parsed.header)
    if not jws.verify_es256(parsed, key):
        raise InvalidToken("The access token's signature does not verify.")
    try:
        claims = jws.json_object(parsed.payload)
    except jws.MalformedJSON:
        raise InvalidToken("The access token is malformed.") from None
    _check_registered_claims(claims)
    return claims


def _key_for(header: dict[str, Any]) -> EllipticCurvePublicKey:
    """The public key the token's header names, after checking the header: the algorithm
    is ES256 whatever the header says, and only a ``kid`` of the JWK Set selects a key."""
    kid = header.get("kid")
    if "kid" in header and not isinstance(kid, str):
        raise InvalidToken("The access token is not a well-formed JWT.")
    if header.get("alg") not in ALGORITHMS:
        raise InvalidToken("The access token's signature algorithm is not accepted.")
    if header.get("typ") != TOKEN_TYPE:
        raise InvalidToken("The token is not an access token (typ).")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("The access token names no signing key (kid).")
    if not HEADER_MEMBERS.issuperset(header):
        # crit, b64, jku, x5u, jwk...: nothing our tokens use, so nothing to trust.
        raise InvalidToken("The access token's header has members other than alg, typ, kid.")
    key = _keys.verification_key(kid)
    if key is None:
        raise InvalidToken("The access token's signing key is unknown.")
    return key


def _check_registered_claims(claims: dict[str, Any]) -> None:
    """Every required claim present (not null), ``iss`` and ``aud`` exactly ours (one
    audience, a string), ``sub`` and ``jti`` strings."""
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise InvalidToken(f"The access token lacks the {name!r} claim.")
    settings = get_settings()
    if claims["iss"] != settings.jwt_issuer:
        raise InvalidToken("The access token was issued by someone else (iss).")
    if not claims["aud"]:
        raise InvalidToken("The access token lacks the 'aud' claim.")
    if claims["aud"] != settings.jwt_audience:
        raise InvalidToken("The access token is meant for another audience (aud).")
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        raise InvalidToken("The access token is malformed.")


def jwks_document() -> dict[str, Any]:
    """The public JWK Set, as ``GET /.well-known/jwks.json`` serves it: the keys that verify
    tokens, newest first, each with the standard public members only (``PUBLIC_JWK_MEMBERS``).
    """
    return {"keys": [dict(key) for key in _keys.key_set().public]}
