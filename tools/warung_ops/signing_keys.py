"""Signing keys of access tokens: create, rotate and show them (an operator command).

    python -m warung_ops.signing_keys ensure [--stage local|dev|prod] [--region R]
    python -m warung_ops.signing_keys rotate [--stage local|dev|prod] [--region R] [--force]
    python -m warung_ops.signing_keys show   [--stage local|dev|prod] [--region R]

Where the keys live (this command creates both, the stack does not own them: see
docs/decisions/0012; `ensure`, which `make deploy` runs, makes a stage's first key):

- the **private key** that signs, in the Secrets Manager secret
  ``warung/<stage>/jwt-signing-key``: ``{"kid": "<kid>", "private_key_pem": "<PKCS#8 PEM>"}``
  (``{"kid": null}`` until the first rotation). Only the auth function may read it.
- the **public keys** that verify, in the SSM String parameter ``/warung/<stage>/jwks``: a
  JWK Set ``{"keys": [<newest>, <previous>]}`` that every function reads and
  ``GET /.well-known/jwks.json`` serves.

Keys are EC P-256 (ES256); a key's ``kid`` is its RFC 7638 thumbprint. Each public JWK
carries one extra member, ``"iat"``: when the key was created (epoch seconds). JWK consumers
ignore members they do not know (RFC 7517 §4); this command uses it to refuse a rotation
that would drop a key whose tokens may still be alive.

A rotation publishes the new public key first and only then makes it the signing key, so a
token is never signed by a key that the JWK Set does not hold yet. The set keeps the new
key and the one it replaces; older keys are dropped.

``--stage local`` talks to the running ``make dev``'s emulation, wherever it runs
(``warung_ops.local``; ``--endpoint``, ``AWS_ENDPOINT_URL`` or ``EMULATOR_PORT`` name
another), and says in one line when none runs; ``dev`` and ``prod`` use the
operator's own AWS credentials and region (``--region``, else ``AWS_REGION``, else
ap-southeast-1). No private material is ever printed.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STAGES = ("local", "dev", "prod")
DEFAULT_REGION = "ap-southeast-1"

ACCESS_TOKEN_MAX_TTL_S = 15 * 60  # docs/product.md: at most 15 minutes
SIGNING_SECRET_CACHE_S = 5 * 60  # how long a function may keep signing with a replaced key
CLOCK_LEEWAY_S = 30  # what warung.tokens tolerates on exp
# A key that was replaced may still sign for SIGNING_SECRET_CACHE_S (cached secret), and its
# last tokens live ACCESS_TOKEN_MAX_TTL_S more: it must stay in the JWK Set that long, so the
# key after it may not be replaced (which drops it) before then.
MIN_ROTATION_INTERVAL_S = SIGNING_SECRET_CACHE_S + ACCESS_TOKEN_MAX_TTL_S + CLOCK_LEEWAY_S

# RFC 7638 §3.2: the members a thumbprint covers, per key type.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


class RotationTooSoon(Exception):
    """The current key is too young to be replaced without cutting live tokens off."""


def secret_name(stage: str) -> str:
    """The Secrets Manager secret holding a stage's private signing key."""
    return f"warung/{stage}/jwt-signing-key"


def parameter_name(stage: str) -> str:
    """The SSM parameter holding a stage's public keys (JWK Set)."""
    return f"/warung/{stage}/jwks"


