"""State machine definitions are checked before anything is deployed: parse errors with their line, every
transition target, every ${...} reference; `pipemu validate` reports them with file, line and key (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from emulator.errors import ConfigError
from emulator.spec.pipeline import load_pipeline
from emulator.spec.yamlsrc import MAX_DEPTH
from emulator.stepfunctions.definition import (
    check_pipeline_definitions,
    check_structure,
    load_definition,
)
from emulator.stepfunctions.documents import parse_json_document

ROOT = Path(__file__).resolve().parents[2]


def machine(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


PASS_END = {"Type": "Pass", "End": True}
BROKEN: list[tuple[str, dict[str, Any], str, str]] = [
    ("start-at", {"StartAt": "Nope", "States": {"A": PASS_END}}, "StartAt", "StartAt names 'Nope'"),
    ("next", machine(A={"Type": "Pass", "Next": "B"}), "States.A.Next", "Next names 'B'"),
    ("default", machine(A={"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "B"}],
                           "Default": "Gone"}, B=PASS_END), "States.A.Default", "Default names 'Gone'"),
    ("choice", machine(A={"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "C"}]},
                       B=PASS_END), "States.A.Choices[0].Next", "Next names 'C'"),
    ("catch", machine(A={"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": True,
                         "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Lost"}]}),
     "States.A.Catch[0].Next", "Next names 'Lost'"),
    ("branch", machine(P={"Type": "Parallel", "End": True, "Branches": [machine(X={"Type": "Pass", "Next": "A"})]}),
     "States.P.Branches[0].States.X.Next", "Next names 'A'"),
    ("map", machine(M={"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "Y", "States": {"X": PASS_END}}}),
     "States.M.ItemProcessor.StartAt", "StartAt names 'Y'"),
    ("no-end", machine(A={"Type": "Pass"}), "States.A", "neither Next nor End"),
    ("type", machine(A={"Type": "Tusk", "End": True}), "States.A.Type", "Type 'Tusk'"),
]


@pytest.mark.parametrize(("case", "definition", "key", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_transition_is_named_with_file_line_and_key(
    tmp_path: Path, case: str, definition: dict[str, Any], key: str, message: str
) -> None:
    path = tmp_path / f"{case}.asl.json"
    path.write_text(json.dumps(definition, indent=2))
    with pytest.raises(ConfigError) as caught:
        check_structure(load_definition(path))
    error = caught.value
    assert error.file == str(path) and error.key == key and message in error.message
    assert error.line is not None and error.line > 1


def test_a_state_in_the_parent_scope_is_not_a_target_inside_a_branch_but_its_own_are(tmp_path: Path) -> None:
    good = machine(P={"Type": "Parallel", "Next": "Done", "Branches": [machine(X={"Type": "Pass", "Next": "Y"},
                                                                               Y=PASS_END)]}, Done=PASS_END)
    path = tmp_path / "good.asl.json"
    path.write_text(json.dumps(good))
    check_structure(load_definition(path))


def test_the_closest_state_is_suggested(tmp_path: Path) -> None:
    path = tmp_path / "m.asl.json"
    path.write_text(json.dumps(machine(Start={"Type": "Pass", "Next": "Prise"}, Price=PASS_END)))
    with pytest.raises(ConfigError, match="Prise") as caught:
        check_structure(load_definition(path))
    assert "did you mean 'Price'?" in (caught.value.hint or "")


def test_bundled_definitions_hold_together() -> None:
    for pipeline in (ROOT / "fixtures").glob("*/pipeline.yaml"):
        check_pipeline_definitions(load_pipeline(pipeline))


PIPELINE = """\
pipeline: sm
buckets: [out]
functions:
  f: {code: handlers/, handler: ok.handler}
state_machines:
  m: {definition: DEFINITION, type: STANDARD}
