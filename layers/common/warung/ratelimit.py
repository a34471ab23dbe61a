"""Fixed-window rate limits and the sign-in lockout (docs/product.md, Rate limits), counted
on the main table.

One item per rule, subject and window::

    pk = "RL#<rule>#<sha256(subject)[:32]>"   sk = "<window start, epoch seconds>"
    count = hits so far                        expires_at_epoch = window end + 60 s (TTL)

The window is part of the key, so a new window starts from nothing without any reset, and
DynamoDB's TTL sweeps the old items away (TTL deletes late, but nothing reads an old window).
Subjects are e-mail addresses or IPs: only a hash of them is stored, so the table holds no
address in clear. Each hit is one conditional ``UpdateItem`` (``ADD count :one`` while
``count < limit``), which DynamoDB applies atomically per item: concurrent hits cannot
overshoot the limit.

How the callers combine the pieces:

* Plain limits (login attempts per IP, registrations per IP): ``enforce(rule, ip)`` first
  thing in the handler; it counts the attempt and raises ``RateLimited`` (429 with
  ``Retry-After``) once the window is full.
* The sign-in lockout ("5 failed sign-ins to one account lock its sign-in for 15 minutes
  from the fifth failure, even with the right password") is not a fixed window but a
  :class:`Lockout` (one item per account, see :func:`claim_attempt`)::

      attempt = claim_attempt(limits.login_failures, email, detail="...")  # 429 when locked
      if not verify_password(...).ok:
          attempt_failed(attempt)                      # the claim stays: one failure
          raise InvalidCredentials()
      give_back(attempt)                               # a success costs nothing

  The attempt is counted before the password is looked at, by one conditional write, so
  twenty parallel guesses cannot all see "no failures yet": at most ``limit`` passwords
  are verified at once, and at most ``limit`` wrong ones per lockout period. Apply the
  same to unknown e-mail addresses so the answer does not reveal which exist.
* Silent limits (reset and verification e-mails, whose response stays 202): call ``hit``
  and simply skip sending when ``allowed`` is false.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from warung import clock
from warung.dynamo import Transaction, dynamodb_client, from_item, is_conditional_failure, to_item
from warung.errors import Conflict, RateLimited
from warung.settings import Rate, Settings, get_settings

TTL_GRACE_SECONDS = 60
"""How long a window's counter outlives the window before TTL may delete it."""

# A counter is one item: past about 1,000 writes a second (one source sending faster than
# the stage throttle and WAF let a crowd), DynamoDB throttles it. That source is refused
# like one over its limit, rather than answered with a 500 (docs/decisions/0028).
_THROTTLED = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)

