"""DynamoDB access shared by the repositories: client, typed marshalling, transactions.

botocore is used directly rather than boto3: importing boto3 costs ~80 ms of cold start
(s3transfer and friends) that no function here needs. The marshalling below is the small
subset of DynamoDB's type system the project uses, with integers kept as ``int`` because
money is an integer number of rupiah.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from warung.clients import aws_client
from warung.errors import ApiError, Conflict

AttributeValue = dict[str, Any]
Item = dict[str, Any]

MAX_TRANSACTION_ITEMS = 100
# A transaction cancelled only because another one held an item at the same moment
# (``TransactionConflict``) or because DynamoDB throttled it wrote nothing: it is tried again
# this many times in all, then answered 409 with Retry-After. Under contention (one product's
# last units, one promo counter) real DynamoDB cancels such transactions; the emulation never does.
TRANSIENT_ATTEMPTS = 3
TRANSIENT_PAUSE_S = 0.025
_TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
_pause = time.sleep  # replaced in tests
MAX_BATCH_GET_KEYS = 100


def dynamodb_client() -> Any:
    """The process-wide DynamoDB client (see :mod:`warung.clients`)."""
    return aws_client("dynamodb")


def get_item(
    key: Mapping[str, Any], *, table: str | None = None, consistent: bool = True
) -> dict[str, Any] | None:
    """The item at ``key`` (in the main table unless ``table``) as a plain dict, or ``None``."""
    from warung.settings import get_settings

    response = dynamodb_client().get_item(
        TableName=table or get_settings().table_name, Key=to_item(key), ConsistentRead=consistent
    )
    return from_item(response["Item"]) if "Item" in response else None


def get_items(
    keys: list[Mapping[str, Any]], *, table: str | None = None, consistent: bool = True
) -> list[dict[str, Any] | None]:
    """Several items of one table (BatchGetItem, 100 keys per call as DynamoDB allows), in
    the order of ``keys``; ``None`` where nothing is stored."""
    from warung.settings import get_settings

    if not keys:
        return []
    name = table or get_settings().table_name
    wanted = [to_item(key) for key in keys]
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), MAX_BATCH_GET_KEYS):
        chunk = wanted[start : start + MAX_BATCH_GET_KEYS]
        request: dict[str, Any] = {name: {"Keys": chunk, "ConsistentRead": consistent}}
        for attempt in range(10):
            response = dynamodb_client().batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(name, []):
                found[_key_id({k: raw[k] for k in wanted[0]})] = from_item(raw)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2**attempt, 1.0))  # throttled: back off, then the rest
        else:
            raise RuntimeError("BatchGetItem kept returning unprocessed keys")
    return [found.get(_key_id(key)) for key in wanted]


def partition_query(
    partition: str,
    *,
    index: str | None = None,
    newest_first: bool = False,
    page_size: int | None = None,
    start: Mapping[str, Any] | None = None,
    sort_between: tuple[str, str] | None = None,
    sort_before: str | None = None,
    consistent: bool = False,
    table: str | None = None,
) -> dict[str, Any]:
    """The ``Query`` request for one partition of the main table (or of ``index``, whose
    keys are ``<index>pk`` / ``<index>sk``), for :func:`query_items`: in sort-key order or
    reversed (``newest_first``: ids and timestamps sort by time), optionally within
    ``sort_between`` (inclusive) or strictly before ``sort_before``, resuming after
    ``start``."""
    from warung.settings import get_settings

    pk, sk = (f"{index}pk", f"{index}sk") if index else ("pk", "sk")
    condition = "#pk = :pk"
    names = {"#pk": pk}
    values: dict[str, Any] = {":pk": partition}
    if sort_between is not None:
        condition += " AND #sk BETWEEN :lo AND :hi"
        names["#sk"] = sk
        values |= {":lo": sort_between[0], ":hi": sort_between[1]}
    elif sort_before is not None:
        condition += " AND #sk < :before"
        names["#sk"] = sk
        values[":before"] = sort_before
    request: dict[str, Any] = {
        "TableName": table or get_settings().table_name,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_item(values),
        "ScanIndexForward": not newest_first,
    }
    if index:
        request["IndexName"] = index
    elif consistent:
        request["ConsistentRead"] = True
    if page_size:
        request["Limit"] = page_size
    if start:
        request["ExclusiveStartKey"] = dict(start)
    return request


def query_items(
    request: dict[str, Any],
    send: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every item a ``Query`` request finds, page after page (lazily: stop iterating and no
    further page is read), each with the key that resumes right after it (the table's keys,
    plus the index's when ``IndexName`` is given): what a list's cursor carries.

    ``send`` answers one page's request as DynamoDB's Query does (default: the client's
    ``query``; ``warung.readcache`` passes its own). Items and keys come out as fresh
    values: nothing a caller changes reaches what ``send`` returned."""
    if send is None:
        client = dynamodb_client()
        send = lambda page_request: client.query(**page_request)  # noqa: E731 - one call
    index = request.get("IndexName")
    key_names = ["pk", "sk"] + ([f"{index}pk", f"{index}sk"] if index else [])
    while True:
        page = send(request)
        for raw in page.get("Items", []):
            # key attributes are flat ({"S": ...}): a copy of each leaves nothing shared
            yield from_item(raw), {name: dict(raw[name]) for name in key_names if name in raw}
        if "LastEvaluatedKey" not in page:
            return
        request = {**request, "ExclusiveStartKey": dict(page["LastEvaluatedKey"])}


