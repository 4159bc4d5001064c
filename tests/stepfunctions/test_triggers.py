"""Ways executions start on the embedded backend: the API (named or not), handler code, an S3 notification's
Lambda; and the DescribeExecution answers pipemu reads back."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import Sfn, wait_for

ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
STARTER = (
    "import json, os\n"
    "import boto3\n"
    "def handler(event, context):\n"
    "    sfn = boto3.client('stepfunctions')\n"
    "    keys = [r['s3']['object']['key'] for r in event.get('Records', [])] or [event['key']]\n"
    "    for key in keys:\n"
    "        sfn.start_execution(stateMachineArn=os.environ['STATE_MACHINE_ARN'], input=json.dumps({'key': key}))\n"
    "    return len(keys)\n"
)


def executions(sfn: Sfn, machine: str) -> list[dict[str, Any]]:
    return list(sfn.client.list_executions(stateMachineArn=machine)["executions"])


def test_unnamed_executions_get_uuid_names_like_aws(sfn: Sfn) -> None:
    machine = sfn.state_machine(ECHO)
    first, second = sfn.start(machine, {"a": 1}), sfn.start(machine, {"a": 1})
    assert first != second
    for arn in (first, second):
        name = arn.rsplit(":", 1)[1]
        assert str(uuid.UUID(name)) == name
        assert sfn.finished(arn)["status"] == "SUCCEEDED"


def test_describe_execution_answers_json_output_and_stop_dates(sfn: Sfn) -> None:
    machine = sfn.state_machine({"StartAt": "S", "States": {"S": {"Type": "Pass", "Result": "done", "End": True}}})
    done = sfn.run(machine)
    assert done["output"] == '"done"'
    assert done["stopDate"] >= done["startDate"]


def test_handler_code_starts_executions_with_boto3(sfn: Sfn, pipemu: Any) -> None:
    machine = sfn.state_machine(ECHO)
    fn = sfn.function(STARTER, env={"STATE_MACHINE_ARN": machine})
    response = pipemu.client("lambda").invoke(FunctionName=fn, Payload=json.dumps({"key": "k1"}))
    assert "FunctionError" not in response, response["Payload"].read()
    (started,) = executions(sfn, machine)
    assert json.loads(sfn.finished(started["executionArn"])["output"]) == {"key": "k1"}


def test_an_s3_notification_lambda_starts_one_execution_per_object(sfn: Sfn, pipemu: Any) -> None:
    machine = sfn.state_machine(ECHO)
    fn = sfn.function(STARTER, env={"STATE_MACHINE_ARN": machine})
    s3 = pipemu.client("s3")
    s3.create_bucket(Bucket="landing")
    s3.put_bucket_notification_configuration(
        Bucket="landing",
        NotificationConfiguration={"LambdaFunctionConfigurations": [
            {"LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:*"]}
        ]},
    )
    for key in ("a.json", "b.json"):
        s3.put_object(Bucket="landing", Key=key, Body=b"{}")
    started = wait_for("two executions", lambda: executions(sfn, machine), lambda e: len(e) == 2)
    outputs = sorted(json.loads(sfn.finished(e["executionArn"])["output"])["key"] for e in started)
    assert outputs == ["a.json", "b.json"]


def test_jsonata_definitions_are_refused_with_the_reason(sfn: Sfn) -> None:
    with pytest.raises(ClientError) as info:
        sfn.state_machine({"QueryLanguage": "JSONata", "StartAt": "P",
                           "States": {"P": {"Type": "Pass", "Output": "{% 1 + 1 %}", "End": True}}})
    assert info.value.response["Error"]["Code"] == "InvalidDefinition"
    assert "JSONata is not supported by pipemu's embedded backend" in info.value.response["Error"]["Message"]


def test_waiting_for_executions_times_out_saying_how_many_still_run(sfn: Sfn) -> None:
    from emulator.errors import WaitTimeout
    from emulator.stepfunctions.observe import collect, wait_until_settled

    machine = sfn.state_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
    execution = sfn.start(machine)
    with pytest.raises(WaitTimeout, match="1 executions RUNNING"):
        wait_until_settled(sfn.client, {"m": machine}, timeout_s=0.3)
    sfn.client.stop_execution(executionArn=execution)
    wait_until_settled(sfn.client, {"m": machine}, timeout_s=10)
    (record,) = collect(sfn.client, {"m": machine})
    assert (record.state_machine, record.status) == ("m", "ABORTED")
    assert record.duration_ms is not None and record.events[0]["type"] == "ExecutionStarted"
