"""FilterCriteria: conformance cases from the recorded AWS snapshots, then each operator on its own."""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

import pytest
from conformance_data import snapshots_dir

from emulator.esm.core.filters import (
    CompiledPattern,
    FilterPatternError,
    kinesis_record_matches,
    matches,
    parse_filter_criteria,
    sqs_record_matches,
)

SNAPSHOTS = snapshots_dir()
SQS_KEY = (
    "tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_sqs.py::"
    "TestSQSEventSourceMapping::"
)
KINESIS_KEY = (
    "tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_kinesis.py::"
    "TestKinesisEventFiltering::test_kinesis_event_filtering_json_pattern"
)
AWS_MESSAGE = "Invalid filter pattern definition."


@cache
def _snapshot(name: str) -> dict[str, Any]:
    # No skip: a missing conformance file must fail the run.
    data: dict[str, Any] = json.loads((SNAPSHOTS / name).read_text())
    return data


def _recorded(name: str, key: str) -> dict[str, Any]:
    content: dict[str, Any] = _snapshot(name)[key]["recorded-content"]
    return content


def _criteria_from_snapshot(create_response: dict[str, Any]) -> dict[str, Any]:
    # The recorder parsed each Pattern into an object; on the wire it is a JSON string.
    filters = create_response["FilterCriteria"]["Filters"]
    return {"Filters": [{"Pattern": json.dumps(f["Pattern"])} for f in filters]}


def _sqs_record(body: str, **extra: Any) -> dict[str, Any]:
    return {
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:queue",
        "awsRegion": "us-east-1",
        **extra,
    }


def _kinesis_record(data: bytes, partition_key: str = "pk-1") -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": 1545084650.987,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": "shardId-000000000000:49590338271490256608559692538361571095921575989136588898",
        "eventName": "aws:kinesis:record",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:111111111111:stream/s",
    }


def _compile(pattern: dict[str, Any]) -> CompiledPattern:
    return CompiledPattern.compile(json.dumps(pattern))


def _compile_all(*patterns: dict[str, Any]) -> list[CompiledPattern]:
    return parse_filter_criteria({"Filters": [{"Pattern": json.dumps(p)} for p in patterns]})


# --- conformance: SQS (README §3 "Filtering") -------------------------------------------------------------

# Non-matching messages are not in the snapshot (they never reach the function); these are upstream's.
SQS_FILTER_CASES = [
    ("single", {"my-key": "other-value"}),
    ("or", {"my-key": "other-value"}),
    ("and", {"my-key-one": "other-value-", "my-key-two": "my-value-two"}),
    ("exists", {"other-key": "any-value-two"}),
    ("numeric-bigger", {"my-number": 100}),
    ("numeric-smaller", {"my-number": 100}),
    ("numeric-range", {"my-number": 200}),
    ("prefix", {"my-key": "no-value"}),
    ("valid-json-filter", "plain-string"),
]


@pytest.mark.parametrize(("case_id", "not_matching"), SQS_FILTER_CASES, ids=[c[0] for c in SQS_FILTER_CASES])
def test_sqs_event_filter_keeps_match_drops_other(case_id: str, not_matching: object) -> None:
    recorded = _recorded(
        "test_lambda_integration_sqs.snapshot.json", f"{SQS_KEY}test_sqs_event_filter[{case_id}]"
    )
    patterns = parse_filter_criteria(
        _criteria_from_snapshot(recorded["create_event_source_mapping_response"])
    )
    (invocation,) = recorded["invocation_events"]
    (delivered,) = invocation["Records"]
    matching_body = json.dumps(delivered["body"])
    other_body = not_matching if isinstance(not_matching, str) else json.dumps(not_matching)

    kept = [b for b in (matching_body, other_body) if sqs_record_matches(patterns, _sqs_record(b))]

    assert kept == [matching_body]


