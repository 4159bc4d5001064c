"""expect.executions without a backend: history facts, counts, output matching, durations, load-time checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.errors import ConfigError
from emulator.spec.scenario import ExecutionsSpec, load_scenario
from emulator.stepfunctions.definition import state_names
from emulator.stepfunctions.expect import check_executions, subset_difference, value_at
from emulator.stepfunctions.observe import ExecutionRecord, StateVisit, state_visits

ROOT = Path(__file__).resolve().parents[2]


def ev(kind: str, **details: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind}
    if kind.endswith("StateEntered"):
        event["stateEnteredEventDetails"] = details
    elif kind.endswith("StateExited"):
        event["stateExitedEventDetails"] = details
    elif details:
        event[kind[0].lower() + kind[1:] + "EventDetails"] = details
    return event


def task(name: str, errors: list[str], *, caught: bool = False, succeed: bool = True) -> list[dict[str, Any]]:
    """A Task visit: one failed attempt per error, then success (or the last error caught)."""
    events = [ev("TaskStateEntered", name=name)]
    for error in errors:
        events += [ev("LambdaFunctionScheduled"), ev("LambdaFunctionStarted"), ev("LambdaFunctionFailed", error=error)]
    if succeed and not caught:
        events += [ev("LambdaFunctionScheduled"), ev("LambdaFunctionStarted"), ev("LambdaFunctionSucceeded")]
    if succeed or caught:
        events.append(ev("TaskStateExited", name=name))
    return events


def record(name: str, status: str = "SUCCEEDED", events: list[dict[str, Any]] | None = None, output: Any = None,
           duration_s: float = 1.0, machine: str = "rollup") -> ExecutionRecord:
    return ExecutionRecord(arn=f"arn:{name}", name=name, state_machine=machine, status=status, started=100.0,
                           stopped=100.0 + duration_s, output=output, events=tuple(events or ()))


def spec(**keys: Any) -> ExecutionsSpec:
    return ExecutionsSpec.model_validate(keys)


def test_state_visits_count_retries_and_caught_errors() -> None:
    events = [ev("ExecutionStarted"), *task("Price", ["Busy", "Busy"]), *task("Ship", ["Bad"], caught=True),
              ev("PassStateEntered", name="Rejected"), ev("PassStateExited", name="Rejected")]
    assert state_visits(events) == [
        StateVisit("Price", attempts=3, exited=True),
        StateVisit("Ship", attempts=1, caught="Bad", exited=True),
        StateVisit("Rejected", exited=True),
    ]
    assert state_visits(events)[0].retries == 2


def test_an_uncaught_failure_is_not_caught_and_the_state_never_exits() -> None:
    events = [*task("Price", ["Boom"], succeed=False), ev("ExecutionFailed", error="Boom")]
    assert state_visits(events) == [StateVisit("Price", attempts=1)]


def test_counts_by_status_with_near_misses() -> None:
    records = [record("a"), record("b", "FAILED"), record("c")]
    results = check_executions(spec(count={"succeeded": 3, "failed": 1, "total": 3}), records)
    by_name = {r.name: r for r in results}
    assert [r.passed for r in results] == [True, False, True]
    assert by_name["executions.count.succeeded"].actual == 2
    assert by_name["executions.count.succeeded"].near_misses == [{"execution": "b", "status": "FAILED"}]


@pytest.mark.parametrize(
    ("output", "matched"),
    [({"subset": {"status": "ok"}}, 2), ({"path": "summary.items[1].n", "equals": 2}, 1),
     ({"path": "$.summary.total", "equals": 3, "count": 1}, 1), ({"subset": {"status": "ok", "x": 1}}, 0)],
)
def test_output_subset_and_path(output: dict[str, Any], matched: int) -> None:
    outputs = [{"status": "ok", "summary": {"total": 3, "items": [{"n": 1}, {"n": 2}]}},
               {"status": "ok", "summary": {"total": 4}}]
    (result,) = check_executions(spec(output=output), [record(str(i), output=o) for i, o in enumerate(outputs)])
    assert result.actual == f"{matched} of 2"
    assert result.passed == (matched == output.get("count", 2))


def test_output_mismatches_say_where() -> None:
    (result,) = check_executions(spec(output={"subset": {"a": {"b": 1}}}), [record("x", output={"a": {"b": 2}})])
    assert not result.passed
    assert result.near_misses[0]["why"] == "$.a.b is 2, expected 1"


def test_durations_are_wall_percentiles_against_budgets() -> None:
    records = [record(str(i), duration_s=s) for i, s in enumerate([0.5, 1.0, 4.0])]
    p50, p99 = check_executions(spec(duration={"p50_ms": 2000, "p99_ms": 2000}), records, time_scale=100)
    assert p50.passed and not p99.passed
    assert p99.detail == "wall clock; time scale 100"
    assert p99.near_misses[0] == {"execution": "2", "status": "SUCCEEDED", "duration_ms": 4000.0}


def test_retried_and_caught_facts() -> None:
    records = [
        record("a", events=task("Price", ["Busy"])),
        record("b", events=task("Price", ["Busy", "Busy"])),
        record("c", events=task("Price", ["Busy", "Invalid"], caught=True)),
    ]
    results = check_executions(spec(retried={"state": "Price", "times": 1, "executions": 2},
                                    caught={"state": "Price", "error": "Invalid"}), records)
    assert [(r.name, r.passed, r.actual) for r in results] == [
        ("executions.retried[Price]", True, 2), ("executions.caught[Price]", True, 1)
    ]
    (wrong,) = check_executions(spec(caught={"state": "Price", "error": "Busy"}), records)
    assert not wrong.passed and wrong.detail == "errors caught there: {'Invalid': 1}"


def test_state_machine_filter() -> None:
    records = [record("a"), record("b", machine="other")]
    (result,) = check_executions(spec(state_machine="rollup", count={"total": 1}), records)
    assert result.passed


def test_helpers() -> None:
    assert value_at({"a": [{"b": 1}]}, "$.a[0].b") == 1
    assert subset_difference({"a": 1}, {"a": 1, "b": 2}) is None
    assert subset_difference([1], [1, 2]) == "$ is [1, 2], expected [1]"
    definition = {"States": {"P": {"Type": "Parallel", "Branches": [{"States": {"B1": {}}}]},
                             "M": {"Type": "Map", "ItemProcessor": {"States": {"I": {}}}}}}
    assert state_names(definition) == {"P", "B1", "M", "I"}


# -- scenario files ------------------------------------------------------------------------------------------------
def scenario(tmp_path: Path, expect: str, *, source: str = "stream/orders", extra: str = "") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        f"scenario: s\npipeline: {ROOT / 'fixtures/orders-rollup/pipeline.yaml'}\nsource: {source}\n{extra}"
        f"events:\n  count: 1\n  fields: {{order_id: uuid4}}\nexpect:\n{expect}"
    )
    return path


def test_the_bundled_scenario_loads() -> None:
    spec_, _ = load_scenario(ROOT / "scenarios/orders-rollup.yaml")
    assert spec_.expect.executions is not None and spec_.expect.executions.retried is not None


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ("  executions: {state_machine: rolup}", "unknown state machine 'rolup'"),
        ("  executions: {retried: {state: PriceOrdr, times: 1}}", "unknown state 'PriceOrdr'"),
        ("  executions: {count: {succeded: 1}}", "unknown key 'succeded'"),
        ("  executions: {output: {path: total}}", "path and equals go together"),
        ("  executions: {output: {count: 2}}", "give subset, or path and equals"),
    ],
)
def test_bad_execution_expectations_are_config_errors(tmp_path: Path, expect: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_scenario(scenario(tmp_path, expect))
    assert info.value.line is not None
    if "PriceOrdr" in message:
        assert "did you mean 'PriceOrder'?" in str(info.value)


def test_state_machine_sources_and_mocks_are_checked(tmp_path: Path) -> None:
    mocks = tmp_path / "m.json"
    mocks.write_text(json.dumps({"StateMachines": {"rollup": {"TestCases": {"T": {}}}}, "MockedResponses": {}}))
    ok = scenario(tmp_path, "  lost: {count: 0}", source="state_machine/rollup",
                  extra="mocks: {config: m.json, test_case: T}\n")
    assert load_scenario(ok)[0].mocks is not None
    with pytest.raises(ConfigError, match="unknown state machine 'rolup'"):
        load_scenario(scenario(tmp_path, "  lost: {count: 0}", source="state_machine/rolup"))
    with pytest.raises(ConfigError, match="no test case 'U'"):
        load_scenario(scenario(tmp_path, "  lost: {count: 0}", source="state_machine/rollup",
                               extra="mocks: {config: m.json, test_case: U}\n"))
    with pytest.raises(ConfigError, match="mocks need a state_machine/NAME source"):
        load_scenario(scenario(tmp_path, "  lost: {count: 0}", extra="mocks: {config: m.json, test_case: T}\n"))
