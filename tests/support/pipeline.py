"""A handle on the asynchronous path of a running local application, for tests."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.request import urlopen

from warung_local.emulation import aws_client
from warung_local.runtime import LocalRuntime
from warung_local.sources import SqsPoller, StreamPoller


class Pipeline:
    """Handles on the running application for the tests."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.sqs = aws_client("sqs", runtime.endpoint_url)
        template = runtime.template
        self.jobs_queue_url = template.queue_url("JobsQueue")
        self.dead_letter_queue_url = template.queue_url("JobsDeadLetterQueue")
        self.visibility_requests: list[int] = []  # the worker's backoff delays, in order
        self._waiting: list[str] = []  # receipt handles of messages in a backoff delay
        self._fast_forwarding = False
        assert runtime.emulation is not None
        self._emulation = runtime.emulation
        self._emulation.add_observer(self._observe)

    def close(self) -> None:
        """Stop watching the emulation."""
        self._emulation.middleware.observers.remove(self._observe)

    def _observe(
        self, environ: dict[str, Any], request_body: bytes, status: str, response_body: bytes
    ) -> None:
        # Called inside the emulation's lock for every request: note the worker's delays.
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if self._fast_forwarding or not target.endswith(".ChangeMessageVisibility"):
            return
        request = json.loads(request_body)
        self.visibility_requests.append(int(request["VisibilityTimeout"]))
        self._waiting.append(str(request["ReceiptHandle"]))

    def fast_forward(self) -> None:
        """Let the backoff delays pass: messages waiting to be retried are visible now."""
        self._fast_forwarding = True
        try:
            for handle in self._waiting:
                # A message already deleted or dead-lettered has nothing left to wait for.
                with contextlib.suppress(self.sqs.exceptions.ClientError):
                    self.sqs.change_message_visibility(
                        QueueUrl=self.jobs_queue_url, ReceiptHandle=handle, VisibilityTimeout=0
                    )
            self._waiting.clear()
        finally:
            self._fast_forwarding = False

    def relay(self) -> int:
        """One poll of the main table's stream by the outbox relay: the records it read,
        delivered or dropped by the relay's filter (a backlog of other modules' writes is
        progress too, not idleness)."""
        relay = self.runtime.driver("OutboxRelayFunction", StreamPoller)
        assert isinstance(relay, StreamPoller)
        dropped_before = relay.filtered_out
        delivered = relay.poll_once()
        return delivered + relay.filtered_out - dropped_before

    def work(self) -> int:
        """One poll of the jobs queue by the worker, once pending backoff delays have passed."""
        self.fast_forward()
        worker = self.runtime.driver("WorkerFunction", SqsPoller)
        assert isinstance(worker, SqsPoller)
        return worker.poll_once()

    def drain(self, rounds: int = 10, idle_rounds: int = 3) -> None:
        """Relay and work until nothing moves for a few rounds in a row.

        One idle round is not enough: a stream batch made only of records the relay's
        filter drops (other tests' writes) delivers nothing, yet jobs may follow it.
        """
        idle = 0
        for _ in range(rounds + idle_rounds):
            idle = idle + 1 if self.relay() + self.work() == 0 else 0
            if idle >= idle_rounds:
                return

    def mail(self, to: str) -> list[dict[str, Any]]:
        with urlopen(f"{self.runtime.api_url}/_local/mail?to={to}", timeout=10) as response:
            messages: list[dict[str, Any]] = json.loads(response.read())
        return messages

    def dead_letters(self) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.dead_letter_queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=0,
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def clear_dead_letters(self) -> None:
        """Delete whatever the dead-letter queue holds (PurgeQueue is limited to once a
        minute, so one message batch at a time)."""
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.dead_letter_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30
            ).get("Messages", [])
            if not messages:
                return
            self.sqs.delete_message_batch(
                QueueUrl=self.dead_letter_queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )

    def dead_letters_of(self, correlation_id: str) -> list[dict[str, Any]]:
        """The dead letters caused by one request."""
        return [
            m
            for m in self.dead_letters()
            if json.loads(m["Body"]).get("correlation_id") == correlation_id
        ]

    def send_job(self, body: dict[str, Any]) -> None:
        """Put a job message on the queue as the relay would (for duplicate delivery)."""
        self.sqs.send_message(QueueUrl=self.jobs_queue_url, MessageBody=json.dumps(body))
