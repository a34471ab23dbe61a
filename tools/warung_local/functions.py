"""Run Lambda handlers in-process, each with its own modules and environment.

In AWS every function has its own interpreter: its own `app` module, its own copy of
the shared layer (and so its own cached settings), its own environment variables.
In one local process those would collide: two functions whose handlers are both
`app.py` would share `sys.modules["app"]`, and the layer's module-level state would
leak from one function into another.

So each function is loaded with its code directory and layer directories first on
`sys.path`, with every top-level name found in those directories ("isolated names")
removed from `sys.modules`, and with its environment applied. The modules it loaded
are then taken out of `sys.modules` and kept with the function; what was there
before is put back.

An invocation swaps that function's module set into `sys.modules`, its paths into
`sys.path` and its variables into `os.environ` for the duration of the call (so that
lazy imports inside a handler resolve to the function's own copy), then restores.
`sys.modules` and `os.environ` are process-wide, so **invocations are serialised**:
one runtime-wide lock lets one handler run at a time, as if every function had a
reserved concurrency of 1. Locally that costs nothing noticeable and it keeps each
invocation's view of the world consistent. A consequence: a handler must not make an
HTTP call back into the local API *of its own process* and wait for it (that request
would wait for the lock until the handler gives up). The lock is per process, so `dev`
drives the event sources of the functions that call the API (the worker posting the
payment simulator's webhooks) in a child process with a lock of its own; see
`sources_process.py` for the design and for which functions it selects. `invoke` is a
process of its own too. A Lambda Invoke through the emulation (`lambda_api.py`) is the
exception: when the invoking handler runs in the emulation's own process, the function
it invokes runs in that handler's turn (`InvocationTurn.lent`), since the handler only
waits for the answer meanwhile.

Handler exceptions become invocation errors shaped as Lambda reports them
(`errorMessage`, `errorType`, `stackTrace`); they never stop the runtime.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from warung_local.template import LOCAL_REGION, FunctionSpec, Template

log = logging.getLogger("warung_local.functions")


class InvocationTurn:
    """One invocation at a time in this process (reentrant), a turn its holder can lend.

    A handler that invokes another function of this process through the emulation's
    Lambda API (`lambda_api.py`) holds the turn while it waits for the answer, and the
    emulation's thread that must produce that answer needs a turn to run the function:
    it runs in the caller's (`lent`). The caller is blocked on that answer meanwhile, so
    the two never touch `sys.modules` or `os.environ` at once.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._holder: int | None = None
        self._depth = 0

    @property
    def holder(self) -> int | None:
        """The thread whose turn it is (`threading.get_ident()`), None when nobody's."""
        with self._changed:
            return self._holder

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._changed:
            while self._holder not in (None, me):
                self._changed.wait()
            self._holder = me
            self._depth += 1

    def __exit__(self, *_exc: object) -> None:
        with self._changed:
            self._depth -= 1
            if self._depth == 0:
                self._holder = None
                self._changed.notify_all()

    @contextmanager
    def lent(self) -> Iterator[None]:
        """Run this thread in the turn of the thread holding it, which waits for this one
        (a turn of its own when nobody holds it)."""
        me = threading.get_ident()
        with self._changed:
            holder, depth = self._holder, self._depth
            if holder is not None:
                # Depth 1: the borrower's own enter and exit never hand the turn to a third.
                self._holder, self._depth = me, 1
        if holder is None:
            with self:
                yield
            return
        try:
            yield
        finally:
            with self._changed:
                self._holder, self._depth = holder, depth


# sys.modules and os.environ are process-wide: one invocation at a time in this process,
# whoever calls. (Another process, such as `dev`'s sources process, has its own.)
RUNTIME_LOCK = InvocationTurn()

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# The session token of every invocation in this process (in AWS, too, each function has
# credentials of its own). SigV4 sends it as X-Amz-Security-Token, so the emulation can
# tell that a Lambda Invoke comes from a handler running here, which holds the turn.
PROCESS_SESSION_TOKEN = f"warung-local-{uuid.uuid4().hex}"


