"""Seam: how moto's Step Functions interpreter starts executions.

- An execution's name is checked as AWS does (InvalidName, NameTooLongException over 80 characters); moto checks it
  only when execution is off.
- An execution started without a name gets a UUID, as on AWS. moto's interpreter names it ``None``: the second
  unnamed execution of a state machine then fails with ExecutionAlreadyExists (or returns the first one).
- ``StartExecution`` on ``<state machine ARN>#<test case>`` runs the execution against that test case of the mock
  configuration set with ``set_mock_config`` (Step Functions Local's convention). moto's interpreter has the mocked
  path (``Environment.mock_test_case``, used by ``lambda_eval_utils`` and the other integrations) but never loads a
  configuration; we build its ``MockTestCase`` and hand it to the execution's worker.
- DescribeExecution answers ``output`` as JSON text also when the output is a JSON string (moto sends the bare
  string), and ``stopDate`` also for a TIMED_OUT execution.
- CreateStateMachine refuses a definition that uses JSONata: moto's interpreter has no JSONata engine and would
  fail each execution with an internal TypeError; refusing at deploy says so where the user can act on it. A
  refused definition answers with the error code ``InvalidDefinition`` (moto's interpreter sends an empty code).

moto's interpreter is imported by ``install()`` (see ``sfn_time``: importing it builds boto3 sessions).
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.core.exceptions import AWSError
from moto.stepfunctions.exceptions import ValidationException

if TYPE_CHECKING:
    from emulator.stepfunctions.mocks import MockConfig

TOUCHES = (
    "moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution"
    "(self, state_machine_arn, name=None, execution_input=None, trace_header=None)",
    "moto.stepfunctions.parser.backend.execution.Execution._get_start_execution_worker(self)",
    "moto.stepfunctions.models.StepFunctionBackend._validate_name(self, name) (InvalidName, NameTooLongException)",
    "ExecutionWorker._mock_test_case",
    "moto.stepfunctions.parser.mocking.mock_config.{MockTestCase,StateMockedResponses,MockedResponseReturn,"
    "MockedResponseThrow}",
    "moto.stepfunctions.responses.StepFunctionResponse.describe_execution(self) -> ActionResult(.result: dict)",
    "Execution.{output,exec_status,stop_date}",
    "StepFunctionsParserBackend._validate_definition(definition) (staticmethod)",
)

_originals: dict[str, Callable[..., Any]] = {}
_moto: dict[str, Any] = {}  # the classes patched or built, imported by install()
_config: MockConfig | None = None
_starting = threading.local()  # the test case of the execution this thread is starting
_lock = threading.Lock()


def set_mock_config(config: MockConfig | None) -> MockConfig | None:
    """Use ``config`` for executions started on ``ARN#TestCase``; returns the previous one."""
    global _config
    previous, _config = _config, config
    return previous


def _import_moto() -> dict[str, Any]:
    if not _moto:
        from moto.stepfunctions.parser import api, models
        from moto.stepfunctions.parser.backend import execution
        from moto.stepfunctions.parser.mocking import mock_config
        from moto.stepfunctions.responses import StepFunctionResponse

        _moto.update(
            Execution=execution.Execution, StepFunctionsParserBackend=models.StepFunctionsParserBackend,
            StepFunctionResponse=StepFunctionResponse, InvalidDefinition=api.InvalidDefinition,
            MockTestCase=mock_config.MockTestCase, StateMockedResponses=mock_config.StateMockedResponses,
            MockedResponseReturn=mock_config.MockedResponseReturn, MockedResponseThrow=mock_config.MockedResponseThrow,
        )
    return _moto


def plain_lambda_states(definition: str) -> set[str]:
    """Names of the Task states (at any depth: Parallel branches, Map processors) whose Resource is a Lambda
    function's ARN itself rather than an ``arn:aws:states:::lambda:invoke`` integration."""
    found: set[str] = set()

    def walk(machine: Any) -> None:
        for name, state in (machine.get("States") or {}).items() if isinstance(machine, dict) else ():
            if not isinstance(state, dict):
                continue
            if state.get("Type") == "Task" and str(state.get("Resource", "")).startswith("arn:aws:lambda:"):
                found.add(name)
            for branch in state.get("Branches") or []:
                walk(branch)
            walk(state.get("ItemProcessor") or state.get("Iterator") or {})

    # moto refused a definition that is not JSON at create already; one nested past the parser's depth has no
    # Lambda task pipemu could find either
    with contextlib.suppress(ValueError, RecursionError):
        walk(json.loads(definition))
    return found


def _invoke_response(returns: Any) -> Any:
    """A plain-ARN Lambda task's mocked Return: Step Functions Local takes the function's result as is, or an
    Invoke response (``{"StatusCode": 200, "Payload": ...}``); moto's interpreter reads ``Payload`` from it."""
    if isinstance(returns, dict) and "Payload" in returns and "StatusCode" in returns:
        return returns
    return {"StatusCode": 200, "Payload": returns}


