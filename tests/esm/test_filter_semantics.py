"""FilterCriteria matching beyond test_filters.py: the edges of each operator (EventBridge/Event Ruler semantics,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html) and what each event
source's filter sees (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from emulator.esm.core.filters import (
    CompiledPattern,
    kinesis_record_matches,
    matches,
    parse_filter_criteria,
    sqs_record_matches,
)


def _compile(pattern: dict[str, Any]) -> CompiledPattern:
    return CompiledPattern.compile(json.dumps(pattern))


def _compile_all(*patterns: dict[str, Any]) -> list[CompiledPattern]:
    return parse_filter_criteria({"Filters": [{"Pattern": json.dumps(p)} for p in patterns]})


# (case id, pattern, event, kept)
EDGES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # exact values: types never mix
    ("false vs 0", {"a": [False]}, {"a": 0}, False),
    ("0 vs false", {"a": [0]}, {"a": False}, False),
    ("false", {"a": [False]}, {"a": False}, True),
    ("false vs null", {"a": [False]}, {"a": None}, False),
    ("null vs false", {"a": [None]}, {"a": False}, False),
    ("null vs empty string", {"a": [None]}, {"a": ""}, False),
    ("negative float", {"a": [-2.5]}, {"a": -2.5}, True),
    ("number in an array", {"a": [3]}, {"a": ["3", 4, 3.0]}, True),
    # prefix / suffix / equals-ignore-case / wildcard only look at strings
    ("prefix empty matches any string", {"a": [{"prefix": ""}]}, {"a": "x"}, True),
    ("prefix empty not a number", {"a": [{"prefix": ""}]}, {"a": 1}, False),
    ("prefix is case sensitive", {"a": [{"prefix": "Us"}]}, {"a": "us-east-1"}, False),
    ("prefix is not a suffix", {"a": [{"prefix": "png"}]}, {"a": "a.png"}, False),
    ("suffix is not a prefix", {"a": [{"suffix": "us"}]}, {"a": "us-east"}, False),
    ("suffix on number", {"a": [{"suffix": "2"}]}, {"a": 12}, False),
    ("prefix ignore case, upper event", {"a": [{"prefix": {"equals-ignore-case": "ab"}}]}, {"a": "ABC"}, True),
    ("prefix ignore case on number", {"a": [{"prefix": {"equals-ignore-case": "1"}}]}, {"a": 12}, False),
    ("suffix ignore case on null", {"a": [{"suffix": {"equals-ignore-case": "x"}}]}, {"a": None}, False),
    ("suffix ignore case is a suffix", {"a": [{"suffix": {"equals-ignore-case": "AB"}}]}, {"a": "abx"}, False),
    ("equals-ignore-case upper pattern", {"a": [{"equals-ignore-case": "ALICE"}]}, {"a": "alice"}, True),
    ("equals-ignore-case on number", {"a": [{"equals-ignore-case": "1"}]}, {"a": 1}, False),
    ("wildcard on number", {"a": [{"wildcard": "*"}]}, {"a": 1}, False),
    ("wildcard star alone", {"a": [{"wildcard": "*"}]}, {"a": ""}, True),
    ("wildcard spans lines", {"a": [{"wildcard": "a*z"}]}, {"a": "a\nb\nz"}, True),
    ("wildcard two stars", {"a": [{"wildcard": "*b*d"}]}, {"a": "abcd"}, True),
    ("wildcard escaped backslash", {"a": [{"wildcard": "a\\\\b"}]}, {"a": "a\\b"}, True),
    ("wildcard escaped backslash then star", {"a": [{"wildcard": "a\\\\*"}]}, {"a": "a\\bc"}, True),
    ("wildcard escapes late in the text", {"a": [{"wildcard": "logs/\\*/x\\\\*"}]}, {"a": "logs/*/x\\y"}, True),
    ("wildcard escaped star late in the text", {"a": [{"wildcard": "logs/\\*"}]}, {"a": "logs/x"}, False),
    ("wildcard escape is one character", {"a": [{"wildcard": "a\\*"}]}, {"a": "a*x"}, False),
    ("wildcard no star is exact", {"a": [{"wildcard": "ab"}]}, {"a": "abc"}, False),
    ("wildcard regex metacharacters", {"a": [{"wildcard": "a+(b)?"}]}, {"a": "a+(b)?"}, True),
    # numeric: closed and open bounds, numbers only
    ("numeric = int vs float", {"a": [{"numeric": ["=", 5]}]}, {"a": 5.0}, True),
    ("numeric = below", {"a": [{"numeric": ["=", 5]}]}, {"a": 4.9}, False),
    ("numeric = above", {"a": [{"numeric": ["=", 5]}]}, {"a": 5.1}, False),
    ("numeric > below", {"a": [{"numeric": [">", 5]}]}, {"a": 4}, False),
    ("numeric >= below", {"a": [{"numeric": [">=", 5]}]}, {"a": 4.999}, False),
    ("numeric >= above", {"a": [{"numeric": [">=", 5]}]}, {"a": 1e9}, True),
    ("numeric < above", {"a": [{"numeric": ["<", 5]}]}, {"a": 6}, False),
    ("numeric <= above", {"a": [{"numeric": ["<=", 5]}]}, {"a": 5.001}, False),
    ("numeric <= below", {"a": [{"numeric": ["<=", 5]}]}, {"a": -1e9}, True),
    ("numeric range lower closed", {"a": [{"numeric": [">=", 0, "<", 5]}]}, {"a": 0}, True),
    ("numeric range upper open", {"a": [{"numeric": [">=", 0, "<", 5]}]}, {"a": 5}, False),
    ("numeric range inside", {"a": [{"numeric": [">", 0, "<", 5]}]}, {"a": 2.5}, True),
    ("numeric range below", {"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": -1}, False),
    ("numeric range above", {"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 6}, False),
    ("numeric on null", {"a": [{"numeric": ["<", 1]}]}, {"a": None}, False),
    ("numeric any element", {"a": [{"numeric": [">", 10]}]}, {"a": [1, "20", 11]}, True),
    # cidr
    ("cidr on number", {"a": [{"cidr": "10.0.0.0/8"}]}, {"a": 10}, False),
    ("cidr on null", {"a": [{"cidr": "10.0.0.0/8"}]}, {"a": None}, False),
    ("cidr host bits ignored", {"a": [{"cidr": "10.1.2.3/8"}]}, {"a": "10.200.0.1"}, True),
    ("cidr ipv6 outside", {"a": [{"cidr": "2001:db8::/32"}]}, {"a": "2001:db9::1"}, False),
    ("cidr ipv4 address, ipv6 network", {"a": [{"cidr": "::/0"}]}, {"a": "10.0.0.1"}, False),
    # anything-but
    ("anything-but int vs float", {"a": [{"anything-but": 100}]}, {"a": 100.0}, False),
    ("anything-but ignore case upper pattern", {"a": [{"anything-but": {"equals-ignore-case": ["X"]}}]},
     {"a": "x"}, False),
    ("anything-but ignore case list member", {"a": [{"anything-but": {"equals-ignore-case": ["x", "Y"]}}]},
     {"a": "y"}, False),
    ("anything-but ignore case single", {"a": [{"anything-but": {"equals-ignore-case": "x"}}]}, {"a": "w"}, True),
    ("anything-but wildcard list", {"a": [{"anything-but": {"wildcard": ["a*", "*z"]}}]}, {"a": "xyz"}, False),
    ("anything-but wildcard list other", {"a": [{"anything-but": {"wildcard": ["a*", "*z"]}}]}, {"a": "x"}, True),
    ("anything-but prefix on number", {"a": [{"anything-but": {"prefix": "1"}}]}, {"a": 12}, True),
    ("anything-but suffix is a suffix", {"a": [{"anything-but": {"suffix": "ab"}}]}, {"a": "abc"}, True),
    ("anything-but prefix is a prefix", {"a": [{"anything-but": {"prefix": "bc"}}]}, {"a": "abc"}, True),
    ("anything-but on object", {"a": [{"anything-but": "x"}]}, {"a": {"b": "y"}}, False),
    ("anything-but every element excluded", {"a": [{"anything-but": ["x", "y"]}]}, {"a": ["x", "y"]}, False),
    # exists, and exists with values
    ("exists true on false", {"a": [{"exists": True}]}, {"a": False}, True),
    ("exists true on array with a leaf", {"a": [{"exists": True}]}, {"a": [{"b": 1}, 2]}, True),
    ("exists false on array of objects", {"a": [{"exists": False}]}, {"a": [{"b": 1}]}, True),
    ("exists true or false, missing", {"a": [{"exists": True}, {"exists": False}]}, {}, True),
    ("exists true or false, present", {"a": [{"exists": True}, {"exists": False}]}, {"a": 1}, True),
    ("exists false or value, missing", {"a": [{"exists": False}, "x"]}, {}, True),
    ("exists false or value, value", {"a": [{"exists": False}, "x"]}, {"a": "x"}, True),
    ("exists false or value, other", {"a": [{"exists": False}, "x"]}, {"a": "y"}, False),
    ("exists true and value", {"a": [{"exists": True}, "x"]}, {"a": "y"}, True),
    ("exists false deep under a scalar", {"a": {"b": [{"exists": False}]}}, {"a": "x"}, True),
    ("exists false deep under scalars", {"a": {"b": [{"exists": False}]}}, {"a": [1, 2]}, True),
    ("exists true deep under a scalar", {"a": {"b": [{"exists": True}]}}, {"a": "x"}, False),
    ("exists false deep, all present", {"a": {"b": [{"exists": False}]}}, {"a": [{"b": 2}, {"b": 1}]}, False),
    # structure: several keys are ANDed, and $or at several levels
    ("all keys must match", {"a": ["x"], "b": ["y"], "c": ["z"]}, {"a": "x", "b": "y", "c": "w"}, False),
    ("all keys match", {"a": ["x"], "b": ["y"], "c": ["z"]}, {"a": "x", "b": "y", "c": "z"}, True),
    ("nested object rule fails", {"a": {"b": {"c": ["x"]}}, "d": ["y"]}, {"a": {"b": {"c": "w"}}, "d": "y"}, False),
    ("or and fields both hold", {"s": ["k"], "$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"s": "k", "b": "y"}, True),
    ("or branch needs all its keys", {"$or": [{"a": ["x"], "b": ["y"]}, {"c": ["z"]}]}, {"a": "x"}, False),
    ("or on an array of objects", {"d": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}}, {"d": [{"a": "w"}, {"b": "y"}]},
     True),
    ("or after a field in a branch", {"$or": [{"a": ["x"], "$or": [{"b": ["y"]}, {"c": ["z"]}]}, {"d": ["w"]}]},
     {"a": "x", "c": "z"}, True),
    ("or after a field in a branch, none", {"$or": [{"a": ["x"], "$or": [{"b": ["y"]}, {"c": ["z"]}]},
                                                 {"d": ["w"]}]}, {"a": "x", "c": "q"}, False),
]


@pytest.mark.parametrize(("pattern", "event", "kept"), [c[1:] for c in EDGES], ids=[c[0] for c in EDGES])
def test_operator_edge(pattern: dict[str, Any], event: dict[str, Any], kept: bool) -> None:
    assert matches(_compile(pattern), event) is kept


def test_operator_names_are_plain_fields_outside_or() -> None:
    pattern = _compile({"prefix": ["x"], "exists": [True]})
    assert matches(pattern, {"prefix": "x", "exists": True})
    assert not matches(pattern, {"prefix": "y", "exists": True})


# --- what the pattern records: the fields each filter names -----------------------------------------------


def test_compiled_pattern_records_top_level_fields_and_object_fields() -> None:
    pattern = _compile({"a": ["x"], "b": {"c": ["y"]}, "$or": [{"d": {"e": ["z"]}}, {"$or": [{"f": ["1"]},
                                                                                            {"g": {"h": [2]}}]}]})
    assert pattern.fields == frozenset("abdfg")
    assert pattern.object_fields == frozenset("bdg")


# --- SQS ------------------------------------------------------------------------------------------------------


def _sqs_record(body: Any, **extra: Any) -> dict[str, Any]:
    return {
        "messageId": "m-1",
        "receiptHandle": "rh-1",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:queue",
        "awsRegion": "us-east-1",
        **extra,
    }


@pytest.mark.parametrize(
    "pattern",
    [
        {"eventSource": ["aws:sqs"]},
        {"eventSourceARN": [{"prefix": "arn:"}]},
        {"awsRegion": ["us-east-1"]},
        {"awsRegion": [{"exists": True}]},
    ],
    ids=["eventSource", "eventSourceARN", "awsRegion", "awsRegion exists"],
)
def test_sqs_keys_lambda_adds_after_filtering_never_match(pattern: dict[str, Any]) -> None:
    # EventBridge Pipes documents these as added after filtering: a pattern on them sees nothing.
    assert not sqs_record_matches(_compile_all(pattern), _sqs_record("x"))


def test_sqs_keys_lambda_adds_after_filtering_are_absent() -> None:
    pattern = {"eventSource": [{"exists": False}], "awsRegion": [{"exists": False}],
               "eventSourceARN": [{"exists": False}]}
    assert sqs_record_matches(_compile_all(pattern), _sqs_record("x"))


def test_sqs_body_filter_inside_or_parses_the_body() -> None:
    patterns = _compile_all({"$or": [{"body": {"k": ["a"]}}, {"body": {"j": ["b"]}}]})
    assert sqs_record_matches(patterns, _sqs_record('{"j": "b"}'))
    assert not sqs_record_matches(patterns, _sqs_record('{"j": "a"}'))


def test_sqs_plain_string_filter_sees_the_raw_body_next_to_a_json_filter() -> None:
    patterns = _compile_all({"body": {"k": ["a"]}}, {"body": [{"prefix": '{"k": "b'}]})
    bodies = ['{"k": "a"}', '{"k": "b"}', '{"k": "c"}']
    assert [b for b in bodies if sqs_record_matches(patterns, _sqs_record(b))] == bodies[:2]


def test_sqs_json_filter_skips_a_plain_body_and_the_next_filter_still_applies() -> None:
    patterns = _compile_all({"body": {"k": [{"exists": False}]}}, {"messageId": ["m-1"]})
    assert sqs_record_matches(patterns, _sqs_record("plain"))


@pytest.mark.parametrize(
    ("body", "kept"),
    [('{"j": "v"}', True), ('"v"', True), ("null", True), ("[1, 2]", True), ("[" * 100_000, False),
     ("NaN", False), ("{'k': 1}", False), (None, False), ("", False)],
    ids=["object", "json string", "json null", "json array", "nested past the parser", "NaN", "python dict",
         "no body", "empty body"],
)
def test_sqs_json_filter_drops_a_body_that_is_not_json(body: Any, kept: bool) -> None:
    # Any JSON body is parsed (one that is not an object has no keys, so an absence check holds); a body that
    # is not JSON is dropped by a filter that gives body an object, whatever the filter says.
    assert sqs_record_matches(_compile_all({"body": {"k": [{"exists": False}]}}), _sqs_record(body)) is kept


def test_sqs_body_without_a_body_object_filter_is_compared_as_text() -> None:
    assert sqs_record_matches(_compile_all({"body": ['{"k":"v"}']}), _sqs_record('{"k":"v"}'))
    assert sqs_record_matches(_compile_all({"body": [{"prefix": '{"k"'}]}), _sqs_record('{"k":"v"}'))


# --- Kinesis --------------------------------------------------------------------------------------------------


def _kinesis_record(data: str, partition_key: str = "pk-1") -> dict[str, Any]:
    return {
        "kinesis": {"partitionKey": partition_key, "sequenceNumber": "1", "data": data},
        "eventSource": "aws:kinesis",
        "awsRegion": "us-east-1",
    }


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("pattern", "data", "kept"),
    [
        ({"data": ["buy"]}, _b64(b'"buy"'), True),
        ({"data": [5]}, _b64(b"5"), True),
        ({"data": {"t": ["buy"]}}, _b64('{"t": "buy", "u": "é"}'.encode()), True),
        ({"data": {"t": ["buy"]}}, "eyJ0IjogImJ1eSJ9!", False),  # base64 with a stray character
        ({"data": {"t": ["buy"]}}, _b64(b"[" * 100_000), False),
        ({"data": [{"exists": True}]}, _b64(b"not json"), False),
        ({"data": [{"exists": True}]}, _b64(b"null"), True),
        ({"data": [{"prefix": "eyJ"}]}, _b64(b'{"t": 1}'), False),  # the pattern never sees the base64 text
        ({"data": [{"prefix": "bm90"}]}, _b64(b"not json"), False),
    ],
    ids=["json string", "json number", "utf-8 object", "not base64",
         "nested past the parser", "exists on plain data", "exists on json null", "json data as base64",
         "plain data as base64"],
)
def test_kinesis_data_view(pattern: dict[str, Any], data: str, kept: bool) -> None:
    assert kinesis_record_matches(_compile_all(pattern), _kinesis_record(data)) is kept


def test_kinesis_data_filter_inside_or_drops_plain_data() -> None:
    patterns = _compile_all({"$or": [{"data": {"t": ["a"]}}, {"partitionKey": ["pk-1"]}]})
    assert not kinesis_record_matches(patterns, _kinesis_record(_b64(b"plain")))
    assert kinesis_record_matches(patterns, _kinesis_record(_b64(b'{"t": "b"}')))


def test_kinesis_metadata_filter_sees_plain_data_records() -> None:
    patterns = _compile_all({"data": {"t": ["a"]}}, {"sequenceNumber": ["1"], "partitionKey": ["pk-1"]})
    assert kinesis_record_matches(patterns, _kinesis_record(_b64(b"plain")))
    assert not kinesis_record_matches(patterns, _kinesis_record(_b64(b"plain"), partition_key="pk-2"))


def test_kinesis_record_without_data_only_matches_metadata() -> None:
    record = {"kinesis": {"partitionKey": "pk-1"}}
    assert not kinesis_record_matches(_compile_all({"data": [{"exists": False}]}), record)
    assert kinesis_record_matches(_compile_all({"partitionKey": ["pk-1"]}), record)


def test_kinesis_record_with_a_non_object_kinesis_key_is_matched_as_it_is() -> None:
    record = {"kinesis": "x", "partitionKey": "pk-1", "data": _b64(b'{"t": "a"}')}
    assert kinesis_record_matches(_compile_all({"data": {"t": ["a"]}}), record)
    assert not kinesis_record_matches(_compile_all({"kinesis": ["y"]}), record)


def test_kinesis_leaves_the_record_as_it_was() -> None:
    record = _kinesis_record(_b64(b'{"t": "a"}'))
    before = json.loads(json.dumps(record))
    assert kinesis_record_matches(_compile_all({"data": {"t": ["a"]}}), record)
    assert record == before
