"""Step Functions Lambda tasks on the embedded backend, compared with the executions AWS recorded
(shared/conformance/README.md §4, ``aws-snapshots/stepfunctions/``).

Each case deploys the recorded test's function and template, runs one execution, and compares its
``get_execution_history`` with the snapshot after the §1 normalisation. Templates come from the shared
``templates/`` directory, or from ``stepfunctions_templates/`` for those §4 marks †. Retry intervals run on the
backend's clock (time scale 100 here); a task's TimeoutSeconds stays in wall time.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from normalize import Normalizer, assert_matches
from snapshots import recorded, snapshot_dir

LOCAL_TEMPLATES = Path(__file__).resolve().parent / "stepfunctions_templates"
INVOKE = "arn:aws:states:::lambda:invoke"

HANDLERS = {
    "raise": 'def handler(event, context):\n    raise Exception("Some exception was raised.")\n',
    # AWS's stack trace points at line 9 of handler.py
    "custom": (
        "class CustomException(Exception):\n    pass\n\n\n"
        "def handler(event, context):\n    # raised without a message: errorMessage is empty\n\n\n"
        "    raise CustomException()\n"
    ),
    "large": 'def handler(event, context):\n    return "a" * (257 * 1024)\n',
    "sleep": "import time\n\n\ndef handler(event, context):\n    time.sleep(7)\n    return event\n",
    "id": "def handler(event, context):\n    return event\n",
}


def load_json5(path: Path) -> Any:
    """The templates' JSON5: ``//`` comments and trailing commas."""
    lines = []
    for line in path.read_text().splitlines():
        cut = re.search(r'^((?:[^"/]|"(?:[^"\\]|\\.)*"|/(?!/))*)//', line)
        lines.append(cut.group(1) if cut else line)
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", "\n".join(lines)))


def template(name: str) -> Any:
    local = LOCAL_TEMPLATES / f"{name}.json5"
    return load_json5(local if local.is_file() else snapshot_dir() / "stepfunctions" / "templates" / f"{name}.json5")


