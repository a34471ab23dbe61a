"""Lambda's event filtering pattern language, as the SQS and stream drivers apply it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from warung_local.filters import (
    FilterCriteria,
    FilterError,
    filter_texts,
    matches_pattern,
    parse_pattern,
    sqs_filter_view,
)


def _matches(pattern: dict[str, Any], record: Any) -> bool:
    return matches_pattern(parse_pattern(json.dumps(pattern)), record)


@pytest.mark.parametrize(
    ("alternatives", "value", "expected"),
    [
        (["Alice"], "Alice", True),
        (["Alice"], "alice", False),
        (["Credit", "Debit"], "Debit", True),
        ([""], "", True),
        ([None], None, True),
        ([None], "null", False),
        ([100], 100, True),
        ([100], 100.0, True),
        ([100], "100", False),
        (["100"], 100, False),
        ([True], True, True),
        ([True], 1, False),
        ([1], True, False),
        ([False], False, True),
        ([{"prefix": "us-"}], "us-east-1", True),
        ([{"prefix": "us-"}], "eu-west-1", False),
        ([{"prefix": "1"}], 12, False),
        ([{"suffix": ".png"}], "cat.png", True),
        ([{"suffix": ".png"}], "cat.jpg", False),
        ([{"equals-ignore-case": "alice"}], "ALIce", True),
        ([{"equals-ignore-case": "alice"}], "alicia", False),
        ([{"anything-but": ["Raining"]}], "Sunny", True),
        ([{"anything-but": ["Raining"]}], "Raining", False),
        ([{"anything-but": "Raining"}], "Raining", False),
        ([{"anything-but": [1, 2]}], 3, True),
        ([{"anything-but": [1, 2]}], 2, False),
        ([{"anything-but": {"prefix": "init"}}], "initial", False),
        ([{"anything-but": {"prefix": "init"}}], "final", True),
        ([{"anything-but": {"suffix": ".tmp"}}], "a.tmp", False),
        ([{"anything-but": {"equals-ignore-case": "x"}}], "X", False),
        ([{"numeric": ["=", 100]}], 100, True),
        ([{"numeric": [">", 0, "<=", 5]}], 5, True),
        ([{"numeric": [">", 0, "<=", 5]}], 0, False),
        ([{"numeric": [">", 0, "<=", 5]}], 5.5, False),
        ([{"numeric": [">=", 10]}], 10, True),
        ([{"numeric": ["<", 10]}], "5", False),
        ([{"exists": True}], "anything", True),
        ([{"exists": True}], None, True),
        ([{"exists": False}], "anything", False),
        (["a", {"prefix": "b"}], "bee", True),
    ],
)
def test_each_operator_on_a_leaf(alternatives: list[Any], value: Any, expected: bool) -> None:
    assert _matches({"field": alternatives}, {"field": value}) is expected


def test_a_missing_key_matches_only_exists_false() -> None:
    assert _matches({"field": [{"exists": False}]}, {"other": 1})
    assert not _matches({"field": [{"exists": True}]}, {"other": 1})
    assert not _matches({"field": [{"anything-but": ["x"]}]}, {"other": 1})
    assert not _matches({"field": [None]}, {"other": 1})


def test_exists_applies_to_leaves_only() -> None:
    # An object is not a leaf value: it does not "exist" for the matcher.
    assert not _matches({"image": [{"exists": True}]}, {"image": {"a": 1}})
    assert _matches({"image": [{"exists": False}]}, {"image": {"a": 1}})


def test_a_list_value_matches_when_any_element_does() -> None:
    assert _matches({"tags": ["red"]}, {"tags": ["blue", "red"]})
    assert not _matches({"tags": ["red"]}, {"tags": ["blue"]})
    assert not _matches({"tags": [{"exists": True}]}, {"tags": []})
    assert _matches({"items": {"sku": ["A1"]}}, {"items": [{"sku": "B2"}, {"sku": "A1"}]})


def test_every_key_must_match() -> None:
    pattern = {"Location": ["New York"], "Day": ["Monday"]}

    assert _matches(pattern, {"Location": "New York", "Day": "Monday"})
    assert not _matches(pattern, {"Location": "New York", "Day": "Tuesday"})
    assert not _matches(pattern, {"Location": "New York"})


def test_nested_objects_descend() -> None:
    pattern = {"a": {"b": {"c": [{"numeric": [">", 1]}]}}}

    assert _matches(pattern, {"a": {"b": {"c": 2}}, "x": 0})
    assert not _matches(pattern, {"a": {"b": {"c": 1}}})
    assert not _matches(pattern, {"a": {"b": "c"}})
    assert not _matches(pattern, {"a": "b"})
    assert _matches({"a": {"b": [{"exists": False}]}}, {})


def test_or_across_fields() -> None:
    pattern = {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}

    assert _matches(pattern, {"Location": "Paris", "Day": "Monday"})
    assert _matches(pattern, {"Location": "New York", "Day": "Friday"})
    assert not _matches(pattern, {"Location": "Paris", "Day": "Friday"})


def test_a_record_passes_when_any_filter_matches() -> None:
    criteria = FilterCriteria.from_texts(['{"kind": ["a"]}', '{"size": [{"numeric": [">", 9]}]}'])

    assert criteria.matches({"kind": "a", "size": 1})
    assert criteria.matches({"kind": "b", "size": 10})
    assert not criteria.matches({"kind": "b", "size": 1})
    assert FilterCriteria.from_texts([]).matches({"anything": 1})


def test_sqs_json_body_is_matched_as_an_object() -> None:
    criteria = FilterCriteria.from_texts(['{"body": {"RequestCode": ["BBBB"]}}'])
    record = {"body": json.dumps({"RequestCode": "BBBB", "n": 1}), "attributes": {}}

    assert criteria.matches(sqs_filter_view(record))
    assert not criteria.matches(sqs_filter_view({"body": '{"RequestCode": "AAAA"}'}))
    # the record the function receives keeps its body as the string it was sent
    assert isinstance(record["body"], str)


def test_sqs_plain_body_matches_string_patterns_only() -> None:
    plain = {"body": "urgent: restock", "attributes": {"ApproximateReceiveCount": "1"}}
    text = FilterCriteria.from_texts(['{"body": [{"prefix": "urgent:"}]}'])
    as_json = FilterCriteria.from_texts(['{"body": {"kind": [{"exists": true}]}}'])

    assert text.matches(sqs_filter_view(plain))
    # a JSON body pattern against a plain body (and the reverse): the message is dropped
    assert not as_json.matches(sqs_filter_view(plain))
    assert not text.matches(sqs_filter_view({"body": '{"kind": "urgent: x"}'}))
    # a body that only looks like JSON stays a string
    assert sqs_filter_view({"body": "{not json"})["body"] == "{not json"


def test_sqs_metadata_keys_are_matched_too() -> None:
    criteria = FilterCriteria.from_texts(
        ['{"messageAttributes": {"kind": {"stringValue": ["email"]}}}']
    )
    record = {"body": "x", "messageAttributes": {"kind": {"stringValue": "email"}}}

    assert criteria.matches(sqs_filter_view(record))


def _stream_record(event_name: str, pk: str) -> dict[str, Any]:
    return {
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"pk": {"S": pk}},
            "NewImage": {"pk": {"S": pk}, "total": {"N": "12"}},
            "SequenceNumber": "100",
        },
    }


def test_stream_record_by_event_name_and_key_prefix() -> None:
    criteria = FilterCriteria.from_texts(
        ['{"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "order#"}]}}}}']
    )

    assert criteria.matches(_stream_record("INSERT", "order#1"))
    assert not criteria.matches(_stream_record("MODIFY", "order#1"))
    assert not criteria.matches(_stream_record("INSERT", "user#1"))


def test_stream_numbers_are_strings_as_in_aws() -> None:
    # DynamoDB's {"N": "12"} is a string: numeric never matches it, an exact string does.
    numeric = {"dynamodb": {"NewImage": {"total": {"N": [{"numeric": [">", 10]}]}}}}
    exact = {"dynamodb": {"NewImage": {"total": {"N": ["12"]}}}}

    assert not _matches(numeric, _stream_record("INSERT", "order#1"))
    assert _matches(exact, _stream_record("INSERT", "order#1"))


@pytest.mark.parametrize(
    "pattern",
    [
        "not json",
        "[]",
        "{}",
        '{"a": "value-not-in-a-list"}',
        '{"a": []}',
        '{"a": [{"prefix": 1}]}',
        '{"a": [{"exists": "yes"}]}',
        '{"a": [{"numeric": [">"]}]}',
        '{"a": [{"numeric": ["!=", 1]}]}',
        '{"a": [{"numeric": [">", 1, ">", 2]}]}',
        '{"a": [{"anything-but": {"wildcard": "x"}}]}',
        '{"a": [{"regex": "x"}]}',
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        '{"$or": [{"a": ["x"]}]}',
    ],
)
def test_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(FilterError):
        parse_pattern(pattern)


def test_filter_criteria_property_of_a_template() -> None:
    raw = {"Filters": [{"Pattern": '{"a": ["x"]}'}, {"Pattern": {"b": [1]}}]}

    assert filter_texts(raw) == ('{"a": ["x"]}', '{"b": [1]}')
    assert filter_texts(None) == ()
    with pytest.raises(FilterError, match=r"Filters\[0\]"):
        filter_texts({"Filters": [{"Pattern": '{"a": "x"}'}]})
    with pytest.raises(FilterError):
        filter_texts({"Filters": [{"Pattern": '{"a": ["x"]}'}] * 11})
