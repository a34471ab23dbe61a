"""Event sources that `dev` drives: SQS queues, DynamoDB streams and schedules.

Each driver has a deterministic step (`poll_once()`, `fire_due(now)`) that tests call
directly, and `start()`/`stop()` to run that step in a background thread. Stopping is
prompt: the threads wait on a `threading.Event`, never in a long sleep or long poll.

What the drivers do mirrors Lambda's event source mappings:

- SQS: receive up to BatchSize messages, invoke, then delete what succeeded: all of
  them on success, all but the reported `batchItemFailures` with
  ReportBatchItemFailures, none when the invocation failed. What is not deleted comes
  back after the visibility timeout; moto moves a message to the dead-letter queue
  when it is received again after maxReceiveCount receives (checked in moto 5.2.5's
  `receive_message`), so the driver does not need to.
- DynamoDB streams: read each shard from LATEST (or TRIM_HORIZON), invoke with the
  new records in order; on an error retry the same batch with backoff up to
  MaximumRetryAttempts (a few tries locally when unset, where AWS would retry until
  the records expire), then log and move on; with ReportBatchItemFailures resume from
  the first failed sequence number.
- Schedules: fire when a `rate(...)`/`cron(...)` expression is due, with the
  EventBridge scheduled-event shape or the event's `Input`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import threading
import uuid
from typing import Any

from warung_local.functions import LocalFunction
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

    @property
    def stopping(self) -> bool:
        """Whether stop() was requested."""
        return self._stop.is_set()


# ------------------------------------------------------------------ SQS


class SqsPoller(Driver):
    """Feeds one queue to one function, as an SQS event source mapping does."""

    interval_s = 0.2

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

    def step(self) -> int:
        """Alias of `poll_once` for the loop."""
        return self.poll_once()

    def poll_once(self) -> int:
        """Receive one batch (short poll), invoke, delete what succeeded; the count received."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, max(1, self.source.batch_size)),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self.record(m) for m in messages]}
        result = self.function.invoke(event)
        if not result.ok:
            log.warning(
                "%s: invocation failed, %d message(s) will be retried", self.name, len(messages)
            )
            return len(messages)
        failed: set[str] = set()
        if self.source.report_batch_item_failures and isinstance(result.payload, dict):
            items = result.payload.get("batchItemFailures") or []
            known = {m["MessageId"] for m in messages}
            failed = {str(i.get("itemIdentifier")) for i in items if isinstance(i, dict)}
            if not failed <= known:
                # Lambda treats an unknown or empty identifier as a failure of the whole batch.
                log.warning(
                    "%s: batchItemFailures names unknown messages; retrying the batch", self.name
                )
                return len(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
            )
        if failed:
            log.info(
                "%s: %d of %d message(s) failed and will be retried",
                self.name,
                len(failed),
                len(messages),
            )
        return len(messages)

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

    def __init__(
        self,
        source: StreamSource,
        function: LocalFunction,
        streams: Any,
        stream_arn: str,
        region: str,
    ) -> None:
        super().__init__()
        self.source, self.function, self.streams = source, function, streams
        self.stream_arn, self.region = stream_arn, region
        self.name = f"stream:{source.table_id}->{source.function_id}"
        self._iterators: dict[str, str | None] = {}
        self.retries = (
            DEFAULT_STREAM_RETRIES
            if source.maximum_retry_attempts is None
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
        """Alias of `poll_once` for the loop."""
        return self.poll_once()

    def poll_once(self) -> int:
        """Read new records of every shard and deliver them; the count delivered."""
        delivered = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue  # a closed shard
            response = self.streams.get_records(
                ShardIterator=iterator, Limit=max(1, min(self.source.batch_size, 1000))
            )
            records = response.get("Records", [])
            if records:
                self._deliver(records)
                delivered += len(records)
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

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        """Invoke until the batch succeeds or the retries are spent (the shard waits meanwhile)."""
        pending = [self.record(r) for r in records]
        attempt = 0
        while True:
            result = self.function.invoke({"Records": pending})
            if result.ok:
                first = self._first_failure(result.payload)
                if first is None:
                    return
                # Checkpoint: retry from the first failed record, as Lambda does.
                pending = [r for r in pending if int(r["dynamodb"]["SequenceNumber"]) >= first]
            if attempt >= self.retries:
                log.error(
                    "%s: giving up on %d record(s) after %d retries",
                    self.name,
                    len(pending),
                    self.retries,
                )
                return
            if self._stop.wait(min(0.2 * 2**attempt, 2.0)):
                return
            attempt += 1

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
                )
            )
    for schedule in template.schedules:
        if schedule.enabled and schedule.function_id in functions:
            drivers.append(ScheduleDriver(schedule, functions[schedule.function_id], template))
    return drivers