_SUBJECT_HASH_CHARS = 32  # 128 bits of SHA-256: no collisions in practice


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` hits per subject in each fixed window of ``window_seconds``."""

    name: str
    limit: int
    window_seconds: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_seconds < 1:
            raise ValueError("a rule needs a limit and a window of at least 1")
        if not self.name or "#" in self.name:
            raise ValueError("a rule name is non-empty and has no '#'")

    @classmethod
    def from_rate(cls, name: str, rate: Rate) -> Rule:
        """The rule ``name`` with a rate read from the settings."""
        return cls(name, rate.limit, rate.window_seconds)


@dataclass(frozen=True)
class Decision:
    """The outcome of a hit (or of a peek: what the next hit would get).

    ``count`` is the number of hits counted in the current window; ``retry_after`` the
    seconds until that window ends (at least 1), for the ``Retry-After`` header.
    """

    allowed: bool
    count: int
    retry_after: int


@dataclass(frozen=True)
class Rules:
    """The project's configured rules (docs/product.md, Rate limits)."""

    login_failures: Rule
    login_attempts_ip: Rule
    registrations_ip: Rule
    emails_address: Rule
    invitations_merchant: Rule
    invitations_inviter: Rule


def rules(settings: Settings | None = None) -> Rules:
    """The rules of docs/product.md (Rate limits) with the limits of the settings
    (``RATE_*`` variables)."""
    settings = settings or get_settings()
    return Rules(
        login_failures=Rule.from_rate("login_failures", settings.rate_login_failures_per_account),
        login_attempts_ip=Rule.from_rate("login_attempts_ip", settings.rate_login_attempts_per_ip),
        registrations_ip=Rule.from_rate("registrations_ip", settings.rate_registrations_per_ip),
        emails_address=Rule.from_rate("emails_address", settings.rate_emails_per_address),
        invitations_merchant=Rule.from_rate(
            "invitations_merchant", settings.rate_invitations_per_merchant
        ),
        invitations_inviter=Rule.from_rate(
            "invitations_inviter", settings.rate_invitations_per_inviter
        ),
    )


# ---------------------------------------------------------------- window arithmetic


def window_start(rule: Rule, now: int) -> int:
    """The epoch second at which the window holding ``now`` began."""
    return now - now % rule.window_seconds


def retry_after(rule: Rule, now: int) -> int:
    """Seconds from ``now`` until the window holding ``now`` ends (1..window_seconds)."""
    return window_start(rule, now) + rule.window_seconds - now


def counter_key(rule: Rule, subject: str, now: int) -> dict[str, str]:
    """The table key of ``subject``'s counter for ``rule`` in the window holding ``now``.

    The subject is trimmed and lower-cased before hashing, so ``Budi@Example.com`` and
    ``budi@example.com`` share one counter.
    """
    digest = hashlib.sha256(subject.strip().lower().encode("utf-8")).hexdigest()
    return {
        "pk": f"RL#{rule.name}#{digest[:_SUBJECT_HASH_CHARS]}",
        "sk": str(window_start(rule, now)),
    }


# ---------------------------------------------------------------- operations


def hit(rule: Rule, subject: str, *, now: int | None = None) -> Decision:
    """Count one hit of ``subject`` against ``rule``, unless the window is already full.

    A refused hit is not counted. ``now`` (epoch seconds) is for tests.
    """
    now = _now(now)
    start = window_start(rule, now)
    try:
        response = dynamodb_client().update_item(
            TableName=get_settings().table_name,
            Key=to_item(counter_key(rule, subject, now)),
            UpdateExpression="ADD #count :one SET #expires = :expires",
            ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames={"#count": "count", "#expires": "expires_at_epoch"},
            ExpressionAttributeValues=to_item(
                {
                    ":one": 1,
                    ":limit": rule.limit,
                    ":expires": start + rule.window_seconds + TTL_GRACE_SECONDS,
                }
            ),
            ReturnValues="UPDATED_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _THROTTLED:
            return Decision(False, rule.limit, 1)
        if not is_conditional_failure(error):
            raise
        return Decision(
            False, _count(error.response.get("Item"), rule.limit), retry_after(rule, now)
        )
    return Decision(True, _count(response.get("Attributes"), 1), retry_after(rule, now))


def enforce(
    rule: Rule, subject: str, *, now: int | None = None, detail: str | None = None
) -> Decision:
    """Count one hit and raise ``RateLimited`` (429, ``Retry-After``) when it is refused."""
    decision = hit(rule, subject, now=now)
    if not decision.allowed:
        raise RateLimited(
            detail or f"Too many attempts; try again in {_wait(decision.retry_after)}.",
            retry_after=decision.retry_after,
        )
    return decision


def peek(rule: Rule, subject: str, *, now: int | None = None) -> Decision:
    """What a hit would get now, without counting one (a strongly consistent read).

    ``allowed`` is false once the window holds ``limit`` hits: the sign-in lockout checks
    this before verifying a password.
    """
    now = _now(now)
    response = dynamodb_client().get_item(
        TableName=get_settings().table_name,
        Key=to_item(counter_key(rule, subject, now)),
        ConsistentRead=True,
        ProjectionExpression="#count",
        ExpressionAttributeNames={"#count": "count"},
    )
    return decision(rule, response.get("Item"), now)


def decision(rule: Rule, item: dict[str, Any] | None, now: int) -> Decision:
    """What a hit would get, given the counter item (DynamoDB JSON, or plain) read at ``now``.

    For callers that read the counter together with other items in one round trip.
    """
    count = 0 if not item or "count" not in item else int(_plain(item["count"]))
    return Decision(count < rule.limit, count, retry_after(rule, now))


def _plain(value: Any) -> Any:
    return from_item({"v": value})["v"] if isinstance(value, dict) else value


def _now(now: int | None) -> int:
    return clock.epoch_s() if now is None else now


def _count(item: dict[str, Any] | None, default: int) -> int:
    if not item or "count" not in item:
        return default
    return int(from_item(item)["count"])


def wait_text(seconds: int) -> str:
    """``Retry-After`` seconds as a person reads them in a problem's detail."""
    return _wait(seconds)


def _wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds" if seconds != 1 else "1 second"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes"


# ---------------------------------------------------------------- the sign-in lockout
#
# One item per rule and subject (no window in the key):
#
#     pk = "RL#<rule>#<sha256(subject)[:32]>"   sk = "LOCKOUT"
#     count    = attempts being verified now + failures counted
#     failures = failures counted
#     started  = when this counting began (epoch s); ends = when it ends: started + window,
#                or, once the limit-th failure is counted, that failure + window (the lock)
#     expires_at_epoch = ends + 60 s (TTL)
#
# A claim is one conditional ``ADD count 1`` (while ``count < limit`` and the counting has
# not ended); a failure keeps its claim, a success gives it back (``ADD count -1``), so
# ``count`` never exceeds ``limit`` and neither do the passwords verified per counting.

LOCKOUT_SORT_KEY = "LOCKOUT"
_CLAIM_TRIES = 3
_NAMES = {
    "#count": "count",
    "#failures": "failures",
    "#started": "started",
    "#ends": "ends",
    "#expires": "expires_at_epoch",
}


class CountingRestarted(Conflict):
    """The attempt's counting ended and a new one began: there is nothing to give back."""


@dataclass(frozen=True)
class Attempt:
    """One claimed attempt of ``subject`` against ``rule``, in the counting begun at ``started``."""

    rule: Rule
    subject: str
    started: int


def lockout_key(rule: Rule, subject: str) -> dict[str, str]:
    """The table key of ``subject``'s lockout item for ``rule`` (trimmed, lower-cased, hashed)."""
    digest = hashlib.sha256(subject.strip().lower().encode("utf-8")).hexdigest()
    return {"pk": f"RL#{rule.name}#{digest[:_SUBJECT_HASH_CHARS]}", "sk": LOCKOUT_SORT_KEY}


def claim_attempt(rule: Rule, subject: str, *, detail: str, now: int | None = None) -> Attempt:
    """Count one attempt before it is verified; ``RateLimited`` (429) when none is left.

    ``Retry-After`` says how long the lock lasts (``window_seconds`` from the failure that
    reached the limit); while the limit is only reached by attempts still being verified,
    it says 1 second, since those may give their claims back.
    """
    now = _now(now)
    table, key = get_settings().table_name, to_item(lockout_key(rule, subject))
    client = dynamodb_client()
    for _ in range(_CLAIM_TRIES):
        try:
            response = client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="ADD #count :one",
                ConditionExpression="#ends > :now AND #count < :limit",
                ExpressionAttributeNames={"#count": "count", "#ends": "ends"},
                ExpressionAttributeValues=to_item({":one": 1, ":now": now, ":limit": rule.limit}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return Attempt(rule, subject, int(from_item(response["Attributes"])["started"]))
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            old = from_item(error.response["Item"]) if error.response.get("Item") else None
        if old is not None and int(old.get("ends", 0)) > now:
            locked = int(old.get("failures", 0)) >= rule.limit
            raise RateLimited(detail, retry_after=max(1, int(old["ends"]) - now) if locked else 1)
        if _start_counting(rule, table, key, now):
            return Attempt(rule, subject, now)
        # Another attempt started the new counting first: claim within it.
    raise RateLimited(detail, retry_after=1)


def _start_counting(rule: Rule, table: str, key: dict[str, Any], now: int) -> bool:
    ends = now + rule.window_seconds
    try:
        dynamodb_client().update_item(
            TableName=table,
            Key=key,
            UpdateExpression=(
                "SET #count = :one, #failures = :zero, #started = :now, #ends = :ends,"
                " #expires = :expires"
            ),
            ConditionExpression="attribute_not_exists(#ends) OR #ends <= :now",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues=to_item(
                {
                    ":one": 1,
                    ":zero": 0,
                    ":now": now,
                    ":ends": ends,
                    ":expires": ends + TTL_GRACE_SECONDS,
                }
            ),
        )
    except ClientError as error:
        if not is_conditional_failure(error):
            raise
        return False
    return True


def attempt_failed(attempt: Attempt, *, now: int | None = None) -> None:
    """Keep the attempt's claim as a failure; the failure that reaches the limit locks the
    subject for ``window_seconds`` from now."""
    now = _now(now)
    rule, table = attempt.rule, get_settings().table_name
    key = to_item(lockout_key(rule, attempt.subject))
    try:
        response = dynamodb_client().update_item(
            TableName=table,
            Key=key,
            UpdateExpression="ADD #failures :one",
            ConditionExpression="#started = :started",
            ExpressionAttributeNames={"#failures": "failures", "#started": "started"},
            ExpressionAttributeValues=to_item({":one": 1, ":started": attempt.started}),
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as error:
        if not is_conditional_failure(error):
            raise
        return  # its counting ended meanwhile: the claim was never part of the new one
    if int(from_item(response["Attributes"])["failures"]) != rule.limit:
        return
    ends = now + rule.window_seconds
    try:
        dynamodb_client().update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #ends = :ends, #expires = :expires",
            ConditionExpression="#started = :started",
            ExpressionAttributeNames={
                "#ends": "ends",
                "#expires": "expires_at_epoch",
                "#started": "started",
            },
            ExpressionAttributeValues=to_item(
                {":ends": ends, ":expires": ends + TTL_GRACE_SECONDS, ":started": attempt.started}
            ),
        )
    except ClientError as error:
        if not is_conditional_failure(error):
            raise


def give_back(attempt: Attempt) -> None:
    """Return a verified attempt's claim (a right password costs no attempt)."""
    step = _give_back_update(attempt)
    try:
        dynamodb_client().update_item(TableName=get_settings().table_name, **step)
    except ClientError as error:
        if not is_conditional_failure(error):
            raise


def give_back_step(tx: Transaction, attempt: Attempt) -> Transaction:
    """:func:`give_back` as a step of ``tx`` (saves a round trip); its commit
    raises :class:`CountingRestarted` when the attempt's counting has ended meanwhile."""
    step = _give_back_update(attempt)
    return tx.update(
        get_settings().table_name,
        lockout_key(attempt.rule, attempt.subject),
        step["UpdateExpression"],
        condition=step["ConditionExpression"],
        names=step["ExpressionAttributeNames"],
        values={":minus_one": -1, ":zero": 0, ":started": attempt.started},
        conflict=CountingRestarted("The sign-in counting restarted."),
    )


def release_step(tx: Transaction, rule: Rule, subject: str) -> Transaction:
    """End ``subject``'s counting and any lock, as a step of ``tx`` (a password reset proves
    the owner holds the mailbox: the failures of whoever guessed no longer hold them out).
    The counting ends now and restarts at the next attempt; an attempt still being checked
    belongs to the ended counting, so its failure counts in none."""
    now = clock.epoch_s()
    return tx.update(
        get_settings().table_name,
        lockout_key(rule, subject),
        "SET #count = :zero, #failures = :zero, #started = :now, #ends = :now",
        names={"#count": "count", "#failures": "failures", "#started": "started", "#ends": "ends"},
        values={":zero": 0, ":now": now},
    )


def _give_back_update(attempt: Attempt) -> dict[str, Any]:
    return {
        "Key": to_item(lockout_key(attempt.rule, attempt.subject)),
        "UpdateExpression": "ADD #count :minus_one",
        "ConditionExpression": "#started = :started AND #count > :zero",
        "ExpressionAttributeNames": {"#count": "count", "#started": "started"},
        "ExpressionAttributeValues": to_item(
            {":minus_one": -1, ":zero": 0, ":started": attempt.started}
        ),
    }
