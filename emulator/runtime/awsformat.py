"""Text the Lambda *service* writes (as opposed to the runtime inside the environment): the platform log lines
around each invocation and the error payloads for a timeout or a dead environment.

- START/END/REPORT: https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
  Billed duration is rounded up to the millisecond and, since August 2025, includes the init phase of
  on-demand functions (the example on that page: 15.74 ms + 130.49 ms init -> "Billed Duration: 147 ms").
- Timeout: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
  payload ``{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: <id> Error: Task timed out after
  3.00 seconds"}`` and the log line ``<time>Z <id> Task timed out after 3.00 seconds``.
- Environment exit: ``Runtime.ExitError`` with ``Runtime exited with error: signal: killed`` /
  ``exit status N`` (Go's ``os.ProcessState`` wording, which the Lambda service uses).
"""

from __future__ import annotations

import json
import math
import signal
import time
import uuid

from emulator.runtime.spec import FunctionSpec

# Go's syscall.Signal strings for the signals a handler is likely to die of.
_GO_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGINT: "interrupt",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGPIPE: "broken pipe",
    signal.SIGHUP: "hangup",
    signal.SIGQUIT: "quit",
    signal.SIGTRAP: "trace/breakpoint trap",
    signal.SIGUSR1: "user defined signal 1",
    signal.SIGUSR2: "user defined signal 2",
    signal.SIGALRM: "alarm clock",
}


def iso_utc(epoch: float) -> str:
    """``2024-01-31T12:00:00.123Z``, the timestamp format of Lambda's own log lines."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def log_stream_name(epoch: float, version: str) -> str:
    """``YYYY/MM/DD/[$LATEST]<32 hex>``: one stream per execution environment."""
    return time.strftime("%Y/%m/%d", time.gmtime(epoch)) + f"/[{version}]{uuid.uuid4().hex}"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(
    fn: FunctionSpec,
    request_id: str,
    duration_ms: float,
    max_memory_mb: int,
    init_duration_ms: float | None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """``status``/``error_type`` add the ``Status: timeout`` / ``Status: error\\tError Type: ...`` fields
    Lambda appends when the environment timed out or died."""
    billed = math.ceil(duration_ms + (init_duration_ms or 0.0))
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {fn.memory_mb} MB\tMax Memory Used: {max_memory_mb} MB"
    )
    if init_duration_ms is not None:
        line += f"\tInit Duration: {init_duration_ms:.2f} ms"
    if status:
        line += f"\tStatus: {status}"
    if error_type:
        line += f"\tError Type: {error_type}"
    return line + "\n"


def timeout_message(timeout_s: float) -> str:
    return f"Task timed out after {timeout_s:.2f} seconds"


def timeout_payload(request_id: str, timeout_s: float) -> bytes:
    message = f"RequestId: {request_id} Error: {timeout_message(timeout_s)}"
    return json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}).encode()


def timeout_log_line(epoch: float, request_id: str, timeout_s: float) -> str:
    return f"{iso_utc(epoch)} {request_id} {timeout_message(timeout_s)}\n"


def exit_reason(returncode: int | None) -> str:
    """Go's wording for how a process ended: ``signal: killed``, ``exit status 3``."""
    if returncode is None:
        return "signal: killed"
    if returncode < 0:
        signum = -returncode
        try:
            name = _GO_SIGNAL_NAMES.get(signal.Signals(signum), f"signal {signum}")
        except ValueError:
            name = f"signal {signum}"
        return f"signal: {name}"
    return f"exit status {returncode}"


def exit_message(request_id: str, returncode: int | None) -> str:
    if returncode == 0:
        return f"RequestId: {request_id} Error: Runtime exited without providing a reason"
    return f"RequestId: {request_id} Error: Runtime exited with error: {exit_reason(returncode)}"


def exit_payload(request_id: str, returncode: int | None) -> bytes:
    return json.dumps(
        {"errorType": "Runtime.ExitError", "errorMessage": exit_message(request_id, returncode)}
    ).encode()


def exit_log_lines(request_id: str, returncode: int | None) -> str:
    return f"{exit_message(request_id, returncode)}\nRuntime.ExitError\n"
