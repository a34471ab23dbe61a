"""`python -m warung_local`: dev, reset, invoke, event, env-file, and sources (which dev starts)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger("warung_local")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _setup_logging(verbose: bool = False) -> None:
    # Logs go to stderr so that stdout carries only results (invoke, event).
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# ------------------------------------------------------------------ dev


def parse_overrides(items: list[str]) -> dict[str, str]:
    """`Key=Value` pairs, as `sam deploy --parameter-overrides` takes them."""
    overrides: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--parameter-overrides: expected Key=Value, got {item!r}")
        overrides[key] = value
    return overrides


def _data_folder(args: argparse.Namespace) -> Path:
    """The data folder a command works on: --data-dir, else $LOCAL_DATA_DIR, else the project's."""
    from warung_local.local_data import data_folder

    chosen = getattr(args, "data_dir", None)
    return Path(chosen).resolve() if chosen else data_folder(args.template)


def cmd_dev(args: argparse.Namespace) -> int:
    """Run the whole local stack until Ctrl-C or SIGTERM."""
    from warung_local.config import load_config
    from warung_local.local_data import forget_runtime, record_runtime, running
    from warung_local.runtime import LocalRuntime

    data_dir = _data_folder(args)
    other = running(data_dir)
    if other is not None:
        print(
            f"a local runtime already runs on {data_dir} (pid {other.pid}, API {other.api_url}): "
            "stop it first, or give this one another --data-dir",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    config = load_config(args.template)
    runtime = LocalRuntime(
        template_path=args.template,
        host=args.host,
        port=args.port,
        emulator_port=args.emulator_port,
        emulator_host=args.emulator_host,
        parameter_overrides=parse_overrides(args.parameter_overrides),
        config=config,
        data_dir=data_dir,
        reset=args.reset,
        cors_origin=args.cors_origin,
    )
    runtime.start()
    try:
        # Where it runs, for every other tool (make create-admin, make invoke, env-file).
        record_runtime(
            data_dir,
            api_url=runtime.api_url,
            endpoint_url=runtime.endpoint_url,
            emulator_bind=args.emulator_host,
            template=Path(args.template),
        )
        out = sys.stdout
        api = runtime.api_url
        print(f"API            {api}", file=out)
        print(f"Docs           {api}/docs", file=out)
        print(f"Emulation      {runtime.endpoint_url}  (AWS_ENDPOINT_URL)", file=out)
        print(f"Mail           {api}/_local/mail", file=out)
        if runtime.template.api.cors:
            print(f"CORS           {runtime.cors.describe()}", file=out)
        kept = "restored" if runtime.restored else "new"
        print(f"Data           {data_dir}  ({kept}; `make reset` deletes it)", file=out)
        print("Routes:", file=out)
        print(runtime.routes_table(), file=out)
        sources = runtime.source_names()
        if sources:
            print("Event sources:", file=out)
            for name in sources:
                print(f"  {name}", file=out)
        for companion in runtime.companions:
            print(companion.line, file=out)
        for line in runtime.seed_lines:
            print(line, file=out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        log.info("stopping")
        runtime.stop()
        forget_runtime(data_dir)
    return 0


# ------------------------------------------------------------------ reset


def cmd_reset(args: argparse.Namespace) -> int:
    """Delete the local data folder, so that the next `dev` starts empty."""
    from warung_local.local_data import clear, running

    folder = _data_folder(args)
    other = running(folder)
    if other is not None:
        print(
            f"a local runtime is running on {folder} (pid {other.pid}, API {other.api_url}): "
            "stop `make dev` first",
            file=sys.stderr,
        )
        return 2
    if clear(folder):
        print(f"deleted the local data in {folder}")
    else:
        print(f"no local data in {folder}: nothing to delete")
    return 0


# ------------------------------------------------------------------ sources


def cmd_sources(args: argparse.Namespace) -> int:
    """Run the event sources of some functions against a running emulation (see dev)."""
    from warung_local.local_data import NoLocalRuntime, locate_emulation
    from warung_local.sources_process import physical_from_json, run_sources

    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    if args.stop_on_stdin_eof:

        def watch_stdin() -> None:
            with contextlib.suppress(OSError, ValueError):
                while sys.stdin.buffer.read(4096):
                    pass
            stop.set()

        threading.Thread(target=watch_stdin, name="stdin-eof", daemon=True).start()
    explicit = args.endpoint or (
        None if args.emulator_port is None else f"http://{args.emulator_host}:{args.emulator_port}"
    )
    try:
        endpoint, _ = locate_emulation(_data_folder(args), explicit)
    except NoLocalRuntime as exc:
        print(exc, file=sys.stderr)
        return 2

    def ready(message: dict[str, Any]) -> None:
        if args.ready_fd is not None:
            with os.fdopen(args.ready_fd, "w", encoding="utf-8") as channel:
                channel.write(json.dumps(message) + "\n")

    code = run_sources(
        args.template,
        parse_overrides(args.parameter_overrides),
        args.functions,
        endpoint,
        stop,
        physical=physical_from_json(args.physical) if args.physical else None,
        ready=ready,
    )
    log.info("event sources stopped")
    return code


# ------------------------------------------------------------------ invoke


def choose_emulation(args: argparse.Namespace) -> tuple[str | None, str]:
    """The emulation `invoke` uses (None: a throwaway one) and the API its functions are told
    of; says which in one line on stderr.

    --emulator-port (or EMULATOR_PORT) names one; else the `dev` recorded in the data folder.
    """
    from warung_local.local_data import is_listening, running
    from warung_local.template import DEFAULT_API_PORT

    default_api = f"http://127.0.0.1:{_env_int('PORT', DEFAULT_API_PORT)}"
    if args.emulator_port is not None:
        where = f"{args.emulator_host}:{args.emulator_port}"
        if is_listening(args.emulator_host, args.emulator_port):
            print(f"invoke: using the running emulation at http://{where}", file=sys.stderr)
            return f"http://{where}", default_api
        print(f"invoke: no emulation on {where}: using a throwaway emulation", file=sys.stderr)
        return None, default_api
    record = running(_data_folder(args))
    if record is None:
        print("invoke: no local runtime running: using a throwaway emulation", file=sys.stderr)
        return None, default_api
    print(
        f"invoke: using the running local runtime (pid {record.pid}): emulation "
        f"{record.endpoint_url}, API {record.api_url}",
        file=sys.stderr,
    )
    return record.endpoint_url, record.api_url


def cmd_invoke(args: argparse.Namespace) -> int:
    """Run one event through one handler and print its result, as `sam local invoke` does."""
    from warung_local.config import load_config
    from warung_local.emulation import Emulation
    from warung_local.functions import load_functions
    from warung_local.lambda_api import LambdaInvoke
    from warung_local.provision import provision
    from warung_local.template import load_template

    result_out: TextIO = sys.stdout
    # Whatever the handler prints (its logs) goes to stderr; stdout carries the result only.
    sys.stdout = sys.stderr
    try:
        event = (
            json.loads(Path(args.event).read_text(encoding="utf-8"))
            if args.event != "-"
            else json.load(sys.stdin)
        )
        # A job that calls the API (the payment simulator's webhook) reaches a running
        # `dev`: invoke is a process of its own, so there is no lock to wait for.
        running_endpoint, api_url = choose_emulation(args)
        config = load_config(args.template)
        template = load_template(
            args.template,
            config.parameters(api_url, parse_overrides(args.parameter_overrides)),
            config.stack_name,
        )
        if args.function not in template.functions:
            known = ", ".join(sorted(template.functions))
            print(f"unknown function {args.function}; the template has: {known}", file=sys.stderr)
            return 2
        private: Emulation | None = None
        if running_endpoint is None:
            private = Emulation().start()
            endpoint = private.endpoint_url
        else:
            endpoint = running_endpoint
        try:
            resolved = template.with_physical(provision(template, endpoint))
            if private is None:
                # The running dev's emulation runs what this handler invokes, in dev.
                functions = load_functions(resolved, endpoint, only={args.function}, eager=False)
            else:
                # This process owns the emulation: its Lambda Invoke runs them here.
                functions = load_functions(resolved, endpoint, eager=False)
                private.add_service(LambdaInvoke(functions, resolved.region, resolved.account_id))
            result = functions[args.function].invoke(event)
        finally:
            if private is not None:
                private.stop()
        output = result.payload if result.ok else result.error
        result_out.write(json.dumps(output, indent=2) + "\n")
        result_out.flush()
        log.info(
            "%s: %s in %.0f ms", args.function, "ok" if result.ok else "error", result.duration_ms
        )
        return 0 if result.ok else 1
    finally:
        sys.stdout = result_out


# ------------------------------------------------------------------ event


def cmd_event(args: argparse.Namespace) -> int:
    """Print the API Gateway proxy event the gateway would build for a request."""
    from warung_local.config import load_config
    from warung_local.gateway import Router, build_proxy_event, parse_header_option
    from warung_local.template import load_template

    config = load_config(args.template)
    template = load_template(args.template, config.parameters(), config.stack_name)
    split = urlsplit(args.path)
    path = split.path or "/"
    query = parse_qsl(split.query, keep_blank_values=True)
    for item in args.query:
        name, _, value = item.partition("=")
        query.append((name, value))
    headers = [parse_header_option(h) for h in args.header]
    body = None
    if args.body is not None:
        body = args.body.encode("utf-8")
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
    match = Router(template.routes).match(args.method, path)
    if match is None:
        print(
            f"note: no route of the template matches {args.method.upper()} {path}", file=sys.stderr
        )
    event = build_proxy_event(
        args.method,
        path,
        query,
        headers,
        body,
        match,
        template.api.stage,
        template.api.binary_media_types,
        host=f"127.0.0.1:{_env_int('PORT', 3000)}",
    )
    print(json.dumps(event, indent=2))
    return 0


# ------------------------------------------------------------------ env-file


def default_api_url(endpoint: str) -> str:
    """The local API as seen from where `endpoint` is seen: its host, `dev`'s default port."""
    from warung_local.template import DEFAULT_API_PORT

    host = urlsplit(endpoint).hostname or "127.0.0.1"
    return f"http://{host}:{DEFAULT_API_PORT}"


def env_file_document(
    template_path: str | Path, endpoint: str, api_url: str | None = None
) -> dict[str, dict[str, str]]:
    """The SAM `--env-vars` document pointing every function at an emulation at `endpoint`.

    Parameters that hold the API's own address point at `api_url` (default: the
    endpoint's host on port 3000, where `dev` or `sam local start-api` listens).
    """
    from warung_local.config import load_config
    from warung_local.functions import DUMMY_CREDENTIALS
    from warung_local.template import PhysicalResources, load_template

    config = load_config(template_path)
    template = load_template(
        template_path,
        config.parameters(api_url or default_api_url(endpoint)),
        config.stack_name,
    )
    # Queue URLs as the emulation at `endpoint` hands them out; secrets by their
    # suffix-less ARN, which Secrets Manager (and moto) accept as an id.
    physical = PhysicalResources(
        queue_urls={
            lid: f"{endpoint.rstrip('/')}/{template.account_id}/{q.name}"
            for lid, q in template.queues.items()
        }
    )
    resolved = template.with_physical(physical)
    document: dict[str, dict[str, str]] = {}
    for lid, spec in sorted(resolved.functions.items()):
        variables = dict(sorted(spec.environment.items()))
        variables["AWS_ENDPOINT_URL"] = endpoint
        variables.update({k: v for k, v in DUMMY_CREDENTIALS.items() if k != "AWS_SESSION_TOKEN"})
        document[lid] = variables
    return document


def render_env_file(document: dict[str, Any]) -> str:
    """The env-vars file's text (stable, so that it can be committed and compared)."""
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


DOCKER_HOST = "172.17.0.1"  # the Docker host as a container on the default bridge sees it
DEFAULT_EMULATOR_PORT = 4566


def cmd_env_file(args: argparse.Namespace) -> int:
    """Write the SAM env-vars file for running the functions in Docker against the emulation.

    The ports are the running `dev`'s (its data folder's runtime.json) unless --endpoint
    gives the emulation; without a running `dev`, `dev`'s default ports.
    """
    from warung_local.local_data import running
    from warung_local.template import DEFAULT_API_PORT

    out = Path(args.out)
    endpoint, api_url = args.endpoint, args.api_url
    if endpoint is not None:
        said = f"wrote {out} for the emulation at {endpoint}"
    else:
        record = running(_data_folder(args))
        if record is None:
            ports = (DEFAULT_EMULATOR_PORT, DEFAULT_API_PORT)
            said = f"no local runtime running: wrote {out} for dev's default ports"
        else:
            ports = (record.emulator_port, record.port)
            said = f"wrote {out} for the running local runtime (pid {record.pid})"
            if record.emulator_bind not in {"0.0.0.0", ""}:  # noqa: S104 - compared, not bound
                said += "; it listens on loopback only: start it with EMULATOR_HOST=0.0.0.0"
        endpoint = f"http://{args.docker_host}:{ports[0]}"
        api_url = api_url or f"http://{args.docker_host}:{ports[1]}"
        said = f"{said} (emulation {endpoint}, API {api_url})"
    text = render_env_file(env_file_document(args.template, endpoint, api_url))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(said, file=sys.stderr)
    return 0


# ------------------------------------------------------------------ main


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python -m warung_local", description="Warung's local runtime (no Docker)."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser, emulator_port: int | None = None) -> None:
        sub.add_argument(
            "--template",
            default=os.environ.get("TEMPLATE", "template.yaml"),
            help="SAM template (default template.yaml)",
        )
        port = os.environ.get("EMULATOR_PORT")
        sub.add_argument(
            "--emulator-port",
            type=int,
            default=int(port) if port else emulator_port,
            help="default: $EMULATOR_PORT, else "
            + (str(emulator_port) if emulator_port else "the running dev's (.local/runtime.json)"),
        )
        sub.add_argument("--emulator-host", default=os.environ.get("EMULATOR_HOST", "127.0.0.1"))
        sub.add_argument(
            "--data-dir",
            help="the local data folder (default: $LOCAL_DATA_DIR, else data_dir of "
            "[tool.warung_local])",
        )
        sub.add_argument(
            "--parameter-overrides",
            nargs="*",
            default=[],
            metavar="KEY=VALUE",
            help="template parameters, as for sam deploy (Stage stays local)",
        )

    dev = commands.add_parser("dev", help="run the API, the emulation and every event source")
    common(dev, emulator_port=4566)
    dev.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    dev.add_argument("--port", type=int, default=_env_int("PORT", 3000))
    dev.add_argument("--reset", action="store_true", help="delete the kept data first: start empty")
    dev.add_argument(
        "--cors-origin",
        default=os.environ.get("CORS_ORIGIN") or None,
        help="the one browser origin allowed (default: any http://localhost:<port> or "
        "http://127.0.0.1:<port>)",
    )
    dev.set_defaults(handler=cmd_dev)

    reset = commands.add_parser(
        "reset", help="delete the data that dev keeps across restarts (.local/)"
    )
    reset.add_argument("--template", default=os.environ.get("TEMPLATE", "template.yaml"))
    reset.add_argument("--data-dir", help="default: $LOCAL_DATA_DIR, else the project's")
    reset.set_defaults(handler=cmd_reset)

    sources = commands.add_parser(
        "sources",
        help="run the event sources of some functions against a running emulation",
        description=(
            "dev starts this for the functions that call the local API, so that their "
            "invocations do not wait for the API's (see warung_local.sources_process)."
        ),
    )
    common(sources)
    sources.add_argument(
        "--function",
        dest="functions",
        action="append",
        required=True,
        metavar="LOGICAL_ID",
        help="a function whose event sources to run (repeatable)",
    )
    sources.add_argument(
        "--endpoint", help="the emulation (default http://EMULATOR_HOST:EMULATOR_PORT)"
    )
    # Set by dev: the physical values it provisioned, where to report readiness, and
    # the pipe whose end means that dev is gone.
    sources.add_argument("--physical", help=argparse.SUPPRESS)
    sources.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)
    sources.add_argument("--stop-on-stdin-eof", action="store_true", help=argparse.SUPPRESS)
    sources.set_defaults(handler=cmd_sources)

    invoke = commands.add_parser("invoke", help="run one event through one function")
    common(invoke)
    invoke.add_argument("function", help="the function's logical id")
    invoke.add_argument("event", help="event JSON file ('-' for stdin)")
    invoke.set_defaults(handler=cmd_invoke)

    event = commands.add_parser("event", help="print the API Gateway proxy event of a request")
    event.add_argument("--template", default=os.environ.get("TEMPLATE", "template.yaml"))
    event.add_argument("method")
    event.add_argument("path", help="path, optionally with ?query")
    event.add_argument("--body", help="request body (JSON text)")
    event.add_argument("--header", action="append", default=[], help="Name:value (repeatable)")
    event.add_argument("--query", action="append", default=[], help="name=value (repeatable)")
    event.set_defaults(handler=cmd_event)

    env_file = commands.add_parser(
        "env-file",
        help="write a SAM --env-vars file pointing Docker-run functions at the emulation",
        description=(
            "SAM applies an env-vars value only to variables that the template declares "
            "for the function."
        ),
    )
    env_file.add_argument("--template", default=os.environ.get("TEMPLATE", "template.yaml"))
    env_file.add_argument("--out", default="env/docker.json")
    env_file.add_argument(
        "--docker-host",
        default=DOCKER_HOST,
        help=f"this machine as containers see it (default {DOCKER_HOST}; "
        "Docker Desktop: host.docker.internal)",
    )
    env_file.add_argument(
        "--endpoint",
        help="the emulation as seen from Docker (default: the running dev's port on the "
        f"Docker host, else {DEFAULT_EMULATOR_PORT})",
    )
    env_file.add_argument(
        "--api-url",
        help="the local API as seen from Docker (default: the running dev's port on the "
        "Docker host, else 3000)",
    )
    env_file.add_argument("--data-dir", help="default: $LOCAL_DATA_DIR, else the project's")
    env_file.set_defaults(handler=cmd_env_file)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear one-line error rather than a traceback for users
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return code
