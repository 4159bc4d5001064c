"""Worker side: failures turned into the AWS Python runtime's error payloads (``handler`` loads the handler).

Error types, messages and payload shape follow the AWS runtime interface client (awslambdaric
``bootstrap.py``) and https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html : the payload is
``{"errorMessage", "errorType", "requestId", "stackTrace"}`` in that order, and the log line is
``[ERROR] <type>: <message>`` followed by the traceback with leading spaces turned into no-break spaces.
"""

from __future__ import annotations

import os
import traceback
from types import TracebackType
from typing import Any

IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"

# AWS logs this before an init failure.
UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, "
    "in rare cases, a Lambda runtime update can cause unexpected function behavior. For functions using "
    "managed runtimes, runtime updates can be triggered by a function change, or can be applied "
    "automatically. To determine if the runtime has been updated, check the runtime version in the "
    "INIT_START log entry. If this error correlates with a change in the runtime version, you may be able "
    "to mitigate this error by temporarily rolling back to the previous runtime version. For more "
    "information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)

_OUR_FILES = (os.path.dirname(os.path.abspath(__file__)) + os.sep,)


class Fault(Exception):
    """A failure the runtime reports with a fixed ``Runtime.*`` error type, plus a hint for pipemu's own
    error."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []
        self.hint = hint


def make_error(message: str, error_type: str, trace: list[str], request_id: str) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": trace}


def user_trace(tb: TracebackType | None) -> list[str]:
    """Traceback lines without the leading frames of the runtime itself, formatted like awslambdaric (from
    plain tuples, so without the 3.11 ``^^^`` markers)."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    while frames and os.path.abspath(frames[0][0]).startswith(_OUR_FILES):
        frames.pop(0)
    # Show the deployment package where AWS has it, /var/task, so traces match what AWS reports.
    root = os.path.abspath(os.environ.get("LAMBDA_TASK_ROOT", "/var/task")) + os.sep
    frames = [("/var/task/" + f[0][len(root):] if f[0].startswith(root) else f[0], *f[1:]) for f in frames]
    return traceback.format_list(frames)  # type: ignore[arg-type]  # accepts tuples at runtime


def innermost_user_frame(exc: BaseException, task_root: str) -> str:
    """``/task/app.py:5 (TABLE = os.environ[...])``: the deepest frame inside the deployment package."""
    frames = traceback.extract_tb(exc.__traceback__)
    root = os.path.abspath(task_root) + os.sep
    mine = [f for f in frames if os.path.isabs(f.filename) and f.filename.startswith(root)] or frames[-1:]
    if not mine:
        return "an unknown location"
    frame = mine[-1]
    return f"{frame.filename}:{frame.lineno} ({(frame.line or '').strip()})"


def error_from_exception(exc: BaseException, request_id: str) -> dict[str, Any]:
    return make_error(str(exc), type(exc).__name__, user_trace(exc.__traceback__), request_id)


def format_error_log(error: dict[str, Any]) -> str:
    """The ``[ERROR]`` log entry AWS writes for a failed invocation or init."""
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        head += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        for line in element.splitlines() or [""]:
            stripped = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    return "\n".join(lines) + "\n"
