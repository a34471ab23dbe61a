"""The command line: invoke, event, and the committed env-vars file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from warung_local.cli import env_file_document, render_env_file
from warung_local.emulation import Emulation, free_port

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "local_runtime"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"


def _cli(*args: str, emulator_port: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": "tools:layers/common", "EMULATOR_PORT": str(emulator_port)}
    return subprocess.run(
        [sys.executable, "-m", "warung_local", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_invoke_prints_the_handler_result_on_stdout() -> None:
    # given: no emulation on the port, so invoke starts a private one
    result = _cli(
        "invoke",
        "AlphaFunction",
        str(FIXTURES / "events" / "echo.json"),
        "--template",
        str(FIXTURE_TEMPLATE),
        emulator_port=free_port(),
    )

    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["name"], payload["greeting"], payload["calls"]) == ("alpha", "alpha", 1)


def test_invoke_of_a_failing_handler_exits_non_zero_with_the_error(emulation: Emulation) -> None:
    # given: a running emulation (as under `dev`), which invoke reuses
    event = FIXTURES / "events" / "boom.json"

    result = _cli(
        "invoke",
        "WebFunction",
        str(event),
        "--template",
        str(FIXTURE_TEMPLATE),
        emulator_port=emulation.port,
    )

    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "secret internal detail")
    assert "using the running emulation" in result.stderr


def test_event_prints_the_proxy_event_the_gateway_builds() -> None:
    result = _cli(
        "event",
        "GET",
        "/items/9?a=1",
        "--query",
        "a=2",
        "--header",
        "X-Trace: t1",
        "--template",
        str(FIXTURE_TEMPLATE),
        emulator_port=free_port(),
    )

    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    assert event["resource"] == "/items/{id}"
    assert event["pathParameters"] == {"id": "9"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["headers"]["X-Trace"] == "t1"
    assert event["requestContext"]["stage"] == "local"


def test_committed_docker_env_file_matches_the_template() -> None:
    # given: env/docker.json is generated from template.yaml by `env-file`
    expected = render_env_file(env_file_document(REPO / "template.yaml", "http://172.17.0.1:4566"))

    # then: the committed copy is up to date (regenerate: python -m warung_local env-file)
    committed = (REPO / "env" / "docker.json").read_text(encoding="utf-8")
    assert committed == expected, (
        "env/docker.json is out of date: run `python -m warung_local env-file`"
    )


def test_a_fresh_environment_runs_env_file_without_pythonpath(tmp_path: Path) -> None:
    # given: a new virtual environment, with the .pth file `make setup` installs and (in place
    # of `pip install -r requirements-dev.txt`) the test environment's packages
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    installed = subprocess.run(
        [str(python), "tools/venv_paths.py", "install"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert installed.stdout == f"installed {site / 'warung-project.pth'}\n"
    packages = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (site / "test-packages.pth").write_text(packages + "\n")

    # when: the README's command, from the repository, with no PYTHONPATH
    out = tmp_path / "docker.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EMULATOR_PORT")}
    env["LOCAL_DATA_DIR"] = str(tmp_path / "no-dev-here")
    result = subprocess.run(
        [str(python), "-m", "warung_local", "env-file", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # then: it writes the file as from the project's own environment
    assert result.returncode == 0, result.stderr
    assert out.read_text() == (REPO / "env" / "docker.json").read_text()
