"""Lambda event filtering (`FilterCriteria`) for the SQS and DynamoDB stream sources.

An event source mapping may carry up to five filters, each a JSON *pattern*. A record
is delivered when ANY filter matches it; the others are dropped (SQS: the message is
deleted without an invocation; streams: the iterator moves past the record).

A pattern is a JSON object. It matches a record when EVERY key of it matches:

- a nested object descends into the record's object at that key;
- a list is a set of alternatives for the leaf value at that key, any may match:
  exact values (strings, numbers compared by value, `true`, `false`, `null`) and
  the matchers `{"prefix": s}`, `{"suffix": s}`, `{"equals-ignore-case": s}`,
  `{"anything-but": v | [v, ...] | {"prefix"|"suffix"|"equals-ignore-case": s}}`,
  `{"numeric": [op, n, (op, n)]}` with `=`, `<`, `<=`, `>`, `>=`, and
  `{"exists": true|false}`;
- `"$or": [pattern, ...]` matches when any of the sub-patterns matches.

As in EventBridge (whose matcher Lambda uses), only *leaf* values take part: a key
whose value is an object does not "exist" as a leaf, a missing key matches nothing
but `{"exists": false}`, and when the record's value is a list the key matches if
any element does. Strings never match numeric or numeric-looking patterns and vice
versa (`"5"` is not `5`); DynamoDB's `{"N": "5"}` is a string, so `numeric` does
not apply to it, as in AWS.

SQS: the pattern sees the Lambda record with `body` replaced by the parsed JSON when
the body is a JSON object or array; otherwise `body` stays the plain string. So a
JSON `body` pattern never matches a plain-string body and a plain-string pattern
never matches a JSON body: AWS drops such a message too. (AWS documents filtering
on `body` only for SQS; other keys of the record are accepted here.)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# AWS allows five filters per event source mapping, ten with a quota increase.
MAX_FILTERS = 10

_NUMERIC_OPS = {"=", "<", "<=", ">", ">="}
_STRING_MATCHERS = {"prefix", "suffix", "equals-ignore-case"}


class FilterError(ValueError):
    """A filter pattern is not valid (AWS would refuse the event source mapping)."""


_MISSING = object()


# ------------------------------------------------------------------ validation


def _check_string_matcher(name: str, value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise FilterError(f"{where}: {name} takes a string, not {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_numeric(spec: Any, where: str) -> None:
    if not isinstance(spec, list) or len(spec) not in {2, 4}:
        raise FilterError(f"{where}: numeric takes [op, n] or [op, n, op, n], not {spec!r}")
    for index in range(0, len(spec), 2):
        op, number = spec[index], spec[index + 1]
        if op not in _NUMERIC_OPS or not _is_number(number):
            raise FilterError(f"{where}: bad numeric comparison {op!r} {number!r}")
    if len(spec) == 4 and ("=" in spec[0::2] or spec[0][0] == spec[2][0]):
        raise FilterError(f"{where}: a numeric range needs one lower and one upper bound")


def _check_matcher(matcher: Mapping[str, Any], where: str) -> None:
    if len(matcher) != 1:
        raise FilterError(f"{where}: a matcher has exactly one key, not {sorted(matcher)}")
    name, value = next(iter(matcher.items()))
    if name in _STRING_MATCHERS:
        _check_string_matcher(name, value, where)
    elif name == "exists":
        if not isinstance(value, bool):
            raise FilterError(f"{where}: exists takes true or false, not {value!r}")
    elif name == "numeric":
        _check_numeric(value, where)
    elif name == "anything-but":
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in _STRING_MATCHERS:
                raise FilterError(
                    f"{where}: anything-but takes prefix, suffix or equals-ignore-case"
                )
            inner_name, inner = next(iter(value.items()))
            _check_string_matcher(inner_name, inner, where)
        else:
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str) or _is_number(v) for v in values):
                raise FilterError(f"{where}: anything-but takes strings or numbers, not {value!r}")
    else:
        raise FilterError(f"{where}: unsupported matcher {name!r}")


def validate_pattern(pattern: Any, where: str = "pattern") -> None:  # noqa: C901 - one branch per filter operator
    """Raise FilterError unless `pattern` is a valid filter pattern (a parsed JSON object)."""
    if not isinstance(pattern, dict) or not pattern:
        raise FilterError(f"{where}: a pattern is a non-empty JSON object")
    for key, value in pattern.items():
        path = f"{where}.{key}"
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise FilterError(f"{path}: $or takes a list of at least two patterns")
            for index, alternative in enumerate(value):
                validate_pattern(alternative, f"{path}[{index}]")
        elif isinstance(value, dict):
            validate_pattern(value, path)
        elif isinstance(value, list):
            if not value:
                raise FilterError(f"{path}: a list of alternatives cannot be empty")
            for alternative in value:
                if isinstance(alternative, dict):
                    _check_matcher(alternative, path)
                elif isinstance(alternative, list):
                    raise FilterError(f"{path}: alternatives cannot be lists")
        else:
            raise FilterError(f"{path}: values must be in a list, e.g. [{json.dumps(value)}]")


def parse_pattern(text: str | Mapping[str, Any]) -> dict[str, Any]:
    """A validated pattern from its JSON text (as `Pattern` holds it) or an already parsed one."""
    if isinstance(text, str):
        try:
            pattern = json.loads(text)
        except ValueError as exc:
            raise FilterError(f"pattern is not valid JSON: {exc}") from exc
    else:
        pattern = dict(text)
    validate_pattern(pattern)
    assert isinstance(pattern, dict)
    return pattern


# ------------------------------------------------------------------ matching


def _numbers_equal(left: Any, right: Any) -> bool:
    return _is_number(left) and _is_number(right) and bool(left == right)


def _equal(value: Any, expected: Any) -> bool:
    if _is_number(expected):
        return _numbers_equal(value, expected)
    if isinstance(expected, bool) or expected is None:
        return value is expected
    return isinstance(value, str) and value == expected


def _string_match(name: str, argument: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if name == "prefix":
        return value.startswith(argument)
    if name == "suffix":
        return value.endswith(argument)
    return value.casefold() == argument.casefold()  # equals-ignore-case


def _numeric_match(spec: Sequence[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    for index in range(0, len(spec), 2):
        op, bound = spec[index], spec[index + 1]
        ok = {
            "=": value == bound,
            "<": value < bound,
            "<=": value <= bound,
            ">": value > bound,
            ">=": value >= bound,
        }[op]
        if not ok:
            return False
    return True


def _leaf_match(alternative: Any, value: Any) -> bool:
    """Whether one leaf value (never a dict or list) satisfies one alternative."""
    if not isinstance(alternative, dict):
        return _equal(value, alternative)
    name, argument = next(iter(alternative.items()))
    if name in _STRING_MATCHERS:
        return _string_match(name, argument, value)
    if name == "numeric":
        return _numeric_match(argument, value)
    if name == "exists":
        return bool(argument)  # the caller only asks about values that exist
    # anything-but
    if isinstance(argument, dict):
        inner_name, inner = next(iter(argument.items()))
        return not _string_match(inner_name, inner, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_equal(value, e) for e in excluded)


def _leaves(value: Any) -> list[Any]:
    """The leaf values at a key: the value itself, or the scalar elements of a list."""
    if value is _MISSING or isinstance(value, dict):
        return []
    if isinstance(value, list):
        found: list[Any] = []
        for element in value:
            found.extend(_leaves(element))
        return found
    return [value]


def _objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects at a key to descend into (a list contributes its object elements)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        found: list[Mapping[str, Any]] = []
        for element in value:
            found.extend(_objects(element))
        return found
    return []


def _alternatives_match(alternatives: Iterable[Any], value: Any) -> bool:
    leaves = _leaves(value)
    for alternative in alternatives:
        if isinstance(alternative, dict) and "exists" in alternative:
            if bool(leaves) == alternative["exists"]:
                return True
        elif any(_leaf_match(alternative, leaf) for leaf in leaves):
            return True
    return False


def matches_pattern(pattern: Mapping[str, Any], record: Any) -> bool:
    """Whether `record` satisfies every key of a (validated) pattern."""
    data: Mapping[str, Any] = record if isinstance(record, dict) else {}
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches_pattern(p, data) for p in expected):
                return False
            continue
        value = data.get(key, _MISSING)
        if isinstance(expected, dict):
            # Descending where there is no object behind the key leaves only the
            # "does not exist" matchers able to match, as with an empty object.
            candidates = _objects(value) or [{}]
            if not any(matches_pattern(expected, candidate) for candidate in candidates):
                return False
        elif not _alternatives_match(expected, value):
            return False
    return True


@dataclass(frozen=True)
class FilterCriteria:
    """The parsed filters of one event source: a record passes when any pattern matches."""

    patterns: tuple[dict[str, Any], ...]

    @classmethod
    def from_texts(cls, texts: Iterable[str | Mapping[str, Any]]) -> FilterCriteria:
        """Parse and validate each `Pattern`."""
        return cls(tuple(parse_pattern(t) for t in texts))

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, record: Any) -> bool:
        """Whether the record passes (always, when there are no filters)."""
        if not self.patterns:
            return True
        return any(matches_pattern(p, record) for p in self.patterns)


def filter_texts(raw: Any, where: str = "FilterCriteria") -> tuple[str, ...]:
    """The `Pattern` strings of a resolved `FilterCriteria` property, validated, as JSON text.

    Patterns given as YAML mappings instead of strings are accepted and serialised.
    """
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not isinstance(raw.get("Filters", []), list):
        raise FilterError(f"{where}: expected {{Filters: [{{Pattern: ...}}]}}")
    texts = []
    for index, item in enumerate(raw.get("Filters") or []):
        if not isinstance(item, dict) or "Pattern" not in item:
            raise FilterError(f"{where}.Filters[{index}]: expected {{Pattern: '<JSON>'}}")
        pattern = item["Pattern"]
        text = pattern if isinstance(pattern, str) else json.dumps(pattern)
        try:
            parse_pattern(text)
        except FilterError as exc:
            raise FilterError(f"{where}.Filters[{index}]: {exc}") from exc
        texts.append(text)
    if len(texts) > MAX_FILTERS:
        raise FilterError(
            f"{where}: {len(texts)} filters; AWS allows 5 (up to {MAX_FILTERS} on request)"
        )
    return tuple(texts)


def sqs_filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The SQS record as the filter sees it: `body` parsed when it is a JSON object or array."""
    view = dict(record)
    body = record.get("body")
    if isinstance(body, str):
        stripped = body.lstrip()
        if stripped.startswith(("{", "[")):
            # Not JSON after all: filtered as the plain string it is.
            with contextlib.suppress(ValueError):
                view["body"] = json.loads(body)
    return view