def _key_id(key: Mapping[str, Any]) -> str:
    return repr(sorted(key.items()))


# ---------------------------------------------------------------- marshalling


def to_attribute(value: Any) -> AttributeValue:  # noqa: C901 - a type switch: one branch per DynamoDB type
    """One Python value as a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        raise TypeError("floats are not stored; use int (rupiah) or Decimal")
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, set | frozenset):
        if not value:
            raise ValueError("DynamoDB cannot store an empty set")
        if all(isinstance(v, str) for v in value):
            return {"SS": sorted(value)}
        if all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in value):
            return {"NS": [str(v) for v in value]}
        raise TypeError("sets must hold only strings or only numbers")
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def from_attribute(attribute: Mapping[str, Any]) -> Any:  # noqa: C901 - a type switch: one branch per DynamoDB type
    """One DynamoDB attribute value as a Python value (integral numbers as ``int``)."""
    ((kind, value),) = attribute.items()
    if kind == "S":
        return value
    if kind == "N":
        return _number(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {_number(v) for v in value}
    if kind == "B":
        return bytes(value)
    if kind == "BS":
        return {bytes(v) for v in value}
    raise TypeError(f"unknown DynamoDB type {kind}")


def to_item(values: Mapping[str, Any]) -> Item:
    """A Python mapping as a DynamoDB item; ``None`` values are left out."""
    return {k: to_attribute(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a plain dict."""
    return {k: from_attribute(v) for k, v in item.items()}


def _number(text: str) -> int | Decimal:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else number


# ---------------------------------------------------------------- transactions