# Entries recorded in 2024 with the older upstream parameters: only the delivered (matching) body is known,
# except where the node id names the non-matching one.
STALE_SQS_CASES = [
    ("filter0-item_matching0-item_not_matching0", None),
    ("filter1-item_matching1-item_not_matching1", None),
    ("filter2-item_matching2-item_not_matching2", None),
    ("filter3-item_matching3-item_not_matching3", None),
    ("filter4-item_matching4-this is a test string", "this is a test string"),
    ("filter5-item_matching5-item_not_matching5", None),
    ("filter6-item_matching6-item_not_matching6", None),
    ("filter7-item_matching7-item_not_matching7", None),
    ("single-filter", None),
    ("or-filter", None),
    ("and-filter", None),
    ("exists-filter", None),
    ("numeric-prefix", None),
]


@pytest.mark.parametrize(("node_id", "not_matching"), STALE_SQS_CASES, ids=[c[0] for c in STALE_SQS_CASES])
def test_sqs_event_filter_stale_entries_keep_delivered_body(node_id: str, not_matching: str | None) -> None:
    recorded = _recorded(
        "test_lambda_integration_sqs.snapshot.json", f"{SQS_KEY}test_sqs_event_filter[{node_id}]"
    )
    patterns = parse_filter_criteria(
        _criteria_from_snapshot(recorded["create_event_source_mapping_response"])
    )
    delivered = recorded["invocation_events"][0]["Records"][0]["body"]

    assert sqs_record_matches(patterns, _sqs_record(json.dumps(delivered)))
    if not_matching is not None:
        assert not sqs_record_matches(patterns, _sqs_record(not_matching))


# Upstream sends Pattern=json.dumps(x) unless x is already a string.
INVALID_SNAPSHOT_CASES = [
    ("None", "null"),
    ("simple string", "simple string"),
    ("invalid_filter2", json.dumps({"eventSource": "aws:sqs"})),
    ("invalid_filter3", json.dumps({"eventSource": []})),
]


@pytest.mark.parametrize(
    ("case_id", "pattern"), INVALID_SNAPSHOT_CASES, ids=[c[0] for c in INVALID_SNAPSHOT_CASES]
)
def test_sqs_invalid_event_filter(case_id: str, pattern: str) -> None:
    recorded = _recorded(
        "test_lambda_integration_sqs.snapshot.json", f"{SQS_KEY}test_sqs_invalid_event_filter[{case_id}]"
    )
    error = recorded["create_event_source_mapping_exception"]["Error"]

    with pytest.raises(FilterPatternError) as caught:
        parse_filter_criteria({"Filters": [{"Pattern": pattern}]})

    assert error == {"Code": "InvalidParameterValueException", "Message": AWS_MESSAGE}
    assert str(caught.value) == error["Message"]
    assert caught.value.code == error["Code"]
    assert caught.value.index == 1


# --- conformance: Kinesis (README §2 TestKinesisEventFiltering) -------------------------------------------


def test_kinesis_event_filtering_json_pattern() -> None:
    recorded = _recorded("test_lambda_integration_kinesis.snapshot.json", KINESIS_KEY)
    esm_1 = parse_filter_criteria(_criteria_from_snapshot(recorded["create_event_source_mapping_response"]))
    esm_2 = parse_filter_criteria(_criteria_from_snapshot(recorded["create_event_source_mapping_2_response"]))
    records = [
        _kinesis_record(json.dumps({"event_type": "function_1", "message": "foo"}).encode()),
        _kinesis_record(json.dumps({"event_type": "function_2", "message": "bar"}).encode()),
    ]

    kept_1 = [r for r in records if kinesis_record_matches(esm_1, r)]
    kept_2 = [r for r in records if kinesis_record_matches(esm_2, r)]

    assert kept_1 == [records[0]]
    assert kept_2 == [records[1]]
    logged = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in kept_1]
    assert logged == json.loads(recorded["kinesis-record-lambda-payload"])


# --- parse_filter_criteria --------------------------------------------------------------------------------


@pytest.mark.parametrize("criteria", [None, {}, {"Filters": None}, {"Filters": []}])
def test_no_filters_compile_to_nothing(criteria: dict[str, Any] | None) -> None:
    assert parse_filter_criteria(criteria) == []


def test_compiled_pattern_keeps_source_and_is_frozen() -> None:
    (pattern,) = parse_filter_criteria({"Filters": [{"Pattern": '{"body": {"a": ["x"]}}'}]})
    assert pattern.source == '{"body": {"a": ["x"]}}'
    with pytest.raises(AttributeError):
        pattern.source = "{}"  # type: ignore[misc]


