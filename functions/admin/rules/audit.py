"""Reading the audit log: the time window, which key answers a set of filters, and the merge
of a day's shards (pure: no AWS). docs/data-model.md, "Audit"; decisions/0017."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Final

from warung.audit import (
    AUDIT_ACTIONS,
    SHARDED_ACTORS,
    SHARDS,
    action_key,
    actor_key,
    day_key,
    resource_key,
)
from warung.errors import FieldError, ValidationFailed
from warung.ids import rfc3339_precise

DEFAULT_WINDOW: Final = timedelta(days=7)
MAX_WINDOW: Final = timedelta(days=90)
MAX_ROUNDS: Final = 8
"""Query rounds per page: a round is one Query per open shard of a day (at most
:data:`warung.audit.SHARDS`, :data:`READERS` at a time) or one Query of a single partition."""
READERS: Final = 10
"""Threads of the day walk, as many as the DynamoDB client keeps connections (botocore's
default pool): a round of 128 shards is 13 waves of 10 Queries."""

EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)  # times outside are no audit entry's
LATEST: Final = datetime(9000, 1, 1, tzinfo=UTC)
DONE: Final = ""
"""A shard's position once its day is read to the end (``None``: not started)."""


@dataclass(frozen=True)
class Window:
    """The sort-key range of the times asked for, both ends included."""

    low: str
    high: str

    @classmethod
    def between(cls, start: datetime, end: datetime) -> Window:
        # "~" sorts after every id character: entries at exactly `end` are in.
        return cls(rfc3339_precise(start), rfc3339_precise(end) + "#~")

    def days(self) -> list[str]:
        """The days of the window, newest first (``YYYY-MM-DD``)."""
        first, last = date.fromisoformat(self.low[:10]), date.fromisoformat(self.high[:10])
        return [(last - timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def window_of(start: str | None, end: str | None, now: datetime) -> Window:
    """``from``/``to`` as asked (RFC 3339), by default the 7 days up to now; 422 when one
    is not a time with its offset, ``to`` is before ``from``, or they are over 90 days apart."""
    upper = _moment("to", end) if end else now
    lower = _moment("from", start) if start else upper - DEFAULT_WINDOW
    if lower > upper:
        raise ValidationFailed(
            "`from` is after `to`.", errors=[FieldError("from", "Must not be after `to`.")]
        )
    if upper - lower > MAX_WINDOW:
        raise ValidationFailed(
            "The time range is longer than 90 days.",
            errors=[
                FieldError("from", "At most 90 days before `to`; page through shorter ranges.")
            ],
        )
    return Window.between(lower, upper)


def _moment(name: str, text: str) -> datetime:
    try:
        moment: datetime | None = datetime.fromisoformat(text.replace("z", "Z"))
        moment = moment.astimezone(UTC) if moment and moment.tzinfo else None
    except (ValueError, OverflowError):
        moment = None
    if moment is None or "T" not in text.upper() or not EARLIEST <= moment <= LATEST:
        raise ValidationFailed(
            f"`{name}` is not an RFC 3339 time.",
            errors=[
                FieldError(name, "An RFC 3339 time with its offset, e.g. 2026-12-01T00:00:00Z.")
            ],
        )
    return moment


def check_action(action: str | None) -> None:
    """422 for an action the code never writes (the list: warung.audit.AUDIT_ACTIONS)."""
    if action is not None and action not in AUDIT_ACTIONS:
        raise ValidationFailed(
            f"No audit entry has the action {action!r}.",
            errors=[FieldError("action", "One of the actions listed in the API document.")],
        )


def check_resource(resource: str | None) -> None:
    """422 unless ``resource`` is ``type:id``."""
    kind, _, ident = (resource or "x:x").partition(":")
    if not kind or not ident:
        raise ValidationFailed(
            "`resource` is `type:id`.",
            errors=[FieldError("resource", "As type:id, e.g. order:01J...")],
        )


@dataclass(frozen=True)
class Access:
    """Where a set of filters is read: the table or one of its indexes, one partition or a
    day's shards, and the filters the key does not cover."""

    index: str | None
    key_attribute: str
    partition: str | None = None  # one partition for the whole window
    shard_key: Callable[[str, int], str] | None = None  # or one per day and shard
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def sharded(self) -> bool:
        return self.shard_key is not None

    def shard_partition(self, day: str, shard: int) -> str:
        """The partition of one shard of one day (warung.audit spells the keys)."""
        if self.shard_key is None:
            raise ValueError("not a sharded access")
        return self.shard_key(day, shard)


def access_for(actor_id: str | None, resource: str | None, action: str | None) -> Access:
    """The most selective key for the filters: a resource (one partition), then a person
    (one partition), then an action (sharded by day), then a busy system actor (sharded),
    else the whole log by day. The other filters are applied to what the key reads."""
    given = {"actor_id": actor_id, "resource": resource, "action": action}

    def rest(*covered: str) -> dict[str, str]:
        return {k: v for k, v in given.items() if v is not None and k not in covered}

    if resource is not None:
        return Access("by_resource", "resource_pk", resource_key(resource), None, rest("resource"))
    if actor_id is not None and actor_id not in SHARDED_ACTORS:
        return Access("by_actor", "actor_pk", actor_key(actor_id), None, rest("actor_id"))
    if action is not None:
        return Access("by_action", "action_pk", None, partial(action_key, action), rest("action"))
    if actor_id is not None:
        return Access("by_actor", "actor_pk", None, partial(actor_key, actor_id), rest("actor_id"))
    return Access(None, "pk", None, day_key, {})


# ---------------------------------------------------------------- merging a day's shards

Position = str | None
"""Where a shard's read resumes: after this sort key; ``None`` from the newest; DONE."""


@dataclass(frozen=True)
class ShardRead:
    """One Query of one shard: where it began, the matching items it returned (newest
    first), and the sort key DynamoDB stopped at (``None``: the shard has no more)."""

    start: Position
    items: Sequence[dict[str, Any]]
    stopped_at: str | None


def merge(reads: Sequence[ShardRead], need: int) -> tuple[list[dict[str, Any]], list[Position]]:
    """Up to ``need`` items of the shards, newest first, and where each shard resumes.

    An item can be shown only when no shard could still hold a newer one: every shard that
    stopped early has been read down to where it stopped, so items at or above the highest
    such point are safe. A shard resumes after the last of its items shown; a shard whose
    items were all shown resumes where DynamoDB stopped (or is DONE)."""
    frontier = _frontier(reads)
    safe = [
        (item["sk"], n, item)
        for n, read in enumerate(reads)
        for item in read.items
        if frontier is None or item["sk"] >= frontier
    ]
    safe.sort(key=lambda each: each[0], reverse=True)
    shown = safe[:need]
    last_shown: dict[int, str] = {}
    for sort_key, n, _ in shown:
        last_shown[n] = sort_key  # newest first: the last write is the oldest shown
    positions: list[Position] = []
    for n, read in enumerate(reads):
        unshown = len(read.items) - sum(1 for _, m, _ in shown if m == n)
        if unshown == 0:
            positions.append(read.stopped_at if read.stopped_at is not None else DONE)
        else:
            positions.append(last_shown.get(n, read.start))
    return [item for _, _, item in shown], positions


def fresh_day() -> list[Position]:
    """Every shard of a day, not started."""
    return [None] * SHARDS


def resume_point(
    reads: Sequence[ShardRead], shown: Sequence[dict[str, Any]], need: int
) -> Position:
    """Where every shard of the day resumes on the next page, after a round that showed
    ``shown`` of the ``need`` entries the page still lacked: one sort key for all shards,
    so that a cursor's size does not grow with the shard count.

    Shown entries are always the newest of the day not shown before (see :func:`merge`). A
    round that filled the page: every entry newer than its last shown one is shown, so all
    shards resume after that one. A round that did not: every shard has been read down to
    the round's frontier (every entry at or above it shown, or filtered out), so all resume
    after the frontier; ``DONE`` when no shard stopped early (the day is read)."""
    if shown and len(shown) >= need:
        return str(shown[-1]["sk"])
    return _frontier(reads) or DONE


def day_positions(resume: Position) -> list[Position]:
    """Every shard of a day, resuming after ``resume`` (``None``: from the newest)."""
    return [resume] * SHARDS


def _frontier(reads: Sequence[ShardRead]) -> str | None:
    """The highest point a shard stopped at with more to read (``None``: none did)."""
    return max((r.stopped_at for r in reads if r.stopped_at is not None), default=None)
