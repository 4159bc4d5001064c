"""``LambdaRuntime``: runs users' Python handlers the way AWS Lambda does, in local worker processes, no
Docker.

One ``WorkerPool`` per function name; each worker is one execution environment (see ``worker.py``). The Lambda
timeout is enforced here, in wall-clock seconds, because handler code runs at real speed whatever the
scenario's clock scale; the injected clock only dates what the runtime writes (log stream names, the timeout
log line).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from emulator import guard
from emulator.clock import Clock, ScaledClock
from emulator.errors import HandlerError, HarnessError
from emulator.runtime import awsformat, interpreters
from emulator.runtime.codecache import CodeCache
from emulator.runtime.environment import neutral_environment
from emulator.runtime.launch import host_import_path, plan
from emulator.runtime.pool import WorkerPool
from emulator.runtime.process import Outcome, WorkerProcess
from emulator.runtime.spares import PRESTART, SpareWorkers
from emulator.runtime.spec import FunctionSpec, FunctionStats, InjectedFault, InvocationResult
from emulator.runtime.stats import StatsBook

# Lambda gives the init phase 10 s; past that it retries init inside the invocation, under the function
# timeout. https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
INIT_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


class LambdaRuntime:
    """Context manager; ``close()`` kills every worker (also when the block raises). Thread-safe.

    Each function runs on the interpreter its runtime names, or the nearest one installed (see
    ``interpreters.py``; a substitution is logged once per runtime as a warning).

    ``region`` is the emulator's region, kept for callers; a worker's AWS_REGION comes from its
    ``FunctionSpec.region``, as each Lambda function lives in one region. ``work_dir`` (default: a temporary
    directory removed on close) holds the extracted code and the workers' empty HOME."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str = "us-east-1",
        work_dir: Path | None = None,
        max_concurrency_per_function: int = 10,
        clock: Clock | None = None,
        prestarted_workers: int = 2,
    ) -> None:
        if max_concurrency_per_function < 1:
            raise ValueError(f"max_concurrency_per_function must be >= 1, got {max_concurrency_per_function}")
        # Handlers run as this user and can read /proc/<this pid>/environ: blank the host's AWS keys there.
        guard.seal_host_environ()
        self.endpoint_url = endpoint_url
        self.region = region
        self._max_concurrency = max_concurrency_per_function
        self._clock: Clock = clock or ScaledClock()
        self._owns_work_dir = work_dir is None
        self._work_dir = (
            Path(tempfile.mkdtemp(prefix="pipemu-lambda-")) if work_dir is None else Path(work_dir)
        )
        self._home = self._work_dir / "home"
        self._home.mkdir(parents=True, exist_ok=True)
        self._code = CodeCache(self._work_dir / "code")
        self._import_path = host_import_path()
        self._announced: set[str] = set()
        self._lock = threading.Lock()
        self._pools: dict[str, WorkerPool[WorkerProcess]] = {}
        self._stats = StatsBook()
        self._listeners: list[Callable[[FunctionSpec, InvocationResult], None]] = []
        self._in_flight = 0
        self._closed = False
        spare_dir = self._work_dir / "spare"  # an empty working directory until a spare is assigned
        spare_dir.mkdir(exist_ok=True)
        spare_env = neutral_environment(home=self._home, endpoint_url=endpoint_url, import_path=self._import_path)
        self._spares = SpareWorkers(
            prestarted_workers,
            lambda: WorkerProcess(
                generation="", env=spare_env, cwd=spare_dir, extra_args=[], memory_mb=128, prestart=PRESTART
            ),
        )

    def __enter__(self) -> LambdaRuntime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def invoke(
        self, fn: FunctionSpec, payload: bytes, *, request_id: str | None = None, fault: InjectedFault | None = None
    ) -> InvocationResult:
        """Run one invocation and return what Lambda's Invoke API would: the payload, the function error, and
        the log text. Handler failures are results, not exceptions; an unloadable zip raises
        ``HandlerError``."""
        request_id = request_id or str(uuid.uuid4())
        started = time.time()
        pool = self._pool(fn.name)
        worker, cold = pool.acquire(fn.generation(), lambda: self._spawn(fn))
        reusable = False
        try:
            with self._counting():
                init: Outcome | None = None
                if cold:
                    init = worker.wait_ready(INIT_TIMEOUT_S + fn.timeout_s)
                    self._spares.refill()
                if init is not None and init.kind != "ready":
                    result = self._init_failure(fn, request_id, init)
                    outcome = init
                else:
                    outcome = worker.invoke(request_id, payload, fn.timeout_s, fn.arn, fault)
                    reusable = outcome.kind in ("ok", "error")
                    result = self._result(fn, request_id, outcome, init)
        finally:
            pool.release(worker, reusable=reusable)
        result = dataclasses.replace(result, log_stream=worker.log_stream_name, started=started)
        if self._closed:
            raise HarnessError(
                f"the Lambda runtime was closed while {fn.name!r} was running (request {request_id})"
            )
        self._stats.record(
            fn.name, result, timed_out=outcome.kind == "timeout", crashed=outcome.kind == "crash"
        )
        for listener in list(self._listeners):
            listener(fn, result)
        return result

    def on_invocation(self, listener: Callable[[FunctionSpec, InvocationResult], None]) -> Callable[[], None]:
        """Call ``listener(fn, result)`` after every invocation (in the invoking thread: keep it quick);
        returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def check_handler(self, fn: FunctionSpec, *, workers: int = 1) -> None:
        """Start (or find) ``workers`` warm workers for ``fn``, initialising in parallel; raise
        ``HandlerError`` if its handler cannot be loaded. They stay warm, like provisioned concurrency: the
        next invocations are not cold starts."""
        pool = self._pool(fn.name)
        held: list[tuple[WorkerProcess, bool]] = []
        ready: dict[int, bool] = {}
        try:
            for _ in range(max(1, min(workers, self._max_concurrency))):
                worker, fresh = pool.acquire(fn.generation(), lambda: self._spawn(fn))
                held.append((worker, fresh))
                ready[id(worker)] = not fresh
            for worker, fresh in held:
                if fresh:
                    init = worker.wait_ready(INIT_TIMEOUT_S + fn.timeout_s)
                    self._spares.refill()
                    ready[id(worker)] = init.kind == "ready"
                    self._stats.record_init(fn.name)
                    if init.kind != "ready":
                        raise _handler_error(fn, init)
        finally:
            for worker, _ in held:
                pool.release(worker, reusable=ready[id(worker)])

    def prestart_workers(self) -> None:
        """Start the pre-started workers now, in the background (see ``spares.py``): call it once the emulator
        is up, so they start while the pipeline deploys."""
        self._spares.refill()

    def stats(self) -> dict[str, FunctionStats]:
        return self._stats.snapshot()

    def in_flight(self) -> int:
        """Invocations holding a worker right now (starting it included), across all functions."""
        with self._lock:
            return self._in_flight

    def close(self, timeout_s: float = 10.0) -> None:
        """Kill every worker (busy ones too), then wait at most ``timeout_s`` in all for the invoking threads to
        hand theirs back, and remove the handler copies."""
        until = time.monotonic() + timeout_s
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pools = list(self._pools.values())
        for pool in pools:  # killed first: the spares' wait below must not let a hanging handler run on
            pool.close()
        self._spares.close(timeout_s=min(5.0, timeout_s))
        for pool in pools:
            pool.wait_idle(timeout_s=max(0.0, min(5.0, until - time.monotonic())))
        if self._owns_work_dir:
            shutil.rmtree(self._work_dir, ignore_errors=True)

    def _pool(self, name: str) -> WorkerPool[WorkerProcess]:
        with self._lock:
            if self._closed:
                raise HarnessError(
                    f"the Lambda runtime is closed; cannot run {name!r}",
                    hint="use the runtime inside its `with LambdaRuntime(...)` block",
                )
            pool = self._pools.get(name)
            if pool is None:
                pool = self._pools[name] = WorkerPool(name, self._max_concurrency)
            return pool

    @contextmanager
    def _counting(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _spawn(self, fn: FunctionSpec) -> WorkerProcess:
        interpreter = interpreters.resolve(fn.runtime)
        self._announce(interpreter)
        log_stream = awsformat.log_stream_name(self._clock.now(), fn.version)
        task_root = self._code.task_root(fn.name, fn.code_sha256, fn.code_zip)
        launch = plan(
            fn,
            interpreter,
            task_root=task_root,
            home=self._home,
            endpoint_url=self.endpoint_url,
            log_stream_name=log_stream,
        )
        spare = self._spares.take(fn.environment, task_root) if interpreter.host else None
        if spare is not None:
            try:
                spare.assign(
                    generation=fn.generation(), env=launch.env, cwd=task_root, extra_args=launch.args,
                    memory_mb=fn.memory_mb,
                )
                spare.log_stream_name = log_stream
                return spare
            except (OSError, TimeoutError):  # it died waiting: start one as usual
                spare.close()
        try:
            worker = WorkerProcess(
                generation=fn.generation(), env=launch.env, cwd=task_root, extra_args=launch.args,
                memory_mb=fn.memory_mb, command=launch.command,
            )
            worker.log_stream_name = log_stream
            return worker
        except OSError as e:
            raise HarnessError(f"could not start a worker process for {fn.name!r}: {e}") from e

    def _announce(self, interpreter: interpreters.Interpreter) -> None:
        with self._lock:
            if not interpreter.note or interpreter.runtime in self._announced:
                return
            self._announced.add(interpreter.runtime)
        log.warning("%s", interpreter.note)

    def _result(
        self, fn: FunctionSpec, request_id: str, outcome: Outcome, init: Outcome | None
    ) -> InvocationResult:
        init_ms = init.duration_ms if init is not None else None
        body = outcome.logs
        status = error_type = None
        if outcome.kind == "timeout":
            payload = awsformat.timeout_payload(request_id, fn.timeout_s)
            body = _line_end(body) + awsformat.timeout_log_line(self._clock.now(), request_id, fn.timeout_s)
            status = "timeout"
        elif outcome.kind == "crash":
            payload = awsformat.exit_payload(request_id, outcome.returncode)
            body = _line_end(body) + awsformat.exit_log_lines(request_id, outcome.returncode)
            status, error_type = "error", "Runtime.ExitError"
        else:
            payload = outcome.payload
        logs = (
            (init.logs if init is not None else "")
            + awsformat.start_line(request_id, fn.version)
            + _line_end(body)
            + awsformat.end_line(request_id)
            + awsformat.report_line(
                fn, request_id, outcome.duration_ms, outcome.max_memory_mb, init_ms, status, error_type
            )
        )
        return InvocationResult(
            request_id=request_id,
            payload=payload,
            function_error=None if outcome.kind == "ok" else "Unhandled",
            logs=logs,
            duration_ms=outcome.duration_ms,
            init_duration_ms=init_ms,
            cold_start=init is not None,
        )

    def _init_failure(self, fn: FunctionSpec, request_id: str, init: Outcome) -> InvocationResult:
        """The handler could not be loaded (or init crashed / ran out of time): AWS answers the invocation
        with the init error, and the next invocation tries a fresh environment."""
        if init.kind == "init_error":
            payload, status, error_type = init.payload, "error", init.error_type
        elif init.kind == "timeout":
            payload, status, error_type = awsformat.timeout_payload(request_id, fn.timeout_s), "timeout", None
        else:
            payload, status = awsformat.exit_payload(request_id, init.returncode), "error"
            error_type = "Runtime.ExitError"
        logs = _line_end(init.logs)
        if init.kind == "crash":
            logs += awsformat.exit_log_lines(request_id, init.returncode)
        logs += (
            awsformat.start_line(request_id, fn.version)
            + awsformat.end_line(request_id)
            + awsformat.report_line(
                fn, request_id, 0.0, init.max_memory_mb, init.duration_ms, status, error_type
            )
        )
        return InvocationResult(request_id, payload, "Unhandled", logs, 0.0, init.duration_ms, True)


def _line_end(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _handler_error(fn: FunctionSpec, init: Outcome) -> HandlerError:
    where = f"function {fn.name!r}: handler {fn.handler!r}"
    if init.kind == "init_error":
        error = json.loads(init.payload)
        return HandlerError(
            f"{where} cannot be loaded: {error['errorType']}: {error['errorMessage']}", hint=init.hint
        )
    if init.kind == "timeout":
        return HandlerError(
            f"{where} cannot be loaded: importing it took longer than {init.duration_ms / 1000:.1f}s",
            hint="move slow work out of module import, or check what the module waits for at import time",
        )
    tail = "\n".join(init.logs.strip().splitlines()[-15:]) or "(no output)"
    return HandlerError(
        f"{where} cannot be loaded: the worker exited during init "
        f"({awsformat.exit_reason(init.returncode)}); its last output:\n{tail}",
        hint="the module ends the process while importing (os._exit, sys.exit, a crash in a C extension)",
    )
