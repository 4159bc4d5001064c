"""Seam: Lambda task errors in moto's Step Functions interpreter, shaped as AWS records them
(the Step Functions recordings in tests/conformance/aws-snapshots/stepfunctions).

- A Task whose Resource is a function ARN passes the function's error payload on as the ``Cause`` unchanged: the
  Python runtime writes it with ``", "``/``": "`` separators. moto re-serialises it compactly, which is right only
  for ``arn:aws:states:::lambda:invoke``; we restore the runtime's spacing for the plain-ARN task.
- A plain-ARN task whose input is ``null`` invokes the function with ``null``; moto sends ``{}``.
- ``lambda:invoke`` on a missing function: AWS's cause names the qualified ARN (``...:function:NAME:$LATEST``).
- moto logs every task error (retried and caught ones too) at ERROR with the whole state's repr, kilobytes a
  line; the error is in the execution's history, where pipemu reads it, so that logger is kept quiet.

moto's interpreter is imported by ``install()`` (see ``sfn_time``: importing it builds boto3 sessions).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

TOUCHES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda.StateTaskLambda"
    "._from_error(self, env, ex)",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils"
    ".LambdaFunctionErrorException(function_error, payload)",
    "StateTaskLambda._eval_execution(self, env) (runs in the task's own thread)",
    "lambda_eval_utils.to_payload_type(payload) -> bytes",
    "StateTaskServiceLambda._error_cause_from_client_error(client_error) -> (error, cause) (staticmethod)",
    "logger moto.stepfunctions.parser.asl.component.eval_component",
)
_NOISY_LOGGER = logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component")
_log_level: int | None = None

_originals: dict[str, Callable[..., Any]] = {}
_moto: dict[str, Any] = {}  # the classes and modules patched, imported by install()
_lock = threading.Lock()
_legacy_task = threading.local()  # set while a plain-ARN Lambda task evaluates, in its thread
_UNQUALIFIED_NOT_FOUND = re.compile(r"^(Function not found: arn:[^:]+:lambda:[^:]+:\d+:function:[^:\s]+)(?= \()")


def runtime_spacing(payload: str) -> str:
    """A compact JSON error payload as the Lambda Python runtime writes it (``json.dumps`` defaults)."""
    try:
        return json.dumps(json.loads(payload))
    except (ValueError, RecursionError):
        return payload


def _import_moto() -> dict[str, Any]:
    if not _moto:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_lambda
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

        _moto.update(
            lambda_eval_utils=lambda_eval_utils,
            StateTaskLambda=StateTaskLambda,
            StateTaskServiceLambda=state_task_service_lambda.StateTaskServiceLambda,
        )
    return _moto


def _legacy_from_error(self: Any, env: Any, ex: Exception) -> Any:
    error_class = _moto["lambda_eval_utils"].LambdaFunctionErrorException
    if isinstance(ex, error_class):
        ex = error_class(ex.function_error, runtime_spacing(ex.payload))
    return _originals["legacy_from_error"](self, env, ex)


def _legacy_eval_execution(self: Any, env: Any) -> None:
    _legacy_task.active = True
    try:
        _originals["legacy_eval_execution"](self, env)
    finally:
        _legacy_task.active = False


def _to_payload_type(payload: Any) -> bytes | None:
    if payload is None and getattr(_legacy_task, "active", False):
        return b"null"
    result: bytes | None = _originals["to_payload_type"](payload)
    return result


def _service_error_cause(client_error: Any) -> tuple[str, str]:
    error, cause = _originals["service_error_cause"](client_error)
    if error == "Lambda.ResourceNotFoundException":
        cause = _UNQUALIFIED_NOT_FOUND.sub(r"\1:$LATEST", cause)
    return error, cause


def _quiet_logger(quiet: bool) -> None:
    global _log_level
    if quiet:
        _log_level = _NOISY_LOGGER.level
        _NOISY_LOGGER.setLevel(logging.CRITICAL)
    elif _log_level is not None:
        _NOISY_LOGGER.setLevel(_log_level)
        _log_level = None


def install() -> None:
    moto = _import_moto()
    lambda_eval_utils, StateTaskLambda = moto["lambda_eval_utils"], moto["StateTaskLambda"]
    StateTaskServiceLambda = moto["StateTaskServiceLambda"]
    with _lock:
        if _originals:
            return
        _originals["legacy_from_error"] = StateTaskLambda._from_error
        _originals["legacy_eval_execution"] = StateTaskLambda._eval_execution
        _originals["to_payload_type"] = lambda_eval_utils.to_payload_type
        _originals["service_error_cause"] = StateTaskServiceLambda._error_cause_from_client_error
        _quiet_logger(True)
        setattr(StateTaskLambda, "_from_error", _legacy_from_error)
        setattr(StateTaskLambda, "_eval_execution", _legacy_eval_execution)
        setattr(lambda_eval_utils, "to_payload_type", _to_payload_type)
        setattr(StateTaskServiceLambda, "_error_cause_from_client_error", staticmethod(_service_error_cause))


def uninstall() -> None:
    with _lock:
        if not _originals:
            return
        lambda_eval_utils, StateTaskLambda = _moto["lambda_eval_utils"], _moto["StateTaskLambda"]
        StateTaskServiceLambda = _moto["StateTaskServiceLambda"]
        setattr(StateTaskLambda, "_from_error", _originals.pop("legacy_from_error"))
        setattr(StateTaskLambda, "_eval_execution", _originals.pop("legacy_eval_execution"))
        setattr(lambda_eval_utils, "to_payload_type", _originals.pop("to_payload_type"))
        setattr(StateTaskServiceLambda, "_error_cause_from_client_error",
                staticmethod(_originals.pop("service_error_cause")))
        _quiet_logger(False)
