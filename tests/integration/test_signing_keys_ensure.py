"""`make deploy` ends with `signing_keys ensure`: a new stage gets its key stores and its
first signing key at once, and a stage that already signs is left exactly as it is."""

from __future__ import annotations

import json
import uuid
from typing import Any

from warung_ops import signing_keys

from warung_local.emulation import aws_client


def stores(app_stack: Any) -> tuple[Any, Any, str, str]:
    stage = f"ensure{uuid.uuid4().hex[:8]}"
    return (
        aws_client("secretsmanager", app_stack.endpoint_url),
        aws_client("ssm", app_stack.endpoint_url),
        signing_keys.secret_name(stage),
        signing_keys.parameter_name(stage),
    )


def test_a_new_stage_gets_its_stores_and_a_published_signing_key(app_stack: Any) -> None:
    secrets, ssm, secret_id, parameter = stores(app_stack)

    kid = signing_keys.ensure(secrets, ssm, secret_id, parameter, now=1_800_000_000)

    state = signing_keys.read_state(secrets, ssm, secret_id, parameter)
    assert kid is not None
    assert state.signing_kid == kid
    assert [key["kid"] for key in state.keys] == [kid]  # published before it signs


def test_a_stage_that_signs_is_left_untouched(app_stack: Any) -> None:
    secrets, ssm, secret_id, parameter = stores(app_stack)
    first = signing_keys.ensure(secrets, ssm, secret_id, parameter, now=1_800_000_000)
    rotated = signing_keys.rotate(secrets, ssm, secret_id, parameter, now=1_800_002_000)
    before = (
        secrets.get_secret_value(SecretId=secret_id)["VersionId"],
        ssm.get_parameter(Name=parameter)["Parameter"]["Version"],
    )

    again = signing_keys.ensure(secrets, ssm, secret_id, parameter, now=1_800_003_000)

    after = (
        secrets.get_secret_value(SecretId=secret_id)["VersionId"],
        ssm.get_parameter(Name=parameter)["Parameter"]["Version"],
    )
    assert again is None
    assert after == before  # nothing written
    keys = json.loads(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])["keys"]
    assert [key["kid"] for key in keys] == [rotated, first]


def test_the_command_says_what_it_did_in_one_line(
    app_stack: Any, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", app_stack.endpoint_url)
    stage = "local"
    secrets, ssm = (
        aws_client("secretsmanager", app_stack.endpoint_url),
        aws_client("ssm", app_stack.endpoint_url),
    )
    signing_keys.ensure(
        secrets, ssm, signing_keys.secret_name(stage), signing_keys.parameter_name(stage), now=1
    )
    assert signing_keys.main(["ensure", "--stage", stage]) == 0
    assert capsys.readouterr().out == "signing key present (local): nothing to do\n"
