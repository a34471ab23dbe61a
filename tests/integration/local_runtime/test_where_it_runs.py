"""Every tool finds the running `dev` through its data folder's runtime.json, and says in one
line what it does (or what is missing) when none runs: never a traceback.

The tools run as a person runs them (`make create-admin`, `make rotate-signing-key`,
`make invoke`, `env-file`), with the data folder of the test (LOCAL_DATA_DIR) and without
EMULATOR_PORT or AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.dev import Dev, running_dev, stop_dev
from support.http import call

from warung_local.emulation import aws_client, free_port

REPO = Path(__file__).resolve().parents[3]
LOGIN_EVENT = "events/auth/login.json"  # the demo customer's sign-in
HEALTH_EVENT = "events/platform/health.json"


def _run(data: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    ambient = ("EMULATOR_PORT", "AWS_ENDPOINT_URL", "LOCAL_DATA_DIR", "PORT")
    env = {k: v for k, v in os.environ.items() if k not in ambient}
    env |= {
        "PYTHONPATH": os.pathsep.join(["tools", "layers/common"]),
        "LOCAL_DATA_DIR": str(data),
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# ------------------------------------------------------------------ no dev running


def test_create_admin_without_a_runtime_says_so_in_one_line(tmp_path: Path) -> None:
    result = _run(tmp_path, "warung_ops.accounts", "create-admin", "ops@example.com")

    assert result.returncode == 2
    assert _lines(result.stderr) == [
        f"no local runtime running (none recorded in {tmp_path / 'runtime.json'}) "
        "— start `make dev`"
    ]
    assert result.stdout == ""


def test_rotate_signing_key_without_a_runtime_says_so_in_one_line(tmp_path: Path) -> None:
    result = _run(tmp_path, "warung_ops.signing_keys", "rotate", "--stage", "local")

    assert result.returncode == 2
    assert _lines(result.stderr) == [
        f"no local runtime running (none recorded in {tmp_path / 'runtime.json'}) "
        "— start `make dev`"
    ]


def test_a_named_port_where_nothing_listens_is_one_line_too(tmp_path: Path) -> None:
    port = free_port()

    result = _run(
        tmp_path, "warung_ops.accounts", "create-admin", "ops@example.com", EMULATOR_PORT=str(port)
    )

    assert result.returncode == 2
    assert _lines(result.stderr) == [f"no local runtime on 127.0.0.1:{port} — start `make dev`"]


def test_a_runtime_that_was_killed_is_named_as_stopped(tmp_path: Path) -> None:
    # given: the runtime.json a killed dev left behind (its process is gone)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(finished.stdout)
    record = {
        "pid": pid,
        "api_url": f"http://127.0.0.1:{free_port()}",
        "endpoint_url": f"http://127.0.0.1:{free_port()}",
        "port": 1,
        "emulator_port": 2,
        "emulator_bind": "127.0.0.1",
        "template": str(REPO / "template.yaml"),
        "started_at": "2026-12-05T00:00:00Z",
    }
    (tmp_path / "runtime.json").write_text(json.dumps(record))

    result = _run(tmp_path, "warung_ops.signing_keys", "show", "--stage", "local")

    assert result.returncode == 2
    assert _lines(result.stderr) == [
        f"no local runtime running (the one recorded in {tmp_path / 'runtime.json'}, "
        f"pid {pid}, has stopped) — start `make dev`"
    ]


def test_invoke_without_a_runtime_says_it_uses_a_throwaway_emulation(tmp_path: Path) -> None:
    result = _run(tmp_path, "warung_local", "invoke", "PlatformFunction", HEALTH_EVENT)

    assert result.returncode == 0, result.stderr
    assert "invoke: no local runtime running: using a throwaway emulation" in _lines(result.stderr)
    assert json.loads(result.stdout)["statusCode"] == 200
    assert "Traceback" not in result.stderr


def test_env_file_without_a_runtime_writes_the_default_ports_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "docker.json"

    result = _run(tmp_path, "warung_local", "env-file", "--out", str(out))

    assert result.returncode == 0
    assert _lines(result.stderr) == [
        f"no local runtime running: wrote {out} for dev's default ports "
        "(emulation http://172.17.0.1:4566, API http://172.17.0.1:3000)"
    ]
    assert out.read_text() == (REPO / "env" / "docker.json").read_text()


# ------------------------------------------------------------------ dev running


@dataclass(frozen=True)
class Running:
    dev: Dev
    data: Path

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.dev.port}"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data = tmp_path_factory.mktemp("data")
    log = tmp_path_factory.mktemp("logs") / "dev.log"
    with running_dev(log, data_dir=data) as dev:
        yield Running(dev, data)
        assert stop_dev(dev) == 0
    # A clean stop takes its record away.
    assert not (data / "runtime.json").exists()


def test_dev_records_where_it_runs(running: Running) -> None:
    record = json.loads((running.data / "runtime.json").read_text())

    assert record["pid"] == running.dev.process.pid
    assert record["api_url"] == f"http://127.0.0.1:{running.dev.port}"
    assert record["endpoint_url"] == f"http://127.0.0.1:{running.dev.emulator_port}"
    assert (record["port"], record["emulator_port"]) == (
        running.dev.port,
        running.dev.emulator_port,
    )


def test_create_admin_finds_the_running_dev(running: Running) -> None:
    result = _run(running.data, "warung_ops.accounts", "create-admin", "found@example.com")

    assert result.returncode == 0, result.stderr
    password = result.stdout.rsplit("change it): ", 1)[1].strip()
    login = call(
        running.api, "POST", "/v1/auth/login", {"email": "found@example.com", "password": password}
    )
    assert login.status == 200, login.body


def _jwk_ids(running: Running) -> list[str]:
    """The kids of the JWK Set in the running dev's emulation (the API caches it a while)."""
    ssm = aws_client("ssm", f"http://127.0.0.1:{running.dev.emulator_port}")
    value = ssm.get_parameter(Name="/warung/local/jwks")["Parameter"]["Value"]
    return [str(key["kid"]) for key in json.loads(value)["keys"]]