def fill(value: Any, replacements: list[Any]) -> Any:
    """Replace each ``__tbd__``/``_tbd_`` placeholder, in document order, with the next replacement; a
    replacement of ``None`` removes its key."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item in ("__tbd__", "_tbd_"):
                replacement = replacements.pop(0)
                if replacement is not None:
                    out[key] = replacement
            else:
                out[key] = fill(item, replacements)
        return out
    if isinstance(value, list):
        return [replacements.pop(0) if v in ("__tbd__", "_tbd_") else fill(v, replacements) for v in value]
    return value


class SfnKit:
    def __init__(self, pipemu: Any) -> None:
        self.lam = pipemu.client("lambda")
        self.sfn = pipemu.client("stepfunctions")
        iam = pipemu.client("iam")
        uid = uuid.uuid4().hex[:8]
        self.role = iam.create_role(RoleName=f"snf-role-{uid}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

    def function(self, kind: str) -> tuple[str, str]:
        name = f"lambda_func-{uuid.uuid4().hex[:8]}"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("handler.py", HANDLERS[kind])
        arn = self.lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role,
            Handler="handler.handler",
            Code={"ZipFile": buffer.getvalue()},
            Timeout=10,
        )["FunctionArn"]
        return name, str(arn)

    def state_machine(self, definition: Any) -> tuple[str, str]:
        name = f"statemachine_{uuid.uuid4().hex[:8]}"
        arn = self.sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=self.role)
        return name, str(arn["stateMachineArn"])

    def run(self, arn: str, value: Any, name: str, timeout: float = 30.0) -> dict[str, Any]:
        execution = self.sfn.start_execution(stateMachineArn=arn, input=json.dumps(value), name=name)
        deadline = time.monotonic() + timeout
        status = "RUNNING"
        while time.monotonic() < deadline:
            status = self.sfn.describe_execution(executionArn=execution["executionArn"])["status"]
            if status != "RUNNING":
                return dict(self.sfn.get_execution_history(executionArn=execution["executionArn"]))
            time.sleep(0.02)  # polling interval of the condition
        raise AssertionError(f"execution still {status} after {timeout}s")


@dataclass(frozen=True)
class Case:
    file: str
    test: str
    template: str
    handler: str | None = "raise"
    resource: str = "arn"  # the function's ARN replaces the first placeholder; "invoke": the template has it
    value: Any = field(default_factory=dict)  # "{fn}" in strings becomes the function name
    token: str = "<lambda_function_name>"
    fills: tuple[Any, ...] = ()
    skip: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.test


FN_INPUT = {"FunctionName": "{fn}", "Payload": None}
MISSING_FN_INPUT = {"FunctionName": "no_such_{fn}", "Payload": None}
VALUES = {"Value1": "HelloWorld!", "Value2": None}
TL, TSL, SE, BS, LT = (
    "test_task_lambda",
    "test_task_service_lambda",
    "test_states_errors",
    "test_base_scenarios",
    "test_lambda_task",
)
CASES = [
    Case(TL, "test_raise_exception", "task_lambda_invoke_catch_unknown", value=FN_INPUT),
    Case(
        TL,
        "test_raise_custom_exception",
        "task_lambda_invoke_catch_tbd",
        "custom",
        value=FN_INPUT,
        fills=("CustomException",),
    ),
    Case(TL, "test_raise_exception_catch", "task_lambda_invoke_catch_relevant", value=FN_INPUT),
    Case(TL, "test_no_such_function", "task_lambda_invoke_catch_unknown", value=MISSING_FN_INPUT),
    Case(TL, "test_no_such_function_catch", "task_lambda_invoke_catch_relevant", value=MISSING_FN_INPUT),
    Case(TSL, "test_raise_exception", "task_service_lambda_invoke_catch_unknown", resource="invoke", value=FN_INPUT),
    Case(
        TSL,
        "test_raise_custom_exception",
        "task_service_lambda_invoke_catch_tbd",
        "custom",
        resource="invoke",
        value=FN_INPUT,
        fills=("CustomException",),
    ),
    Case(
        TSL,
        "test_raise_exception_catch",
        "task_service_lambda_invoke_catch_relevant",
        resource="invoke",
        value=FN_INPUT,
    ),
    *[
        Case(
            TSL,
            f"test_raise_exception_catch_output_path[{path}]",
            "task_service_lambda_invoke_catch_all_output_path",
            resource="invoke",
            value={"FunctionName": "{fn}", "Payload": {"payload_input_value_0": 0}},
            token="lambda_function_name",
            fills=(None if path == "None" else path,),
        )
        for path in ("None", "$.Payload", "$.no.such.path")
    ],
    Case(
        TSL,
        "test_no_such_function",
        "task_service_lambda_invoke_catch_unknown",
        resource="invoke",
        value=MISSING_FN_INPUT,
    ),
    Case(
        TSL,
        "test_no_such_function_catch",
        "task_service_lambda_invoke_catch_relevant",
        resource="invoke",
        value=MISSING_FN_INPUT,
    ),
    Case(
        TSL,
        "test_invoke_timeout",
        "task_service_lambda_invoke_catch_timeout",
        "sleep",
        resource="invoke",
        value=FN_INPUT,
        token="<lambda_function_1_name>",
    ),
    Case(
        SE,
        "test_service_task_lambada_data_limit_exceeded_on_large_utf8_response",
        "task_service_lambda_invoke_catch_data_limit_exceeded",
        "large",
        resource="invoke",
        value=FN_INPUT,
    ),
    Case(
        SE,
        "test_service_task_lambada_catch_state_all_data_limit_exceeded_on_large_utf8_response",
        "task_service_lambda_invoke_catch_all",
        "large",
        resource="invoke",
        value=FN_INPUT,
    ),
    Case(
        SE,
        "test_task_lambda_data_limit_exceeded_on_large_utf8_response",
        "task_lambda_invoke_catch_data_limit_exceeded",
        "large",
        value=FN_INPUT,
    ),
    Case(
        SE,
        "test_task_lambda_catch_state_all_data_limit_exceeded_on_large_utf8_response",
        "task_lambda_invoke_catch_all",
        "large",
        value=FN_INPUT,
    ),
    Case(SE, "test_start_large_input", "pass_large_result", None, fills=("x" * (257 * 1024),)),
    Case(BS, "test_lambda_empty_retry", "lambda_empty_retry"),
    Case(
        BS,
        "test_lambda_invoke_with_retry_base",
        "lambda_invoke_with_retry_base",
        value=VALUES,
        token="<lambda_function_1_name>",
    ),
    Case(
        BS,
        "test_lambda_invoke_with_retry_extended_input",
        "lambda_invoke_with_retry_extended_input",
        value=VALUES,
        token="<lambda_function_1_name>",
    ),
    Case(
        BS,
        "test_lambda_service_invoke_with_retry_extended_input",
        "lambda_service_invoke_with_retry_extended_input",
        resource="invoke",
        value={"FunctionName": "{fn}", **VALUES},
        token="<lambda_function_1_name>",
    ),
    Case(BS, "test_retry_interval_features", "retry_interval_features"),
    Case(BS, "test_retry_interval_features_jitter_none", "retry_interval_features_jitter_none"),
    Case(
        BS,
        "test_retry_interval_features_max_attempts_zero",
        "retry_interval_features_max_attempts_zero",
        resource="invoke",
        value={"FunctionName": "{fn}"},
        token="lambda_function_name",
    ),
    Case(BS, "test_catch_states_runtime", "catch_states_runtime", "id", skip=("$..cause",)),
    Case(BS, "test_catch_empty", "catch_empty", "id"),
    *[
        Case(
            LT,
            f"test_invoke_json_values[{test_id}]",
            "lambda_identity",
            "id",
            value=value,
            token="<lambda_function_1_name>",
        )
        for test_id, value in (
            ("None", None),
            ("HelloWorld", "HelloWorld"),
            ("0.0", 0.0),
            ("0_0", 0),
            ("True", True),
            ("json_value5", {}),
            ("json_value6", []),
        )
    ],
]


def with_name(value: Any, fn: str) -> Any:
    if isinstance(value, str):
        return value.replace("{fn}", fn)
    if isinstance(value, dict):
        return {k: with_name(v, fn) for k, v in value.items()}
    return value


def observed(history: dict[str, Any], literals: dict[str, str]) -> Any:
    """Our history, normalised as the snapshots were (§1), with the recorder's fixed tokens put in."""

    def context_times(value: Any) -> Any:
        if isinstance(value, dict):
            fixed = {"StartTime": "<start-time>", "EnteredTime": "<entered-time>"}
            return {k: fixed[k] if k in fixed else context_times(v) for k, v in value.items()}
        return value

    events = []
    for event in history["events"]:
        event = {**event, "timestamp": "timestamp"}
        for key, details in list(event.items()):
            if not key.endswith("EventDetails"):
                continue
            details = dict(details)
            for name, text in details.items():
                if not isinstance(text, str):
                    continue
                text = re.sub(r"Request ID: [^;]+;", "Request ID: <request_id>;", text)
                if text.startswith("{"):
                    text = json.dumps(context_times(json.loads(text)))  # parsed again by the normaliser
                details[name] = text
            event[key] = details
        events.append(event)
    normalize = Normalizer(literals=literals)
    return normalize({"events": events, "ResponseMetadata": history["ResponseMetadata"]})


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.file.removeprefix('test_')}::{c.id}")
def test_execution_history_matches_aws(case: Case, pipemu: Any, time_scale: Any) -> None:
    time_scale(100)
    kit = SfnKit(pipemu)
    fn = arn = ""
    if case.handler is not None:
        fn, arn = kit.function(case.handler)
    fills = list(case.fills) if case.resource == "invoke" or case.handler is None else [arn, *case.fills]
    machine, machine_arn = kit.state_machine(fill(template(case.template), fills))
    execution = f"exec_{uuid.uuid4().hex[:8]}"
    history = kit.run(machine_arn, with_name(case.value, fn), execution)

    literals = {kit.role: "snf_role_arn", machine: "<ArnPart_0idx>", execution: "<ExecArnPart_0idx>"}
    if fn:
        literals[fn] = case.token
    expected = recorded(case.test, file=f"stepfunctions/{case.file}")["get_execution_history"]
    assert_matches(expected, observed(history, literals), skip=case.skip, what=f"{case.test} history")
