"""Keep the emulation's data across restarts of `dev`, in one folder (`.local/` by default).

What is kept: DynamoDB tables with their items, Secrets Manager secrets (every version) and
SSM parameter values (every version): an account, its sessions and the access-token signing
key outlive a restart, so a token issued before it still verifies after it. What is not:
SQS messages (moto's SQS backend cannot be pickled: a queue holds locks and timers), so a
job still queued when `dev` stops is dropped; the DynamoDB stream records (see below);
and the local mailbox (`/_local/mail`).

How: moto keeps each service's state in plain Python objects; `capture` takes the tables,
secrets and parameters of every account and region, and pickles them into
`<folder>/emulation.pickle`. `restore` puts them back into moto before the emulation
serves its first request, so the data is back without a single API call.

Why not replay the items through the API: every write would append a stream record, and
the outbox relay reads the main table's stream from its start (TRIM_HORIZON): each job
ever written would be sent again. Restoring the objects writes no record, and a restored
table's stream starts empty (each stream shard is pickled as a new, empty one). The
seeders then find their data present and write nothing.

When: `StateKeeper` saves at a clean stop (Ctrl-C, SIGTERM), and, while `dev` runs, within
`SAVE_INTERVAL_S` of any write (a request observer marks the state dirty on every call that
is not a read), so a process that is killed loses at most about a second of writes. Each
save replaces the file atomically (write a temporary file, then rename it).

The file is a pickle: loading it runs code, like any pickle, so it must be the runtime's own
(it is written only here, into the developer's git-ignored folder).
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import threading
import time
from pathlib import Path
from typing import Any

from warung_local.emulation import Emulation, WSGIEnviron
from warung_local.local_data import STATE_FILE

log = logging.getLogger("warung_local.persistence")

FORMAT = 1
SAVE_INTERVAL_S = 1.0
# X-Amz-Target prefixes of the services whose state is kept, and the operations that only read.
_KEPT_SERVICES = ("DynamoDB_20120810", "secretsmanager", "AmazonSSM")
_READS = ("Get", "Describe", "List", "Query", "Scan", "BatchGet")


class StateError(RuntimeError):
    """The saved state cannot be restored (a one-line message that says what to do)."""


def _backends() -> dict[str, Any]:
    """moto's backends of the kept services, by service name (imported when needed)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.ssm.models import ssm_backends

    return {
        "dynamodb": dynamodb_backends,
        "secretsmanager": secretsmanager_backends,
        "ssm": ssm_backends,
    }


def capture() -> dict[tuple[str, str, str], dict[str, Any]]:
    """The kept state of every account and region: (service, account, region) -> objects.

    Call it while no request runs (under the emulation's lock): it reads moto's objects.
    """
    state: dict[tuple[str, str, str], dict[str, Any]] = {}
    for service, backend_dict in _backends().items():
        for account, region, backend in backend_dict.iter_backends():
            if service == "dynamodb":
                objects = dict(backend.tables)
            elif service == "secretsmanager":
                objects = dict(backend.secrets)
            else:
                # AWS's own public parameters (/aws/service/...) are loaded on demand by moto.
                objects = {
                    name: versions
                    for name, versions in backend._parameters.items()
                    if not name.startswith("/aws/")
                }
            if objects:
                state[(service, account, region)] = objects
    return state


def put_back(state: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """Put captured state into moto's backends (beside whatever they already hold)."""
    backends = _backends()
    for (service, account, region), objects in state.items():
        backend = backends[service][account][region]
        if service == "dynamodb":
            backend.tables.update(objects)
        elif service == "secretsmanager":
            dict.update(backend.secrets, objects)
        else:
            backend._parameters.update(objects)


class _StatePickler(pickle.Pickler):
    """A pickler that writes every DynamoDB stream shard as a new, empty one."""

    def __init__(self, file: io.BytesIO) -> None:
        from moto.dynamodb.models.table import StreamShard

        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shard_type = StreamShard

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, self._shard_type):
            # Unpickled as StreamShard(account_id, table): no records, as after a restart.
            return self._shard_type, (obj.account_id, obj.table)
        return NotImplemented


def dumps(state: dict[tuple[str, str, str], dict[str, Any]]) -> bytes:
    """The state file's content."""
    import moto

    buffer = io.BytesIO()
    _StatePickler(buffer).dump(
        {"format": FORMAT, "moto": moto.__version__, "saved_at": time.time(), "state": state}
    )
    return buffer.getvalue()


def loads(data: bytes, source: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The state in a state file's content (StateError when it cannot be used)."""
    import moto

    advice = "`make reset` (or `make dev RESET=1`) starts with empty data"
    try:
        document = pickle.loads(data)  # noqa: S301 - the runtime's own file, see the docstring
    except Exception as exc:
        raise StateError(
            f"cannot read the saved local data in {source} ({type(exc).__name__}: {exc}); {advice}"
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateError(f"{source} is not local data this runtime can read; {advice}")
    if document.get("moto") != moto.__version__:
        log.warning(
            "%s was saved with moto %s (now %s): restoring it anyway",
            source,
            document.get("moto"),
            moto.__version__,
        )
    state: dict[tuple[str, str, str], dict[str, Any]] = document["state"]
    return state


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a reader sees the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def is_write(environ: WSGIEnviron) -> bool:
    """Whether a request to the emulation may change the kept state."""
    service, _, operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).partition(".")
    return service in _KEPT_SERVICES and not operation.startswith(_READS)


class StateKeeper:
    """Restores an emulation's data from a folder, then keeps that folder up to date."""

    def __init__(
        self, folder: Path, emulation: Emulation, interval_s: float = SAVE_INTERVAL_S
    ) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self.emulation = emulation
        self.interval_s = interval_s
        self.restored = False
        self.saves = 0
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self) -> bool:
        """Put the saved data back into moto (before the emulation serves); whether any was."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StateError(f"cannot read {self.path}: {exc}") from exc
        started = time.monotonic()
        state = loads(data, self.path)
        with self.emulation.middleware.lock:
            put_back(state)
        self.restored = True
        log.info(
            "local data restored from %s (%.0f KiB, %.0f ms)",
            self.path,
            len(data) / 1024,
            (time.monotonic() - started) * 1000,
        )
        return True

    def start(self) -> StateKeeper:
        """Watch the emulation's writes and save within `interval_s` of each."""
        self.emulation.add_observer(self._observe)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="state-keeper", daemon=True)
        self._thread.start()
        return self

    def _observe(
        self,
        environ: WSGIEnviron,
        request_body: bytes,  # noqa: ARG002 - the observer's signature
        status: str,  # noqa: ARG002
        response_body: bytes,  # noqa: ARG002
    ) -> None:
        if is_write(environ):
            self._dirty.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self._dirty.is_set():
                self._save_logged()

    def _save_logged(self) -> None:
        try:
            self.save()
        except Exception:  # a failed save must not stop the runtime; the next one may work
            log.exception("the local data could not be saved to %s", self.path)

    def save(self) -> None:
        """Save the current state now (the emulation's requests wait while it is taken)."""
        with self.emulation.middleware.lock:
            self._dirty.clear()
            data = dumps(capture())
        write_atomically(self.path, data)
        self.saves += 1

    def stop(self) -> None:
        """Stop watching and save a last time (call it once nothing writes any more)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._save_logged()