"""
CLI_CASES = [
    ("bad.asl.json", '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "End": true},\n  }\n}\n',
     "bad.asl.json:4", "invalid JSON in state machine definition: trailing comma"),
    ("bad.asl.yaml", "StartAt: A\nStates:\n  A: {Type: Pass, End: true\n  B: x\n", "bad.asl.yaml:", "invalid YAML"),
    ("ref.asl.json", '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Task", "Resource": "${function:nope}",'
     ' "End": true}\n  }\n}\n', "ref.asl.json:4: States.A.Resource", "unknown function 'nope'"),
    ("next.asl.json", '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "Next": "B"}\n  }\n}\n',
     "next.asl.json:4: States.A.Next", "Next names 'B'"),
]


@pytest.mark.parametrize(("name", "text", "where", "message"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_validate_refuses_a_broken_state_machine_with_exit_2(
    tmp_path: Path, name: str, text: str, where: str, message: str
) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "ok.py").write_text("def handler(event, context):\n    return event\n")
    (tmp_path / name).write_text(text)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE.replace("DEFINITION", name))
    done = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "validate", "pipeline.yaml"], capture_output=True, text=True,
        timeout=120, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "300",
                                        "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert where in done.stderr and message in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{\n  "a": 1,\n  "b": [1, 2,\n  ]\n}', 3, 13),  # in an array, the bracket on the next line
        ('{\n  "A": {"x": true},\n}\n', 2, 19),  # in an object
        ('{"A": {"x": true} ,  }', 1, 19),  # spaces between the comma and the bracket
    ],
)
def test_a_trailing_comma_is_reported_at_the_comma_on_every_python(
    tmp_path: Path, text: str, line: int, column: int
) -> None:
    # GIVEN a JSON definition with a trailing comma (Python 3.13 names it; 3.11 and 3.12 report the bracket after it)
    # WHEN it is parsed
    with pytest.raises(ConfigError) as caught:
        parse_json_document(text, file=tmp_path / "sm.json", what="state machine definition")

    # THEN the error points at the comma itself, with the same words on every version
    assert caught.value.line == line
    assert f"trailing comma before the closing bracket (column {column})" in str(caught.value)


def test_other_json_errors_keep_the_parser_s_own_message_and_place(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_json_document('{\n  "a" 1\n}', file=tmp_path / "sm.json", what="state machine definition")
    assert caught.value.line == 2
    assert "Expecting ':' delimiter (column 7)" in str(caught.value)


def _nested_arrays(depth: int) -> str:
    """An object whose deepest value sits ``depth`` containers below the top."""
    return '{"a": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


@pytest.mark.parametrize(
    ("depth", "refused"),
    [(MAX_DEPTH, False), (MAX_DEPTH + 1, True), (5000, True)],
    ids=["at the limit", "one past it", "past the parser's own limit on 3.11, not on 3.13"],
)
def test_a_definition_nested_past_the_limit_is_refused_on_every_python(
    tmp_path: Path, depth: int, refused: bool
) -> None:
    text = _nested_arrays(depth)
    if not refused:
        assert parse_json_document(text, file=tmp_path / "sm.json", what="state machine definition").data
        return
    with pytest.raises(ConfigError) as caught:
        parse_json_document(text, file=tmp_path / "sm.json", what="state machine definition")
    assert f"state machine definition nests objects and arrays more than {MAX_DEPTH} levels deep" in str(caught.value)
    assert caught.value.line == 1


def test_validate_refuses_a_deeply_nested_definition_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "sm.json").write_text(
        '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "Result": ' + _nested_arrays(5000) + "}}}"
    )
    (tmp_path / "pipeline.yaml").write_text("pipeline: deep\nstate_machines:\n  m: {definition: sm.json}\n")

    done = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "validate", str(tmp_path / "pipeline.yaml")],
        capture_output=True, text=True, timeout=120, check=False,
    )

    assert done.returncode == 2, done.stderr
    assert "sm.json:1: state machine definition nests objects and arrays more than" in done.stderr
    assert "Traceback" not in done.stderr
