"""An embedded AWS emulation: moto's server app, made atomic per request.

DynamoDB serialises writes to an item, so a conditional update such as
`SET stock = stock - 1 IF stock > 0` can never oversell. moto's backends are plain
Python objects without locking, and under a threaded server two requests can
interleave between the condition check and the write. The middleware below holds
one lock around each whole request, including producing its response body, so every
API call is atomic, as the real services behave for the cases the application
relies on. The cost (one request at a time) is irrelevant on a laptop.

moto keeps its state in module globals, so every `Emulation` in one process shares
the same tables and queues; they differ only in the socket they listen on.

Three APIs are answered by the local runtime instead of moto, before the lock
(`LocalService`): CodeDeploy's hook verdict, which every emulation records
(`codedeploy.py`), SQS's message move tasks (dead-letter redrive, `move_tasks.py`), and
Lambda Invoke, which runs the template's functions in the process
that owns the emulation once that process registers them (`lambda_api.py`).
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Protocol

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from warung_local.codedeploy import CodeDeployStub
from warung_local.move_tasks import MessageMoveTasks

log = logging.getLogger("warung_local.emulation")

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]
# A status line, headers (without Content-Length) and a body.
LocalAnswer = tuple[str, list[tuple[str, str]], bytes]

# A long poll inside the lock would stall every other caller for up to 20 s; the
# middleware waits between short polls instead, outside the lock.
_LONG_POLL_STEP_S = 0.05
_MAX_LONG_POLL_S = 20.0


class RequestObserver(Protocol):
    """Something told about every request once its response is produced (inside the lock)."""

    def __call__(
        self, environ: WSGIEnviron, request_body: bytes, status: str, response_body: bytes
    ) -> None:
        """Observe one completed request."""


class LocalService(Protocol):
    """An API that the local runtime answers itself instead of moto (`lambda_api.py`,
    `codedeploy.py`). It is served outside the request lock: Lambda Invoke runs a handler
    that calls the emulation in turn. A service that reads moto's state takes the lock."""

    def __call__(self, environ: WSGIEnviron, body: bytes) -> LocalAnswer | None:
        """The answer to a request of this service; None for a request of any other."""