@contextmanager
def callers_turn(session_token: str | None) -> Iterator[None]:
    """Where an invocation requested with `session_token` runs: in the turn of the handler
    of this process that requested it and waits for it, else (another process, a tool, a
    test) as any invocation, waiting for its own turn."""
    if session_token == PROCESS_SESSION_TOKEN:
        with RUNTIME_LOCK.lent():
            yield
    else:
        yield


# Ambient settings of the developer's shell that would send a function to a real account.
_UNSET_DURING_INVOCATION = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_CA_BUNDLE",
)

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The context object a Python handler receives, as the Lambda runtime builds it."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_monotonic: float
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's Timeout."""
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


@dataclass
class InvocationResult:
    """What one invocation produced: the JSON payload, or a Lambda-shaped error."""

    request_id: str
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    logs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the handler returned normally (and its result was serialisable)."""
        return self.error is None


def error_result(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """An exception as the Lambda runtime reports it."""
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }


def _lambda_json_default(value: Any) -> Any:
    # The Python runtime's serialiser turns Decimal (DynamoDB numbers) into numbers.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def top_level_names(directory: Path) -> set[str]:
    """Importable top-level module and package names found directly in `directory`."""
    names: set[str] = set()
    if not directory.is_dir():
        return names
    for entry in directory.iterdir():
        if entry.name.startswith((".", "_")) and entry.name != "__init__.py":
            continue
        if entry.is_file() and entry.suffix in {".py", ".so", ".pyd"}:
            names.add(entry.name.split(".", 1)[0])
        elif entry.is_dir() and entry.name.isidentifier() and any(entry.glob("*.py")):
            # A package, or a namespace package made of .py files.
            names.add(entry.name)
    return names


def runtime_environment(
    spec: FunctionSpec, endpoint_url: str, region: str = LOCAL_REGION
) -> dict[str, str]:
    """The variables a function sees: the template's, what Lambda sets, the emulation's."""
    today = dt.datetime.now(dt.UTC).strftime("%Y/%m/%d")
    env = dict(spec.environment)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "LAMBDA_RUNTIME_DIR": str(Path(__file__).parent),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            "AWS_ENDPOINT_URL": endpoint_url,
            **DUMMY_CREDENTIALS,
            "AWS_SESSION_TOKEN": PROCESS_SESSION_TOKEN,
        }
    )
    return env


class LocalFunction:
    """One function of the template, loaded in-process with its own modules."""

    def __init__(self, spec: FunctionSpec, endpoint_url: str, region: str = LOCAL_REGION) -> None:
        self.spec = spec
        self.region = region
        self.environment = runtime_environment(spec, endpoint_url, region)
        module_name, _, _ = spec.handler.rpartition(".")
        package = module_name.split(".", 1)[0]
        # The source layout: CodeUri *is* the handler's package (functions/catalog holds
        # catalog.app), which the build copies into a folder of that name. Loading it as that
        # package, from that folder alone, keeps the other functions' packages (its siblings
        # in functions/) out of reach, as they are in the built artefact.
        self.package_dir = spec.package_dir
        self.paths = [] if self.package_dir else [str(spec.code_dir)]
        self.paths += [str(p) for p in spec.layers]
        # Layers built by `sam build` put packages under python/; support both shapes.
        self.paths += [str(p / "python") for p in spec.layers if (p / "python").is_dir()]
        self.isolated_names: set[str] = set()
        for path in self.paths:
            self.isolated_names |= top_level_names(Path(path))
        self.isolated_names.add(package)
        self.modules: dict[str, ModuleType] = {}
        self._handler: Handler | None = None
        self.init_error: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """The function's name (FunctionName, or the generated one)."""
        return self.spec.name

    def _is_isolated(self, module_name: str) -> bool:
        return module_name.split(".", 1)[0] in self.isolated_names

    @contextmanager
    def activated(self) -> Iterator[None]:
        """Make this function's modules, paths and environment current (holds the runtime lock)."""
        with RUNTIME_LOCK:
            saved_modules = {
                k: sys.modules.pop(k) for k in list(sys.modules) if self._is_isolated(k)
            }
            sys.modules.update(self.modules)
            saved_path = list(sys.path)
            sys.path[:0] = list(self.paths)
            keys = set(self.environment) | set(_UNSET_DURING_INVOCATION)
            saved_env = {k: os.environ.get(k) for k in keys}
            for key in _UNSET_DURING_INVOCATION:
                os.environ.pop(key, None)
            os.environ.update(self.environment)
            try:
                yield
            finally:
                # Keep whatever the function imported (lazily, too) for its next call.
                self.modules = {
                    k: sys.modules.pop(k) for k in list(sys.modules) if self._is_isolated(k)
                }
                sys.modules.update(saved_modules)
                sys.path[:] = saved_path
                for key, value in saved_env.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value

    def load(self) -> bool:
        """Import the handler (the cold start). False, with `init_error` set, if it fails."""
        with self.activated():
            return self._load_active()

    def _load_active(self) -> bool:
        module_name, _, attribute = self.spec.handler.rpartition(".")
        importlib.invalidate_caches()
        try:
            if self.package_dir is not None:
                self._import_package(self.package_dir)
            module = importlib.import_module(module_name)
            handler = getattr(module, attribute)
        except Exception as exc:  # a broken module must not stop the other functions
            self.init_error = error_result(exc, f"Runtime.ImportModuleError: {type(exc).__name__}")
            log.warning(
                "%s: cannot load handler %s: %s", self.spec.logical_id, self.spec.handler, exc
            )
            return False
        self._handler, self.init_error = handler, None
        return True

    @staticmethod
    def _import_package(folder: Path) -> None:
        """Import `folder` as the package of its name, without its parent on `sys.path`."""
        if folder.name in sys.modules:
            return
        spec = importlib.util.spec_from_file_location(
            folder.name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {folder} as the package {folder.name!r}")
        package = importlib.util.module_from_spec(spec)
        sys.modules[folder.name] = package
        try:
            spec.loader.exec_module(package)
        except BaseException:
            del sys.modules[folder.name]
            raise

    def new_context(self, request_id: str) -> LambdaContext:
        """A fresh context object whose remaining time counts down from the Timeout."""
        return LambdaContext(
            function_name=self.spec.name,
            function_version="$LATEST",
            invoked_function_arn=self.spec.arn,
            memory_limit_in_mb=self.spec.memory,
            aws_request_id=request_id,
            log_group_name=self.environment["AWS_LAMBDA_LOG_GROUP_NAME"],
            log_stream_name=self.environment["AWS_LAMBDA_LOG_STREAM_NAME"],
            deadline_monotonic=time.monotonic() + self.spec.timeout,
        )

    def invoke(self, event: Any, request_id: str | None = None) -> InvocationResult:
        """Run the handler on `event` (a JSON-compatible value) and report the outcome."""
        result = InvocationResult(request_id=request_id or str(uuid.uuid4()))
        # The handler receives a JSON copy, as it would over the wire.
        event_copy = json.loads(json.dumps(event))
        with self.activated():
            started = time.monotonic()
            if self._handler is None and not self._load_active():
                result.error = self.init_error
                return result
            assert self._handler is not None
            try:
                returned = self._handler(event_copy, self.new_context(result.request_id))
            except (Exception, SystemExit) as exc:  # reported as Lambda does, never raised
                result.error = error_result(exc)
            else:
                try:
                    result.payload = json.loads(json.dumps(returned, default=_lambda_json_default))
                except (TypeError, ValueError) as exc:
                    result.error = error_result(exc, "Runtime.MarshalError")
            result.duration_ms = (time.monotonic() - started) * 1000
        if result.duration_ms > self.spec.timeout * 1000:
            log.warning(
                "%s took %.0f ms, over its Timeout of %d s: in AWS it would have timed out",
                self.spec.logical_id,
                result.duration_ms,
                self.spec.timeout,
            )
        if result.error is not None:
            log.error(
                "%s failed: %s: %s",
                self.spec.logical_id,
                result.error["errorType"],
                result.error["errorMessage"],
            )
        return result


def load_functions(
    template: Template, endpoint_url: str, only: Collection[str] | None = None, eager: bool = True
) -> dict[str, LocalFunction]:
    """A `LocalFunction` for each function of the template (or of `only`), loaded if `eager`."""
    functions = {}
    for lid, spec in template.functions.items():
        if only is not None and lid not in only:
            continue
        function = LocalFunction(spec, endpoint_url, template.region)
        if eager:
            function.load()
        functions[lid] = function
    return functions
