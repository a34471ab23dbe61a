"""Signing keys in the emulation: rotation, tokens through the layer's botocore reader,
the local seeder and the operator command.

The secret and the parameter are created as the template creates them (no key, an empty
JWK Set), under names of their own: moto's state is shared by the whole test session.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from support.stacks import clear_parameter_caches
from warung_demo.seeders import signing_key as seed_signing_key
from warung_ops import signing_keys

from warung import clients, tokens
from warung.errors import InvalidToken
from warung.settings import get_settings
from warung_local.emulation import aws_client
from warung_local.template import Template, parameter_values, parse_template_text

NOW = 1_800_000_000


@dataclass(frozen=True)
class KeyStores:
    """A signing secret and a JWK Set parameter in the emulation, and clients for them."""

    endpoint_url: str
    secret_arn: str
    parameter: str
    secrets: Any
    ssm: Any

    def rotate(self, *, now: int, force: bool = False) -> str:
        return signing_keys.rotate(
            self.secrets, self.ssm, self.secret_arn, self.parameter, now=now, force=force
        )

    def secret(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(
            self.secrets.get_secret_value(SecretId=self.secret_arn)["SecretString"]
        )
        return value

    def jwks(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(
            self.ssm.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        )
        return value


def private_key(pem: str) -> EllipticCurvePrivateKey:
    """A signing key from its PEM (signing keys are EC P-256)."""
    key = serialization.load_pem_private_key(pem.encode(), None)
    assert isinstance(key, EllipticCurvePrivateKey)
    return key


class _Stack(Protocol):
    """The part of the integration conftest's `app_stack` used here."""

    endpoint_url: str


@pytest.fixture
def stores(app_stack: _Stack) -> KeyStores:
    stage = f"it{uuid.uuid4().hex[:10]}"
    secrets = aws_client("secretsmanager", app_stack.endpoint_url)
    ssm = aws_client("ssm", app_stack.endpoint_url)
    arn = secrets.create_secret(
        Name=signing_keys.secret_name(stage), SecretString=json.dumps({"kid": None})
    )["ARN"]
    parameter = signing_keys.parameter_name(stage)
    ssm.put_parameter(Name=parameter, Value=json.dumps({"keys": []}), Type="String")
    return KeyStores(app_stack.endpoint_url, arn, parameter, secrets, ssm)


@pytest.fixture
def function_env(stores: KeyStores, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyStores]:
    """The environment of the auth function, pointed at the emulation."""
    for name, value in {
        "STAGE": "local",
        "JWT_SIGNING_SECRET_ID": stores.secret_arn,
        "JWKS_PARAMETER_NAME": stores.parameter,
        "AWS_ENDPOINT_URL": stores.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "ap-southeast-1",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)

    def reset() -> None:
        get_settings.cache_clear()
        tokens.clear_caches()
        clear_parameter_caches()
        clients.aws_client.cache_clear()  # made with the environment of their day

    reset()
    yield stores
    reset()


def test_rotating_twice_keeps_newest_then_previous(stores: KeyStores) -> None:
    # given: the stores as the template creates them

    # when: two rotations, far enough apart
    first = stores.rotate(now=NOW)
    second = stores.rotate(now=NOW + signing_keys.MIN_ROTATION_INTERVAL_S)

    # then: the JWK Set lists the newest key, then the previous one
    jwks = stores.jwks()
    assert [key["kid"] for key in jwks["keys"]] == [second, first]
    assert all(
        set(key) == {"kty", "crv", "x", "y", "kid", "use", "alg", "iat"} for key in jwks["keys"]
    )

    # and: the secret holds the newest private key only, matching the first public key
    secret = stores.secret()
    assert set(secret) == {"kid", "private_key_pem"}
    assert secret["kid"] == second
    private = private_key(secret["private_key_pem"])
    public = jwt.PyJWK(jwks["keys"][0]).key
    assert private.public_key().public_numbers() == public.public_numbers()


def test_a_third_rotation_drops_the_oldest_and_too_soon_is_refused(stores: KeyStores) -> None:
    interval = signing_keys.MIN_ROTATION_INTERVAL_S
    first = stores.rotate(now=NOW)
    second = stores.rotate(now=NOW + interval)

    with pytest.raises(signing_keys.RotationTooSoon):
        stores.rotate(now=NOW + interval + 60)
    third = stores.rotate(now=NOW + interval + 60, force=True)

    assert [key["kid"] for key in stores.jwks()["keys"]] == [third, second]
    assert first not in json.dumps(stores.jwks())


def test_tokens_through_the_layers_reader_against_the_emulation(
    function_env: KeyStores,
) -> None:
    # given: a signing key
    kid = function_env.rotate(now=NOW)

    # when: the auth function issues a token and another function verifies it
    token, expires_in = tokens.issue_access_token("usr_1", "ses_1")
    claims = tokens.verify_access_token(token)

    # then: it round-trips, signed by the key of the secret
    assert (claims.sub, claims.sid, expires_in) == ("usr_1", "ses_1", 900)
    assert jwt.get_unverified_header(token)["kid"] == kid
    served = tokens.jwks_document()["keys"]
    assert [key["kid"] for key in served] == [kid]
    assert served[0].items() <= function_env.jwks()["keys"][0].items()
    # and: the layer's botocore clients went to the emulation (AWS_ENDPOINT_URL), not to AWS
    for service in ("secretsmanager", "ssm"):
        assert clients.aws_client(service).meta.endpoint_url == function_env.endpoint_url


