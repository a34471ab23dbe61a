"""What a cold start imports (docs/decisions/0023-first-request-imports.md).

One policy for every function: no boto3 on a request path (botocore clients from the layer,
the JWK Set and secrets through ``warung.secrets``), except where Powertools idempotency
needs it; and nothing the function does not use (asyncio through Powertools' AppSync
resolvers). Each check runs in a fresh interpreter, as a new execution environment: the
test process itself has imported everything long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from warung_ops import signing_keys

from warung import jws
from warung_local.template import FunctionSpec, load_template

ROOT = Path(__file__).resolve().parents[3]
LAYER = ROOT / "layers" / "common"

# Powertools idempotency imports boto3 (its DynamoDB persistence layer), so these may: the
# worker runs every job under it; orders only on checkout (functions/orders/idempotency.py
# imports it on the first checkout, not at cold start).
IDEMPOTENCY_AT_IMPORT = {"WorkerFunction"}
# Powertools' batch processor imports asyncio itself (it offers async record handlers): the
# queue and stream consumers, none of them behind the API, keep it.
BATCH_PROCESSORS = {
    "AuditArchiveFunction",
    "OutboxRelayFunction",
    "PaymentRefundsFunction",
    "WorkerFunction",
}

FUNCTIONS = load_template(ROOT / "template.yaml", {"Stage": "local"}).functions


def _fresh_process(spec: FunctionSpec, code: str) -> Any:
    """Run ``code`` in a new interpreter laid out as the function's Lambda environment:
    its package alone, then the layer, with the function's own environment variables."""
    env = {
        **spec.environment,
        "AWS_REGION": "ap-southeast-1",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing is sent: a call would fail
        "PATH": os.environ.get("PATH", ""),
    }
    result = subprocess.run(
        [sys.executable, "-I", "-c", code, str(spec.import_root), str(LAYER)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # what the code printed last


IMPORT_HANDLER = textwrap.dedent(
    """
    import importlib, json, sys
    sys.path[0:0] = sys.argv[1:]
    module_name, _, attribute = {handler!r}.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    assert callable(handler)
    watched = ("boto3", "s3transfer", "asyncio", "botocore.docs",
               "aws_lambda_powertools.utilities.parameters")
    print(json.dumps(sorted(name for name in watched if name in sys.modules)))
    """
)


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_a_cold_start_imports_neither_boto3_nor_asyncio(logical_id: str) -> None:
    spec = FUNCTIONS[logical_id]

    imported = _fresh_process(spec, IMPORT_HANDLER.format(handler=spec.handler))

    expected: set[str] = set()
    if logical_id in IDEMPOTENCY_AT_IMPORT:
        expected |= {"boto3", "s3transfer", "botocore.docs"}
    if logical_id in BATCH_PROCESSORS:
        expected |= {"asyncio"}
    assert set(imported) == expected


# Event classes of AWS services no function here reads: Powertools' data classes package
# imports them all unless it is loaded lazily (docs/decisions/0033-build-on-first-use.md).
UNREAD_EVENT_CLASSES = (
    "code_pipeline_job_event",
    "cloud_watch_alarm_event",
    "connect_contact_flow_event",
    "ses_event",
)
DATA_CLASSES = "aws_lambda_powertools.utilities.data_classes"

COLD_START_STATE = textwrap.dedent(
    """
    import importlib, json, sys
    sys.path[0:0] = sys.argv[1:]
    module_name, _, attribute = {handler!r}.rpartition(".")
    importlib.import_module(module_name)
    from pydantic import BaseModel

    # Request and response bodies: the function's own models and the layer's shared ones.
    bodies = (module_name.split(".")[0] + ".models", "warung.models", "warung.jobs",
              "warung.ordering.payments")
    models, pending = [], [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            generic = model.__pydantic_generic_metadata__["parameters"]  # Page[T]: never used
            if model.__module__.startswith(bodies) and not generic:
                models.append(model)
    loader = sys.modules.get("pydantic.plugin._loader")
    print(json.dumps({{
        "plugin_scan": getattr(loader, "_plugins", None) is not None,
        "body_models": len(models),
        "built": sorted(m.__qualname__ for m in models if m.__pydantic_complete__),
        "event_classes": sorted(
            name for name in {unread!r} if {data_classes!r} + "." + name in sys.modules
        ),
    }}))
    """
)


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_a_cold_start_builds_no_body_model_and_imports_no_unread_event_class(
    logical_id: str,
) -> None:
    spec = FUNCTIONS[logical_id]
    code = COLD_START_STATE.format(
        handler=spec.handler, unread=UNREAD_EVENT_CLASSES, data_classes=DATA_CLASSES
    )

    found = _fresh_process(spec, code)

    # Each route's models are built by its first request, not every route's at import
    assert found["built"] == []
    # and only the event classes a function reads are imported (none of these)
    assert found["event_classes"] == []
    # and nothing read the installed packages' metadata looking for pydantic plugins
    assert found["plugin_scan"] is False
    if (ROOT / "functions" / spec.handler.split(".")[0] / "models").exists() or (
        ROOT / "functions" / spec.handler.split(".")[0] / "models.py"
    ).exists():
        assert found["body_models"] > 0  # the check saw the function's models


# The first signed-in request reads the JWK Set; a sign-in reads the signing secret. Both
# go through the layer's botocore clients: stubbed here (botocore's own Stubber), so that
# the test sees which modules the read imports, not a network.
READ_THE_KEYS = textwrap.dedent(
    """
    import json, sys
    sys.path[0:0] = sys.argv[1:]
    import {package}.app
    from botocore.stub import Stubber
    from warung import secrets, tokens

    ssm, secrets = secrets._ssm_client(), secrets._secrets_client()
    with Stubber(ssm) as ssm_stub, Stubber(secrets) as secrets_stub:
        ssm_stub.add_response(
            "get_parameter",
            {{"Parameter": {{"Name": "jwks", "Type": "String", "Value": '{{"keys": []}}'}}}},
            {{"Name": {jwks_name!r}}},
        )
        secrets_stub.add_response(
            "get_secret_value", {{"SecretString": "{{}}"}}, {{"SecretId": {secret_id!r}}}
        )
        served = tokens.jwks_document()
        try:
            tokens.issue_access_token("usr_1", "ses_1")
        except tokens.SigningKeyUnavailable:
            pass  # the stubbed secret holds no key: read, which is what is checked
        ssm_stub.assert_no_pending_responses()
        secrets_stub.assert_no_pending_responses()
    watched = ("boto3", "s3transfer", "aws_lambda_powertools.utilities.parameters")
    print(json.dumps({{
        "served": served,
        "imported": sorted(name for name in watched if name in sys.modules),
    }}))
    """
)


def test_reading_the_jwk_set_and_the_signing_key_does_not_import_boto3() -> None:
    spec = FUNCTIONS["AuthFunction"]
    jwks_name = spec.environment["JWKS_PARAMETER_NAME"]
    secret_id = spec.environment["JWT_SIGNING_SECRET_ID"]

    found = _fresh_process(
        spec, READ_THE_KEYS.format(package="auth", jwks_name=jwks_name, secret_id=secret_id)
    )

    assert found["served"] == {"keys": []}
    assert found["imported"] == []


# A signed-in request verifies its access token (warung.tokens, on warung.jws): with the
# JWK Set stubbed, a real token is verified in a fresh process of each function that has
# signed-in routes, and what it imported is listed.
VERIFY_A_TOKEN = textwrap.dedent(
    """
    import json, sys
    sys.path[0:0] = sys.argv[1:]
    import {package}.app
    from botocore.stub import Stubber
    from warung import secrets, tokens

    ssm = secrets._ssm_client()
    with Stubber(ssm) as ssm_stub:
        ssm_stub.add_response(
            "get_parameter",
            {{"Parameter": {{"Name": "jwks", "Type": "String", "Value": {jwks!r}}}}},
            {{"Name": {jwks_name!r}}},
        )
        claims = tokens.verify_access_token({token!r}, now={now!r})
        ssm_stub.assert_no_pending_responses()
    watched = ("jwt", "cryptography.x509", "cryptography.hazmat.primitives.serialization.ssh")
    print(json.dumps({{
        "sub": claims.sub,
        "imported": sorted(name for name in watched if name in sys.modules),
    }}))
    """
)
SIGNED_IN_FUNCTIONS = (
    "AuthFunction",
    "CatalogFunction",
    "OrdersFunction",
    "PaymentsFunction",
    "AdminFunction",
)


@pytest.mark.parametrize("logical_id", SIGNED_IN_FUNCTIONS)
def test_verifying_an_access_token_imports_no_jwt_library(logical_id: str) -> None:
    spec = FUNCTIONS[logical_id]
    kid, pem, jwk = signing_keys.generate_key()
    key = load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, EllipticCurvePrivateKey)
    now = 1_800_000_000
    claims = {
        "iss": spec.environment["JWT_ISSUER"],
        "aud": spec.environment["JWT_AUDIENCE"],
        "sub": "usr_1",
        "sid": "ses_1",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": "jti-1",
        "token_use": "access",
    }
    token = jws.sign_es256({"typ": "at+jwt", "kid": kid}, claims, key)
    code = VERIFY_A_TOKEN.format(
        package=spec.handler.split(".")[0],
        jwks=json.dumps({"keys": [jwk]}),
        jwks_name=spec.environment["JWKS_PARAMETER_NAME"],
        token=token,
        now=now,
    )

    found = _fresh_process(spec, code)

    assert found == {"sub": "usr_1", "imported": []}
