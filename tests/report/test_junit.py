"""JUnit XML as CI reads it: valid against the schema, one testcase per expectation, failures that explain."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_samples import hostile, no_delivery, recorded, synthetic

from emulator.report import render_junit, write_junit

SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("junit.xsd"))


def junit(results: list[dict[str, Any]]) -> ET.Element:
    xml = render_junit(results)
    SCHEMA.validate(xml)
    return ET.fromstring(xml)


def test_one_suite_per_scenario_and_one_case_per_expectation() -> None:
    root = junit([recorded("orders-failing"), recorded("smoke-passing")])

    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "1", "0")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["orders-powertools", "clickstream-smoke"]
    orders = suites[0]
    assert {k: orders.get(k) for k in ("tests", "failures", "errors", "skipped", "time")} == {
        "tests": "4", "failures": "1", "errors": "0", "skipped": "0", "time": "6.462"
    }
    cases = orders.findall("testcase")
    assert [c.get("name") for c in cases] == ["delivered", "dead_letters[orders-dlq]", "latency.p99", "lost"]
    assert {c.get("classname") for c in cases} == {"orders-powertools"}
    assert [c.find("failure") is not None for c in cases] == [False, False, True, False]


def test_a_failed_expectation_says_expected_actual_detail_and_how_to_replay() -> None:
    case = junit([recorded("orders-failing")]).find("testsuite/testcase[@name='latency.p99']")
    assert case is not None

    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "expected <= 5000 ms, got 6131.711 (+1131.7 ms against the budget)"
    assert failure.get("type") == "pipemu.ExpectationFailed"
    assert failure.text is not None
    assert "expected:    <= 5000 ms\nactual:      6131.711\n" in failure.text
    assert "replay with: pipemu replay scenarios/orders-powertools.yaml --seed 7" in failure.text


def test_near_misses_are_in_the_failure_body() -> None:
    root = junit([no_delivery()])

    failure = root.find("testsuite/testcase[@name='lost']/failure")
    assert failure is not None and failure.text is not None
    assert 'near misses:\n[\n  {\n    "event": "e-1",' in failure.text


def test_properties_and_system_out_carry_seed_backend_and_replay_command() -> None:
    suite = junit([recorded("orders-failing")]).find("testsuite")
    assert suite is not None

    props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert props["seed"] == "7"
    assert props["backend"] == "embedded"
    assert props["replay_command"] == "pipemu replay scenarios/orders-powertools.yaml --seed 7"
    out = suite.find("system-out")
    assert out is not None and out.text is not None
    assert "replay with: pipemu replay scenarios/orders-powertools.yaml --seed 7" in out.text


def test_hostile_strings_and_control_characters_stay_valid_xml() -> None:
    root = junit([hostile()])

    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "<img src=x onerror=alert(1)>"
    failure = suite.find("testcase[@name='latency.p99']/failure")
    assert failure is not None and failure.text is not None
    assert "<script>alert('near miss')</script>" in failure.text
    assert '"ctl": "\\u0000\\u001b[0m"' in failure.text
    assert "]]>" in failure.text


def test_control_characters_in_plain_strings_are_made_visible() -> None:
    run = recorded("orders-failing")
    run["expectations"][2]["detail"] = "handler said \x1b[31mno\x1b[0m\x00"
    run["scenario"] = "lone \ud800 surrogate"

    failure = junit([run]).find("testsuite/testcase[@name='latency.p99']/failure")

    assert failure is not None
    assert failure.get("message", "").endswith("(handler said \\x1b[31mno\\x1b[0m\\x00)")
    assert junit([run]).find("testsuite[@name='lone \\ud800 surrogate']") is not None


@pytest.mark.parametrize(
    "results",
    [[], [{}], [no_delivery()], [synthetic()], [synthetic(failing=False), recorded("smoke-passing")]],
    ids=["no-runs", "empty-run", "nothing-delivered", "synthetic", "all-passing"],
)
def test_always_schema_valid(results: list[dict[str, Any]]) -> None:
    root = junit(results)

    assert int(root.get("tests", "-1")) == len(root.findall("testsuite/testcase"))
    assert int(root.get("failures", "-1")) == len(root.findall("testsuite/testcase/failure"))


def test_write_junit(tmp_path: Path) -> None:
    path = write_junit([recorded("smoke-passing")], tmp_path / "out" / "junit.xml")

    assert path.read_text(encoding="utf-8").startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    SCHEMA.validate(str(path))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(["scenario", "seed", "backend", "duration_s", "expectations", "replay", "replay_command",
                         "passed", "timed_out", "expectations.name", "expectations.expected", "expectations.detail",
                         "expectations.near_misses", "expectations.passed"]),
    value=json_values,
)
def test_malformed_results_still_give_schema_valid_xml(key: str, value: Any) -> None:
    run = recorded("orders-failing")
    if key.startswith("expectations."):
        run["expectations"][2][key.split(".", 1)[1]] = value
    else:
        run[key] = value

    junit([run])