def test_matching_does_not_reparse_the_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    pattern = _compile({"a": [{"prefix": "x"}], "b": {"c": [{"numeric": [">", 1]}]}})

    def no_json(*_: object, **__: object) -> object:
        raise AssertionError("pattern parsed again while matching")

    monkeypatch.setattr(json, "loads", no_json)
    assert matches(pattern, {"a": "xy", "b": {"c": 2}})


INVALID_PATTERNS = [
    ("empty object", "{}"),
    ("nested empty object", '{"body": {}}'),
    ("json array", '["a"]'),
    ("not json", "{body: [1]}"),
    ("nan constant", '{"a": [NaN]}'),
    ("leaf not a list", '{"eventSource": "aws:sqs"}'),
    ("leaf number", '{"a": 1}'),
    ("empty list", '{"a": []}'),
    ("list in list", '{"a": [["x"]]}'),
    ("unknown operator", '{"a": [{"contains": "x"}]}'),
    ("two operators", '{"a": [{"prefix": "x", "suffix": "y"}]}'),
    ("empty expression", '{"a": [{}]}'),
    ("prefix not string", '{"a": [{"prefix": 1}]}'),
    ("prefix bad inner", '{"a": [{"prefix": {"anything-but": "x"}}]}'),
    ("suffix not string", '{"a": [{"suffix": ["x"]}]}'),
    ("equals-ignore-case not string", '{"a": [{"equals-ignore-case": 1}]}'),
    ("exists not bool", '{"a": [{"exists": "true"}]}'),
    ("numeric not list", '{"a": [{"numeric": 5}]}'),
    ("numeric empty", '{"a": [{"numeric": []}]}'),
    ("numeric bad operator", '{"a": [{"numeric": ["!=", 5]}]}'),
    ("numeric operand not number", '{"a": [{"numeric": [">", "5"]}]}'),
    ("numeric operand bool", '{"a": [{"numeric": ["=", true]}]}'),
    ("numeric missing operand", '{"a": [{"numeric": [">"]}]}'),
    ("numeric equals too long", '{"a": [{"numeric": ["=", 5, "<", 6]}]}'),
    ("numeric upper first", '{"a": [{"numeric": ["<", 5, ">", 1]}]}'),
    ("numeric range two lower", '{"a": [{"numeric": [">", 1, ">", 5]}]}'),
    ("numeric range inverted", '{"a": [{"numeric": [">", 5, "<", 1]}]}'),
    ("numeric range empty", '{"a": [{"numeric": [">=", 5, "<=", 5]}]}'),
    ("numeric range too long", '{"a": [{"numeric": [">", 1, "<", 5, "<", 6]}]}'),
    ("anything-but bool", '{"a": [{"anything-but": true}]}'),
    ("anything-but null", '{"a": [{"anything-but": null}]}'),
    ("anything-but empty list", '{"a": [{"anything-but": []}]}'),
    ("anything-but mixed list", '{"a": [{"anything-but": ["x", 1]}]}'),
    ("anything-but empty prefix", '{"a": [{"anything-but": {"prefix": ""}}]}'),
    ("anything-but unknown inner", '{"a": [{"anything-but": {"numeric": [">", 1]}}]}'),
    ("anything-but ignore-case number", '{"a": [{"anything-but": {"equals-ignore-case": 1}}]}'),
    ("wildcard consecutive stars", '{"a": [{"wildcard": "a**b"}]}'),
    ("wildcard bad escape", '{"a": [{"wildcard": "a\\\\nb"}]}'),
    ("wildcard not string", '{"a": [{"wildcard": 1}]}'),
    ("cidr no mask", '{"a": [{"cidr": "10.0.0.1"}]}'),
    ("cidr bad address", '{"a": [{"cidr": "10.0.0.300/24"}]}'),
    ("cidr bad mask", '{"a": [{"cidr": "10.0.0.0/x"}]}'),
    ("or not list", '{"$or": {"a": ["x"]}}'),
    ("or single branch", '{"$or": [{"a": ["x"]}]}'),
    ("or branch not object", '{"$or": [{"a": ["x"]}, ["b"]]}'),
    ("or reserved field", '{"$or": [{"prefix": ["x"]}, {"b": ["y"]}]}'),
]


