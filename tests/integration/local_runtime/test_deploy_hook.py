"""`make invoke FUNCTION=PreTrafficHookFunction EVENT=events/deploy_hook/pre-traffic.json`
runs the release's pre-traffic hook for real: it invokes the API functions through the
emulation's Lambda API, checks their answers, and reports its verdict to the emulation's
CodeDeploy, which `GET /_local/codedeploy` lists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support.dev import running_dev

from warung_local.emulation import free_port
from warung_local.runtime import LocalRuntime

REPO = Path(__file__).resolve().parents[3]
SAMPLE_EVENT = REPO / "events" / "deploy_hook" / "pre-traffic.json"
INVOKE_TEMPLATE = Path(__file__).resolve().parent / "invoke_app" / "template.yaml"
API_FUNCTIONS = {
    "platform": "PlatformFunction",
    "auth": "AuthFunction",
    "catalog": "CatalogFunction",
    "orders": "OrdersFunction",
    "payments": "PaymentsFunction",
    "admin": "AdminFunction",
}


def _invoke_hook(event: Path, *options: str, emulator_port: int | None = None) -> Any:
    """`python -m warung_local invoke PreTrafficHookFunction <event>`, as `make invoke` runs it."""
    env = {k: v for k, v in os.environ.items() if k not in {"EMULATOR_PORT", "LOCAL_DATA_DIR"}}
    env["PYTHONPATH"] = os.pathsep.join(["tools", "layers/common"])
    if emulator_port is not None:
        env["EMULATOR_PORT"] = str(emulator_port)
    command = [sys.executable, "-m", "warung_local", "invoke", "PreTrafficHookFunction"]
    return subprocess.run(
        [*command, str(event), *options],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _verdicts(api_url: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{api_url}/_local/codedeploy", timeout=10) as answer:
        listed: list[dict[str, str]] = json.loads(answer.read())
        return listed


def _hook_event(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A hook event of its own (the fixture runtime's verdicts are shared by its tests)."""
    event = {
        "DeploymentId": f"d-{uuid.uuid4().hex[:9].upper()}",
        "LifecycleEventHookExecutionId": uuid.uuid4().hex,
    }
    path = tmp_path / "pre-traffic.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return path, event


def _catalog_failure(runtime: LocalRuntime) -> dict[str, Any]:
    """The hook's answer when invoke_app's catalog answers 503 and its platform is fine."""
    broken = runtime.template.functions["BrokenCatalogFunction"].arn
    return {
        "status": "Failed",
        "failures": [f"/v1/categories: the category list is not 200 with items (from {broken})"],
    }


def test_the_hook_passes_the_api_functions_of_a_running_dev(tmp_path: Path) -> None:
    # given: make dev running, seeded as a developer starts it (its own ports and data)
    data_dir = tmp_path / "data"
    with running_dev(tmp_path / "dev.log", data_dir=data_dir) as dev:
        # when: the sample hook event is run through the hook, from a process of its own
        result = _invoke_hook(SAMPLE_EVENT, "--data-dir", str(data_dir))

        # then: every probe passed and the hook said so
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"status": "Succeeded", "failures": []}
        assert f"invoke: using the running local runtime (pid {dev.process.pid})" in result.stderr
        # and dev's emulation recorded the verdict the hook reported
        event = json.loads(SAMPLE_EVENT.read_text(encoding="utf-8"))
        assert _verdicts(f"http://127.0.0.1:{dev.port}") == [
            {
                "deploymentId": event["DeploymentId"],
                "lifecycleEventHookExecutionId": event["LifecycleEventHookExecutionId"],
                "status": "Succeeded",
            }
        ]
        # and dev, which owns the emulation, ran the five API functions
        for short, logical_id in API_FUNCTIONS.items():
            assert f"Lambda Invoke warung-local-{short} -> {logical_id} ok" in dev.output


def test_a_version_with_a_wrong_answer_fails_the_hook(
    invoke_runtime: LocalRuntime, tmp_path: Path
) -> None:
    # given: a running runtime whose hook checks a healthy platform and a catalog that
    # answers 503 (invoke_app)
    event_path, event = _hook_event(tmp_path)

    # when: the hook runs against it
    result = _invoke_hook(
        event_path,
        "--template",
        str(INVOKE_TEMPLATE),
        emulator_port=urlsplit(invoke_runtime.endpoint_url).port,
    )

    # then: the deployment fails on the catalog alone, and the verdict was recorded
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == _catalog_failure(invoke_runtime)
    assert "invoke: using the running emulation" in result.stderr
    assert {
        "deploymentId": event["DeploymentId"],
        "lifecycleEventHookExecutionId": event["LifecycleEventHookExecutionId"],
        "status": "Failed",
    } in _verdicts(invoke_runtime.api_url)


def test_the_hook_runs_on_a_throwaway_emulation_too(
    invoke_runtime: LocalRuntime, tmp_path: Path
) -> None:
    # given: no emulation on the port: invoke owns a throwaway one, and so runs the
    # functions the hook invokes in its own process while the hook waits for them
    event_path, _ = _hook_event(tmp_path)

    result = _invoke_hook(event_path, "--template", str(INVOKE_TEMPLATE), emulator_port=free_port())

    # then: the healthy platform passed and the broken catalog failed, as on a running one
    assert result.returncode == 0, result.stderr
    assert "using a throwaway emulation" in result.stderr
    assert json.loads(result.stdout) == _catalog_failure(invoke_runtime)


def test_the_hook_run_by_the_runtime_itself_reports_its_verdict(
    invoke_runtime: LocalRuntime, tmp_path: Path
) -> None:
    # given: the hook run in the process that owns the emulation (as a test or dev would)
    _, event = _hook_event(tmp_path)

    result = invoke_runtime.invoke("PreTrafficHookFunction", event)

    assert result.ok, result.error
    assert result.payload == _catalog_failure(invoke_runtime)
    assert {
        "deploymentId": event["DeploymentId"],
        "lifecycleEventHookExecutionId": event["LifecycleEventHookExecutionId"],
        "status": "Failed",
    } in _verdicts(invoke_runtime.api_url)