class SerialisingMiddleware:
    """WSGI middleware that runs each request of the wrapped app under one lock."""

    def __init__(self, app: WSGIApp, lock: threading.Lock | None = None) -> None:
        self.app = app
        self.lock = lock or threading.Lock()
        self.observers: list[RequestObserver] = []
        self.services: list[LocalService] = []
        self.stopping = threading.Event()

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        body = _read_body(environ)
        answer = self._answer_locally(environ, body)
        if answer is not None:
            status, headers, payload = answer
            headers = [*headers, ("Content-Length", str(len(payload)))]
        elif environ.get("HTTP_X_AMZ_TARGET") == "AmazonSQS.ReceiveMessage":
            status, headers, payload = self._receive_message(environ, body)
        else:
            status, headers, payload = self._call_locked(environ, body)
        start_response(status, headers)
        return [payload]

    def _answer_locally(self, environ: WSGIEnviron, body: bytes) -> LocalAnswer | None:
        for service in self.services:
            answer = service(environ, body)
            if answer is not None:
                return answer
        return None

    def _call_locked(
        self, environ: WSGIEnviron, body: bytes
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def capture(
            status: str, headers: list[tuple[str, str]], _exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None  # the legacy write() callable; moto does not use it

        with self.lock:
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            result = self.app(environ, capture)
            try:
                # The body is produced lazily by some apps: finish it while still locked.
                payload = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            status = str(captured.get("status", "500 INTERNAL SERVER ERROR"))
            for observer in self.observers:
                try:
                    observer(environ, body, status, payload)
                except Exception:  # an observer must never break the emulation
                    log.exception("request observer failed")
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(payload))))
        return status, headers, payload

    def _receive_message(
        self, environ: WSGIEnviron, body: bytes
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        try:
            params = json.loads(body or b"{}")
            wait_s = min(float(params.get("WaitTimeSeconds") or 0), _MAX_LONG_POLL_S)
        except (ValueError, TypeError):
            return self._call_locked(environ, body)
        params["WaitTimeSeconds"] = 0
        short_poll = json.dumps(params).encode()
        deadline = time.monotonic() + wait_s
        while True:
            status, headers, payload = self._call_locked(dict(environ), short_poll)
            if (
                not status.startswith("200")
                or time.monotonic() >= deadline
                or self.stopping.is_set()
            ):
                return status, headers, payload
            try:
                if json.loads(payload).get("Messages"):
                    return status, headers, payload
            except ValueError:
                return status, headers, payload
            self.stopping.wait(_LONG_POLL_STEP_S)


def _read_body(environ: WSGIEnviron) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        data: bytes = stream.read(int(length))
        return data
    if environ.get("wsgi.input_terminated"):
        chunked: bytes = stream.read()
        return chunked
    return b""


def keep_streams_true_to_transactions() -> None:  # noqa: C901 - patches moto's paths, one branch per operation kind
    """Make a cancelled `TransactWriteItems` leave the table, and its stream, as they were,
    without copying whole tables.

    moto applies a transaction's writes one by one, appending stream records as it goes,
    and to roll back a cancelled one it deep-copies each table beforehand, once per action.
    That copy costs time in the size of the table for every action of every transaction
    (a suite's table of thousands of items made a 20-action checkout take seconds), and it
    brings a new stream shard object: the records of writes that never happened stay in the
    old shard, which open shard iterators still read, and those iterators never see a later
    record. In DynamoDB a cancelled transaction writes nothing, to the stream neither.

    This wrapper snapshots only the items the transaction names, lets moto "copy" a table
    as the table itself, and on cancellation puts those items back and drops the phantom
    stream records. Requests are serialised (SerialisingMiddleware), so nothing interleaves.
    A request whose items cannot be identified falls back to moto's own full copies.
    """
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_keeps_streams", False):
        return
    full_copies = [False]

    class _TableCopier:
        """moto's `copy` module, except that a table is "copied" as itself."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, Table) and not full_copies[0]:
                return value
            return copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    models.copy = _TableCopier()  # type: ignore[assignment,attr-defined]

    def snapshot(self: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        from moto.dynamodb.models.dynamo_type import DynamoType

        saved = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables[op["TableName"]]
            key = op.get("Key") or op["Item"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = table.get_item(hash_value, range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(current)))
        return saved

    def restore(saved: list[tuple[Any, ...]]) -> None:
        for table, hash_value, range_value, item in reversed(saved):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
            elif item is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = item

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        try:
            saved = snapshot(self, transact_items)
        except Exception:  # an unknown table or a malformed key: moto's own way reports it
            saved = None
        full_copies[0] = saved is None
        try:
            original(self, transact_items)
        except Exception:
            if saved is not None:
                restore(saved)
            for name, (shard, length) in shards.items():
                del shard.items[length:]
                table = self.tables.get(name)
                if table is not None:
                    shard.table = table
                    table.stream_shard = shard
            raise
        finally:
            full_copies[0] = False

    transact_write_items._keeps_streams = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


class _QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (the emulation is chatty)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:  # noqa: ARG002
        return


class Emulation:
    """An in-process moto server on `host:port` (port 0 picks a free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.middleware = SerialisingMiddleware(DomainDispatcherApplication(create_backend_app))
        # The verdicts of deployment hooks (moto has no PutLifecycleEventHookExecutionStatus).
        self.codedeploy = CodeDeployStub()
        self.add_service(self.codedeploy)
        # Dead-letter redrive (moto has no StartMessageMoveTask / ListMessageMoveTasks).
        self.move_tasks = MessageMoveTasks(
            lambda region: aws_client("sqs", self.endpoint_url, region)
        )
        self.add_service(self.move_tasks)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        """The URL clients use as `endpoint_url` (AWS_ENDPOINT_URL)."""
        if self._server is None:
            raise RuntimeError("the emulation is not started")
        # Bound to every interface (for Docker), it is still reached locally on loopback.
        host = "127.0.0.1" if self.host in {"0.0.0.0", ""} else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    def add_observer(self, observer: RequestObserver) -> None:
        """Call `observer` after each request, inside the request lock."""
        self.middleware.observers.append(observer)

    def add_service(self, service: LocalService) -> None:
        """Let `service` answer its requests before moto (outside the request lock)."""
        self.middleware.services.append(service)

    def start(self) -> Emulation:
        """Bind the socket and serve in a background thread."""
        keep_streams_true_to_transactions()
        if self._server is not None:
            return self
        self.middleware.stopping.clear()
        self._server = make_server(
            self.host,
            self.port,
            self.middleware,
            threaded=True,
            request_handler=_QuietRequestHandler,
        )
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="emulation",
            daemon=True,
        )
        self._thread.start()
        log.info("emulation listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        """Stop serving and release the socket."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self.middleware.stopping.set()
        server.shutdown()
        if thread is not None:
            thread.join(timeout=5)
        server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> Emulation:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now (for tests and subprocesses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def aws_client(service: str, endpoint_url: str, region: str | None = None) -> Any:
    """A boto3 client for the emulation, with dummy credentials and no ambient config."""
    import boto3  # imported here: the CLI's `event` command never needs it
    from botocore.config import Config

    from warung_local.template import LOCAL_REGION

    return boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any
        region_name=region or LOCAL_REGION,
    ).client(
        service,
        endpoint_url=endpoint_url,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )
