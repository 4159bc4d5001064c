"""Step Functions on the embedded backend answers as AWS (and stock moto) do where moto's interpreter did not:
execution names are validated, CloudFormation's state machines are visible, a plain-ARN Lambda mock may return
the function's result unwrapped, as Step Functions Local accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from deep_json import DEEP
from sfn_support import Sfn

from emulator.backends.moto_seams.sfn_executions import jsonata_used, plain_lambda_states
from emulator.stepfunctions.mocks import load_mock_config, mocked_arn, use_mock_config

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.mark.parametrize("name,code", [
    ("x" * 81, "ValidationException"),  # "Member must have length less than or equal to 80"
    ("has space", "InvalidName"),
    ("semi;colon", "InvalidName"),
    ("tab\tinside", "InvalidName"),
])
def test_execution_names_are_validated_as_aws_does(pipemu: Any, sfn: Sfn, name: str, code: str) -> None:
    machine = sfn.state_machine(PASS)
    with pytest.raises(ClientError) as info:
        sfn.start(machine, name=name)
    assert info.value.response["Error"]["Code"] == code
    assert json.loads(sfn.run(machine)["output"]) == {}  # a good (generated) name still runs
    assert sfn.finished(sfn.start(machine, name="a" * 80))["status"] == "SUCCEEDED"


def test_state_machine_names_are_validated(pipemu: Any, sfn: Sfn) -> None:
    with pytest.raises(ClientError) as info:
        sfn.state_machine(PASS, name="x" * 81)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "less than or equal to 80" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as bad:
        sfn.state_machine(PASS, name="a/b")
    assert bad.value.response["Error"]["Code"] == "InvalidName"


def test_a_cloudformation_state_machine_is_visible_to_the_api(pipemu: Any, sfn: Sfn) -> None:
    template = {
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"StateMachineName": "from-stack", "DefinitionString": json.dumps(PASS),
                               "RoleArn": sfn.role},
            }
        },
        "Outputs": {"Arn": {"Value": {"Ref": "Machine"}}},
    }
    cfn = pipemu.client("cloudformation")
    cfn.create_stack(StackName="machines", TemplateBody=json.dumps(template))
    arn = cfn.describe_stacks(StackName="machines")["Stacks"][0]["Outputs"][0]["OutputValue"]
    assert sfn.client.describe_state_machine(stateMachineArn=arn)["name"] == "from-stack"
    assert [m["name"] for m in sfn.client.list_state_machines()["stateMachines"]] == ["from-stack"]
    assert sfn.run(arn)["status"] == "SUCCEEDED"
    cfn.delete_stack(StackName="machines")
    assert sfn.client.list_state_machines()["stateMachines"] == []


def test_a_plain_arn_lambda_mock_takes_the_result_unwrapped(pipemu: Any, sfn: Sfn, tmp_path: Path) -> None:
    fn = sfn.function("def handler(event, context):\n    raise AssertionError('the mock answers, not me')\n")
    machine = sfn.state_machine({"StartAt": "Price", "States": {"Price": {"Type": "Task", "Resource": fn,
                                                                          "End": True}}}, name="price")
    config = {"StateMachines": {"price": {"TestCases": {"Bare": {"Price": "Bare"}, "Wrapped": {"Price": "Wrapped"}}}},
              "MockedResponses": {"Bare": {"0": {"Return": {"total": 5}}},
                                  "Wrapped": {"0": {"Return": {"StatusCode": 200, "Payload": {"total": 6}}}}}}
    path = tmp_path / "mocks.json"
    path.write_text(json.dumps(config))
    with use_mock_config(pipemu.backend, load_mock_config(path)):
        bare = sfn.finished(sfn.start(mocked_arn(machine, "Bare")))
        wrapped = sfn.finished(sfn.start(mocked_arn(machine, "Wrapped")))
    assert bare["status"] == "SUCCEEDED" and json.loads(bare["output"]) == {"total": 5}
    assert json.loads(wrapped["output"]) == {"total": 6}


def test_plain_lambda_states_are_found_at_any_depth() -> None:
    fn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": fn, "Next": "B"},
        "B": {"Type": "Parallel", "Branches": [{"StartAt": "C", "States": {"C": {"Type": "Task", "Resource": fn,
                                                                                "End": True}}}], "Next": "M"},
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "D", "States": {
            "D": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}}, "End": True}}}
    assert plain_lambda_states(json.dumps(definition)) == {"A", "C"}


def test_a_definition_nested_past_the_parser_depth_is_left_to_moto() -> None:
    # a Pass state whose Result nests 5000 arrays: Python 3.11's parser raises RecursionError, 3.13's parses it
    deep = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "Result": ' + DEEP + "}}}"

    assert plain_lambda_states(deep) == set()
    assert jsonata_used(deep) is False
    assert jsonata_used('{"StartAt": "P", "States": {"P": {"Type": "Pass", "QueryLanguage": "JSONata"}}}') is True
