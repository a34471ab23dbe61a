"""The whole local runtime: emulation, provisioning, functions, sources and gateway."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import TracebackType
from typing import Any

from warung_local.emulation import Emulation
from warung_local.functions import InvocationResult, LocalFunction, load_functions
from warung_local.gateway import Gateway
from warung_local.mail import MailBox
from warung_local.provision import provision
from warung_local.seed import seed as run_seeders
from warung_local.sources import Driver, build_drivers
from warung_local.template import LOCAL_PARAMETER_OVERRIDES, Template, load_template

log = logging.getLogger("warung_local.runtime")


class LocalRuntime:
    """Everything `dev` runs, as a context manager (ports 0 pick free ports)."""

    def __init__(
        self,
        template_path: str | Path = "template.yaml",
        host: str = "127.0.0.1",
        port: int = 3000,
        emulator_port: int = 4566,
        emulator_host: str = "127.0.0.1",
        seed: bool = True,
        start_sources: bool = True,
        parameter_overrides: dict[str, str] | None = None,
    ) -> None:
        self.template_path = Path(template_path)
        self.host, self.port = host, port
        self.emulator_host, self.emulator_port = emulator_host, emulator_port
        self.seed, self.start_sources = seed, start_sources
        self.parameter_overrides = {**LOCAL_PARAMETER_OVERRIDES, **(parameter_overrides or {})}
        self.emulation: Emulation | None = None
        self.gateway: Gateway | None = None
        self.mailbox = MailBox()
        self.functions: dict[str, LocalFunction] = {}
        self.drivers: list[Driver] = []
        self.seed_lines: list[str] = []
        self._template: Template | None = None

    # -------------------------------------------------------------- lifecycle

    def start(self) -> LocalRuntime:
        """Start the emulation, provision, load functions, seed, start sources and gateway."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        template = load_template(self.template_path, self.parameter_overrides)
        self.emulation = Emulation(self.emulator_host, self.emulator_port).start()
        self.emulation.add_observer(self.mailbox)
        endpoint = self.emulation.endpoint_url
        self._template = template.with_physical(provision(template, endpoint))
        self.functions = load_functions(self._template, endpoint)
        if self.seed:
            self.seed_lines = run_seeders(self._template, endpoint)
        self.drivers = build_drivers(self._template, self.functions, endpoint)
        if self.start_sources:
            for driver in self.drivers:
                driver.start()
        self.gateway = Gateway(
            self._template.routes,
            self._template.api,
            self._invoke_for_gateway,
            self.host,
            self.port,
            local_endpoints={"/_local/mail": self._mail_endpoint},
        ).start()

    def stop(self) -> None:
        """Stop the gateway, the sources and the emulation (safe to call twice)."""
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        for driver in self.drivers:
            driver.stop()
        if self.emulation is not None:
            self.emulation.stop()
            self.emulation = None

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -------------------------------------------------------------- views

    @property
    def template(self) -> Template:
        """The template, resolved with the emulation's physical values."""
        if self._template is None:
            raise RuntimeError("the runtime is not started")
        return self._template

    @property
    def api_url(self) -> str:
        """Base URL of the local API."""
        if self.gateway is None:
            raise RuntimeError("the runtime is not started")
        return self.gateway.url

    @property
    def endpoint_url(self) -> str:
        """The emulation's endpoint (AWS_ENDPOINT_URL)."""
        if self.emulation is None:
            raise RuntimeError("the runtime is not started")
        return self.emulation.endpoint_url

    def driver(self, function_id: str, kind: type[Driver] | None = None) -> Driver:
        """The event source driver feeding `function_id` (of class `kind` if given)."""
        for driver in self.drivers:
            function = getattr(driver, "function", None)
            if (
                function is not None
                and function.spec.logical_id == function_id
                and (kind is None or isinstance(driver, kind))
            ):
                return driver
        raise KeyError(f"no event source drives {function_id}")

    def invoke(self, logical_id: str, event: Any) -> InvocationResult:
        """Run one event through one function."""
        return self.functions[logical_id].invoke(event)

    def routes_table(self) -> str:
        """The routes as a printable table."""
        rows = [(r.method, r.path, r.function_id) for r in self.template.routes]
        width = max([len(r[1]) for r in rows] + [4])
        return "\n".join(
            f"  {method:<7} {path:<{width}}  -> {function}" for method, path, function in rows
        )

    # -------------------------------------------------------------- gateway hooks

    def _invoke_for_gateway(
        self, function_id: str, event: dict[str, Any], _request_id: str
    ) -> tuple[bool, Any]:
        function = self.functions.get(function_id)
        if function is None:
            return False, {"errorType": "FunctionNotLoaded", "errorMessage": function_id}
        result = function.invoke(event)
        return result.ok, result.payload if result.ok else result.error

    def _mail_endpoint(
        self, _method: str, _path: str, query: list[tuple[str, str]]
    ) -> tuple[int, dict[str, str], bytes]:
        to = next((value for name, value in query if name == "to"), None)
        body = json.dumps(self.mailbox.messages(to)).encode()
        return 200, {"Content-Type": "application/json"}, body