def test_rotate_signing_key_finds_the_running_dev(running: Running) -> None:
    before = _jwk_ids(running)

    result = _run(running.data, "warung_ops.signing_keys", "rotate", "--stage", "local")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("new signing key ")
    kid = result.stdout.split()[3]
    assert _jwk_ids(running) == [kid, before[0]]


def test_invoke_uses_the_running_dev_and_says_so(running: Running) -> None:
    # The demo customer exists only in the running dev's data.
    result = _run(running.data, "warung_local", "invoke", "AuthFunction", LOGIN_EVENT)

    assert result.returncode == 0, result.stderr
    assert (
        f"invoke: using the running local runtime (pid {running.dev.process.pid}): emulation "
        f"http://127.0.0.1:{running.dev.emulator_port}, API http://127.0.0.1:{running.dev.port}"
    ) in _lines(result.stderr)
    assert json.loads(result.stdout)["statusCode"] == 200


def test_env_file_takes_the_running_devs_ports(running: Running, tmp_path: Path) -> None:
    out = tmp_path / "docker.json"

    result = _run(running.data, "warung_local", "env-file", "--out", str(out))

    assert result.returncode == 0
    emulation = f"http://172.17.0.1:{running.dev.emulator_port}"
    api = f"http://172.17.0.1:{running.dev.port}"
    assert _lines(result.stderr) == [
        f"wrote {out} for the running local runtime (pid {running.dev.process.pid}); it listens "
        f"on loopback only: start it with EMULATOR_HOST=0.0.0.0 (emulation {emulation}, API {api})"
    ]
    document = json.loads(out.read_text())
    assert document["AuthFunction"]["AWS_ENDPOINT_URL"] == emulation
    assert document["WorkerFunction"]["PAYMENT_WEBHOOK_URL"] == f"{api}/v1/payments/webhook"


def test_a_second_dev_on_the_same_data_is_refused_in_one_line(running: Running) -> None:
    result = _run(
        running.data,
        "warung_local",
        "dev",
        "--port",
        str(free_port()),
        "--emulator-port",
        str(free_port()),
    )

    assert result.returncode == 2
    assert _lines(result.stderr) == [
        f"a local runtime already runs on {running.data} (pid {running.dev.process.pid}, "
        f"API {running.api}): stop it first, or give this one another --data-dir"
    ]


def test_reset_refuses_while_dev_runs(running: Running) -> None:
    result = _run(running.data, "warung_local", "reset")

    assert result.returncode == 2
    assert _lines(result.stderr) == [
        f"a local runtime is running on {running.data} (pid {running.dev.process.pid}, "
        f"API {running.api}): stop `make dev` first"
    ]
    assert (running.data / "emulation.pickle").exists()
