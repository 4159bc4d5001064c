"""FilterCriteria validation: every pattern Lambda refuses is refused by the check meant for it.

Lambda answers any refused pattern with one message ("Invalid filter pattern definition.", covered by
test_filters.py against the recorded snapshots); ``FilterPatternError.reason`` says which check refused it, in
Event Ruler's words where Ruler has them (https://github.com/aws/event-ruler, ``JsonRuleCompiler``). Asserting
the reason pins each case to its own check: without it, a check that stopped working would go unnoticed
whenever a later one happened to refuse the same pattern.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.esm.core.filter_patterns import MAX_PATTERN_DEPTH
from emulator.esm.core.filters import FilterPatternError, parse_filter_criteria

AWS_MESSAGE = "Invalid filter pattern definition."

# (case id, pattern as sent, the reason)
REFUSED: list[tuple[str, str, str]] = [
    ("not json", "{body: [1]}",
     "Filter is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("NaN is not json", '{"a": [NaN]}', "Filter is not valid JSON: NaN is not a JSON value"),
    ("Infinity is not json", '{"a": [-Infinity]}', "Filter is not valid JSON: -Infinity is not a JSON value"),
    ("json null", "null", "Filter is not an object"),
    ("json array", '["a"]', "Filter is not an object"),
    ("json string", '"a"', "Filter is not an object"),
    ("empty object", "{}", "Empty objects are not allowed"),
    ("nested empty object", '{"body": {}}', "Empty objects are not allowed"),
    ("leaf a string", '{"eventSource": "aws:sqs"}', '"eventSource" must be an object or an array'),
    ("leaf a number", '{"a": {"b": 1}}', '"b" must be an object or an array'),
    ("leaf null", '{"a": null}', '"a" must be an object or an array'),
    ("empty list", '{"a": []}', "Empty arrays are not allowed"),
    ("list in list", '{"a": [["x"]]}', "Match value must be String, number, true, false, or null"),
    ("two operators", '{"a": [{"prefix": "x", "suffix": "y"}]}', "Only one key allowed in match expression"),
    ("empty expression", '{"a": [{}]}', "Only one key allowed in match expression"),
    ("unknown operator", '{"a": [{"contains": "x"}]}', "Unrecognized match type contains"),
    ("prefix number", '{"a": [{"prefix": 1}]}', "prefix match pattern must be a string"),
    ("prefix other inner", '{"a": [{"prefix": {"anything-but": "x"}}]}', "prefix match pattern must be a string"),
    ("prefix two inner keys", '{"a": [{"prefix": {"equals-ignore-case": "x", "b": "y"}}]}',
     "prefix match pattern must be a string"),
    ("prefix ignore-case number", '{"a": [{"prefix": {"equals-ignore-case": 1}}]}',
     "prefix match pattern must be a string"),
    ("suffix list", '{"a": [{"suffix": ["x"]}]}', "suffix match pattern must be a string"),
    ("suffix ignore-case null", '{"a": [{"suffix": {"equals-ignore-case": null}}]}',
     "suffix match pattern must be a string"),
    ("equals-ignore-case number", '{"a": [{"equals-ignore-case": 1}]}',
     "equals-ignore-case match pattern must be a string"),
    ("wildcard number", '{"a": [{"wildcard": 1}]}', "wildcard match pattern must be a string"),
    ("exists string", '{"a": [{"exists": "true"}]}', "exists match pattern must be either true or false."),
    ("exists number", '{"a": [{"exists": 1}]}', "exists match pattern must be either true or false."),
    ("numeric not a list", '{"a": [{"numeric": 5}]}', "Value of numeric must be an array."),
    ("numeric empty", '{"a": [{"numeric": []}]}', "Invalid member in numeric match: ]"),
    ("numeric number first", '{"a": [{"numeric": [5, ">"]}]}', "Invalid member in numeric match: 5"),
    ("numeric unknown operator", '{"a": [{"numeric": ["!=", 5]}]}', "Unrecognized numeric range operator: !="),
    ("numeric = string", '{"a": [{"numeric": ["=", "5"]}]}', "Value of equals must be numeric"),
    ("numeric = true", '{"a": [{"numeric": ["=", true]}]}', "Value of equals must be numeric"),
    ("numeric > string", '{"a": [{"numeric": [">", "5"]}]}', "Value of > must be numeric"),
    ("numeric >= missing", '{"a": [{"numeric": [">="]}]}', "Value of >= must be numeric"),
    ("numeric < null", '{"a": [{"numeric": ["<", null]}]}', "Value of < must be numeric"),
    ("numeric = then a number", '{"a": [{"numeric": ["=", 5, 6]}]}', "Too many elements in numeric expression"),
    ("numeric = then range", '{"a": [{"numeric": ["=", 5, "<", 6]}]}', "Too many elements in numeric expression"),
    ("numeric < then range", '{"a": [{"numeric": ["<", 5, "<", 6]}]}', "Too many elements in numeric expression"),
    ("numeric <= then range", '{"a": [{"numeric": ["<=", 5, ">", 1]}]}', "Too many elements in numeric expression"),
    ("numeric range number", '{"a": [{"numeric": [">", 1, 5]}]}', "Bad value in numeric range: 5"),
    ("numeric range two lower", '{"a": [{"numeric": [">", 1, ">", 5]}]}', "Bad numeric range operator: >"),
    ("numeric range =", '{"a": [{"numeric": [">=", 1, "=", 5]}]}', "Bad numeric range operator: ="),
    ("numeric range top missing", '{"a": [{"numeric": [">", 1, "<"]}]}', "Value of < must be numeric"),
    ("numeric range top string", '{"a": [{"numeric": [">", 1, "<=", "5"]}]}', "Value of <= must be numeric"),
    ("numeric range and an operator", '{"a": [{"numeric": [">", 1, "<", 5, "<"]}]}',
     "Too many terms in numeric range expression"),
    ("numeric range too long", '{"a": [{"numeric": [">", 1, "<", 5, "<", 6]}]}',
     "Too many terms in numeric range expression"),
    ("numeric range inverted", '{"a": [{"numeric": [">", 5, "<", 1]}]}', "Bottom must be less than top"),
    ("numeric range empty", '{"a": [{"numeric": [">=", 5, "<=", 5]}]}', "Bottom must be less than top"),
    ("cidr number", '{"a": [{"cidr": 10}]}', "prefix match pattern must be a string"),
    ("cidr no mask", '{"a": [{"cidr": "10.0.0.1"}]}', "Malformed CIDR, one '/' required"),
    ("cidr two masks", '{"a": [{"cidr": "10.0.0.0/8/8"}]}', "Malformed CIDR, one '/' required"),
    ("cidr bad address", '{"a": [{"cidr": "10.0.0.300/24"}]}', "Nonstandard IP address: 10.0.0.300"),
    ("cidr bad mask", '{"a": [{"cidr": "10.0.0.0/x"}]}', "Nonstandard IP address: 10.0.0.0"),
    ("anything-but true", '{"a": [{"anything-but": true}]}',
     "Value of anything-but must be an array or single string/number value."),
    ("anything-but null", '{"a": [{"anything-but": null}]}',
     "Value of anything-but must be an array or single string/number value."),
    ("anything-but empty list", '{"a": [{"anything-but": []}]}',
     "Inside anything but list, start|null|boolean is not supported."),
    ("anything-but null in list", '{"a": [{"anything-but": ["x", null]}]}',
     "Inside anything but list, start|null|boolean is not supported."),
    ("anything-but bool in list", '{"a": [{"anything-but": [1, true]}]}',
     "Inside anything but list, start|null|boolean is not supported."),
    ("anything-but mixed list", '{"a": [{"anything-but": ["x", 1]}]}',
     "Inside anything but list, either all values are number or string, mixed type is not supported"),
    ("anything-but two inner keys", '{"a": [{"anything-but": {"prefix": "x", "suffix": "y"}}]}',
     "Only one key allowed in match expression"),
    ("anything-but empty inner", '{"a": [{"anything-but": {}}]}', "Only one key allowed in match expression"),
    ("anything-but prefix number", '{"a": [{"anything-but": {"prefix": 1}}]}',
     "prefix/suffix match pattern must be a string"),
    ("anything-but suffix list", '{"a": [{"anything-but": {"suffix": ["x"]}}]}',
     "prefix/suffix match pattern must be a string"),
    ("anything-but empty prefix", '{"a": [{"anything-but": {"prefix": ""}}]}', "Null prefix/suffix not allowed"),
    ("anything-but empty suffix", '{"a": [{"anything-but": {"suffix": ""}}]}', "Null prefix/suffix not allowed"),
    ("anything-but numeric", '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
     "Unsupported anything-but pattern: numeric"),
    ("anything-but ignore-case number", '{"a": [{"anything-but": {"equals-ignore-case": 1}}]}',
     "Inside anything-but/equals-ignore-case list, number|start|null|boolean not supported."),
    ("anything-but ignore-case empty list", '{"a": [{"anything-but": {"equals-ignore-case": []}}]}',
     "Inside anything-but/equals-ignore-case list, number|start|null|boolean not supported."),
    ("anything-but ignore-case number in list", '{"a": [{"anything-but": {"equals-ignore-case": ["x", 1]}}]}',
     "Inside anything-but/equals-ignore-case list, number|start|null|boolean not supported."),
    ("anything-but wildcard null", '{"a": [{"anything-but": {"wildcard": null}}]}',
     "Inside anything-but/wildcard list, number|start|null|boolean not supported."),
    ("anything-but wildcard stars", '{"a": [{"anything-but": {"wildcard": ["x", "a**"]}}]}',
     "Consecutive wildcard characters at pos 2"),
    ("wildcard consecutive stars", '{"a": [{"wildcard": "ab**c"}]}', "Consecutive wildcard characters at pos 3"),
    ("wildcard leading stars", '{"a": [{"wildcard": "**"}]}', "Consecutive wildcard characters at pos 1"),
    ("wildcard bad escape", '{"a": [{"wildcard": "ab\\\\nc"}]}', "Invalid escape character at pos 3"),
    ("wildcard trailing backslash", '{"a": [{"wildcard": "ab\\\\"}]}', "Invalid escape character at pos 3"),
    ("or not a list", '{"$or": {"a": ["x"]}}', "It must be an Array followed with $or."),
    ("or one branch", '{"$or": [{"a": ["x"]}]}', "There must have at least 2 Objects in $or relationship."),
    ("or no branch", '{"$or": []}', "There must have at least 2 Objects in $or relationship."),
    ("or branch a list", '{"$or": [{"a": ["x"]}, ["b"]]}', "Only JSON object is allowed in array of $or relationship."),
    ("or empty branch", '{"$or": [{"a": ["x"]}, {}]}', "Empty objects are not allowed"),
    ("or reserved field", '{"$or": [{"prefix": ["x"]}, {"b": ["y"]}]}',
     "prefix is Ruler reserved fieldName which cannot be used inside $or."),
    ("or reserved field nested", '{"$or": [{"a": {"numeric": ["x"]}}, {"b": ["y"]}]}',
     "numeric is Ruler reserved fieldName which cannot be used inside $or."),
    ("or reserved field in inner or", '{"$or": [{"a": ["x"]}, {"$or": [{"b": ["y"]}, {"exists": ["z"]}]}]}',
     "exists is Ruler reserved fieldName which cannot be used inside $or."),
    ("or branch error", '{"$or": [{"a": ["x"]}, {"b": [{"prefix": 1}]}]}', "prefix match pattern must be a string"),
    ("nested or error", '{"d": {"$or": [{"a": ["x"]}, {"b": []}]}}', "Empty arrays are not allowed"),
]


@pytest.mark.parametrize(("pattern", "reason"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_pattern_names_the_check_and_the_filter(pattern: str, reason: str) -> None:
    criteria = {"Filters": [{"Pattern": '{"ok": ["x"]}'}, {"Pattern": '{"ok": ["y"]}'}, {"Pattern": pattern}]}

    with pytest.raises(FilterPatternError) as caught:
        parse_filter_criteria(criteria)

    error = caught.value
    assert (str(error), error.code) == (AWS_MESSAGE, "InvalidParameterValueException")
    assert (error.reason, error.index, error.pattern) == (reason, 3, pattern)


def _nested(depth: int, innermost: str = '{"b": ["x"]}') -> str:
    """A pattern whose innermost object is ``depth`` objects deep."""
    return '{"a": ' * (depth - 1) + innermost + "}" * (depth - 1)


def _or_of_objects(inner: str) -> str:
    return '{"$or": [' + inner + ', {"c": ["y"]}]}'


@pytest.mark.parametrize(
    ("pattern", "refused"),
    [
        (_nested(MAX_PATTERN_DEPTH), False),
        (_nested(MAX_PATTERN_DEPTH + 1), True),
        # "$or" branches are objects one level below the object holding the "$or"
        (_nested(MAX_PATTERN_DEPTH - 1, _or_of_objects('{"b": ["x"]}')), False),
        (_nested(MAX_PATTERN_DEPTH - 1, _or_of_objects('{"b": {"d": ["x"]}}')), True),
    ],
    ids=["at the cap", "one past the cap", "or branches at the cap", "inside an or branch, one past the cap"],
)
def test_patterns_nested_past_the_cap_are_refused(pattern: str, refused: bool) -> None:
    if not refused:
        assert len(parse_filter_criteria({"Filters": [{"Pattern": pattern}]})) == 1
        return
    with pytest.raises(FilterPatternError) as caught:
        parse_filter_criteria({"Filters": [{"Pattern": pattern}]})

    assert caught.value.reason == f"Filter nests objects more than {MAX_PATTERN_DEPTH} levels deep"


def test_a_pattern_nested_past_the_parser_depth_is_refused_not_a_crash() -> None:
    deep = '{"a": ' * 5000 + '["x"]' + "}" * 5000

    with pytest.raises(FilterPatternError) as caught:
        parse_filter_criteria({"Filters": [{"Pattern": deep}]})

    # Python 3.11's parser gives up first; 3.13's parses it and the depth cap refuses it
    assert caught.value.reason in {
        "Filter is not valid JSON: maximum recursion depth exceeded while decoding a JSON object from a unicode string",
        f"Filter nests objects more than {MAX_PATTERN_DEPTH} levels deep",
    }


@pytest.mark.parametrize(
    ("criteria", "reason", "index", "pattern"),
    [
        ("x", "FilterCriteria must be an object", None, "x"),
        (["x"], "FilterCriteria must be an object", None, ["x"]),
        ({"Filters": "x"}, "FilterCriteria.Filters must be a list", None, "x"),
        ({"Filters": {"Pattern": "{}"}}, "FilterCriteria.Filters must be a list", None, {"Pattern": "{}"}),
        ({"Filters": [{"Pattern": '{"a": ["x"]}'}, {}]}, "Pattern must be a JSON string", 2, None),
        ({"Filters": [{"Pattern": None}]}, "Pattern must be a JSON string", 1, None),
        ({"Filters": [{"Pattern": {"a": ["x"]}}]}, "Pattern must be a JSON string", 1, {"a": ["x"]}),
        ({"Filters": ['{"a": ["x"]}']}, "Pattern must be a JSON string", 1, None),
    ],
    ids=["criteria a string", "criteria a list", "filters a string", "filters an object", "pattern missing",
         "pattern null", "pattern an object", "filter not an object"],
)
def test_malformed_criteria_says_what_and_where(criteria: Any, reason: str, index: int | None,
                                                 pattern: object) -> None:
    with pytest.raises(FilterPatternError) as caught:
        parse_filter_criteria(criteria)

    error = caught.value
    assert (str(error), error.reason, error.index, error.pattern) == (AWS_MESSAGE, reason, index, pattern)
    assert error.args == (AWS_MESSAGE,)


def test_the_error_repr_shows_reason_filter_and_pattern_for_logs() -> None:
    with pytest.raises(FilterPatternError) as caught:
        parse_filter_criteria({"Filters": [{"Pattern": '{"a": []}'}]})

    assert repr(caught.value) == (
        "FilterPatternError(reason='Empty arrays are not allowed', index=1, pattern='{\"a\": []}')"
    )


def test_filters_may_be_a_tuple_and_keep_their_order() -> None:
    sources = ('{"a": ["x"]}', '{"b": [{"prefix": "y"}]}')

    compiled = parse_filter_criteria({"Filters": tuple({"Pattern": s} for s in sources)})

    assert [p.source for p in compiled] == list(sources)


# Patterns Lambda accepts: the edges of each check above, on the accepting side.
ACCEPTED: list[dict[str, Any]] = [
    {"prefix": ["x"], "numeric": [1], "exists": [True]},  # operator names are field names outside $or
    {"$or": [{"a": {"b": ["x"]}}, {"c": [{"exists": False}]}]},
    {"a": [{"numeric": ["=", 0]}, {"numeric": ["<", -1.5]}, {"numeric": [">=", 3, "<", 3.0001]}]},
    {"a": [{"numeric": [">", 1, "<=", 2]}, {"numeric": [">=", 5]}]},
    {"a": [{"anything-but": ["x"]}, {"anything-but": [1, 2.5]}, {"anything-but": 7}]},
    {"a": [{"anything-but": {"equals-ignore-case": ["X", "y"]}}, {"anything-but": {"wildcard": "*.x"}}]},
    {"a": [{"prefix": ""}, {"suffix": ""}, {"wildcard": ""}, {"equals-ignore-case": ""}]},
    {"a": [{"cidr": "2001:db8::/32"}, {"cidr": "10.1.2.3/8"}, None, True, False, 0, ""]},
    {"a": [{"wildcard": "a\\\\*b\\\\\\\\c*"}]},
]


@pytest.mark.parametrize("pattern", ACCEPTED, ids=range(len(ACCEPTED)))
def test_accepted_pattern_compiles(pattern: dict[str, Any]) -> None:
    (compiled,) = parse_filter_criteria({"Filters": [{"Pattern": json.dumps(pattern)}]})
    assert json.loads(compiled.source) == pattern
