"""Parent side of one worker process: start it, wait for its init, run one invocation at a time, kill it.

Three pipes per worker: commands in, events out (both private, passed with ``pass_fds``), and the process's
real stdout+stderr, which only carries what bypasses ``sys.stdout`` (C extensions, child processes,
interpreter crashes). The invoking thread polls both output pipes itself, so a result is returned the moment
its frame arrives; because a pipe write is in the kernel buffer as soon as ``write()`` returns, one
non-blocking read of the raw pipe after the result collects everything written before it. No extra threads, no
fixed waits.

Workers run in their own session (``start_new_session``; never ``preexec_fn`` or fork, the parent is
multithreaded), so a kill takes down anything the handler spawned too.
"""

from __future__ import annotations

import codecs
import contextlib
import math
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from emulator.runtime import protocol
from emulator.runtime.spec import InjectedFault

OutcomeKind = Literal["ready", "init_error", "ok", "error", "timeout", "crash"]

_DRAIN_AFTER_EXIT_S = 1.0  # bound for reading what a dead worker left in its pipes; normally EOF is immediate


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    logs: str
    duration_ms: float = 0.0  # invocation: handler time; init: spawn-to-ready time
    payload: bytes = b""
    max_memory_mb: int = 0
    returncode: int | None = None  # crash: how the process ended (negative = signal)
    error_type: str = ""  # init_error: the Runtime.* error type
    hint: str = ""  # init_error: what to do about it


