"""The default backend: moto in-process as the AWS API and store, pipemu's runtime runs Lambda code and
pipemu's pollers drive event source mappings. No Docker.

    with EmbeddedBackend() as backend:
        s3 = backend.client("s3")
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from emulator import guard, hostenv
from emulator.backends import control_api
from emulator.backends.base import (
    DEFAULT_REGION,
    Capabilities,
    InvocationRecord,
    client_env,
    close_clients,
    make_client,
)
from emulator.backends.log_shipper import LogShipper
from emulator.backends.moto_seams import (
    docker_free,
    dynamodb_streams,
    esm_control,
    http_server,
    iam_authorize,
    kinesis_fast_put,
    kinesis_store,
    lambda_invoke,
    lambda_logs,
    s3_arrivals,
    server_dispatch,
    service_models,
    sfn_cloudformation,
    sfn_config,
    sfn_executions,
    sfn_tasks,
    sfn_time,
)
from emulator.clock import ScaledClock
from emulator.errors import EmulatorDied, HarnessError
from emulator.esm.core.destinations import Boto3FailureSink
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.manager import EsmManager
from emulator.esm.core.stats import MappingObserver
from emulator.observe.api_meter import ApiMeter
from emulator.runtime import FunctionSpec, InjectedFault, InvocationResult, LambdaRuntime
from emulator.security.audit import CallAudit

log = logging.getLogger(__name__)

__all__ = ["EmbeddedBackend", "InvocationRecord", "free_port"]

RELEASE_S = 1.5  # Ctrl-C or SIGTERM: the waits of stop() together; the README promises everything gone in 2 s

_active: EmbeddedBackend | None = None
_active_lock = threading.Lock()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Router:
    """Where the Lambda seam sends invocations: the runtime, synchronously or in the background."""

    def __init__(self, backend: EmbeddedBackend) -> None:
        self._backend = backend
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="pipemu-async-invoke")
        self._pending: set[Future[InvocationResult]] = set()
        self._lock = threading.Lock()

    def invoke_sync(self, fn: FunctionSpec, payload: bytes) -> InvocationResult:
        return self._backend.invoke_function(fn, payload)

    def invoke_async(self, fn: FunctionSpec, payload: bytes) -> None:
        future = self._executor.submit(self._backend.invoke_function, fn, payload)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[InvocationResult]) -> None:
        with self._lock:
            self._pending.discard(future)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class _RuntimeInvoker:
    """ESM pollers call the runtime directly: same function lookup as the Invoke API, no HTTP."""

    def __init__(self, backend: EmbeddedBackend) -> None:
        self._backend = backend

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        try:
            fn = lambda_invoke.function_spec(lambda_invoke.find_function(function_arn))
        except Exception as exc:  # function deleted under a live mapping: an error before it ran
            return InvokeOutcome(
                payload=b"",
                function_error=None,
                status_code=404,
                invoked=False,
                error_code=type(exc).__name__,
            )
        result = self._backend.invoke_function(fn, payload)
        return InvokeOutcome(
            payload=result.payload,
            function_error=result.function_error,
            status_code=200,
            request_id=result.request_id,
        )

    def role_arn(self, function_arn: str) -> str:
        return str(lambda_invoke.find_function(function_arn).role)


class EmbeddedBackend:
    """A ``DrivenBackend`` (see ``base``)."""

    name = "embedded"
    resource_prefix = ""
    capabilities = Capabilities(
        time_scale=True,
        fault_injection=True,
        mocked_state_machines=True,
        runs_lambda=True,
        runs_event_source_mappings=True,
    )

    def __init__(
        self,
        *,
        region: str = DEFAULT_REGION,
        time_scale: float = 1.0,
        port: int | None = None,
        work_dir: Path | None = None,
        observer: MappingObserver | None = None,
        max_invocation_records: int = 10_000,
    ) -> None:
        self.region = region
        self.clock = ScaledClock(time_scale)
        self._port = port
        self._work_dir = work_dir
        self._observer = observer
        self._server: Any = None
        self.endpoint_url = ""
        self.runtime: LambdaRuntime | None = None
        self.esm: EsmManager | None = None
        self.logs: LogShipper | None = None
        self._router: _Router | None = None
        self.invocations: deque[InvocationRecord] = deque(maxlen=max_invocation_records)
        self._s3_listeners: list[s3_arrivals.Listener] = []
        self._handler_faults: Callable[[str], InjectedFault | None] | None = None
        self._started = False
        self._redeploy: Callable[[], None] | None = None
        self._sfn_configured_by_client = False
        self.pipeline_info: dict[str, Any] = {}  # what `pipemu up` deployed, shown by /_pipemu/health
        self.meter: ApiMeter | None = ApiMeter()  # AWS API requests as AWS bills them, counted while a run is metered
        self.audit: CallAudit | None = CallAudit()  # each function's calls, authorised by its role (iam_authorize)

    # -- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> EmbeddedBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # Ctrl-C or SIGTERM: everything is released within the budget the README promises, hanging handlers too.
        interrupted = isinstance(exc[1] if len(exc) > 1 else None, KeyboardInterrupt)
        self.stop(timeout_s=RELEASE_S if interrupted else None)

    def start(self) -> EmbeddedBackend:
        global _active
        with _active_lock:
            if _active is not None:
                raise HarnessError(
                    "an embedded backend is already running in this process",
                    hint="moto keeps its state per process: reuse the running backend (reset() between tests) "
                    "or stop it first",
                )
            _active = self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        guard.install()  # the harness itself never reaches real AWS with this backend
        hostenv.hide_host_profile()  # see emulator/hostenv.py
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = self._port or free_port()
        server_dispatch.install()
        service_models.install()
        # Step Functions seams import moto's ASL interpreter (~0.6 s): loaded before the first Step Functions
        # request reaches moto, so pipelines without state machines never pay for it.
        self._server = http_server.MotoHttpServer(
            "127.0.0.1",
            port,
            before_first={"stepfunctions": self._install_sfn_seams},
            fast_paths=dict.fromkeys(kinesis_fast_put.TARGETS, kinesis_fast_put.answer),
            wrap=lambda app: control_api.ControlApi(app, self),
            meter=self.meter,
        )
        docker_free.install()
        try:
            self._server.start()
        except OSError as exc:
            raise HarnessError(
                f"could not start moto on 127.0.0.1:{port}: {exc}",
                hint="pass another port or let pipemu pick a free one",
            ) from exc
        self._started = True
        self.endpoint_url = f"http://127.0.0.1:{port}"
        os.environ["MOTO_PORT"] = str(port)  # moto's Step Functions interpreter calls Lambda here
        self.runtime = LambdaRuntime(
            endpoint_url=self.endpoint_url, region=self.region, work_dir=self._work_dir
        )
        self.logs = LogShipper(lambda_logs.InProcessLogSink())
        self.runtime.on_invocation(self.logs.record)
        lambda_logs.install(self.logs.created)
        self._router = _Router(self)
        lambda_invoke.install(self._router)
        sfn_config.install()
        sfn_cloudformation.install()
        invoker = _RuntimeInvoker(self)

        self.esm = EsmManager(
            lambda_client=self.client("lambda"),
            clients=self.client,
            # same answers as GetRecords, without HTTP
            readers={"kinesis": kinesis_store.InProcessShardSource,
                     "dynamodb": dynamodb_streams.InProcessDynamoDBStreamSource},
            invoker=invoker,
            sink=Boto3FailureSink(self.client),
            clock=self.clock,
            region=self.region,
            observer=self._observer,
            processing_result=esm_control.set_last_processing_result,
        )
        esm_control.install(self.esm.notify)
        kinesis_store.install(lambda _arn, _shards: self._wake_pollers())  # pollers wake on put, not on a timer
        dynamodb_streams.install(lambda _arn: self._wake_pollers())
        s3_arrivals.install(self._on_s3_put)
        if self.audit is not None:
            iam_authorize.install(self.audit.decide)  # each function's calls under its own role
        # moto keeps its store per process: a backend started after another one (run_scenario called twice)
        # would see the first one's streams and queues. Each backend starts empty.
        self.reset()
        self.esm.start()
        self.runtime.prestart_workers()  # interpreters with boto3 loaded, ready by the time deploy ends

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop everything; with ``timeout_s``, every wait for a thread together stays within it (a thread still
        running after that is a daemon and ends with the process). The runtime closes while the pollers stop:
        killing the workers ends a hanging invocation, which a poller would otherwise wait for."""
        global _active
        until = time.monotonic() + (timeout_s if timeout_s is not None else 30.0)

        def left(most: float) -> float:
            return max(0.0, min(most, until - time.monotonic()))

        try:
            if self.esm is not None:
                self.esm.halt()
            if self._router is not None:
                self._router.close()
            if self.runtime is not None:
                self.runtime.close(timeout_s=left(10.0))
            if self.esm is not None:
                self.esm.stop(timeout_s=left(15.0))
            esm_control.uninstall()
            kinesis_store.uninstall()
            dynamodb_streams.uninstall()
            server_dispatch.uninstall()
            service_models.uninstall()
            docker_free.uninstall()
            s3_arrivals.uninstall()
            lambda_invoke.uninstall()
            lambda_logs.uninstall()
            sfn_config.uninstall()
            sfn_cloudformation.uninstall()
            sfn_time.uninstall()
            sfn_executions.uninstall()
            sfn_tasks.uninstall()
            iam_authorize.uninstall()
            if self.logs is not None:
                self.logs.close(timeout_s=left(5.0))
            if self._server is not None and self._started:
                self._server.stop()
            if self.endpoint_url:
                close_clients(self.endpoint_url)
        finally:
            self._started = False
            self._server = None
            with _active_lock:
                if _active is self:
                    _active = None

    def reset(self) -> None:
        """Delete every resource and mapping; keep the server, runtime and warm workers' code cache.
        Goes through moto's reset endpoint, which ``control_api`` wraps in ``control_reset``."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    # -- pipemu's own endpoints (control_api) ----------------------------------------------------------
    def control_reset(self, moto_reset: Callable[[], None]) -> None:
        """Stop the pollers, run ``moto_reset`` (which empties moto's store) while no sync can start, so no
        poller reads a stream that is going away; then the per-process settings moto's reset dropped. Log lines
        recorded before the reset are written first, so none of them lands in the store after it was emptied."""
        if self.logs is not None:
            self.logs.flush()
        if self.esm is not None:
            self.esm.reset(moto_reset)
        else:
            moto_reset()
        if not self._sfn_configured_by_client:
            sfn_config.install()
        self.invocations.clear()
        if self.audit is not None:
            self.audit.clear()

    def client_configured(self, section: str) -> None:
        """A client set moto's ``section`` config through ``/moto-api/config``: resets keep its choice."""
        if section == "stepfunctions":
            self._sfn_configured_by_client = True

    def set_redeploy(self, redeploy: Callable[[], None] | None, pipeline: dict[str, Any]) -> None:
        """What ``POST /_pipemu/reset`` deploys again after the reset (``pipemu up``'s pipeline)."""
        self._redeploy, self.pipeline_info = redeploy, pipeline

    def redeploy(self) -> None:
        if self._redeploy is not None:
            self._redeploy()

    def health(self) -> dict[str, Any]:
        esm, runtime = self.esm, self.runtime
        functions = {
            name: {"invocations": s.invocations, "cold_starts": s.cold_starts, "errors": s.errors}
            for name, s in (runtime.stats() if runtime is not None else {}).items()
        }
        return control_api.health(
            self.client,
            endpoint_url=self.endpoint_url,
            region=self.region,
            pipeline=self.pipeline_info,
            functions=functions,
            mapping_stats={u: s.as_dict() for u, s in (esm.stats() if esm is not None else {}).items()},
            running=esm.running() if esm is not None else set(),
            errors=[repr(e) for e in (esm.poller_errors() if esm is not None else [])],
        )

    # -- clients ---------------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        return make_client(service, endpoint_url=self.endpoint_url, region=self.region)

    def _install_sfn_seams(self) -> None:
        sfn_time.install(self.clock)  # Step Functions: Wait/Retry on our clock, task errors as AWS
        sfn_executions.install()
        sfn_tasks.install()

    def env(self) -> dict[str, str]:
        return client_env(self.endpoint_url, self.region)

    # -- observation -----------------------------------------------------------------------------------
    def _on_s3_put(self, bucket: str, key: str, body: bytes, at: float) -> None:
        for listener in list(self._s3_listeners):
            listener(bucket, key, body, at)

    def watch_s3(self, listener: s3_arrivals.Listener) -> Callable[[], None]:
        """Call ``listener(bucket, key, body, arrived)`` for every object written; returns the unsubscribe."""
        self._s3_listeners.append(listener)
        return lambda: self._s3_listeners.remove(listener)

    def set_handler_faults(self, plan: Callable[[str], InjectedFault | None] | None) -> None:
        """``plan(function_name)`` picks the fault to inject into each invocation (scenario ``faults.handler``)."""
        self._handler_faults = plan

    def set_s3_write_failures(self, decider: Callable[[str, str], bool] | None) -> None:
        """``decider(bucket, key)`` True makes that PutObject fail with SlowDown (scenario fault injection)."""
        s3_arrivals.set_write_failures(decider)

    def set_observer(self, observer: MappingObserver | None) -> None:
        if self.esm is not None:
            self.esm.set_observer(observer)

    def _wake_pollers(self) -> None:
        esm = self.esm
        if esm is not None:
            esm.wake()

    def warm(self, workers: dict[str, int]) -> None:
        """Load every handler now, ``workers[arn]`` warm workers each (like provisioned concurrency): a missing
        module or function is a HandlerError at deploy, before any event is sent, and the first events do not
        pay cold starts."""
        runtime = self.runtime
        if runtime is None:
            raise EmulatorDied("the embedded backend is stopped")
        for arn, count in workers.items():
            runtime.check_handler(lambda_invoke.function_spec(lambda_invoke.find_function(arn)), workers=count)

    # -- invocations -----------------------------------------------------------------------------------
    def invoke_function(self, fn: FunctionSpec, payload: bytes) -> InvocationResult:
        runtime = self.runtime
        if runtime is None:
            raise EmulatorDied("the embedded backend is stopped")
        started = time.time()
        plan = self._handler_faults
        result = runtime.invoke(fn, payload, fault=plan(fn.name) if plan is not None else None)
        self.invocations.append(
            InvocationRecord(
                function=fn.name,
                request_id=result.request_id,
                started=started,
                duration_ms=result.duration_ms,
                cold_start=result.cold_start,
                error=result.function_error,
                logs=result.logs,
            )
        )
        return result

    # -- status ----------------------------------------------------------------------------------------
    def in_flight(self) -> int:
        runtime_busy = self.runtime.in_flight() if self.runtime is not None else 0
        pending = self._router.pending if self._router is not None else 0
        return runtime_busy + pending

    def quiescent(self, since: float) -> bool:
        """Every mapping has read past what was put before ``since`` (monotonic) and has no work left, and no
        invocation is running or queued."""
        esm_idle = self.esm.idle_since(since) if self.esm is not None else True
        return esm_idle and self.in_flight() == 0

    def check_alive(self, *, settle_s: float = 0.0) -> None:
        """Raise if the server or a poller died, with what died. ``settle_s``: after a request failed, give a
        server thread that is stopping that long to end (its socket closes before the thread does)."""
        server = self._server
        thread = server._thread if server is not None else None
        if thread is not None and settle_s:
            thread.join(settle_s)
        if server is None or thread is None or not thread.is_alive():
            raise EmulatorDied(
                "the moto server thread is not running",
                hint="see the log above for the exception that stopped it",
            )
        if self.esm is not None:
            errors = self.esm.poller_errors()
            if errors:
                raise EmulatorDied(f"an event source mapping poller failed: {errors[0]!r}") from errors[0]
