"""Mocked service integrations in AWS Step Functions Local's MockConfigFile format.

    {"StateMachines": {"rollup": {"TestCases": {"HappyPath": {"Rollup": "RollupOk"}}}},
     "MockedResponses": {"RollupOk": {"0": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "busy"}},
                                      "1-2": {"Return": {"StatusCode": 200, "Payload": {"total": 3}}}}}}

A test case maps state names to a mocked response; a mocked response maps attempt numbers (``"0"``, ``"1-2"``:
the first try is 0, each retry adds one) to ``Return`` (the task's result, for Lambda the whole Invoke response) or
``Throw`` (``Error`` and ``Cause``). https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html

An execution runs against a test case when started on ``<state machine ARN>#<test case>``, as with Step Functions
Local; ``use_mock_config`` makes the embedded backend answer those executions' mocked states.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.errors import ConfigError, HarnessError
from emulator.spec.yamlsrc import KeyPath, YamlDoc, close_match_hint
from emulator.stepfunctions.documents import load_document

if TYPE_CHECKING:
    from emulator.backends.base import Backend

WHAT = "mock configuration file"
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class MockedAttempt:
    """The answer for attempts ``first``..``last`` (inclusive): a result, or an error thrown."""

    first: int
    last: int
    returns: Any = None
    error: str | None = None
    cause: str | None = None

    @property
    def throws(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class MockConfig:
    source: Path | None
    test_cases: dict[str, dict[str, dict[str, str]]]  # state machine -> test case -> state -> response name
    responses: dict[str, tuple[MockedAttempt, ...]]

    def test_case(self, state_machine: str, test_case: str) -> dict[str, tuple[MockedAttempt, ...]]:
        """State name -> its mocked attempts, for one test case. KeyError says what is known."""
        cases = self.test_cases.get(state_machine)
        if cases is None:
            raise KeyError(f"no state machine '{state_machine}' in the mock configuration "
                           f"(it has: {', '.join(sorted(self.test_cases)) or 'none'})")
        states = cases.get(test_case)
        if states is None:
            raise KeyError(f"no test case '{test_case}' for state machine '{state_machine}' "
                           f"(it has: {', '.join(sorted(cases)) or 'none'})")
        return {state: self.responses[name] for state, name in states.items()}


def _expect_mapping(doc: YamlDoc, value: Any, path: KeyPath, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(f"{what} must be an object, got {type(value).__name__}", path)
    return value


def _unknown_keys(doc: YamlDoc, value: dict[str, Any], path: KeyPath, allowed: tuple[str, ...]) -> None:
    for key in value:
        if key not in allowed:
            raise doc.error(f"unknown key '{key}'", (*path, key),
                            hint=close_match_hint(key, allowed, what="allowed keys"))


def _attempt(doc: YamlDoc, attempts: str, body: Any, path: KeyPath) -> MockedAttempt:
    match = _RANGE.match(attempts)
    if match is None:
        raise doc.error(f"attempt key '{attempts}' is not a number or a range", path,
                        hint="use '0' for the first try, '1-2' for the first two retries")
    first = int(match[1])
    last = int(match[2]) if match[2] is not None else first
    if last < first:
        raise doc.error(f"attempt range '{attempts}' ends before it starts", path)
    body = _expect_mapping(doc, body, path, f"the response for attempt '{attempts}'")
    _unknown_keys(doc, body, path, ("Return", "Throw"))
    if ("Return" in body) == ("Throw" in body):
        raise doc.error(f"the response for attempt '{attempts}' needs exactly one of Return or Throw", path)
    if "Return" in body:
        return MockedAttempt(first, last, returns=body["Return"])
    throw = _expect_mapping(doc, body["Throw"], (*path, "Throw"), "Throw")
    _unknown_keys(doc, throw, (*path, "Throw"), ("Error", "Cause"))
    for key in ("Error", "Cause"):
        if not isinstance(throw.get(key), str):
            raise doc.error(f"Throw needs '{key}' as a string", (*path, "Throw", key),
                            hint='e.g. {"Error": "Lambda.TooManyRequestsException", "Cause": "Rate exceeded"}')
    return MockedAttempt(first, last, error=throw["Error"], cause=throw["Cause"])


def _responses(doc: YamlDoc, raw: dict[str, Any]) -> dict[str, tuple[MockedAttempt, ...]]:
    out: dict[str, tuple[MockedAttempt, ...]] = {}
    for name, body in raw.items():
        path: KeyPath = ("MockedResponses", name)
        body = _expect_mapping(doc, body, path, f"mocked response '{name}'")
        if not body:
            raise doc.error(f"mocked response '{name}' has no attempts", path, hint='start with "0"')
        attempts = sorted((_attempt(doc, key, value, (*path, key)) for key, value in body.items()),
                          key=lambda a: a.first)
        expected = 0
        for attempt in attempts:
            if attempt.first != expected:
                problem = "overlaps the one before" if attempt.first < expected else f"skips attempt {expected}"
                raise doc.error(f"mocked response '{name}': attempts starting at {attempt.first} {problem}", path,
                                hint="attempts are numbered from 0 and must follow on without gaps")
            expected = attempt.last + 1
        out[name] = tuple(attempts)
    return out


def _test_cases(doc: YamlDoc, raw: dict[str, Any], responses: dict[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    for machine, body in raw.items():
        path: KeyPath = ("StateMachines", machine)
        body = _expect_mapping(doc, body, path, f"state machine '{machine}'")
        _unknown_keys(doc, body, path, ("TestCases",))
        cases = _expect_mapping(doc, body.get("TestCases", {}), (*path, "TestCases"), "TestCases")
        out[machine] = {}
        for case, states in cases.items():
            case_path: KeyPath = (*path, "TestCases", case)
            states = _expect_mapping(doc, states, case_path, f"test case '{case}'")
            for state, response in states.items():
                if not isinstance(response, str) or response not in responses:
                    raise doc.error(
                        f"state '{state}' names mocked response {response!r}, which is not defined",
                        (*case_path, state),
                        hint=close_match_hint(str(response), responses, what="defined MockedResponses"),
                    )
            out[machine][case] = dict(states)
    return out


def parse_mock_config(doc: YamlDoc) -> MockConfig:
    data = doc.data
    _unknown_keys(doc, data, (), ("StateMachines", "MockedResponses"))
    for key in ("StateMachines", "MockedResponses"):
        if key not in data:
            raise doc.error(f"missing '{key}'", (), hint="a mock configuration has StateMachines and MockedResponses")
    responses = _responses(doc, _expect_mapping(doc, data["MockedResponses"], ("MockedResponses",), "MockedResponses"))
    machines = _expect_mapping(doc, data["StateMachines"], ("StateMachines",), "StateMachines")
    return MockConfig(source=doc.file, test_cases=_test_cases(doc, machines, responses), responses=responses)


def load_mock_config(path: str | Path) -> MockConfig:
    """Read and check a MockConfigFile (JSON, or YAML). Every problem is a ConfigError with file and line."""
    return parse_mock_config(load_document(path, what=WHAT))


def check_test_case(config: MockConfig, state_machine: str, test_case: str, *, file: Path | None = None,
                    key: str | None = None) -> None:
    try:
        config.test_case(state_machine, test_case)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0]), file=file or config.source, key=key) from None


@contextmanager
def use_mock_config(backend: Backend, config: MockConfig) -> Iterator[MockConfig]:
    """While inside, executions started on ``<arn>#<test case>`` on ``backend`` answer mocked states from
    ``config``. Only backends with ``capabilities.mocked_state_machines`` (the embedded one) can."""
    if not backend.capabilities.mocked_state_machines:
        raise HarnessError(f"backend {backend.name!r} cannot run mocked state machines",
                           hint="run on the embedded backend, or point tests at Step Functions Local")
    from emulator.backends.moto_seams import sfn_executions

    previous = sfn_executions.set_mock_config(config)
    try:
        yield config
    finally:
        sfn_executions.set_mock_config(previous)


def mocked_arn(state_machine_arn: str, test_case: str) -> str:
    """The ARN to start an execution on to run it against ``test_case`` (Step Functions Local's convention)."""
    return f"{state_machine_arn}#{test_case}"
