"""A queue-driven function may call the local API back and wait for the answer.

Invocations in one process are serialised by one lock, so the worker posting the payment
simulator's webhook to the stage's own API would wait for itself until it timed out.
`dev` runs the event sources of functions told the API's address in a child process:
these tests drive `callback_app`, whose CallerFunction (SQS) posts to the API's
ReceiverFunction with an 8 s timeout inside a 10 s handler timeout.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support.dev import running_dev

from warung_local.emulation import aws_client
from warung_local.runtime import LocalRuntime

REPO = Path(__file__).resolve().parents[3]
CALLBACK_TEMPLATE = Path(__file__).resolve().parent / "callback_app" / "template.yaml"
WEBHOOK_PATH = "/v1/payments/webhook"
# The call has 8 s before urllib gives up; a deadlocked call takes all of them.
QUICK_S = 2.0


def _next_result(sqs: Any, queue_url: str, timeout_s: float = 10.0) -> dict[str, Any]:
    """The next report the caller sent to the results queue."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            result: dict[str, Any] = json.loads(message["Body"])
            return result
    raise AssertionError(f"no result within {timeout_s:.0f} s")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    # An orphan's zombie waits for an init that may never reap it: it is not running.
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


# ------------------------------------------------------------------ in-process runtime


@pytest.fixture(scope="module")
def callback_runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(CALLBACK_TEMPLATE, port=0, emulator_port=0, seed=False) as runtime:
        yield runtime


def test_the_api_address_parameter_points_at_the_runtime_itself(
    callback_runtime: LocalRuntime,
) -> None:
    environment = callback_runtime.template.functions["CallerFunction"].environment

    assert callback_runtime.parameter_overrides["PaymentWebhookUrl"] == (
        f"{callback_runtime.api_url}{WEBHOOK_PATH}"
    )
    assert environment["CALLBACK_URL"] == f"{callback_runtime.api_url}{WEBHOOK_PATH}"


def test_only_functions_told_the_api_address_run_their_sources_out_of_process(
    callback_runtime: LocalRuntime,
) -> None:
    assert callback_runtime.out_of_process == ["CallerFunction"]
    child = callback_runtime.sources_process
    assert child is not None
    assert child.drivers == ["sqs:CallsQueue->CallerFunction"]
    assert child.pid is not None
    assert child.pid != os.getpid()
    # The parent drives the others, and no longer the caller's.
    assert callback_runtime.driver("QuietFunction").name == "sqs:QuietQueue->QuietFunction"
    with pytest.raises(KeyError, match="sources process"):
        callback_runtime.driver("CallerFunction")


def test_a_queue_driven_function_calls_the_local_api_without_deadlock(
    callback_runtime: LocalRuntime,
) -> None:
    # given: three jobs for the caller, one of which also sends an e-mail
    template = callback_runtime.template
    sqs = aws_client("sqs", callback_runtime.endpoint_url)
    receiver = callback_runtime.functions["ReceiverFunction"]
    callback_runtime.invoke("ReceiverFunction", {"body": "null"})  # loads its module
    received = receiver.modules["app"].received
    received.clear()
    messages: list[dict[str, object]] = [
        {"n": 1},
        {"n": 2, "mail": "someone@callback.test"},
        {"n": 3},
    ]
    started = time.monotonic()

    # when: they are queued, as the payment simulator queues its webhook jobs
    for message in messages:
        sqs.send_message(QueueUrl=template.queue_url("CallsQueue"), MessageBody=json.dumps(message))
    results = [_next_result(sqs, template.queue_url("ResultsQueue")) for _ in messages]
    elapsed_s = time.monotonic() - started

    # then: every call was answered at once by the API's function in this process,
    # from the caller's invocation in the sources process
    assert callback_runtime.sources_process is not None
    child_pid = callback_runtime.sources_process.pid
    by_n = {r["message"]["n"]: r for r in results}
    assert sorted(by_n) == [1, 2, 3]
    for message in messages:
        result = by_n[message["n"]]
        assert result["status"] == 200, result["answer"]
        assert result["answer"] == {"received": message, "receiver_pid": os.getpid()}
        assert result["caller_pid"] == child_pid
        assert result["elapsed_s"] < QUICK_S
    assert elapsed_s < 3 * QUICK_S
    assert sorted(received, key=lambda m: m["n"]) == messages
    # and the e-mail sent from the child reached the mailbox of /_local/mail
    mail = callback_runtime.mailbox.messages("someone@callback.test")
    assert [(m["subject"], m["text"]) for m in mail] == [
        ("callback 2", "sent from the sources process")
    ]


# ------------------------------------------------------------------ `dev`, as started by hand


@contextmanager
def _dev(log_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, int, str]]:
    """`python -m warung_local dev` on the callback app: (process, port, child pid, endpoint)."""
    with running_dev(log_path, template=CALLBACK_TEMPLATE, startup_s=30) as dev:
        found = re.search(r"\(process (\d+)\)", dev.output)
        assert found is not None, "dev lists the child's event sources with its pid"
        yield dev.process, dev.port, int(found.group(1)), f"http://127.0.0.1:{dev.emulator_port}"


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_dev_serves_callbacks_and_stops_its_sources_process_on_ctrl_c(tmp_path: Path) -> None:
    log_path = tmp_path / "dev.log"
    with _dev(log_path) as (process, _port, child_pid, endpoint):
        # given: the caller's sources in the child, sharing dev's output
        sqs = aws_client("sqs", endpoint)
        calls = sqs.get_queue_url(QueueName="callback-local-calls")["QueueUrl"]
        results = sqs.get_queue_url(QueueName="callback-local-results")["QueueUrl"]

        # when: a job calls the API back
        sqs.send_message(QueueUrl=calls, MessageBody=json.dumps({"n": 7}))
        result = _next_result(sqs, results)

        # then: dev answered it at once, from the address dev gave the function
        assert result["status"] == 200, result["answer"]
        assert result["answer"] == {"received": {"n": 7}, "receiver_pid": process.pid}
        assert result["caller_pid"] == child_pid
        assert result["elapsed_s"] < QUICK_S

        # when: Ctrl-C
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)

    # then: a clean exit, the child gone with dev, and the child's logs in dev's output
    output = log_path.read_text(errors="replace")
    assert code == 0, output
    assert _wait_gone(child_pid, 1.0), output
    assert f"event sources process {child_pid}: sqs:CallsQueue->CallerFunction" in output
    assert "warung_local: event sources stopped" in output
    assert "Traceback" not in output


def test_the_sources_process_does_not_outlive_a_killed_dev(tmp_path: Path) -> None:
    with _dev(tmp_path / "dev.log") as (process, _port, child_pid, _endpoint):
        # when: dev dies without a chance to stop anything
        process.kill()
        process.wait()

        # then: the child notices (its stdin, dev's pipe, ends) and exits
        assert _wait_gone(child_pid, 5.0)