@dataclass
class Transaction:
    """A builder for one ``TransactWriteItems`` call: all of it happens, or none.

    Each write may carry a condition and a ``conflict`` error raised when that condition is
    what cancelled the transaction, so callers get ``InsufficientStock`` rather than a raw
    ``TransactionCanceledException``.
    """

    items: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[ApiError | None] = field(default_factory=list)

    def put(
        self,
        table: str,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        conflict: ApiError | None = None,
    ) -> Transaction:
        """Add a put of ``item`` (plain values, marshalled here)."""
        body: dict[str, Any] = {"TableName": table, "Item": to_item(item)}
        return self._add("Put", body, condition, names, values, conflict)

    def update(
        self,
        table: str,
        key: Mapping[str, Any],
        expression: str,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        conflict: ApiError | None = None,
    ) -> Transaction:
        """Add an update of the item at ``key`` with an ``UpdateExpression``."""
        body = {"TableName": table, "Key": to_item(key), "UpdateExpression": expression}
        return self._add("Update", body, condition, names, values, conflict)

    def delete(
        self,
        table: str,
        key: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        conflict: ApiError | None = None,
    ) -> Transaction:
        """Add a delete of the item at ``key``."""
        body = {"TableName": table, "Key": to_item(key)}
        return self._add("Delete", body, condition, names, values, conflict)

    def check(
        self,
        table: str,
        key: Mapping[str, Any],
        condition: str,
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        conflict: ApiError | None = None,
    ) -> Transaction:
        """Add a condition on another item that must hold for the transaction to commit."""
        body = {"TableName": table, "Key": to_item(key)}
        return self._add("ConditionCheck", body, condition, names, values, conflict)

    def extend(self, writes: Iterable[tuple[dict[str, Any], ApiError | None]]) -> Transaction:
        """Add writes prepared elsewhere (an audit entry, an outbox job)."""
        for write, conflict in writes:
            self.items.append(write)
            self.conflicts.append(conflict)
        return self

    def commit(self, *, token: str | None = None, client: Any = None) -> None:
        """Write everything atomically; a failed condition raises its ``conflict`` error.

        ``token`` (ClientRequestToken) makes a retried commit idempotent for 10 minutes. A
        fresh one is used when none is given, so that the SDK's own retry of a commit whose
        answer was lost (a timeout) is not refused by the commit's own conditions.
        """
        if not self.items:
            return
        if len(self.items) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} writes")
        client = client or dynamodb_client()
        for attempt in range(TRANSIENT_ATTEMPTS):
            request: dict[str, Any] = {
                "TransactItems": self.items,
                "ClientRequestToken": token or uuid.uuid4().hex,
            }
            try:
                client.transact_write_items(**request)
                return
            except ClientError as error:
                if not _only_transient(error):
                    raise self._explain(error) from error
                if attempt + 1 == TRANSIENT_ATTEMPTS:
                    raise _busy() from error
                # Nothing was written: the same writes again, after a short jittered pause.
                _pause(random.uniform(0.5, 1.0) * TRANSIENT_PAUSE_S * 2**attempt)  # noqa: S311 (jitter)

    def _add(
        self,
        kind: str,
        body: dict[str, Any],
        condition: str | None,
        names: Mapping[str, str] | None,
        values: Mapping[str, Any] | None,
        conflict: ApiError | None,
    ) -> Transaction:
        if condition:
            body["ConditionExpression"] = condition
        if names:
            body["ExpressionAttributeNames"] = dict(names)
        if values:
            body["ExpressionAttributeValues"] = to_item(values)
        self.items.append({kind: body})
        self.conflicts.append(conflict)
        return self

    def _explain(self, error: ClientError) -> Exception:
        original: Exception = error
        if _error_code(error) != "TransactionCanceledException":
            return original
        reasons = _cancellation_reasons(error)
        for index, reason in enumerate(reasons):
            if reason.get("Code") == "ConditionalCheckFailed" and index < len(self.conflicts):
                conflict = self.conflicts[index]
                # A fresh error each time: conflicts are often module-level constants, and
                # raising one instance again would chain tracebacks across requests.
                if conflict is None:
                    return Conflict("The resource changed; try again.")
                return _fresh(conflict)
        return original


def _fresh(error: ApiError) -> ApiError:
    """A new error like ``error`` (same class and attributes, no traceback or cause)."""
    fresh = type(error).__new__(type(error), *error.args)
    fresh.__dict__.update(error.__dict__)
    return fresh


def _cancellation_reasons(error: ClientError) -> list[dict[str, Any]]:
    return list(error.response.get("CancellationReasons") or _reasons_from_message(error))


def _only_transient(error: ClientError) -> bool:
    """True when a cancelled transaction failed no condition, and only for a passing reason."""
    if _error_code(error) != "TransactionCanceledException":
        return False
    codes = {str(reason.get("Code")) for reason in _cancellation_reasons(error)}
    return bool(codes & _TRANSIENT_REASONS) and codes <= _TRANSIENT_REASONS | {"None"}


def _busy() -> Conflict:
    return Conflict(
        "Another request changed the same data at this moment; try again.",
        headers={"Retry-After": "1"},
    )


def _reasons_from_message(error: ClientError) -> list[dict[str, str]]:
    # Some SDK/emulator versions only spell the reasons out in the message:
    # "... refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    message = str(error.response.get("Error", {}).get("Message", ""))
    start, end = message.rfind("["), message.rfind("]")
    if start == -1 or end < start:
        return []
    return [{"Code": part.strip()} for part in message[start + 1 : end].split(",")]


def is_conditional_failure(error: ClientError) -> bool:
    """True when a single-item write failed its ``ConditionExpression``."""
    return _error_code(error) == "ConditionalCheckFailedException"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