# ------------------------------------------------------------------ keys


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) of a public JWK: its ``kid``."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise ValueError(f"no thumbprint rule for key type {jwk.get('kty')!r}")
    canonical = json.dumps(
        {name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def generate_key() -> tuple[str, str, dict[str, Any]]:
    """A new EC P-256 signing key: ``(kid, private key as PKCS#8 PEM, public JWK)``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private_key = ec.generate_private_key(ec.SECP256R1())
    numbers = private_key.public_key().public_numbers()
    jwk: dict[str, Any] = {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }
    kid = jwk_thumbprint(jwk)
    jwk.update({"kid": kid, "use": "sig", "alg": "ES256"})
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return kid, pem, jwk


# ------------------------------------------------------------------ stores


@dataclass(frozen=True)
class KeyState:
    """What the two stores hold: the signing key's kid (None before the first rotation)
    and the public JWKs, newest first."""

    signing_kid: str | None
    keys: list[dict[str, Any]]

    def key(self, kid: str | None) -> dict[str, Any] | None:
        """The public JWK with this kid, if the set holds it."""
        return next((k for k in self.keys if kid is not None and k.get("kid") == kid), None)


def read_state(secrets_client: Any, ssm_client: Any, secret_id: str, parameter: str) -> KeyState:
    """Read the signing key's kid and the JWK Set (the private key is read, never kept)."""
    secret = json.loads(secrets_client.get_secret_value(SecretId=secret_id)["SecretString"])
    jwks = json.loads(ssm_client.get_parameter(Name=parameter)["Parameter"]["Value"])
    kid = secret.get("kid") if isinstance(secret, dict) else None
    keys = [k for k in (jwks.get("keys") or []) if isinstance(k, dict)]
    return KeyState(signing_kid=str(kid) if kid else None, keys=keys)


def ensure_stores(
    secrets_client: Any, ssm_client: Any, secret_id: str, parameter: str
) -> list[str]:
    """Create the secret and the parameter where they do not exist yet (empty: no key, no
    published key); the names of those created. Never touches existing ones: the stack does
    not own them, so that no stack update can write them back (docs/decisions/0012)."""
    created = []
    try:
        secrets_client.describe_secret(SecretId=secret_id)
    except secrets_client.exceptions.ResourceNotFoundException:
        secrets_client.create_secret(
            Name=secret_id,
            Description="Current ES256 private key of access tokens (make rotate-signing-key).",
            SecretString=json.dumps({"kid": None}),
        )
        created.append(secret_id)
    try:
        ssm_client.get_parameter(Name=parameter)
    except ssm_client.exceptions.ParameterNotFound:
        ssm_client.put_parameter(
            Name=parameter,
            Description="Public keys of access tokens, newest first (make rotate-signing-key).",
            Value=json.dumps({"keys": []}),
            Type="String",
        )
        created.append(parameter)
    return created


def ensure(
    secrets_client: Any, ssm_client: Any, secret_id: str, parameter: str, *, now: int
) -> str | None:
    """A stage's first signing key, made with its secret and parameter when they are missing;
    the new kid, or ``None`` when the stage already signs (then nothing is written)."""
    ensure_stores(secrets_client, ssm_client, secret_id, parameter)
    if read_state(secrets_client, ssm_client, secret_id, parameter).signing_kid is not None:
        return None
    return rotate(secrets_client, ssm_client, secret_id, parameter, now=now)


def rotate(
    secrets_client: Any,
    ssm_client: Any,
    secret_id: str,
    parameter: str,
    *,
    now: int,
    force: bool = False,
) -> str:
    """Make a new key the signing key; the JWK Set keeps it and the key it replaces.

    Refuses (``RotationTooSoon``) to drop a key while the current key, which replaced it, is
    younger than ``MIN_ROTATION_INTERVAL_S``: tokens of the dropped key may still be alive.
    (A set holding the current key only drops nothing.) ``force`` overrides, e.g. after a
    leaked key. Returns the new kid.
    """
    state = read_state(secrets_client, ssm_client, secret_id, parameter)
    current = state.key(state.signing_kid)
    dropped = [key for key in state.keys if key is not current]
    if current is not None and dropped and not force:
        created = current.get("iat")
        if isinstance(created, int) and now - created < MIN_ROTATION_INTERVAL_S:
            wait = MIN_ROTATION_INTERVAL_S - (now - created)
            raise RotationTooSoon(
                f"the signing key {current['kid']} was created {now - created} s ago; "
                f"rotating now would drop the key before it while tokens it signed may "
                f"still be valid. Try again in {wait} s, or pass --force (e.g. for a "
                f"leaked key; the tokens of the dropped key stop working at once)."
            )
    kid, private_pem, public_jwk = generate_key()
    public_jwk["iat"] = now
    keys = [public_jwk] if current is None else [public_jwk, current]
    # Publish first, then sign with it: no token may name a kid the set does not hold.
    ssm_client.put_parameter(
        Name=parameter,
        Value=json.dumps({"keys": keys}, separators=(",", ":")),
        Type="String",
        Overwrite=True,
    )
    secrets_client.put_secret_value(
        SecretId=secret_id,
        SecretString=json.dumps({"kid": kid, "private_key_pem": private_pem}),
    )
    return kid


def describe(state: KeyState, *, now: int) -> list[str]:
    """Lines for ``show``: each public key, its age, and which one signs."""
    if not state.keys:
        return ["no keys yet: run `rotate` once"]
    lines = []
    for key in state.keys:
        created = key.get("iat")
        when = (
            dt.datetime.fromtimestamp(created, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            + f" ({(now - created) // 60} min ago)"
            if isinstance(created, int)
            else "creation time unknown"
        )
        role = "signs" if key.get("kid") == state.signing_kid else "verifies only"
        lines.append(f"{key.get('kid')}  {role:<13}  created {when}")
    if state.signing_kid and state.key(state.signing_kid) is None:
        lines.append(f"WARNING: the signing key {state.signing_kid} is not in the JWK Set")
    return lines


# ------------------------------------------------------------------ command


def _clients(stage: str, region: str | None, endpoint: str | None) -> tuple[Any, Any]:
    if stage == "local":
        from warung_local.emulation import aws_client
        from warung_ops.local import local_endpoint

        found = local_endpoint(endpoint or os.environ.get("AWS_ENDPOINT_URL"))
        return aws_client("secretsmanager", found), aws_client("ssm", found)
    import boto3

    session = boto3.session.Session(
        region_name=region or os.environ.get("AWS_REGION") or DEFAULT_REGION
    )
    return session.client("secretsmanager"), session.client("ssm")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m warung_ops.signing_keys",
        description="Access-token signing keys of a Warung stage.",
    )
    parser.add_argument("command", choices=("ensure", "rotate", "show"))
    parser.add_argument("--stage", choices=STAGES, default="local")
    parser.add_argument("--region", default=None, help="AWS region (dev and prod)")
    parser.add_argument(
        "--endpoint",
        help="local emulation URL (default: AWS_ENDPOINT_URL, EMULATOR_PORT, else the running "
        "make dev's)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help=f"rotate even if the current key is younger than {MIN_ROTATION_INTERVAL_S} s",
    )
    args = parser.parse_args(argv)

    from warung_local.local_data import NoLocalRuntime

    try:
        secrets_client, ssm_client = _clients(args.stage, args.region, args.endpoint)
    except NoLocalRuntime as exc:
        print(exc, file=sys.stderr)
        return 2
    secret_id, parameter = secret_name(args.stage), parameter_name(args.stage)
    now = int(time.time())
    if args.command == "ensure":
        kid = ensure(secrets_client, ssm_client, secret_id, parameter, now=now)
        if kid is None:
            print(f"signing key present ({args.stage}): nothing to do")
        else:
            print(f"first signing key {kid} ({args.stage})")
        return 0
    if args.command == "show":
        state = read_state(secrets_client, ssm_client, secret_id, parameter)
        print(f"{parameter} ({args.stage}):")
        for line in describe(state, now=now):
            print(f"  {line}")
        return 0
    ensure_stores(secrets_client, ssm_client, secret_id, parameter)
    try:
        kid = rotate(secrets_client, ssm_client, secret_id, parameter, now=now, force=args.force)
    except RotationTooSoon as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"new signing key {kid} ({args.stage})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