class WorkerProcess:
    """``prestart=("boto3",)`` starts a worker for no function yet: it imports those modules and waits for
    ``assign`` (the runtime keeps a few ready; see ``LambdaRuntime``). ``command`` is the worker program
    (default: this Python's ``-m emulator.runtime.worker``); the fd flags are appended to it."""

    def __init__(
        self,
        *,
        generation: str,
        env: Mapping[str, str],
        cwd: Path,
        extra_args: Sequence[str],
        memory_mb: int,
        prestart: Sequence[str] = (),
        command: Sequence[str] = (),
    ) -> None:
        self.generation = generation
        self.log_stream_name = ""  # set by the runtime when the worker becomes a function's environment
        self._memory_mb = memory_mb
        self._max_memory_mb = 0
        cmd_r, cmd_w = os.pipe()
        evt_r, evt_w = os.pipe()
        out_r, out_w = os.pipe()
        argv = [
            *(command or (sys.executable, "-m", "emulator.runtime.worker")),
            "--cmd-fd",
            str(cmd_r),
            "--evt-fd",
            str(evt_w),
        ]
        for module in prestart:
            argv += ["--prestart", module]
        try:
            self._proc = subprocess.Popen(
                [*argv, *extra_args],
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                pass_fds=(cmd_r, evt_w),
                start_new_session=True,
            )
        except BaseException:
            for fd in (cmd_w, evt_r, out_r):
                os.close(fd)
            raise
        finally:
            for fd in (cmd_r, evt_w, out_w):
                os.close(fd)
        self.started = time.monotonic()
        self._cmd, self._evt, self._out = cmd_w, evt_r, out_r
        os.set_blocking(self._cmd, False)
        os.set_blocking(self._out, False)
        self._reader = protocol.FrameReader()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._poller = select.poll()
        self._poller.register(self._evt, select.POLLIN)
        self._poller.register(self._out, select.POLLIN)
        self._out_open = True
        self._closed = False

    @property
    def pid(self) -> int:
        return self._proc.pid

    def assign(
        self, *, generation: str, env: Mapping[str, str], cwd: Path, extra_args: Sequence[str], memory_mb: int
    ) -> None:
        """Make a pre-started worker the one ``WorkerProcess(generation=..., env=..., ...)`` would have started:
        it takes that environment, directory and flags, then loads the handler (``wait_ready`` as usual; init
        is timed from here)."""
        header: protocol.AssignHeader = {"env": dict(env), "cwd": str(cwd), "args": list(extra_args)}
        protocol.write_all(self._cmd, protocol.encode(protocol.ASSIGN, header), time.monotonic() + 5.0)
        self.generation = generation
        self._memory_mb = memory_mb
        self.started = time.monotonic()

    def alive(self) -> bool:
        return not self._closed and self._proc.poll() is None

    def wait_ready(self, timeout_s: float) -> Outcome:
        """The init phase: the worker imports the handler and reports READY or INIT_ERROR (then exits)."""
        logs: list[str] = []
        try:
            frame = self._next_frame(self.started + timeout_s, logs)
        except TimeoutError:
            self.kill()
            self._drain_after_exit(logs)
            return Outcome("timeout", "".join(logs), duration_ms=timeout_s * 1000)
        init_ms = (time.monotonic() - self.started) * 1000
        if frame is None or frame.kind == protocol.OOM:
            return self._crashed(logs, init_ms, oom=frame is not None)
        if frame.kind == protocol.INIT_ERROR:
            self._reap()
            self._drain_after_exit(logs)
            return Outcome(
                "init_error",
                "".join(logs),
                duration_ms=init_ms,
                payload=frame.body,
                error_type=str(frame.header.get("error_type", "")),
                hint=str(frame.header.get("hint", "")),
            )
        self._drain_raw(logs)
        return Outcome("ready", "".join(logs), duration_ms=init_ms)

    def invoke(
        self, request_id: str, payload: bytes, timeout_s: float, invoked_function_arn: str,
        fault: InjectedFault | None = None,
    ) -> Outcome:
        logs: list[str] = []
        self._drain_raw(logs)  # whatever background threads wrote since the last invocation
        started = time.monotonic()
        deadline = started + timeout_s
        header: protocol.InvokeHeader = {
            "request_id": request_id,
            "timeout_ms": int(timeout_s * 1000),
            "invoked_function_arn": invoked_function_arn,
        }
        if fault is not None:
            header["fault"] = {"kind": fault.kind, "latency_ms": fault.latency_ms}
        try:
            protocol.write_all(self._cmd, protocol.encode(protocol.INVOKE, header, payload), deadline)
            frame = self._next_frame(deadline, logs)
        except TimeoutError:
            self.kill()
            self._drain_after_exit(logs)
            return Outcome(
                "timeout", "".join(logs), (time.monotonic() - started) * 1000, b"", self._max_memory_mb
            )
        except BrokenPipeError:
            frame = None
        elapsed_ms = (time.monotonic() - started) * 1000
        if frame is None or frame.kind != protocol.RESULT:
            return self._crashed(logs, elapsed_ms, oom=frame is not None and frame.kind == protocol.OOM)
        if frame.header.get("exiting"):  # the worker ends itself after this result: never reuse it
            self._reap()
        self._drain_raw(logs)
        self._max_memory_mb = int(frame.header.get("max_rss_mb", 0))
        kind: OutcomeKind = "ok" if frame.header.get("ok") else "error"
        duration_ms = float(frame.header.get("duration_ms", elapsed_ms))
        return Outcome(kind, "".join(logs), duration_ms, frame.body, self._max_memory_mb)

    def kill(self) -> None:
        """SIGKILL the worker's whole process group and reap it. Safe to call more than once."""
        if self._proc.returncode is None:
            self._kill_group()
            self._proc.wait()

    def close(self) -> None:
        self.kill()
        if not self._closed:
            self._closed = True
            for fd in (self._cmd, self._evt, self._out):
                os.close(fd)

    def _kill_group(self) -> None:
        """Kill the worker's process group and every descendant, including those that left the group (setsid):
        the worker is their subreaper, so while it lives they are its children; killed first, they cannot be
        re-parented to init. The worker is stopped meanwhile, so it starts nothing new."""
        pid = self._proc.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGSTOP)
        for _ in range(20):  # each pass also catches what a killed child's children were re-parented to
            descendants = _descendants(pid)
            if not descendants:
                break
            for child in descendants:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(child, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)

    def _crashed(self, logs: list[str], elapsed_ms: float, *, oom: bool) -> Outcome:
        returncode = self._reap()
        self._drain_after_exit(logs)
        memory = self._memory_mb if oom else self._max_memory_mb
        return Outcome("crash", "".join(logs), elapsed_ms, b"", memory, returncode=returncode)

    def _reap(self) -> int | None:
        """The event pipe hit EOF: the worker is exiting (or closed the fd itself, so make sure it exits)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=_DRAIN_AFTER_EXIT_S)
        returncode = self._proc.returncode
        self._kill_group()  # leftovers the handler spawned, and the worker itself if it was still running
        self._proc.wait()
        return returncode if returncode is not None else -signal.SIGKILL

    def _next_frame(self, deadline: float, logs: list[str]) -> protocol.Frame | None:
        """The next non-LOG frame; log text goes to ``logs`` in arrival order. None at EOF (worker gone)."""
        while True:
            frame = self._pop_frame(logs)
            if frame is not None:
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready = {fd for fd, _ in self._poller.poll(math.ceil(remaining * 1000))}
            if self._evt in ready:  # frames first: of two writes seen together, the raw one is usually later
                data = os.read(self._evt, 1 << 20)
                if not data:
                    return None
                self._reader.feed(data)
                frame = self._pop_frame(logs)
                if frame is not None:
                    return frame
            if self._out in ready:
                self._drain_raw(logs)

    def _pop_frame(self, logs: list[str]) -> protocol.Frame | None:
        while (frame := self._reader.next()) is not None:
            if frame.kind != protocol.LOG:
                return frame
            logs.append(frame.body.decode("utf-8", "replace"))
        return None

    def _drain_raw(self, logs: list[str]) -> None:
        while self._out_open:
            try:
                data = os.read(self._out, 1 << 16)
            except BlockingIOError:
                return
            if not data:
                self._out_open = False
                self._poller.unregister(self._out)
                logs.append(self._decoder.decode(b"", final=True))
                return
            logs.append(self._decoder.decode(data))

    def _drain_after_exit(self, logs: list[str]) -> None:
        """Read what a dead worker wrote before it died: the rest of its frames and raw output, up to EOF."""
        deadline = time.monotonic() + _DRAIN_AFTER_EXIT_S
        try:
            while self._next_frame(deadline, logs) is not None:
                pass  # a frame after a kill (half a RESULT, READY...) carries nothing we still need
        except TimeoutError:
            pass
        self._drain_raw(logs)


def _descendants(pid: int) -> list[int]:
    """Live (not zombie) descendants of ``pid``, from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                state, ppid = f.read().rsplit(b")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if state != b"Z":
            children.setdefault(int(ppid), []).append(int(entry))
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found
