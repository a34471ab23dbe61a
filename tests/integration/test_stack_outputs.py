"""`make api-url` (warung_ops.stack_outputs): the stage's stack found by samconfig.toml's
names, its output printed alone, and a clear error when it is not there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from warung_ops import stack_outputs

DEV_URL = "https://abc123.execute-api.ap-southeast-1.amazonaws.com/dev"


@pytest.fixture
def aws(app_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """CloudFormation of the session's emulation (the command makes its own client: the
    environment points it there); the stacks a test made are deleted after it."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", app_stack.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield
    cloudformation = boto3.client("cloudformation", region_name="ap-southeast-1")
    for name in ("warung-dev", "warung-prod"):
        cloudformation.delete_stack(StackName=name)


def deploy_stack(name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation = boto3.client("cloudformation", region_name="ap-southeast-1")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_stack_names_and_region_are_samconfigs() -> None:
    assert stack_outputs.deploy_settings("dev") == ("warung-dev", "ap-southeast-1")
    assert stack_outputs.deploy_settings("prod") == ("warung-prod", "ap-southeast-1")


@pytest.mark.usefixtures("aws")
def test_api_url_prints_the_dev_stacks_output_alone(capsys: pytest.CaptureFixture[str]) -> None:
    deploy_stack("warung-dev", {"ApiUrl": DEV_URL, "MainTableName": "warung-dev-main"})
    deploy_stack("warung-prod", {"ApiUrl": "https://prod.example/prod"})

    assert stack_outputs.main(["ApiUrl", "--env", "dev"]) == 0

    assert capsys.readouterr().out == f"{DEV_URL}\n"


@pytest.mark.usefixtures("aws")
def test_a_missing_output_names_the_outputs_there(capsys: pytest.CaptureFixture[str]) -> None:
    deploy_stack("warung-dev", {"MainTableName": "warung-dev-main"})

    assert stack_outputs.main(["ApiUrl", "--env", "dev"]) == 1

    assert "warung-dev has no output ApiUrl (it has: MainTableName)" in capsys.readouterr().err


@pytest.mark.usefixtures("aws")
def test_a_stage_not_deployed_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert stack_outputs.main(["ApiUrl", "--env", "prod"]) == 1

    assert "stack warung-prod (ap-southeast-1)" in capsys.readouterr().err