def _moto_test_case(machine: str, test_case: str, plain_lambda: frozenset[str] | set[str] = frozenset()) -> Any:
    config = _config
    if config is None:
        raise ValidationException(
            f"Invalid test case '{test_case}' for state machine '{machine}': no mock configuration is loaded "
            "(start the emulator with `pipemu up --mock-config MockConfigFile.json`, or set SFN_MOCK_CONFIG)"
        )
    try:
        states = config.test_case(machine, test_case)
    except KeyError as exc:
        raise ValidationException(f"Invalid test case '{test_case}': {exc.args[0]}") from None
    per_state = []
    for state, attempts in states.items():
        responses = [
            _moto["MockedResponseThrow"](a.first, a.last, error=str(a.error), cause=str(a.cause or ""))
            if a.throws
            else _moto["MockedResponseReturn"](
                a.first, a.last, payload=_invoke_response(a.returns) if state in plain_lambda else a.returns
            )
            for a in attempts
        ]
        name = config.test_cases[machine][test_case][state]
        per_state.append(_moto["StateMockedResponses"](state, name, responses))
    return _moto["MockTestCase"](machine, test_case, per_state)


def _start_execution(
    self: Any,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: str | None = None,
    trace_header: str | None = None,
) -> Any:
    arn, _, test_case = state_machine_arn.partition("#")
    if name:
        self._validate_name(name)  # AWS's rules (length <= 80, no whitespace or special characters), as moto's
        # plain backend checks them; its interpreter's backend does not
    mock = None
    if test_case:
        machine = self.describe_state_machine(arn)  # StateMachineDoesNotExist first, as for a plain ARN
        mock = _moto_test_case(arn.split(":")[6], test_case, plain_lambda_states(str(machine.definition)))
    _starting.mock = mock
    try:
        return _originals["start"](self, arn, name or str(uuid.uuid4()), execution_input, trace_header)
    finally:
        _starting.mock = None


def _start_worker(self: Any) -> Any:
    worker = _originals["worker"](self)
    mock = getattr(_starting, "mock", None)
    if mock is not None:
        worker._mock_test_case = mock
    return worker


def _describe_execution(self: Any) -> Any:
    result = _originals["describe"](self)
    body = result.result
    execution = self.stepfunction_backend.describe_execution(body["executionArn"])
    if isinstance(execution, _moto["Execution"]):  # the interpreter's execution: output is a value, not JSON text
        if body.get("status") == "SUCCEEDED":
            body["output"] = json.dumps(execution.output, separators=(",", ":"))
        if execution.stop_date is not None:
            body["stopDate"] = execution.stop_date
    return result


class _InvalidDefinition(AWSError):
    TYPE = "InvalidDefinition"
    STATUS = 400


def _uses_jsonata(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get("QueryLanguage") == "JSONata" or any(_uses_jsonata(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_jsonata(v) for v in value)
    return False


def jsonata_used(definition: str) -> bool:
    """Whether a definition asks for JSONata anywhere; False for one that is not JSON or nests past the parser's
    depth (moto's own parser answers those, as on stock moto)."""
    try:
        return _uses_jsonata(json.loads(definition))
    except (ValueError, RecursionError):
        return False


def _validate_definition(definition: str) -> None:
    if jsonata_used(definition):
        raise _InvalidDefinition(
            "QueryLanguage JSONata is not supported by pipemu's embedded backend (moto's interpreter has no JSONata "
            "engine): use JSONPath, or run this state machine on LocalStack or AWS"
        )
    try:
        _originals["validate"](definition)
    except _moto["InvalidDefinition"] as exc:
        raise _InvalidDefinition(str(exc.message)) from None


def install() -> None:
    moto = _import_moto()
    Execution, Backend = moto["Execution"], moto["StepFunctionsParserBackend"]
    StepFunctionResponse = moto["StepFunctionResponse"]
    with _lock:
        if _originals:
            return
        _originals["start"] = Backend.start_execution
        _originals["worker"] = Execution._get_start_execution_worker
        _originals["describe"] = StepFunctionResponse.describe_execution
        _originals["validate"] = Backend._validate_definition
        setattr(Backend, "_validate_definition", staticmethod(_validate_definition))
        setattr(Backend, "start_execution", _start_execution)
        setattr(Execution, "_get_start_execution_worker", _start_worker)
        setattr(StepFunctionResponse, "describe_execution", _describe_execution)


def uninstall() -> None:
    global _config
    with _lock:
        _config = None
        if not _originals:
            return
        Execution, Backend = _moto["Execution"], _moto["StepFunctionsParserBackend"]
        StepFunctionResponse = _moto["StepFunctionResponse"]
        setattr(Backend, "start_execution", _originals.pop("start"))
        setattr(Execution, "_get_start_execution_worker", _originals.pop("worker"))
        setattr(StepFunctionResponse, "describe_execution", _originals.pop("describe"))
        setattr(Backend, "_validate_definition", staticmethod(_originals.pop("validate")))
