"""The whole local runtime: emulation, provisioning, functions, sources and gateway.

Everything runs in this process except the event sources of the functions that call
the local API back (`sources_process.callers_of_api`: their environment holds the
API's address). Invocations in one process are serialised by one lock (see
`functions.py`), so such a function, driven from here, would wait for its own API call
until it timed out. Their SQS, stream and schedule sources run in one child process,
`python -m warung_local sources`, launched after provisioning, waited for once the
gateway serves, and stopped before the gateway, so that their invocations hold the
child's lock and the API's function the parent's. The parent still loads them (for
`invoke` and any Api events of theirs).

The emulation's Lambda Invoke runs this process's functions, whoever calls it
(`lambda_api.py`: `make invoke` of the pre-traffic hook, from a process of its own, reaches
the API functions here); the gateway's `GET /_local/codedeploy` lists the verdicts that
deployment hooks reported to the emulation (`codedeploy.py`).

With `start_sources=False` (tests that step the drivers themselves) there is no child:
every function's drivers are built here, idle, as before.

With a `data_dir` (`dev` passes the project's `.local/`), the emulation's tables, secrets
and parameters are restored from it before the emulation serves, and saved to it within a
second of every write and at stop (`persistence.py`); without one, every start is empty.

The project's API-address parameters (`api_address_parameters` of its
`[tool.warung_local]` settings; Warung's `PaymentWebhookUrl`) are set to this runtime's
own gateway, e.g. `http://<host>:<port>/v1/payments/webhook`, unless the caller overrides
them; the gateway's socket is bound first so that its port (port 0: a free one) is
known before the template is resolved.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from pathlib import Path
from types import TracebackType
from typing import Any

from warung_local.companions import Companion, start_companions, stop_companions
from warung_local.config import LocalConfig, load_config
from warung_local.emulation import Emulation
from warung_local.functions import InvocationResult, LocalFunction, load_functions
from warung_local.gateway import CorsPolicy, Gateway, bind_server
from warung_local.lambda_api import LambdaInvoke
from warung_local.local_data import clear
from warung_local.mail import MailBox
from warung_local.persistence import StateKeeper
from warung_local.provision import provision
from warung_local.seed import run_seeders
from warung_local.sources import Driver, build_drivers, stop_all
from warung_local.sources_process import SourcesProcess, callers_of_api
from warung_local.template import Template, load_template

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
        out_of_process: Collection[str] = (),
        config: LocalConfig | None = None,
        data_dir: Path | None = None,
        reset: bool = False,
        cors_origin: str | None = None,
    ) -> None:
        self.template_path = Path(template_path)
        # The project's specifics: stack name, parameter overrides, seeders, data folder.
        self.config = config or load_config(self.template_path)
        self.host, self.port = host, port
        self.emulator_host, self.emulator_port = emulator_host, emulator_port
        self.seed, self.start_sources = seed, start_sources
        self.user_overrides = dict(parameter_overrides or {})
        # Completed with the API-address parameters once the gateway's port is known.
        self.parameter_overrides = self.config.parameters(overrides=self.user_overrides)
        self.extra_out_of_process = set(out_of_process)
        # With a data folder, the emulation's data outlives this runtime (`persistence`);
        # `reset` empties the folder first. Without one, every start begins empty.
        self.data_dir = None if data_dir is None else Path(data_dir).resolve()
        self.reset = reset
        # Any local origin, or exactly `cors_origin` (checked now: a typo fails at once).
        self.cors = CorsPolicy(cors_origin)
        self.keeper: StateKeeper | None = None
        self.emulation: Emulation | None = None
        self.gateway: Gateway | None = None
        self.mailbox = MailBox()
        self.functions: dict[str, LocalFunction] = {}
        self.drivers: list[Driver] = []  # the drivers run (or stepped) in this process
        self.out_of_process: list[str] = []  # functions whose sources the child runs
        self.sources_process: SourcesProcess | None = None
        self.seed_lines: list[str] = []
        self.companions: list[Companion] = []
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
        # The gateway's socket first: the template needs the API's own address.
        listener = bind_server(self.host, self.port)
        try:
            self.port = int(listener.server_address[1])
            self.parameter_overrides = self._with_companions(
                self.config.parameters(self.own_api_url, self.user_overrides)
            )
            template = load_template(
                self.template_path, self.parameter_overrides, self.config.stack_name
            )
            self.emulation = Emulation(self.emulator_host, self.emulator_port)
            if self.data_dir is not None:
                self._restore(self.emulation, self.data_dir)
            self.emulation.start()
            if self.keeper is not None:
                self.keeper.start()
            # Sends from the child process reach the mailbox too: it watches the emulation.
            self.emulation.add_observer(self.mailbox)
            endpoint = self.emulation.endpoint_url
            physical = provision(template, endpoint)
            self._template = template.with_physical(physical)
            self._tell_companions(endpoint)
            if self.start_sources:
                callers = set(callers_of_api(self._template, self.own_api_url))
                callers |= self.extra_out_of_process & set(self._template.functions)
                self.out_of_process = [f for f in self._template.functions if f in callers]
            if self.out_of_process:
                # Launched now, its start overlaps ours; until the gateway serves, its
                # calls to the API wait in the listen backlog.
                self.sources_process = SourcesProcess(
                    self.template_path,
                    self.parameter_overrides,
                    self.out_of_process,
                    endpoint,
                    physical,
                )
                self.sources_process.launch()
            self.functions = load_functions(self._template, endpoint)
            # Lambda Invoke of the emulation runs them here, whoever calls (`make invoke`, too).
            self.emulation.add_service(
                LambdaInvoke(self.functions, self._template.region, self._template.account_id)
            )
            if self.seed:
                self.seed_lines = run_seeders(self._template, endpoint, self.config.seeders)
            in_process = {
                lid: f for lid, f in self.functions.items() if lid not in self.out_of_process
            }
            self.drivers = build_drivers(self._template, in_process, endpoint)
            if self.start_sources:
                for driver in self.drivers:
                    driver.start()
            self.gateway = Gateway(
                self._template.routes,
                self._template.api,
                self._invoke_for_gateway,
                self.host,
                self.port,
                local_endpoints={
                    "/_local/mail": self._mail_endpoint,
                    "/_local/codedeploy": self._codedeploy_endpoint,
                },
                server=listener,
                cors=self.cors,
            )
        except BaseException:
            listener.server_close()
            raise
        self.gateway.start()
        if self.sources_process is not None:
            self.sources_process.wait_ready()

    def _with_companions(self, parameters: dict[str, str]) -> dict[str, str]:
        """Start the companions these parameters call for; the parameters with theirs."""
        self.companions = start_companions(self.config.companions, parameters, self.own_api_url)
        for companion in self.companions:
            parameters = {**parameters, **companion.parameters}
        return parameters

    def _tell_companions(self, endpoint_url: str) -> None:
        assert self._template is not None
        for companion in self.companions:
            companion.provisioned(self._template, endpoint_url)

    def stop(self) -> None:
        """Stop the sources process, the gateway, the sources and the emulation (idempotent)."""
        # The child first, while the API and the emulation still answer its last calls.
        if self.sources_process is not None:
            self.sources_process.stop()
            self.sources_process = None
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        stop_all(self.drivers)
        stop_companions(self.companions)
        self.companions = []
        if self.keeper is not None:
            # Last: every writer (sources, gateway, drivers) has stopped.
            self.keeper.stop()
            self.keeper = None
        if self.emulation is not None:
            self.emulation.stop()
            self.emulation = None

    def _restore(self, emulation: Emulation, folder: Path) -> None:
        if self.reset and clear(folder):
            log.info("local data in %s deleted (reset)", folder)
        keeper = StateKeeper(folder, emulation)
        keeper.restore()
        # Only once the saved data is back: a failed restore must not overwrite it.
        self.keeper = keeper

    @property
    def restored(self) -> bool:
        """Whether this start found data saved by a previous one."""
        return self.keeper is not None and self.keeper.restored

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
    def own_api_url(self) -> str:
        """The API's address as functions are told it (loopback when bound to every interface)."""
        host = "127.0.0.1" if self.host in {"0.0.0.0", ""} else self.host  # noqa: S104
        if ":" in host:
            host = f"[{host}]"  # an IPv6 literal
        return f"http://{host}:{self.port}"

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
        if function_id in self.out_of_process:
            raise KeyError(f"the event sources of {function_id} run in the sources process")
        raise KeyError(f"no event source drives {function_id}")

    def source_names(self) -> list[str]:
        """Every running (or steppable) event source, those of the child process marked."""
        names = [driver.name for driver in self.drivers]
        if self.sources_process is not None:
            pid = self.sources_process.pid
            names += [f"{name}  (process {pid})" for name in self.sources_process.drivers]
        return names

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

    def _codedeploy_endpoint(
        self, _method: str, _path: str, _query: list[tuple[str, str]]
    ) -> tuple[int, dict[str, str], bytes]:
        verdicts = self.emulation.codedeploy.verdicts() if self.emulation else []
        return 200, {"Content-Type": "application/json"}, json.dumps(verdicts).encode()
