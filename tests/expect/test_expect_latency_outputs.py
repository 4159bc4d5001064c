"""Latency percentiles and the per-record output checks, on values worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.expect.latency import summarize
from emulator.expect.outputs import _MISSING, contains, lookup, output_checker
from emulator.spec.expectations import OutputsSpec


# -- latency ------------------------------------------------------------------------------------------------
def test_percentiles_of_a_hundred_latencies() -> None:
    # 10 µs steps stay within the histogram's exact range, so the figures are exact
    latencies = [i / 100 for i in range(100, 0, -1)]
    assert summarize(iter(latencies)) == {"p50": 0.5, "p95": 0.95, "p99": 0.99, "max": 1.0, "count": 100}


def test_percentiles_have_three_significant_digits() -> None:
    # beyond 2048 µs the histogram groups values: 50 ms reads as the top of its 32 µs bucket
    assert summarize([50.0]) == {"p50": 50.015, "p95": 50.015, "p99": 50.015, "max": 50.015, "count": 1}


def test_no_latency_gives_no_percentile() -> None:
    assert summarize([]) == {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}


def test_latencies_under_a_microsecond_count_as_one() -> None:
    assert summarize([0.0, 0.0004]) == {"p50": 0.001, "p95": 0.001, "p99": 0.001, "max": 0.001, "count": 2}


def test_an_hour_of_latency_is_still_recorded() -> None:
    result = summarize([3_600_000.0])
    assert result["count"] == 1 and result["max"] == pytest.approx(3_600_000, rel=1e-3)


# -- contains -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("record", "subset", "expected"),
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"b": 1}, {"a": 1}, False),
        ({"a": {"x": 1, "y": 2}}, {"a": {"x": 1}}, True),
        ({"a": {"y": 2}}, {"a": {"x": 1}}, False),
        ({"a": 1}, {}, True),
        ([1], {"a": 1}, False),
        ("a", {"a": 1}, False),
        ([1, 2, 3], [1, 2], True),
        ([1, 2], [1, 2, 3], False),
        ([2, 1], [1, 2], False),
        ([{"a": 1, "b": 2}], [{"a": 1}], True),
        ({"a": [1]}, {"a": [1]}, True),
        ({"0": 1}, [1], False),
        ("web", "web", True),
        ("web", "ios", False),
        (None, None, True),
        (0, None, False),
    ],
)
def test_contains_is_a_json_subset(record: Any, subset: Any, expected: bool) -> None:
    assert contains(record, subset) is expected


# -- lookup ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a", {"b": [10, {"c": None}]}),
        ("a.b.0", 10),
        ("a.b.1.c", None),  # present, even though null
        ("a.b.2", _MISSING),
        ("a.b.x", _MISSING),
        ("a.b.-1", _MISSING),
        ("a.z", _MISSING),
        ("a.b.0.c", _MISSING),
        ("n.0", _MISSING),
    ],
)
def test_lookup_follows_dotted_paths_through_objects_and_lists(path: str, expected: Any) -> None:
    record = {"a": {"b": [10, {"c": None}]}, "n": 7}
    assert lookup(record, path) == expected  # _MISSING compares by identity


def test_lookup_reads_an_object_key_that_looks_like_a_number() -> None:
    assert lookup({"a": {"0": "zero"}}, "a.0") == "zero"


# -- output_checker -----------------------------------------------------------------------------------------------
def test_no_outputs_expectation_means_no_checker() -> None:
    assert output_checker(None) is None


def test_the_checker_says_what_a_record_lacks() -> None:
    check = output_checker(OutputsSpec(contains={"source": "web"}, fields=["domain", "geo.country"]))
    assert check is not None
    assert check({"source": "web", "domain": "x", "geo": {"country": "FR"}}) is None
    assert check({"source": "ios", "domain": "x", "geo": {"country": "FR"}}) == "does not contain {'source': 'web'}"
    assert check({"source": "web", "geo": {"country": "FR"}}) == "has no 'domain'"
    assert check({"source": "web", "domain": "x", "geo": {}}) == "has no 'geo.country'"
    assert check({}) == "does not contain {'source': 'web'}"  # the subset is checked first


def test_a_checker_with_only_fields_or_only_a_subset() -> None:
    fields_only = output_checker(OutputsSpec(fields=["a"]))
    subset_only = output_checker(OutputsSpec(contains={"a": 1}))
    assert fields_only is not None and subset_only is not None
    assert fields_only({"a": 0}) is None and fields_only({"b": 0}) == "has no 'a'"
    assert subset_only({"a": 1}) is None and subset_only({"a": 2}) == "does not contain {'a': 1}"
    anything = output_checker(OutputsSpec())
    assert anything is not None and anything({"x": 1}) is None