def test_a_verifier_picks_up_a_rotation_before_its_cache_expires(function_env: KeyStores) -> None:
    # given: a verifier that has cached the JWK Set with the first key only
    function_env.rotate(now=NOW)
    old_token, _ = tokens.issue_access_token("usr_1", "ses_1")
    tokens.verify_access_token(old_token)

    # when: the key rotates, and a signer with a fresh cache signs with the new key
    new_kid = function_env.rotate(now=NOW + signing_keys.MIN_ROTATION_INTERVAL_S)
    new_token = jwt.encode(
        jwt.decode(old_token, options={"verify_signature": False}),
        private_key(function_env.secret()["private_key_pem"]),
        algorithm="ES256",
        headers={"typ": "at+jwt", "kid": new_kid},
    )

    # then: the new kid makes the verifier fetch the set again; both tokens verify
    assert tokens.verify_access_token(new_token).sub == "usr_1"
    assert tokens.verify_access_token(old_token).sub == "usr_1"


def test_a_kid_that_is_in_no_set_is_refused(function_env: KeyStores) -> None:
    function_env.rotate(now=NOW)
    stranger_kid, stranger_pem, _ = signing_keys.generate_key()
    token = jwt.encode(
        {"sub": "usr_1"},
        private_key(stranger_pem),
        algorithm="ES256",
        headers={"typ": "at+jwt", "kid": stranger_kid},
    )

    with pytest.raises(InvalidToken, match="signing key is unknown"):
        tokens.verify_access_token(token)


# ---------------------------------------------------------------- the local runtime's seeder

# The stack owns no key (docs/decisions/0012): the seeder, like `make deploy`, makes the
# stage's stores and its first key by their conventional names.
SEEDED_TEMPLATE = """
Parameters:
  Stage: {Type: String}
Resources: {}
"""


def _seeded_template() -> Template:
    document = parse_template_text(SEEDED_TEMPLATE)
    stage = f"it{uuid.uuid4().hex[:10]}"
    return Template(document, Path.cwd(), parameter_values(document, {"Stage": stage}))


def test_the_seeder_creates_one_key_only_when_there_is_none(app_stack: _Stack) -> None:
    # given: a stage with neither the secret nor the JWK Set yet
    template = _seeded_template()
    stage = str(template.parameters["Stage"])

    # when: the local runtime starts twice
    first = seed_signing_key(template, app_stack.endpoint_url)
    second = seed_signing_key(template, app_stack.endpoint_url)

    # then: the stage's stores hold one key, created and reported once
    state = signing_keys.read_state(
        aws_client("secretsmanager", app_stack.endpoint_url),
        aws_client("ssm", app_stack.endpoint_url),
        signing_keys.secret_name(stage),
        signing_keys.parameter_name(stage),
    )
    assert state.signing_kid is not None
    assert first == [f"signing key {state.signing_kid} created"]
    assert second == []
    assert [key["kid"] for key in state.keys] == [state.signing_kid]


def test_the_seeder_leaves_a_rotated_key_alone(app_stack: _Stack) -> None:
    template = _seeded_template()
    stage = str(template.parameters["Stage"])
    secrets = aws_client("secretsmanager", app_stack.endpoint_url)
    ssm = aws_client("ssm", app_stack.endpoint_url)
    seed_signing_key(template, app_stack.endpoint_url)
    rotated = signing_keys.rotate(
        secrets, ssm, signing_keys.secret_name(stage), signing_keys.parameter_name(stage), now=NOW
    )

    assert seed_signing_key(template, app_stack.endpoint_url) == []
    state = signing_keys.read_state(
        secrets, ssm, signing_keys.secret_name(stage), signing_keys.parameter_name(stage)
    )
    assert state.signing_kid == rotated


# ---------------------------------------------------------------- the operator command


def test_the_command_rotates_refuses_too_soon_and_shows(
    stores: KeyStores, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: `--stage local` pointed at the emulation, with this test's names
    monkeypatch.setenv("AWS_ENDPOINT_URL", stores.endpoint_url)
    monkeypatch.setattr(signing_keys, "secret_name", lambda _stage: stores.secret_arn)
    monkeypatch.setattr(signing_keys, "parameter_name", lambda _stage: stores.parameter)

    # when / then: the first rotation prints the new kid, never private material
    assert signing_keys.main(["rotate", "--stage", "local"]) == 0
    first = stores.secret()["kid"]
    out = capsys.readouterr()
    assert first in out.out
    assert "PRIVATE" not in out.out + out.err

    # and: a second rotation drops nothing and may follow at once; a third, dropping the
    # first key while its tokens may live, is refused unless forced
    assert signing_keys.main(["rotate"]) == 0
    assert signing_keys.main(["rotate"]) == 2
    assert "--force" in capsys.readouterr().err
    assert signing_keys.main(["rotate", "--force"]) == 0
    previous, current = (key["kid"] for key in stores.jwks()["keys"][::-1])
    assert first not in (previous, current)
    capsys.readouterr()

    # and: show lists both keys and which one signs
    assert signing_keys.main(["show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(current in line and " signs" in line for line in lines)
    assert any(previous in line and "verifies only" in line for line in lines)
