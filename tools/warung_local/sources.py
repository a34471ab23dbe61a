"""Event sources that `dev` drives: SQS queues, DynamoDB streams and schedules.

Each driver has a deterministic step (`poll_once()`, `fire_due(now)`) that tests call
directly, and `start()`/`stop()` to run that step in a background thread. Stopping is
prompt: the threads wait on a `threading.Event`, never in a long sleep or long poll.

What the drivers do mirrors Lambda's event source mappings:

- SQS: receive up to BatchSize messages (with MaximumBatchingWindowInSeconds, keep
  receiving from the first message on until BatchSize or the window has passed;
  `poll_once(wait=False)` skips the waiting), invoke, then delete what succeeded: all
  of them on success, all but the reported `batchItemFailures` with
  ReportBatchItemFailures, none when the invocation failed. What is not deleted comes
  back after the visibility timeout; moto moves a message to the dead-letter queue
  when it is received again after maxReceiveCount receives (checked in moto 5.2.5's
  `receive_message`), so the driver does not need to. Messages that match none of the
  FilterCriteria (see `filters.py`) are deleted without an invocation, as Lambda does.
- DynamoDB streams: read each shard from LATEST (or TRIM_HORIZON); records that match
  none of the FilterCriteria are skipped; invoke with the others in order. On an error
  retry the same batch with backoff up to MaximumRetryAttempts (3 locally when unset
  or -1, where AWS would retry until the records expire); with
  BisectBatchOnFunctionError a failed batch is first split in two, each half delivered
  in turn (a split does not use up a retry, as in AWS); with ReportBatchItemFailures
  resume from the first failed sequence number. When the retries are spent, send
  Lambda's invocation record (`DDBStreamBatchInfo`) to the DestinationConfig.OnFailure
  queue, if any, and move on.
  The backoff is short locally (0.2 s doubling, at most 2 s a wait) and every wait
  ends as soon as the driver is stopped, so a failing consumer holds up only its own
  shard, for a few seconds, and never delays stopping `dev`.
- Schedules: fire when a `rate(...)`/`cron(...)` expression is due, with the
  EventBridge scheduled-event shape or the event's `Input`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from warung_local.filters import FilterCriteria, sqs_filter_view
from warung_local.functions import InvocationResult, LocalFunction
from warung_local.schedule import next_fire_time, parse_expression
from warung_local.template import ScheduleSource, SqsSource, StreamSource, Template

log = logging.getLogger("warung_local.sources")

DEFAULT_STREAM_RETRIES = 3  # locally; AWS retries until the records expire (24 h)


class Driver:
    """A background loop around one deterministic step."""

    name = "driver"
    interval_s = 0.5

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        """One unit of work; returns how much was done (0 means idle)."""
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.step()
            except Exception:  # a failing poll must not kill the driver; try again later
                log.exception("%s failed", self.name)
                busy = 0
            if not busy:
                self._stop.wait(self.interval_s)

    def start(self) -> None:
        """Run `step` repeatedly in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the loop to stop and wait for it (an invocation in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None

    def request_stop(self) -> None:
        """Ask the loop to stop without waiting (see `stop_all`)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether stop() was requested."""
        return self._stop.is_set()


# ------------------------------------------------------------------ SQS


def stop_all(drivers: Iterable[Driver], timeout_s: float = 5.0) -> None:
    """Stop every driver together: all are asked first, then each is waited for, so the
    whole stop takes as long as the slowest invocation in progress, not their sum."""
    drivers = list(drivers)
    for driver in drivers:
        driver.request_stop()
    deadline = time.monotonic() + timeout_s
    for driver in drivers:
        driver.stop(timeout_s=max(0.0, deadline - time.monotonic()))


class SqsPoller(Driver):
    """Feeds one queue to one function, as an SQS event source mapping does."""

    interval_s = 0.2
    window_poll_s = 0.1  # pause between receives while a batching window is open

    def __init__(
        self,
        source: SqsSource,
        function: LocalFunction,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        region: str,
    ) -> None:
        super().__init__()
        self.source, self.function, self.sqs = source, function, sqs
        self.queue_url, self.queue_arn, self.region = queue_url, queue_arn, region
        self.name = f"sqs:{source.queue_id}->{source.function_id}"
        self.filters = FilterCriteria.from_texts(source.filters)
        self.filtered_out = 0  # messages deleted because they matched no filter

    def step(self) -> int:
        """Alias of `poll_once` for the loop."""
        return self.poll_once()

    def poll_once(self, wait: bool = True) -> int:
        """Collect one batch, invoke, delete what succeeded; the count of messages received.

        With MaximumBatchingWindowInSeconds the poller keeps receiving, from the first
        message on, until it holds BatchSize messages or the window has passed.
        `wait=False` skips the waiting (deterministic for tests): it takes what the queue
        has right now, up to BatchSize. Messages that match none of the FilterCriteria
        are deleted without an invocation, as Lambda does.
        """
        messages = self._collect(wait)
        if not messages:
            return 0
        records = [self.record(m) for m in messages]
        if self.filters:
            matching = [r for r in records if self.filters.matches(sqs_filter_view(r))]
            dropped = [r for r in records if not self.filters.matches(sqs_filter_view(r))]
            if dropped:
                self._delete(dropped)
                self.filtered_out += len(dropped)
                log.info("%s: %d message(s) matched no filter, deleted", self.name, len(dropped))
            records = matching
        if records:
            self._invoke(records)
        return len(messages)

    def _receive(self, count: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, max(1, count)),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _collect(self, wait: bool) -> list[dict[str, Any]]:
        batch_size = max(1, self.source.batch_size)
        window_s = self.source.maximum_batching_window_s
        collected: dict[str, dict[str, Any]] = {}  # by MessageId: a re-received one counts once
        first = self._receive(batch_size)
        if not first:
            return []
        collected.update((m["MessageId"], m) for m in first)
        if window_s <= 0:
            return list(collected.values())  # Lambda invokes with what one poll returned
        deadline = time.monotonic() + window_s
        while len(collected) < batch_size and not self.stopping:
            more = self._receive(batch_size - len(collected))
            collected.update((m["MessageId"], m) for m in more)
            if more:
                continue
            if not wait or time.monotonic() >= deadline:
                break
            self._stop.wait(min(self.window_poll_s, max(0.0, deadline - time.monotonic())))
        return list(collected.values())

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)
                ],
            )

    def _invoke(self, records: list[dict[str, Any]]) -> None:
        result = self.function.invoke({"Records": records})
        if not result.ok:
            log.warning(
                "%s: invocation failed, %d message(s) will be retried", self.name, len(records)
            )
            return
        failed: set[str] = set()
        if self.source.report_batch_item_failures and isinstance(result.payload, dict):
            items = result.payload.get("batchItemFailures") or []
            known = {r["messageId"] for r in records}
            failed = {str(i.get("itemIdentifier")) for i in items if isinstance(i, dict)}
            if not failed <= known:
                # Lambda treats an unknown or empty identifier as a failure of the whole batch.
                log.warning(
                    "%s: batchItemFailures names unknown messages; retrying the batch", self.name
                )
                return
        self._delete([r for r in records if r["messageId"] not in failed])
        if failed:
            log.info(
                "%s: %d of %d message(s) failed and will be retried",
                self.name,
                len(failed),
                len(records),
            )

    def record(self, message: dict[str, Any]) -> dict[str, Any]:
        """One Lambda SQS event record for a received message."""
        # AttributeNames=["All"] gives ApproximateReceiveCount, SentTimestamp, SenderId,
        # ApproximateFirstReceiveTimestamp (and the FIFO ones), as Lambda passes them.
        attributes = dict(message.get("Attributes") or {})
        message_attributes = {}
        for name, value in (message.get("MessageAttributes") or {}).items():
            converted = {
                "stringValue": value.get("StringValue"),
                "binaryValue": base64.b64encode(value["BinaryValue"]).decode()
                if value.get("BinaryValue") is not None
                else None,
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value.get("DataType"),
            }
            message_attributes[name] = converted
        body = message.get("Body", "")
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


