"""The worker process: one Lambda execution environment running one function's handler, one event at a time.

Started by the runtime as ``python -m emulator.runtime.worker --cmd-fd N --evt-fd M ...`` with an environment
built from scratch (see ``environment.py``) and cwd = the extracted code. It mirrors the AWS lifecycle
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): an init phase that imports the
handler once, then invokes that reuse the module state. An init failure is reported and the process exits, as
the AWS runtime does; the next invocation starts a fresh environment.

Memory: if RLIMIT_AS can be set, the address space is capped at ``memory_mb + MEMORY_BASELINE_MB``. The cap is
virtual memory, not RSS, so the baseline is generous (interpreter, boto3, thread stacks and malloc arenas
reserve far more address space than they touch): it catches runaway allocations, not a handler that is a few
MB over. A ``MemoryError`` escaping the handler then ends the worker with SIGKILL, which is what an
out-of-memory handler gets on AWS ("Runtime exited with error: signal: killed").
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from emulator import guard
from emulator.runtime import faults, protocol
from emulator.runtime.handler import load_handler
from emulator.runtime.worker_io import EventSink, LambdaContext, LogStream, install_logging, set_request_id

MEMORY_BASELINE_MB = 1536


def _become_subreaper() -> None:
    """Orphans of anything the handler starts (a double fork, ``setsid``) are re-parented to this worker instead of
    init, so the runtime finds and ends them with it (prctl(2), PR_SET_CHILD_SUBREAPER; Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def main(argv: list[str]) -> None:
    opts: dict[str, list[str]] = {
        "--cmd-fd": [], "--evt-fd": [], "--drop-path": [], "--add-path": [], "--prestart": []
    }
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        opts[flag].append(value)  # argparse would cost a few ms of every cold start
    cmd_fd, evt_fd = int(opts["--cmd-fd"][0]), int(opts["--evt-fd"][0])
    guard.lock()  # handler code never reaches real AWS from the emulator's runtime, nor turns the guard off
    _become_subreaper()
    reader = protocol.FrameReader()
    if opts["--prestart"]:
        _await_assignment(cmd_fd, reader, opts)
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    _tidy_sys_path(task_root, opts["--drop-path"], opts["--add-path"])
    sys.argv = sys.argv[:1]

    sink = EventSink(evt_fd)
    sys.stdout = LogStream(sink, 1, "<stdout>")
    sys.stderr = LogStream(sink, 2, "<stderr>")
    install_logging(sink)
    memory_capped = _cap_memory()

    handler = _init(sink, task_root, memory_capped)
    sink.send(protocol.READY)
    ensure_ascii = _python_version(os.environ.get("AWS_EXECUTION_ENV", "")) < (3, 12)
    while True:
        frame = _read_frame(cmd_fd, reader)
        if frame is None:  # the runtime closed the pipe: shut down without running user atexit hooks
            os._exit(0)
        _invoke(sink, handler, frame, memory_capped, ensure_ascii)


def _await_assignment(cmd_fd: int, reader: protocol.FrameReader, opts: dict[str, list[str]]) -> None:
    """A pre-started worker (``--prestart boto3``): import what every handler's init would import first, then
    wait until the runtime says which function this process is, and become exactly the process the runtime
    would have started for it: its environment, working directory and command-line flags. The runtime only
    hands out pre-started workers to functions whose code cannot shadow what was imported here and whose
    environment sets nothing the interpreter reads at start-up."""
    for module in opts["--prestart"]:
        with contextlib.suppress(ImportError):  # not installed: the handler would not find it either
            __import__(module)
    frame = _read_frame(cmd_fd, reader)
    if frame is None or frame.kind != protocol.ASSIGN:  # the runtime closed without using this worker
        os._exit(0)
    assignment: protocol.AssignHeader = frame.header  # type: ignore[assignment]
    opts["--drop-path"].append(os.getcwd())  # ``python -m`` put the start directory first on sys.path
    os.environ.clear()
    os.environ.update(assignment["env"])
    time.tzset()
    os.chdir(assignment["cwd"])
    args = assignment["args"]
    for flag, value in zip(args[::2], args[1::2], strict=True):
        opts[flag].append(value)


def _python_version(execution_env: str) -> tuple[int, ...]:
    """``AWS_Lambda_python3.12`` -> (3, 12); the AWS runtime keeps non-ASCII in responses from python3.12
    on."""
    try:
        return tuple(int(p) for p in execution_env.rsplit("python", 1)[1].split("."))
    except (IndexError, ValueError):
        return (3, 12)


def _tidy_sys_path(task_root: str, drop: list[str], add: list[str]) -> None:
    """The handler sees the code dir first, then the host's Python, never the directory pipemu was imported
    from (that was only needed to start this module)."""
    dropped = {os.path.abspath(p) for p in drop} | {os.getcwd(), ""}
    sys.path[:] = [task_root] + [p for p in sys.path if p and os.path.abspath(p) not in dropped] + add
    os.environ.pop("PYTHONPATH", None)


def _cap_memory() -> bool:
    try:
        import resource

        memory_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        limit = (memory_mb + MEMORY_BASELINE_MB) * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        return True
    except (ImportError, ValueError, OSError):  # no RLIMIT_AS on this platform: run uncapped
        return False


def _init(sink: EventSink, task_root: str, memory_capped: bool) -> Callable[..., Any]:
    fault: faults.Fault | None = None
    try:
        return load_handler(os.environ["_HANDLER"], task_root)  # type: ignore[no-any-return]
    except faults.Fault as f:
        fault = f
    except Exception as e:
        if isinstance(e, MemoryError) and memory_capped:
            _die_of_oom(sink)
        hint = f"the module raised it while importing, at {faults.innermost_user_frame(e, task_root)}"
        fault = faults.Fault(type(e).__name__, str(e), faults.user_trace(e.__traceback__), hint=hint)
    import logging

    logging.warning(faults.UNHANDLED_WARNING)
    # AWS reports init errors without a request id: the init phase belongs to no invocation.
    error = faults.make_error(fault.message, fault.error_type, fault.trace, "")
    sink.log(faults.format_error_log(error))
    header: protocol.InitErrorHeader = {"error_type": fault.error_type, "hint": fault.hint}
    sink.send(protocol.INIT_ERROR, header, _dumps(error, ensure_ascii=False))
    os._exit(1)


def _read_frame(fd: int, reader: protocol.FrameReader) -> protocol.Frame | None:
    while True:
        frame = reader.next()
        if frame is not None:
            return frame
        data = os.read(fd, 1 << 20)
        if not data:
            return None
        reader.feed(data)


def _invoke(
    sink: EventSink,
    handler: Callable[..., Any],
    frame: protocol.Frame,
    memory_capped: bool,
    ensure_ascii: bool,
) -> None:
    header: protocol.InvokeHeader = frame.header  # type: ignore[assignment]
    request_id = header["request_id"]
    set_request_id(request_id)
    os.environ["_X_AMZN_TRACE_ID"] = trace_header()
    context = LambdaContext(request_id, header["invoked_function_arn"], header["timeout_ms"], sink)
    started = time.perf_counter()
    error: dict[str, Any] | None = None
    body = b""
    try:
        event = _unmarshal(frame.body)
        _inject(header.get("fault"), header["timeout_ms"])
        body = _marshal(handler(event, context), ensure_ascii)
    except faults.Fault as f:
        error = faults.make_error(f.message, f.error_type, f.trace, request_id)
    except SystemExit as e:  # the AWS runtime does not catch it either: the environment exits
        os._exit(e.code if isinstance(e.code, int) else (0 if e.code is None else 1))
    except Exception as e:
        if isinstance(e, MemoryError) and memory_capped:
            _die_of_oom(sink)
        error = faults.error_from_exception(e, request_id)
    duration_ms = (time.perf_counter() - started) * 1000
    if error is not None:
        sink.log(faults.format_error_log(error))
        body = _dumps(error, ensure_ascii)
    result: protocol.ResultHeader = {
        "ok": error is None,
        "duration_ms": duration_ms,
        "max_rss_mb": _max_rss_mb(),
    }
    sink.send(protocol.RESULT, result, body)


def trace_header() -> str:
    """A fresh X-Ray trace header per invocation, as Lambda sets ``_X_AMZN_TRACE_ID`` (tracing tools such as
    Powertools' Tracer read it): ``Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=0``.
    https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader"""
    root = f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"
    return f"Root={root};Parent={os.urandom(8).hex()};Sampled=0"


class PipemuInjectedFault(Exception):
    """Raised instead of running the handler when a scenario injects a handler error."""


def _inject(fault: protocol.FaultHeader | None, timeout_ms: int) -> None:
    if fault is None:
        return
    if fault["latency_ms"]:
        time.sleep(fault["latency_ms"] / 1000)
    if fault["kind"] == "error":
        raise PipemuInjectedFault("fault injected by the pipemu scenario (handler error)")
    if fault["kind"] == "timeout":
        time.sleep(timeout_ms / 1000 + 60)  # the parent kills us at the timeout
    if fault["kind"] == "crash":
        os.kill(os.getpid(), signal.SIGKILL)


def _unmarshal(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:  # RecursionError: nested past the parser's depth (Python 3.11)
        raise faults.Fault(faults.UNMARSHAL_ERROR, f"Unable to unmarshal input: {e}") from None


def _marshal(value: Any, ensure_ascii: bool) -> bytes:
    """JSON like the AWS runtime: bytes pass through, Decimal is allowed, python3.12+ keeps non-ASCII as
    is."""
    if isinstance(value, bytes):
        return value
    try:
        return _dumps(value, ensure_ascii)
    except Exception as e:
        raise faults.Fault(faults.MARSHAL_ERROR, f"Unable to marshal response: {e}") from None


def _dumps(value: Any, ensure_ascii: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ensure_ascii, default=_json_default).encode()


def _json_default(obj: object) -> object:
    from decimal import Decimal

    if isinstance(obj, Decimal):  # AWS writes the exact digits; int/float is the closest the stdlib gets
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _max_rss_mb() -> int:
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss / (1024 * 1024 if sys.platform == "darwin" else 1024))


def _die_of_oom(sink: EventSink) -> None:
    sink.send(protocol.OOM)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main(sys.argv[1:])