@pytest.mark.parametrize("pattern", [p for _, p in INVALID_PATTERNS], ids=[i for i, _ in INVALID_PATTERNS])
def test_invalid_pattern_is_rejected_with_aws_message(pattern: str) -> None:
    with pytest.raises(FilterPatternError) as caught:
        parse_filter_criteria({"Filters": [{"Pattern": '{"ok": ["x"]}'}, {"Pattern": pattern}]})

    assert str(caught.value) == AWS_MESSAGE
    assert caught.value.index == 2
    assert caught.value.reason  # says what is wrong, for logs


@pytest.mark.parametrize(
    "criteria",
    [
        {"Filters": [{}]},
        {"Filters": [{"Pattern": None}]},
        {"Filters": [{"Pattern": {"a": ["x"]}}]},
        {"Filters": "x"},
    ],
    ids=["pattern missing", "pattern null", "pattern not a string", "filters not a list"],
)
def test_malformed_criteria_is_rejected(criteria: dict[str, Any]) -> None:
    with pytest.raises(FilterPatternError, match=r"^Invalid filter pattern definition\.$"):
        parse_filter_criteria(criteria)


# --- operators (EventBridge semantics) --------------------------------------------------------------------

OPERATOR_CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("exact string", {"a": ["x"]}, {"a": "x"}, True),
    ("exact string other", {"a": ["x"]}, {"a": "y"}, False),
    ("exact is case sensitive", {"a": ["x"]}, {"a": "X"}, False),
    ("list is or", {"a": ["x", "y"]}, {"a": "y"}, True),
    ("empty string", {"a": [""]}, {"a": ""}, True),
    ("empty string vs missing", {"a": [""]}, {}, False),
    ("number int vs float", {"a": [100]}, {"a": 100.0}, True),
    ("number other", {"a": [100]}, {"a": 101}, False),
    ("number vs string", {"a": [100]}, {"a": "100"}, False),
    ("string vs number", {"a": ["100"]}, {"a": 100}, False),
    ("null", {"a": [None]}, {"a": None}, True),
    ("null vs missing", {"a": [None]}, {}, False),
    ("null vs string", {"a": [None]}, {"a": "null"}, False),
    ("true", {"a": [True]}, {"a": True}, True),
    ("true vs 1", {"a": [True]}, {"a": 1}, False),
    ("1 vs true", {"a": [1]}, {"a": True}, False),
    ("true vs string", {"a": [True]}, {"a": "true"}, False),
    ("array any element", {"a": ["x"]}, {"a": ["w", "x"]}, True),
    ("array no element", {"a": ["x"]}, {"a": ["w", "y"]}, False),
    ("nested array flattened", {"a": ["x"]}, {"a": [["w"], ["x"]]}, True),
    ("missing key", {"a": ["x"]}, {"b": "x"}, False),
    ("leaf rule on object", {"a": ["x"]}, {"a": {"b": "x"}}, False),
    ("nested and", {"a": {"b": ["x"], "c": [1]}}, {"a": {"b": "x", "c": 1}}, True),
    ("nested and one fails", {"a": {"b": ["x"], "c": [1]}}, {"a": {"b": "x", "c": 2}}, False),
    ("object rule on scalar", {"a": {"b": ["x"]}}, {"a": "x"}, False),
    ("array of objects", {"a": {"b": ["x"]}}, {"a": [{"b": "w"}, {"b": "x"}]}, True),
    ("array-consistent", {"a": {"b": ["x"], "c": ["y"]}}, {"a": [{"b": "x"}, {"c": "y"}]}, False),
    ("prefix", {"a": [{"prefix": "us-"}]}, {"a": "us-east-1"}, True),
    ("prefix other", {"a": [{"prefix": "us-"}]}, {"a": "eu-west-1"}, False),
    ("prefix on number", {"a": [{"prefix": "1"}]}, {"a": 12}, False),
    ("prefix ignore case", {"a": [{"prefix": {"equals-ignore-case": "EventB"}}]}, {"a": "eventbridge"}, True),
    (
        "prefix ignore case other",
        {"a": [{"prefix": {"equals-ignore-case": "EventB"}}]},
        {"a": "xeventb"},
        False,
    ),
    ("suffix", {"a": [{"suffix": ".png"}]}, {"a": "cat.png"}, True),
    ("suffix other", {"a": [{"suffix": ".png"}]}, {"a": "cat.PNG"}, False),
    ("suffix ignore case", {"a": [{"suffix": {"equals-ignore-case": ".png"}}]}, {"a": "cat.PNG"}, True),
    (
        "suffix ignore case other",
        {"a": [{"suffix": {"equals-ignore-case": ".png"}}]},
        {"a": "cat.jpg"},
        False,
    ),
    ("equals-ignore-case", {"a": [{"equals-ignore-case": "alice"}]}, {"a": "ALICE"}, True),
    ("equals-ignore-case other", {"a": [{"equals-ignore-case": "alice"}]}, {"a": "alicia"}, False),
    ("anything-but string", {"a": [{"anything-but": "init"}]}, {"a": "running"}, True),
    ("anything-but string same", {"a": [{"anything-but": "init"}]}, {"a": "init"}, False),
    ("anything-but list", {"a": [{"anything-but": ["stopped", "overloaded"]}]}, {"a": "running"}, True),
    (
        "anything-but list member",
        {"a": [{"anything-but": ["stopped", "overloaded"]}]},
        {"a": "stopped"},
        False,
    ),
    ("anything-but number", {"a": [{"anything-but": 100}]}, {"a": 101}, True),
    ("anything-but number same", {"a": [{"anything-but": [100, 200]}]}, {"a": 200.0}, False),
    ("anything-but missing key", {"a": [{"anything-but": "init"}]}, {}, False),
    ("anything-but null value", {"a": [{"anything-but": "init"}]}, {"a": None}, True),
    ("anything-but array", {"a": [{"anything-but": "init"}]}, {"a": ["init", "done"]}, True),
    ("anything-but prefix", {"a": [{"anything-but": {"prefix": "us-"}}]}, {"a": "eu-west-1"}, True),
    ("anything-but prefix same", {"a": [{"anything-but": {"prefix": "us-"}}]}, {"a": "us-east-1"}, False),
    ("anything-but suffix", {"a": [{"anything-but": {"suffix": ".png"}}]}, {"a": "a.jpg"}, True),
    ("anything-but suffix same", {"a": [{"anything-but": {"suffix": ".png"}}]}, {"a": "a.png"}, False),
    (
        "anything-but ignore case",
        {"a": [{"anything-but": {"equals-ignore-case": ["x", "y"]}}]},
        {"a": "z"},
        True,
    ),
    (
        "anything-but ignore case same",
        {"a": [{"anything-but": {"equals-ignore-case": "x"}}]},
        {"a": "X"},
        False,
    ),
    ("anything-but wildcard", {"a": [{"anything-but": {"wildcard": "*/lib/*"}}]}, {"a": "/usr/bin/x"}, True),
    (
        "anything-but wildcard same",
        {"a": [{"anything-but": {"wildcard": "*/lib/*"}}]},
        {"a": "/usr/lib/x"},
        False,
    ),
    ("numeric >", {"a": [{"numeric": [">", 100]}]}, {"a": 101}, True),
    ("numeric > boundary", {"a": [{"numeric": [">", 100]}]}, {"a": 100}, False),
    ("numeric >=", {"a": [{"numeric": [">=", 100]}]}, {"a": 100}, True),
    ("numeric <", {"a": [{"numeric": ["<", 100]}]}, {"a": 99.5}, True),
    ("numeric < boundary", {"a": [{"numeric": ["<", 100]}]}, {"a": 100}, False),
    ("numeric <=", {"a": [{"numeric": ["<=", 100]}]}, {"a": 100}, True),
    ("numeric =", {"a": [{"numeric": ["=", 301.8]}]}, {"a": 301.8}, True),
    ("numeric = other", {"a": [{"numeric": ["=", 301.8]}]}, {"a": 301.9}, False),
    ("numeric range", {"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 5}, True),
    ("numeric range outside", {"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 0}, False),
    ("numeric on string", {"a": [{"numeric": [">", 1]}]}, {"a": "5"}, False),
    ("numeric on bool", {"a": [{"numeric": [">", 0]}]}, {"a": True}, False),
    ("exists true", {"a": [{"exists": True}]}, {"a": "x"}, True),
    ("exists true null value", {"a": [{"exists": True}]}, {"a": None}, True),
    ("exists true missing", {"a": [{"exists": True}]}, {"b": "x"}, False),
    ("exists true on object", {"a": [{"exists": True}]}, {"a": {"b": 1}}, False),
    ("exists true on empty array", {"a": [{"exists": True}]}, {"a": []}, False),
    ("exists false missing", {"a": [{"exists": False}]}, {"b": "x"}, True),
    ("exists false present", {"a": [{"exists": False}]}, {"a": "x"}, False),
    ("exists false on object", {"a": [{"exists": False}]}, {"a": {"b": 1}}, True),
    ("exists false nested missing parent", {"a": {"b": [{"exists": False}]}}, {"c": 1}, True),
    ("wildcard", {"a": [{"wildcard": "dir/*.png"}]}, {"a": "dir/cat.png"}, True),
    ("wildcard zero chars", {"a": [{"wildcard": "dir/*.png"}]}, {"a": "dir/.png"}, True),
    ("wildcard other", {"a": [{"wildcard": "dir/*.png"}]}, {"a": "dir/cat.jpg"}, False),
    ("wildcard whole value", {"a": [{"wildcard": "a*"}]}, {"a": "ba"}, False),
    ("wildcard escaped star", {"a": [{"wildcard": "a\\*b"}]}, {"a": "a*b"}, True),
    ("wildcard escaped star literal", {"a": [{"wildcard": "a\\*b"}]}, {"a": "axb"}, False),
    ("wildcard regex chars literal", {"a": [{"wildcard": "a.c*"}]}, {"a": "abcd"}, False),
    ("cidr", {"a": [{"cidr": "10.0.0.0/24"}]}, {"a": "10.0.0.33"}, True),
    ("cidr outside", {"a": [{"cidr": "10.0.0.0/24"}]}, {"a": "10.0.1.33"}, False),
    ("cidr ipv6", {"a": [{"cidr": "2001:db8::/32"}]}, {"a": "2001:db8::1"}, True),
    ("cidr not an ip", {"a": [{"cidr": "10.0.0.0/24"}]}, {"a": "host"}, False),
    ("cidr other family", {"a": [{"cidr": "10.0.0.0/8"}]}, {"a": "::ffff:10.0.0.1"}, False),
    ("or top level", {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"b": "y"}, True),
    ("or top level none", {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"a": "y", "b": "x"}, False),
    ("or with and", {"s": ["k"], "$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"s": "j", "a": "x"}, False),
    (
        "or nested",
        {"d": {"$or": [{"a": [{"prefix": "p"}]}, {"b": [{"numeric": [">", 1]}]}]}},
        {"d": {"b": 2}},
        True,
    ),
    (
        "or nested none",
        {"d": {"$or": [{"a": [{"prefix": "p"}]}, {"b": [{"numeric": [">", 1]}]}]}},
        {"d": {"b": 1}},
        False,
    ),
    ("or inside or", {"$or": [{"a": ["x"]}, {"$or": [{"b": ["y"]}, {"c": ["z"]}]}]}, {"c": "z"}, True),
    ("mixed entries", {"a": ["x", {"prefix": "p"}, {"numeric": [">", 5]}]}, {"a": 6}, True),
    ("mixed entries none", {"a": ["x", {"prefix": "p"}, {"numeric": [">", 5]}]}, {"a": "q"}, False),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [c[1:] for c in OPERATOR_CASES],
    ids=[c[0] for c in OPERATOR_CASES],
)
def test_operator(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert matches(_compile(pattern), event) is expected


# --- SQS views --------------------------------------------------------------------------------------------

SQS_VIEW_CASES: list[tuple[str, dict[str, Any], str, bool]] = [
    ("plain-string filter, plain body", {"body": ["plain-string"]}, "plain-string", True),
    ("plain-string filter, other body", {"body": ["plain-string"]}, "plain-string-not-matching", False),
    (
        "plain-string filter, json body",
        {"body": ["plain-string"]},
        '{"valid-json-key": "plain-string"}',
        False,
    ),
    ("prefix on raw body", {"body": [{"prefix": "plain"}]}, "plain-string", True),
    ("json filter, plain body", {"body": {"k": [{"exists": False}]}}, "plain-string", False),
    ("json filter, json array body", {"body": {"k": ["v"]}}, '[{"k": "w"}, {"k": "v"}]', True),
    ("json filter, broken json body", {"body": {"k": ["v"]}}, '{"k": "v"', False),
    ("metadata only, plain body", {"attributes": {"ApproximateReceiveCount": ["1"]}}, "plain-string", True),
    ("metadata only, other value", {"attributes": {"ApproximateReceiveCount": ["2"]}}, "plain-string", False),
    ("eventSource is added after filtering", {"eventSource": ["aws:sqs"]}, "x", False),
    (
        "body and metadata",
        {"body": {"k": ["v"]}, "messageAttributes": {"t": [{"exists": False}]}},
        '{"k":"v"}',
        True,
    ),
]


@pytest.mark.parametrize(
    ("pattern", "body", "expected"), [c[1:] for c in SQS_VIEW_CASES], ids=[c[0] for c in SQS_VIEW_CASES]
)
def test_sqs_record_view(pattern: dict[str, Any], body: str, expected: bool) -> None:
    assert sqs_record_matches(_compile_all(pattern), _sqs_record(body)) is expected


def test_sqs_no_patterns_keeps_everything() -> None:
    assert sqs_record_matches([], _sqs_record("anything"))


def test_sqs_filters_are_ored() -> None:
    patterns = _compile_all({"body": {"k": ["a"]}}, {"body": ["plain"]})
    bodies = ['{"k": "a"}', "plain", '{"k": "b"}', "other"]
    assert [b for b in bodies if sqs_record_matches(patterns, _sqs_record(b))] == ['{"k": "a"}', "plain"]


# --- Kinesis views ----------------------------------------------------------------------------------------

KINESIS_VIEW_CASES: list[tuple[str, dict[str, Any], bytes, bool]] = [
    ("data field", {"data": {"order": {"type": ["buy"]}}}, b'{"record": 1, "order": {"type": "buy"}}', True),
    ("data field other", {"data": {"order": {"type": ["buy"]}}}, b'{"order": {"type": "sell"}}', False),
    ("data plain string", {"data": {"type": ["buy"]}}, b"buy", False),
    ("data plain string exists false", {"data": {"type": [{"exists": False}]}}, b"buy", False),
    ("data not utf-8", {"data": {"type": ["buy"]}}, b"\xff\xfe", False),
    ("partitionKey, plain data", {"partitionKey": ["pk-1"]}, b"not json", True),
    ("partitionKey other", {"partitionKey": ["pk-2"]}, b"{}", False),
    (
        "metadata and data",
        {"partitionKey": [{"prefix": "pk"}], "data": {"n": [{"numeric": [">", 1]}]}},
        b'{"n": 2}',
        True,
    ),
    ("top-level record keys are not seen", {"eventSource": ["aws:kinesis"]}, b"{}", False),
]


@pytest.mark.parametrize(
    ("pattern", "data", "expected"),
    [c[1:] for c in KINESIS_VIEW_CASES],
    ids=[c[0] for c in KINESIS_VIEW_CASES],
)
def test_kinesis_record_view(pattern: dict[str, Any], data: bytes, expected: bool) -> None:
    assert kinesis_record_matches(_compile_all(pattern), _kinesis_record(data)) is expected


def test_kinesis_accepts_the_inner_kinesis_object() -> None:
    inner = _kinesis_record(b'{"a": "x"}')["kinesis"]
    assert kinesis_record_matches(_compile_all({"data": {"a": ["x"]}}), inner)


def test_kinesis_no_patterns_keeps_everything() -> None:
    assert kinesis_record_matches([], _kinesis_record(b"not json"))


def test_kinesis_filters_are_ored() -> None:
    patterns = _compile_all({"data": {"t": ["a"]}}, {"partitionKey": ["special"]})
    records = [
        _kinesis_record(b'{"t": "a"}'),
        _kinesis_record(b"plain", partition_key="special"),
        _kinesis_record(b'{"t": "b"}'),
    ]
    assert [kinesis_record_matches(patterns, r) for r in records] == [True, True, False]
