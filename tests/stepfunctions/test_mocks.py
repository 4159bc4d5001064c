"""Step Functions Local's MockConfigFile: loading with file/line errors, and mocked executions on the embedded
backend (``<state machine ARN>#<test case>``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import Sfn

from emulator.errors import ConfigError
from emulator.stepfunctions.mocks import MockedAttempt, load_mock_config, mocked_arn, use_mock_config

CONFIG = {
    "StateMachines": {
        "rollup": {
            "TestCases": {
                "HappyPath": {"Rollup": "RollupOk"},
                "RetryPath": {"Rollup": "RollupBusyThenOk"},
                "CatchPath": {"Rollup": "RollupBroken"},
            }
        }
    },
    "MockedResponses": {
        "RollupOk": {"0": {"Return": {"StatusCode": 200, "Payload": {"total": 3}}}},
        "RollupBusyThenOk": {
            "0": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "Rate exceeded"}},
            "1-2": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "Rate exceeded"}},
            "3": {"Return": {"StatusCode": 200, "Payload": {"total": 7}}},
        },
        "RollupBroken": {"0-3": {"Throw": {"Error": "ValueError", "Cause": "bad order"}}},
    },
}


def write(tmp_path: Path, config: Any, name: str = "mocks.json") -> Path:
    path = tmp_path / name
    path.write_text(config if isinstance(config, str) else json.dumps(config, indent=2))
    return path


def test_loads_test_cases_and_attempt_ranges(tmp_path: Path) -> None:
    config = load_mock_config(write(tmp_path, CONFIG))
    states = config.test_case("rollup", "RetryPath")
    assert states["Rollup"] == (
        MockedAttempt(0, 0, error="Lambda.TooManyRequestsException", cause="Rate exceeded"),
        MockedAttempt(1, 2, error="Lambda.TooManyRequestsException", cause="Rate exceeded"),
        MockedAttempt(3, 3, returns={"StatusCode": 200, "Payload": {"total": 7}}),
    )
    with pytest.raises(KeyError, match=r"no test case 'Nope'.*CatchPath, HappyPath, RetryPath"):
        config.test_case("rollup", "Nope")


def test_yaml_mock_files_are_accepted(tmp_path: Path) -> None:
    text = (
        "StateMachines:\n  m:\n    TestCases:\n      T: {S: R}\n"
        "MockedResponses:\n  R:\n    '0': {Return: {StatusCode: 200, Payload: 1}}\n"
    )
    assert load_mock_config(write(tmp_path, text, "mocks.yaml")).test_case("m", "T")["S"][0].returns["Payload"] == 1


@pytest.mark.parametrize(
    ("change", "message", "line_of"),
    [
        (lambda c: c["StateMachines"]["rollup"]["TestCases"]["HappyPath"].update(Rollup="RollupOK"),
         "names mocked response 'RollupOK', which is not defined", '"Rollup": "RollupOK"'),
        (lambda c: c["MockedResponses"]["RollupOk"].update({"2": c["MockedResponses"]["RollupOk"]["0"]}),
         "attempts starting at 2 skips attempt 1", '"RollupOk": {'),
        (lambda c: c["MockedResponses"]["RollupOk"].update({"0-1": c["MockedResponses"]["RollupOk"]["0"]}),
         "overlaps the one before", '"RollupOk": {'),
        (lambda c: c["MockedResponses"]["RollupOk"].update({"first": {}}), "attempt key 'first'", '"first": {}'),
        (lambda c: c["MockedResponses"]["RollupOk"]["0"].update(Throw={"Error": "E"}), "needs exactly one of",
         '"0": {'),
        (lambda c: c["MockedResponses"]["RollupBroken"]["0-3"]["Throw"].pop("Cause"), "Throw needs 'Cause'",
         '"Throw": {'),
        (lambda c: c.update(MockedResponse={}), "unknown key 'MockedResponse'", '"MockedResponse": {}'),
    ],
)
def test_bad_files_are_config_errors_with_the_line(tmp_path: Path, change: Any, message: str, line_of: str) -> None:
    config = json.loads(json.dumps(CONFIG))
    change(config)
    path = write(tmp_path, config)
    with pytest.raises(ConfigError) as info:
        load_mock_config(path)
    lines = path.read_text().splitlines()
    assert message in str(info.value)
    assert info.value.file == str(path)
    assert info.value.line in [i + 1 for i, line in enumerate(lines) if line.strip().startswith(line_of)]


def test_not_json_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid JSON"):
        load_mock_config(write(tmp_path, '{"StateMachines": {}, }'))


def rollup_machine(sfn: Sfn, fn_arn: str, resource: str) -> str:
    task: dict[str, Any] = {"Type": "Task", "Resource": fn_arn, "End": True}
    if resource == "invoke":
        task.update(Resource="arn:aws:states:::lambda:invoke", Parameters={"FunctionName": fn_arn, "Payload.$": "$"},
                    ResultSelector={"total.$": "$.Payload.total"})
    task["Retry"] = [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 1, "MaxAttempts": 3}]
    task["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]
    return sfn.state_machine({"StartAt": "Rollup", "States": {"Rollup": task,
                              "Failed": {"Type": "Pass", "Result": "caught", "End": True}}}, name="rollup")


@pytest.mark.parametrize("resource", ["invoke", "arn"])
def test_lambda_tasks_are_answered_by_the_test_case(pipemu: Any, sfn: Sfn, scale: Any, tmp_path: Path,
                                                    resource: str) -> None:
    scale(100)
    fn = sfn.function("def handler(event, context):\n    raise AssertionError('the mock answers, not me')\n")
    machine = rollup_machine(sfn, fn, resource)
    with use_mock_config(pipemu.backend, load_mock_config(write(tmp_path, CONFIG))):
        happy = sfn.finished(sfn.start(mocked_arn(machine, "HappyPath")))
        retried = sfn.finished(sfn.start(mocked_arn(machine, "RetryPath")))
        caught = sfn.finished(sfn.start(mocked_arn(machine, "CatchPath")))
    assert json.loads(retried["output"]) == {"total": 7}  # a plain-ARN task outputs the Return's Payload
    assert json.loads(happy["output"]) == {"total": 3}
    assert json.loads(caught["output"]) == "caught"
    failed = [e for e in sfn.history(retried["executionArn"]) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["Lambda.TooManyRequestsException"] * 3
    assert not [i for i in pipemu.backend.invocations if fn.endswith(":" + i.function)]


def test_without_a_test_case_the_function_runs(pipemu: Any, sfn: Sfn, tmp_path: Path) -> None:
    fn = sfn.function("def handler(event, context):\n    return {'total': 42}\n")
    machine = rollup_machine(sfn, fn, "arn")
    with use_mock_config(pipemu.backend, load_mock_config(write(tmp_path, CONFIG))):
        assert json.loads(sfn.run(machine)["output"]) == {"total": 42}


def test_an_unknown_test_case_is_refused_with_the_known_ones(pipemu: Any, sfn: Sfn, tmp_path: Path) -> None:
    machine = rollup_machine(sfn, sfn.function("def handler(e, c):\n    return e\n"), "arn")
    with use_mock_config(pipemu.backend, load_mock_config(write(tmp_path, CONFIG))), \
            pytest.raises(ClientError) as info:
        sfn.start(mocked_arn(machine, "SadPath"))
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "no test case 'SadPath'" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError, match="no mock configuration is loaded") as unloaded:
        sfn.start(mocked_arn(machine, "HappyPath"))
    message = unloaded.value.response["Error"]["Message"]
    assert "--mock-config" in message and "emulator." not in message  # a user's hint, not our module's name
