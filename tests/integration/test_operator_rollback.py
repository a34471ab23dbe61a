"""`make rollback`: every released function of the stage goes back to its previous version,
for all traffic at once (the emulation's Lambda holds the versions and aliases)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from warung_ops import rollback

REGION = "ap-southeast-1"


def code(version: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", f"def handler(event, context):\n    return {version}\n")
    return buffer.getvalue()


@pytest.fixture
def lambda_client(app_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # The command makes its own client: the environment points it at the emulation.
    monkeypatch.setenv("AWS_ENDPOINT_URL", app_stack.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName=f"rollback-test-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]
    client = boto3.client("lambda", region_name=REGION)
    names = [f"warung-prod-{short}" for short in ("auth", "catalog")]
    for name in names:
        client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role["Arn"],
            Handler="app.handler",
            Code={"ZipFile": code(1)},
        )
        for release in (1, 2, 3):
            client.update_function_code(FunctionName=name, ZipFile=code(release))
            client.publish_version(FunctionName=name)
        client.create_alias(FunctionName=name, Name="live", FunctionVersion="3")
    yield client
    for name in names:
        client.delete_function(FunctionName=name)
    iam.delete_role(RoleName=role["RoleName"])


def live(client: Any, short: str) -> str:
    alias = client.get_alias(FunctionName=f"warung-prod-{short}", Name="live")
    return str(alias["FunctionVersion"])


def test_one_function_goes_back_one_version_and_the_others_stay(
    lambda_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rollback.main(["--stage", "prod", "--function", "auth", "--region", REGION]) == 0
    assert (live(lambda_client, "auth"), live(lambda_client, "catalog")) == ("2", "3")
    assert capsys.readouterr().out == "warung-prod-auth: live moved from 3 to 2\n"


def test_a_dry_run_says_what_would_move_and_moves_nothing(
    lambda_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = rollback.plan(lambda_client, ["warung-prod-auth", "warung-prod-catalog"])
    assert [(s.current, s.previous) for s in steps] == [("3", "2"), ("3", "2")]
    rollback.main(["--stage", "prod", "--function", "catalog", "--region", REGION, "--dry-run"])
    assert live(lambda_client, "catalog") == "3"
    assert "would move from 3 to 2" in capsys.readouterr().out


def test_the_first_version_has_nowhere_to_go(lambda_client: Any) -> None:
    lambda_client.update_alias(FunctionName="warung-prod-auth", Name="live", FunctionVersion="1")
    (step,) = rollback.plan(lambda_client, ["warung-prod-auth"])
    assert step.previous is None
    assert rollback.main(["--stage", "prod", "--function", "auth", "--region", REGION]) == 1
    assert live(lambda_client, "auth") == "1"


def test_an_unknown_stage_stack_is_one_line_not_a_traceback(
    lambda_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rollback.main(["--stage", "dev", "--function", "auth", "--region", REGION]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rollback: cannot read the aliases of warung-dev:")
    assert len(err.strip().splitlines()) == 1
