"""The local data folder (`.local/` by default): what `dev` keeps there, and where it runs.

    <folder>/emulation.pickle   the emulation's tables, secrets and parameters
                                (written by `warung_local.persistence`)
    <folder>/runtime.json       where the running `dev` listens: its pid, the API's and the
                                emulation's addresses; written once it serves, removed when
                                it stops (a killed one leaves it behind: `running` then
                                sees that its process is gone or its port is closed)

`runtime.json` is the one place every tool looks for the local runtime (`make create-admin`,
`make rotate-signing-key`, `make invoke`, `env-file`): `locate_emulation` gives its
emulation, or one line saying what is missing. Only the standard library here: `make reset`
runs without the virtual environment, and the tools import this before anything heavy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from warung_local.config import load_config

STATE_FILE = "emulation.pickle"
RUNTIME_FILE = "runtime.json"
DATA_DIR_VARIABLE = "LOCAL_DATA_DIR"


class NoLocalRuntime(RuntimeError):
    """No local runtime answers where one was looked for (a one-line message)."""


@dataclass(frozen=True)
class RuntimeRecord:
    """Where a running `dev` listens, as it recorded it."""

    pid: int
    api_url: str  # as this machine reaches it
    endpoint_url: str  # the emulation, as this machine reaches it
    port: int
    emulator_port: int
    emulator_bind: str  # the address the emulation listens on (0.0.0.0: Docker reaches it)
    template: str
    started_at: str

    @property
    def emulator_address(self) -> str:
        """The host this machine reaches the emulation on."""
        return urlsplit(self.endpoint_url).hostname or "127.0.0.1"


def data_folder(template_path: str | Path = "template.yaml") -> Path:
    """The data folder of the project that `template_path` belongs to ($LOCAL_DATA_DIR wins)."""
    chosen = os.environ.get(DATA_DIR_VARIABLE)
    return Path(chosen).resolve() if chosen else load_config(template_path).data_folder


def clear(folder: Path) -> bool:
    """Delete the data folder and everything in it; whether there was one."""
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True


# ------------------------------------------------------------------ runtime.json


def record_runtime(
    folder: Path, *, api_url: str, endpoint_url: str, emulator_bind: str, template: Path
) -> Path:
    """Write `runtime.json` for this process (atomically); its path."""
    api, emulation = urlsplit(api_url), urlsplit(endpoint_url)
    record = RuntimeRecord(
        pid=os.getpid(),
        api_url=api_url,
        endpoint_url=endpoint_url,
        port=int(api.port or 80),
        emulator_port=int(emulation.port or 80),
        emulator_bind=emulator_bind,
        template=str(template.resolve()),
        started_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RUNTIME_FILE
    temporary = path.with_name(f".{RUNTIME_FILE}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def forget_runtime(folder: Path) -> None:
    """Remove `runtime.json` if this process wrote it (another `dev` may have replaced it)."""
    record = read_record(folder)
    if record is not None and record.pid == os.getpid():
        (folder / RUNTIME_FILE).unlink(missing_ok=True)


def read_record(folder: Path) -> RuntimeRecord | None:
    """What `runtime.json` says, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads((folder / RUNTIME_FILE).read_text(encoding="utf-8"))
        return RuntimeRecord(**{name: data[name] for name in RuntimeRecord.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_alive(pid: int) -> bool:
    """Whether a process with this id exists (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    stat = Path(f"/proc/{pid}/stat")
    try:
        return not stat.read_text().split(") ", 1)[-1].startswith("Z")
    except OSError:
        return True  # no /proc (macOS): kill(0) said it exists


def is_listening(host: str, port: int, timeout_s: float = 0.3) -> bool:
    """Whether something accepts TCP connections on host:port (e.g. a running `dev`)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def running(folder: Path) -> RuntimeRecord | None:
    """The `dev` recorded in `folder` if it still runs: its process exists and its emulation
    accepts connections."""
    record = read_record(folder)
    if record is None or not is_alive(record.pid):
        return None
    if not is_listening(record.emulator_address, record.emulator_port):
        return None
    return record


def _where(endpoint_url: str) -> str:
    split = urlsplit(endpoint_url)
    return f"{split.hostname or '127.0.0.1'}:{split.port or 80}"


def locate_emulation(folder: Path, explicit: str | None = None) -> tuple[str, RuntimeRecord | None]:
    """The emulation to use, and the running `dev` it belongs to when it came from its record.

    `explicit` (an `--endpoint` option, `EMULATOR_PORT` ...) is used when given; else the
    `dev` recorded in `folder`. NoLocalRuntime, with one line to show, when nothing answers.
    """
    if explicit:
        split = urlsplit(explicit)
        if not is_listening(split.hostname or "127.0.0.1", split.port or 80):
            raise NoLocalRuntime(f"no local runtime on {_where(explicit)} — start `make dev`")
        return explicit, None
    record = running(folder)
    if record is not None:
        return record.endpoint_url, record
    path = folder / RUNTIME_FILE
    left = read_record(folder)
    if left is not None:
        raise NoLocalRuntime(
            f"no local runtime running (the one recorded in {path}, pid {left.pid}, "
            "has stopped) — start `make dev`"
        )
    raise NoLocalRuntime(f"no local runtime running (none recorded in {path}) — start `make dev`")
