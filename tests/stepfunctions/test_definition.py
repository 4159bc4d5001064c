"""Definitions beside a pipeline: JSON or YAML, ${kind:name} references filled in, errors with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.errors import ConfigError
from emulator.stepfunctions.definition import References, load_definition, references_in, render_definition

REFS = References(
    functions={"rollup": "arn:aws:lambda:us-east-1:123456789012:function:rollup"},
    buckets={"orders-out": "dev-orders-out"},
    queues={"alerts": "http://127.0.0.1:5000/123456789012/alerts"},
    streams={"orders": "arn:aws:kinesis:us-east-1:123456789012:stream/orders"},
)
ASL = {
    "StartAt": "Rollup",
    "States": {
        "Rollup": {"Type": "Task", "Resource": "${function:rollup}", "Next": "Notify"},
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": "${queue:alerts}", "MessageBody": {"where": "s3://${bucket:orders-out}/daily/",
                                                                          "from": "${ stream : orders }"}},
            "End": True,
        },
    },
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_kind_of_reference_is_replaced_whole_or_inside_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, "rollup.asl.json", json.dumps(ASL, indent=2))
    rendered = json.loads(render_definition(path, REFS))
    assert rendered["States"]["Rollup"]["Resource"] == REFS.functions["rollup"]
    params = rendered["States"]["Notify"]["Parameters"]
    assert params["QueueUrl"] == REFS.queues["alerts"]
    assert params["MessageBody"] == {"where": "s3://dev-orders-out/daily/", "from": REFS.streams["orders"]}


def test_yaml_definitions_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "rollup.asl.yaml", (
        "StartAt: Rollup\n"
        "States:\n"
        "  Rollup:\n"
        "    Type: Task\n"
        "    Resource: ${function:rollup}\n"
        "    End: true\n"
    ))
    assert json.loads(render_definition(path, REFS))["States"]["Rollup"]["Resource"] == REFS.functions["rollup"]


def test_an_unknown_name_names_file_line_reference_and_the_closest_name(tmp_path: Path) -> None:
    text = json.dumps(ASL, indent=2).replace("${function:rollup}", "${function:rolup}")
    path = write(tmp_path, "rollup.asl.json", text)
    with pytest.raises(ConfigError) as info:
        render_definition(path, REFS)
    error = info.value
    assert error.file == str(path)
    assert error.line == text.splitlines().index('      "Resource": "${function:rolup}",') + 1
    assert "unknown function 'rolup' in ${function:rolup}" in str(error)
    assert error.key == "States.Rollup.Resource"
    assert "did you mean 'rollup'?" in str(error)


def test_an_unknown_kind_suggests_the_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass",
                                                 "Result": "${functon:rollup}", "End": True}}}))
    with pytest.raises(ConfigError, match=r"unknown reference kind 'functon'.*\n.*did you mean 'function'"):
        render_definition(path, REFS)


def test_a_kind_the_pipeline_does_not_declare_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass",
                                                 "Result": "${queue:dlq}", "End": True}}}))
    with pytest.raises(ConfigError, match="the pipeline declares no queues"):
        render_definition(path, References(functions=REFS.functions))


def test_tab_indented_json_keeps_its_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", '{\n\t"StartAt": "A",\n\t"States": {\n\t\t"A": {"Type": "Pass",\n'
                                     '\t\t\t"Result": "${bucket:nope}", "End": true}}}\n')
    with pytest.raises(ConfigError) as info:
        render_definition(path, REFS)
    assert info.value.line == 5


def test_invalid_json_and_non_asl_documents_are_config_errors(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.json", '{\n  "StartAt": "A",\n  "States": {,}\n}\n')
    with pytest.raises(ConfigError) as info:
        load_definition(broken)
    assert info.value.line == 3 and "invalid JSON" in str(info.value)
    with pytest.raises(ConfigError, match="no 'States'"):
        load_definition(write(tmp_path, "x.json", '{"StartAt": "A"}'))
    with pytest.raises(ConfigError, match="not found"):
        load_definition(tmp_path / "missing.json")


def test_references_are_listed_in_document_order_with_lines(tmp_path: Path) -> None:
    from emulator.stepfunctions.documents import load_document

    doc = load_document(write(tmp_path, "rollup.json", json.dumps(ASL, indent=2)), what="definition")
    assert [(r.kind, r.name) for r in references_in(doc)] == [
        ("function", "rollup"), ("queue", "alerts"), ("bucket", "orders-out"), ("stream", "orders")
    ]
    assert all(r.line is not None and r.line > 1 for r in references_in(doc))


def test_the_bundled_fixture_definitions_check_against_the_pipeline() -> None:
    from emulator.spec.pipeline import load_pipeline
    from emulator.stepfunctions.definition import check_pipeline_definitions

    root = Path(__file__).resolve().parents[2]
    check_pipeline_definitions(load_pipeline(root / "fixtures/orders-rollup/pipeline.yaml"))


def test_a_pipeline_with_a_bad_reference_fails_at_deploy_before_creating_the_machine(pipemu, tmp_path: Path) -> None:
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "app.py").write_text("def handler(e, c):\n    return e\n")
    write(tmp_path, "sm.json", json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task",
                                           "Resource": "${function:apps}", "End": True}}}))
    pipeline = write(tmp_path, "pipeline.yaml", (
        "pipeline: p\nfunctions:\n  app: {code: h/, handler: app.handler}\n"
        "state_machines:\n  flow: {definition: sm.json}\n"
    ))
    with pytest.raises(ConfigError, match=r"sm.json:1: States.A.Resource: unknown function 'apps'"):
        pipemu.deploy(pipeline)
    assert pipemu.client("stepfunctions").list_state_machines()["stateMachines"] == []


def test_deploy_creates_the_state_machine_with_arns_filled_in(pipemu, tmp_path: Path) -> None:
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "app.py").write_text("def handler(e, c):\n    return {'seen': e}\n")
    write(tmp_path, "sm.yaml", "StartAt: A\nStates:\n  A: {Type: Task, Resource: '${function:app}', End: true}\n")
    pipeline = write(tmp_path, "pipeline.yaml", (
        "pipeline: p\nfunctions:\n  app: {code: h/, handler: app.handler}\n"
        "state_machines:\n  flow: {definition: sm.yaml, type: STANDARD}\n"
    ))
    deployment = pipemu.deploy(pipeline)
    sfn = pipemu.client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=deployment.state_machines["flow"])
    assert json.loads(described["definition"])["States"]["A"]["Resource"] == deployment.functions["app"]
    assert described["roleArn"].endswith(":role/pipemu-states-role")


def test_a_definition_the_backend_refuses_is_a_config_error_naming_the_file(pipemu, tmp_path: Path) -> None:
    # Transitions hold together (pipemu's own check passes); the interpreter refuses the Task without Resource.
    no_resource = {"StartAt": "A", "States": {"A": {"Type": "Task", "End": True}}}
    definition = write(tmp_path, "sm.json", json.dumps(no_resource))
    pipeline = write(tmp_path, "pipeline.yaml", "pipeline: p\nstate_machines:\n  flow: {definition: sm.json}\n")
    with pytest.raises(ConfigError) as info:
        pipemu.deploy(pipeline)
    assert info.value.file == str(definition)
    assert "the backend refused state machine 'flow': InvalidDefinition:" in str(info.value)