# ------------------------------------------------------------------ DynamoDB streams


def _json_safe(value: Any) -> Any:
    # botocore decodes B/BS attribute values to bytes; Lambda events carry them base64.
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    return value


class StreamPoller(Driver):
    """Feeds one table's stream to one function, as a DynamoDB event source mapping does."""

    interval_s = 0.5
    # Backoff between retries of a failing batch: short locally, so that a failing
    # consumer delays its own shard by at most a few seconds (AWS backs off for longer
    # and, by default, retries until the records expire). Each wait is capped at
    # MAX_BACKOFF_S and ends at once when the driver is stopped.
    backoff_base_s = 0.2
    MAX_BACKOFF_S = 2.0

    def __init__(
        self,
        source: StreamSource,
        function: LocalFunction,
        streams: Any,
        stream_arn: str,
        region: str,
        sqs: Any = None,
        on_failure_url: str | None = None,
    ) -> None:
        super().__init__()
        self.source, self.function, self.streams = source, function, streams
        self.stream_arn, self.region = stream_arn, region
        self.sqs, self.on_failure_url = sqs, on_failure_url
        self.name = f"stream:{source.table_id}->{source.function_id}"
        self.filters = FilterCriteria.from_texts(source.filters)
        self.filtered_out = 0  # records skipped because they matched no filter
        self.discarded = 0  # records given up on after the retries
        self._iterators: dict[str, str | None] = {}
        self.retries = (
            DEFAULT_STREAM_RETRIES
            if source.maximum_retry_attempts is None or source.maximum_retry_attempts < 0
            else source.maximum_retry_attempts
        )
        self._initialise()

    def _initialise(self) -> None:
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get(
            "Shards", []
        )
        position = "TRIM_HORIZON" if self.source.starting_position == "TRIM_HORIZON" else "LATEST"
        for shard in shards:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType=position
                )["ShardIterator"]

    def step(self) -> int:
        """Poll once; busy while records are being read, delivered or not."""
        before = self.filtered_out
        delivered = self.poll_once()
        return delivered + (self.filtered_out - before)

    def poll_once(self) -> int:
        """Read new records of every shard and deliver the matching ones; the count delivered."""
        delivered = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue  # a closed shard
            response = self.streams.get_records(
                ShardIterator=iterator, Limit=max(1, min(self.source.batch_size, 1000))
            )
            records = [self.record(r) for r in response.get("Records", [])]
            matching = [r for r in records if self.filters.matches(r)]
            self.filtered_out += len(records) - len(matching)
            if matching:
                self._deliver(shard_id, matching)
                delivered += len(matching)
            if self.stopping:
                break  # an interrupted batch is read again from its iterator next time
            self._iterators[shard_id] = response.get("NextShardIterator")
        return delivered

    def _first_failure(self, payload: Any) -> int | None:
        if not self.source.report_batch_item_failures or not isinstance(payload, dict):
            return None
        failures = payload.get("batchItemFailures") or []
        numbers = [
            int(f["itemIdentifier"])
            for f in failures
            if isinstance(f, dict) and str(f.get("itemIdentifier", "")).isdigit()
        ]
        return min(numbers) if numbers else None

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Deliver one batch in order; with BisectBatchOnFunctionError, halves go one by one."""
        # (batch, retries already spent on it): splitting a batch does not count as a retry.
        work: list[tuple[list[dict[str, Any]], int]] = [(records, 0)]
        while work and not self.stopping:
            batch, spent = work.pop(0)
            halves = self._deliver_batch(shard_id, batch, spent)
            work[:0] = halves

    def _deliver_batch(
        self, shard_id: str, batch: list[dict[str, Any]], spent: int
    ) -> list[tuple[list[dict[str, Any]], int]]:
        """Invoke until the batch succeeds, is split, or its retries are spent; the halves."""
        pending, retries, invocations = batch, spent, 0
        while True:
            result = self.function.invoke({"Records": pending})
            invocations += 1
            if result.ok:
                first = self._first_failure(result.payload)
                if first is None:
                    return []
                # Checkpoint: retry from the first failed record, as Lambda does.
                pending = [r for r in pending if int(r["dynamodb"]["SequenceNumber"]) >= first]
                if not pending:
                    return []
            elif self.source.bisect_batch_on_function_error and len(pending) > 1:
                middle = len(pending) // 2
                log.info("%s: splitting a failed batch of %d", self.name, len(pending))
                return [(pending[:middle], retries), (pending[middle:], retries)]
            if retries >= self.retries:
                self._give_up(shard_id, pending, result, invocations)
                return []
            if self._stop.wait(min(self.backoff_base_s * 2**retries, self.MAX_BACKOFF_S)):
                return []
            retries += 1

    def _give_up(
        self,
        shard_id: str,
        pending: list[dict[str, Any]],
        result: InvocationResult,
        invocations: int,
    ) -> None:
        self.discarded += len(pending)
        log.error(
            "%s: giving up on %d record(s) after %d retries",
            self.name,
            len(pending),
            self.retries,
        )
        if self.on_failure_url is None or self.sqs is None:
            return
        body = self.failure_record(shard_id, pending, result, invocations)
        try:
            self.sqs.send_message(QueueUrl=self.on_failure_url, MessageBody=json.dumps(body))
        except Exception:  # the destination is best effort; the shard moves on either way
            log.exception("%s: cannot send to the on-failure destination", self.name)

    def failure_record(
        self,
        shard_id: str,
        pending: list[dict[str, Any]],
        result: InvocationResult,
        invocations: int,
    ) -> dict[str, Any]:
        """The invocation record Lambda sends to an OnFailure destination for a stream batch."""
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if result.error is not None:
            response["functionError"] = "Unhandled"

        def arrival(record: dict[str, Any]) -> str:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            moment = (
                dt.datetime.fromtimestamp(float(created), dt.UTC)
                if isinstance(created, (int, float))
                else dt.datetime.now(dt.UTC)
            )
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

        now = dt.datetime.now(dt.UTC)
        return {
            "requestContext": {
                "requestId": result.request_id,
                "functionArn": self.function.spec.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invocations,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": pending[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": pending[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrival(pending[0]),
                "approximateArrivalOfLastRecord": arrival(pending[-1]),
                "batchSize": len(pending),
                "streamArn": self.stream_arn,
            },
        }

    def record(self, raw: dict[str, Any]) -> dict[str, Any]:
        """One Lambda DynamoDB stream record for a GetRecords record."""
        record = _json_safe(raw)
        record["awsRegion"] = self.region  # moto says us-east-1 whatever the region
        record["eventSourceARN"] = self.stream_arn
        record.setdefault("eventVersion", "1.1")
        record.setdefault("eventSource", "aws:dynamodb")
        assert isinstance(record, dict)
        return record


# ------------------------------------------------------------------ schedules


class ScheduleDriver(Driver):
    """Fires one schedule event of one function when it is due."""

    interval_s = 1.0

    def __init__(
        self,
        source: ScheduleSource,
        function: LocalFunction,
        template: Template,
        start: dt.datetime | None = None,
    ) -> None:
        super().__init__()
        parse_expression(source.expression)  # fail early on an unsupported expression
        self.source, self.function, self.template = source, function, template
        self.name = f"schedule:{source.function_id}.{source.event_name}"
        self.start_time = (start or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        self.next_fire = next_fire_time(source.expression, self.start_time, self.start_time)

    def step(self) -> int:
        """Fire if due now."""
        return self.fire_due(dt.datetime.now(dt.UTC))

    def event(self, fired_at: dt.datetime) -> Any:
        """The event this schedule sends: its Input, or an EventBridge Scheduled Event."""
        if self.source.input is not None:
            return self.source.input
        rule = f"{self.template.stack_name}-{self.source.function_id}{self.source.event_name}"
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.template.account_id,
            "time": fired_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.template.region,
            "resources": [
                f"arn:aws:events:{self.template.region}:{self.template.account_id}:rule/{rule}"
            ],
            "detail": {},
        }

    def fire_due(self, now: dt.datetime) -> int:
        """Invoke once if the next fire time has come (missed ticks are not replayed)."""
        if now < self.next_fire:
            return 0
        fired_at = self.next_fire
        self.next_fire = next_fire_time(self.source.expression, now, self.start_time)
        self.function.invoke(self.event(fired_at))
        return 0  # idle until the next check either way


# ------------------------------------------------------------------ wiring


def on_failure_queue_url(template: Template, source: StreamSource, sqs: Any) -> str | None:
    """The emulation's URL of a stream source's OnFailure queue (None if it has none)."""
    arn = source.on_failure_destination
    if arn is None:
        return None
    if source.on_failure_queue_id is not None:
        return template.queue_url(source.on_failure_queue_id)
    if arn.startswith("arn:aws:sqs:"):
        try:
            url: str = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
        except Exception:  # a queue of another stack: nothing local to send to
            log.warning("%s: on-failure queue %s does not exist locally", source.function_id, arn)
            return None
        return url
    log.warning(
        "%s: on-failure destination %s is not an SQS queue; only SQS is emulated",
        source.function_id,
        arn,
    )
    return None


def build_drivers(
    template: Template, functions: dict[str, LocalFunction], endpoint_url: str
) -> list[Driver]:
    """A driver for every enabled SQS, DynamoDB and schedule event of the template's functions."""
    from warung_local.emulation import aws_client

    drivers: list[Driver] = []
    sqs = aws_client("sqs", endpoint_url)
    streams = aws_client("dynamodbstreams", endpoint_url)
    for sqs_source in template.sqs_sources:
        if sqs_source.enabled and sqs_source.function_id in functions:
            drivers.append(
                SqsPoller(
                    sqs_source,
                    functions[sqs_source.function_id],
                    sqs,
                    template.queue_url(sqs_source.queue_id),
                    str(template.get_att(sqs_source.queue_id, "Arn")),
                    template.region,
                )
            )
    for stream_source in template.stream_sources:
        if stream_source.enabled and stream_source.function_id in functions:
            stream_arn = str(template.get_att(stream_source.table_id, "StreamArn"))
            drivers.append(
                StreamPoller(
                    stream_source,
                    functions[stream_source.function_id],
                    streams,
                    stream_arn,
                    template.region,
                    sqs=sqs,
                    on_failure_url=on_failure_queue_url(template, stream_source, sqs),
                )
            )
    for schedule in template.schedules:
        if schedule.enabled and schedule.function_id in functions:
            drivers.append(ScheduleDriver(schedule, functions[schedule.function_id], template))
    return drivers
