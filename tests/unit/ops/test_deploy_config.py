"""`make deploy` refuses a prod that is half set, and passes the release to the stack."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from deploy_config import overrides_of, problems

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
COMPLETE = {
    "Stage": "prod",
    "PublicAppUrl": "https://app.warung.id",
    "CorsAllowOrigin": "https://app.warung.id",
    "TokenIssuer": "https://api.warung.id",
    "MailFrom": "no-reply@warung.id",
    "AlarmEmail": "oncall@warung.id",
}


def test_the_shipped_prod_section_is_refused_naming_every_value_to_fill_in() -> None:
    found = problems("prod", overrides_of(SHIPPED, "prod"))
    named = {problem.split(":", 1)[0] for problem in found}
    assert named == {
        "PublicAppUrl",
        "MailFrom",
        "TokenIssuer",
        "CorsAllowOrigin",
        "AlarmEmail or AlarmTopicArn",
        "CdnWebAclArn",
    }


def test_a_complete_prod_passes_and_dev_needs_nothing() -> None:
    assert problems("prod", COMPLETE) == []
    assert problems("dev", overrides_of(SHIPPED, "dev")) == []


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("PublicAppUrl", "http://app.warung.id", "https"),
        ("TokenIssuer", "api.warung.id", "https"),
        ("PublicAppUrl", "https://localhost:5173", "local address"),
        ("CorsAllowOrigin", "http://localhost:5173", "local address"),
        ("MailFrom", "", "set"),
    ],
)
def test_a_wrong_prod_value_is_named_with_its_reason(name: str, value: str, reason: str) -> None:
    (problem,) = problems("prod", {**COMPLETE, name: value})
    assert problem.startswith(f"{name}:")
    assert reason in problem


def test_cloudfront_with_waf_needs_the_edge_web_acl_and_without_waf_does_not() -> None:
    behind_cloudfront = {**COMPLETE, "EnableCdn": "true", "EnableWaf": "true"}
    (problem,) = problems("prod", behind_cloudfront)
    assert problem.startswith("CdnWebAclArn:")
    assert "bootstrap-edge" in problem
    edge_acl = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/warung-edge/abc"
    assert problems("prod", {**behind_cloudfront, "CdnWebAclArn": edge_acl}) == []
    assert problems("prod", {**behind_cloudfront, "EnableWaf": "false"}) == []


def test_an_existing_alarm_topic_stands_for_the_alarm_email() -> None:
    without_email = {k: v for k, v in COMPLETE.items() if k != "AlarmEmail"}
    assert problems("prod", without_email) == [
        "AlarmEmail or AlarmTopicArn: set where alarms go (an on-call address)"
    ]
    topic = "arn:aws:sns:ap-southeast-1:123456789012:oncall"
    assert problems("prod", {**without_email, "AlarmTopicArn": topic}) == []


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "deploy_config.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_command_stops_a_half_set_prod_with_one_line_per_value() -> None:
    result = run("check", "prod")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 7  # six values to fill in, then what happened
    assert lines[-1].startswith("Nothing was deployed.")
    assert all(line.startswith("make deploy ENV=prod: ") for line in lines[:-1])
    assert run("check", "dev").returncode == 0


def test_the_release_is_added_to_the_stage_overrides_not_instead_of_them() -> None:
    result = run("overrides", "dev", "--app-version", "0123abcd4567")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "AppVersion=0123abcd4567" in lines
    assert "Stage=dev" in lines
    assert "PaymentProvider=simulator" in lines


def test_make_deploy_checks_before_it_builds() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ndeploy:", 1)[1].split("\n\n", 1)[0].split("\n", 1)[1]
    check, build, deploy = (
        recipe.index(s)
        for s in ("deploy_config.py check", "no-print-directory build", "deploy --config-env")
    )
    assert check < build < deploy
    assert "--app-version $$(git rev-parse" in recipe
    # A first deploy is usable at once: the stage's first signing key follows the deploy.
    assert recipe.index("signing_keys ensure --stage $(ENV)") > deploy


def test_the_pipelines_deploy_also_makes_the_first_signing_key() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ndeploy-packaged:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("deploy_config.py check") < recipe.index("deploy --config-env")
    assert recipe.index("deploy --config-env") < recipe.index("signing_keys ensure --stage $(ENV)")
