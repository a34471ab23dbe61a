"""The GitHub Actions workflows (.github/workflows) do what docs/deploying.md says: the suite on
every pull request and branch; on main one package, deployed to dev, tested there, then the
same package to prod behind the `production` environment, with OIDC roles and least
permissions."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PACKAGED = "packaged.yaml"


def load(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean true.
    return {("on" if key is True else key): value for key, value in document.items()}


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job.get("steps", []) if "run" in step]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses", "").startswith(f"{action}@")]


TEST = load("test.yml")
PIPELINE = load("pipeline.yml")
JOBS: dict[str, dict[str, Any]] = PIPELINE["jobs"]
ALL = {"test.yml": TEST, "pipeline.yml": PIPELINE}


def test_every_workflow_file_parses_with_triggers_and_jobs() -> None:
    files = sorted(p.name for p in WORKFLOWS.iterdir() if p.suffix in (".yml", ".yaml"))
    assert files == sorted(ALL)
    for workflow in ALL.values():
        assert workflow["on"]
        assert workflow["jobs"]


def test_pull_requests_and_other_branches_run_the_ci_entry_point() -> None:
    assert set(TEST["on"]) == {"pull_request", "push"}
    assert TEST["on"]["push"] == {"branches-ignore": ["main"]}
    assert [runs(job) for job in TEST["jobs"].values()] == [[".ci/run"]]


def test_main_runs_the_pipeline_test_then_package_then_dev_then_e2e_then_prod() -> None:
    assert PIPELINE["on"] == {"push": {"branches": ["main"]}}
    assert runs(JOBS["test"]) == [".ci/run"]
    needs = {name: job.get("needs") for name, job in JOBS.items()}
    assert needs == {
        "test": None,
        "package": "test",
        "deploy-dev": "package",
        "e2e-dev": "deploy-dev",
        "deploy-prod": "e2e-dev",
    }


def test_one_job_builds_and_packages_and_uploads_the_packaged_template() -> None:
    building = [name for name, job in JOBS.items() if any("make package" in r for r in runs(job))]
    assert building == ["package"]
    assert runs(JOBS["package"]) == [f"make package PACKAGED={PACKAGED}"]
    [upload] = uses(JOBS["package"], "actions/upload-artifact")
    assert upload["with"]["path"] == PACKAGED
    assert upload["with"]["if-no-files-found"] == "error"


@pytest.mark.parametrize(("job", "env"), [("deploy-dev", "dev"), ("deploy-prod", "prod")])
def test_both_stages_deploy_the_one_packaged_template(job: str, env: str) -> None:
    [upload] = uses(JOBS["package"], "actions/upload-artifact")
    [download] = uses(JOBS[job], "actions/download-artifact")
    assert download["with"]["name"] == upload["with"]["name"]
    deploys = [r for r in runs(JOBS[job]) if "deploy" in r]
    assert deploys == [f"make deploy-packaged ENV={env} PACKAGED={PACKAGED}"]
    assert not [r for r in runs(JOBS[job]) if "build" in r or "make package" in r]


def test_prod_waits_for_approval_in_the_production_environment() -> None:
    assert JOBS["deploy-prod"]["environment"]["name"] == "production"
    assert [name for name, job in JOBS.items() if "environment" in job] == ["deploy-prod"]


def test_the_end_to_end_suite_runs_against_the_deployed_dev_url() -> None:
    assert JOBS["deploy-dev"]["outputs"]["api-url"] == "${{ steps.stack.outputs.api-url }}"
    [step] = [s for s in JOBS["e2e-dev"]["steps"] if "run" in s]
    assert step["run"] == "make e2e"
    assert step["env"]["API_URL"] == "${{ needs.deploy-dev.outputs.api-url }}"
    [stack] = [s for s in JOBS["deploy-dev"]["steps"] if s.get("id") == "stack"]
    assert "make -s api-url ENV=dev" in stack["run"]


def test_deploy_packaged_deploys_without_building_or_a_change_set_prompt() -> None:
    # Prod's samconfig asks people to confirm change sets; the pipeline must not wait for one.
    dry_run = subprocess.run(
        [
            *("make", "-n", "-o", ".venv-sam/.installed", "deploy-packaged", "ENV=prod"),
            *("ARTIFACTS_BUCKET=artefacts", f"PACKAGED={PACKAGED}"),
        ],
        cwd=ROOT,
        # Not the flags of a `make test` that runs this suite.
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.replace("\\\n", " ")
    [deploy] = [line for line in dry_run.splitlines() if " deploy " in line]
    assert "--config-env prod" in deploy
    assert f'--template-file "{PACKAGED}"' in deploy
    assert '--s3-bucket "artefacts"' in deploy
    assert "--no-confirm-changeset" in deploy
    assert "--no-fail-on-empty-changeset" in deploy
    assert " build" not in dry_run


def test_aws_access_is_an_oidc_role_from_variables_never_stored_keys() -> None:
    for name, job in JOBS.items():
        for step in uses(job, "aws-actions/configure-aws-credentials"):
            assert step["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}", name
            assert not {"aws-access-key-id", "aws-secret-access-key"} & set(step["with"])
    for name in ALL:
        assert "secrets." not in (WORKFLOWS / name).read_text(encoding="utf-8")


def test_every_job_has_least_permissions_and_only_aws_jobs_get_id_tokens() -> None:
    for workflow in ALL.values():
        assert workflow["permissions"] == {}
        for name, job in workflow["jobs"].items():
            aws = bool(uses(job, "aws-actions/configure-aws-credentials"))
            expected = {"contents": "read", "id-token": "write"} if aws else {"contents": "read"}
            assert job["permissions"] == expected, name


def test_no_untrusted_input_is_interpolated_into_scripts_and_no_pull_request_target() -> None:
    for name, workflow in ALL.items():
        assert "pull_request_target" not in workflow["on"]
        for job in workflow["jobs"].values():
            for script in runs(job):
                assert "${{" not in script, f"{name}: expressions go through env:, not {script!r}"
            for step in uses(job, "actions/checkout"):
                assert step["with"]["persist-credentials"] is False


def test_the_pipeline_region_is_samconfigs_for_both_stages() -> None:
    samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    regions = {samconfig[env]["deploy"]["parameters"]["region"] for env in ("dev", "prod")}
    assert regions == {PIPELINE["env"]["AWS_REGION"]}


def test_the_pipeline_section_names_every_variable_the_workflows_read() -> None:
    text = "\n".join((WORKFLOWS / name).read_text(encoding="utf-8") for name in ALL)
    variables = set(re.findall(r"\$\{\{ vars\.([A-Z_]+) \}\}", text))
    assert variables == {"AWS_DEPLOY_ROLE_ARN", "ARTIFACTS_BUCKET"}
    deploying = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
    pipeline_section = deploying.split("## The pipeline", 1)[1]
    for variable in variables:
        assert f"`{variable}`" in pipeline_section
    assert "`production`" in pipeline_section
