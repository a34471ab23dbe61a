"""What the API answers a signed-in route given a bent or forged access token: 401
``invalid_token`` as problem+json, the detail naming the check that refused it (the tokens
are written and read by ``warung.jws`` on cryptography, docs/decisions/0031). A token a
general JWT library signed with the stack's key is still a good one."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from support.auth_world import PASSWORD, AuthWorld

from auth import service
from warung import secrets
from warung.settings import get_settings


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signing_key() -> Any:
    """The stack's private signing key, as the auth function reads it."""
    secret = json.loads(secrets.get_secret(get_settings().jwt_signing_secret_id))
    return load_pem_private_key(secret["private_key_pem"].encode(), password=None)


def _signed_in(auth: AuthWorld) -> tuple[str, dict[str, Any], str]:
    """An account's e-mail, the claims of its fresh access token, and the token."""
    account = auth.make_account()
    token = service.login(account.email, PASSWORD, auth.meta("login")).access_token
    return account.email, jwt.decode(token, options={"verify_signature": False}), token


def _by_pyjwt(auth: AuthWorld, claims: dict[str, Any], **header: Any) -> str:
    headers = {"typ": "at+jwt", "kid": auth.signing_kid, **header}
    return jwt.encode(claims, _signing_key(), algorithm="ES256", headers=headers)


def test_a_token_signed_by_a_general_jwt_library_with_our_key_is_served(auth: AuthWorld) -> None:
    email, claims, _ = _signed_in(auth)

    status, _, body = auth.invoke("GET", "/v1/me", token=_by_pyjwt(auth, claims))

    assert status == 200
    assert body["email"] == email


def _alg_none(auth: AuthWorld, claims: dict[str, Any], _token: str) -> str:
    header = {"alg": "none", "typ": "at+jwt", "kid": auth.signing_kid}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def _altered_payload(_auth: AuthWorld, claims: dict[str, Any], token: str) -> str:
    header, _, signature = token.split(".")
    other = _b64(json.dumps({**claims, "sub": "usr_someone_else"}).encode())
    return f"{header}.{other}.{signature}"


def _der_signature(auth: AuthWorld, _claims: dict[str, Any], token: str) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    header, payload, _ = token.split(".")
    der = _signing_key().sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    return f"{header}.{payload}.{_b64(der)}"


def _padded_payload(_auth: AuthWorld, _claims: dict[str, Any], token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}{'=' * (-len(payload) % 4 or 4)}.{signature}"


def _expired(auth: AuthWorld, claims: dict[str, Any], _token: str) -> str:
    past = claims["iat"] - 3600
    return _by_pyjwt(auth, {**claims, "iat": past, "nbf": past, "exp": past + 900})


def _jku_header(auth: AuthWorld, claims: dict[str, Any], _token: str) -> str:
    return _by_pyjwt(auth, claims, jku="https://attacker.example/jwks.json")


FORGED: dict[str, tuple[Callable[[AuthWorld, dict[str, Any], str], str], str]] = {
    "alg none": (_alg_none, "The access token's signature algorithm is not accepted."),
    "altered payload": (_altered_payload, "The access token's signature does not verify."),
    "DER-encoded signature": (_der_signature, "The access token's signature does not verify."),
    "padded payload": (_padded_payload, "The access token is not a well-formed JWT."),
    "expired": (_expired, "The access token has expired."),
    "jku in the header": (_jku_header, "header has members other than alg, typ, kid"),
}


@pytest.mark.parametrize(("forge", "detail"), FORGED.values(), ids=FORGED.keys())
def test_a_forged_access_token_is_401_problem_json(
    auth: AuthWorld, forge: Callable[[AuthWorld, dict[str, Any], str], str], detail: str
) -> None:
    _, claims, token = _signed_in(auth)

    status, headers, body = auth.invoke("GET", "/v1/me", token=forge(auth, claims, token))

    assert status == 401
    assert headers["Content-Type"] == "application/problem+json"
    assert (body["status"], body["code"]) == (401, "invalid_token")
    assert detail in body["detail"]
