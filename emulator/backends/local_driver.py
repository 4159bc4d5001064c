"""Drives a pipeline from the client side for an endpoint that stores data but runs no Lambda code (a moto
server): pipemu's runtime runs the handlers, its pollers drive the event source mappings (kept client-side, see
``client_side``), and a poller emulates S3 -> Lambda notifications (``s3_notify``). Used by ``EndpointBackend``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from emulator.backends.base import InvocationRecord
from emulator.backends.client_side import FunctionCodeUnknown, FunctionRegistry, LocalLambdaClient, LocalMappingStore
from emulator.backends.log_shipper import Boto3LogSink, LogShipper
from emulator.backends.s3_notify import LocalS3Client, NotificationPoller
from emulator.clock import ScaledClock
from emulator.esm.core.destinations import Boto3FailureSink
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.manager import EsmManager
from emulator.esm.core.stats import MappingObserver
from emulator.runtime import FunctionSpec, InjectedFault, InvocationResult, LambdaRuntime

log = logging.getLogger(__name__)


class LocalDriver:
    """``raw_client(service)`` makes plain boto3 clients bound to the endpoint."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str,
        clock: ScaledClock,
        raw_client: Callable[[str], Any],
        invocations: deque[InvocationRecord],
        work_dir: Path | None = None,
        observer: MappingObserver | None = None,
    ) -> None:
        self.region = region
        self.clock = clock
        self.invocations = invocations
        self._raw_client = raw_client
        self.runtime = LambdaRuntime(endpoint_url=endpoint_url, region=region, work_dir=work_dir, clock=clock)
        self.runtime.prestart_workers()
        self.logs = LogShipper(Boto3LogSink(lambda: raw_client("logs")))
        self.runtime.on_invocation(self.logs.record)
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="pipemu-async-invoke")
        self._pending: set[Future[InvocationResult]] = set()
        self._lock = threading.Lock()
        self.finished = 0  # invocations ended, however: a change says the pipeline did something (``quiescent``)
        self._roles: dict[str, str] = {}
        self.handler_faults: Callable[[str], InjectedFault | None] | None = None
        raw_lambda = raw_client("lambda")
        self.registry = FunctionRegistry(raw_lambda, lambda: raw_client("s3"))
        self.mappings = LocalMappingStore(
            function_arn=lambda name: str(raw_lambda.get_function_configuration(FunctionName=name)["FunctionArn"]),
            source_exists=self._source_exists,
            on_change=self._on_mapping_change,
        )
        invoker = _LocalInvoker(self)

        self.esm = EsmManager(
            lambda_client=self.lambda_client(raw_lambda),
            clients=raw_client,
            invoker=invoker,
            sink=Boto3FailureSink(raw_client),
            clock=clock,
            region=region,
            observer=observer,
            processing_result=self.mappings.set_processing_result,
        )
        self.notifications = NotificationPoller(raw_client("s3"), self._invoke_async, region=region)

    def start(self) -> None:
        self.esm.start()
        self.notifications.start()

    def stop(self) -> None:
        self.esm.stop()
        self.notifications.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.runtime.close()
        self.logs.close()

    def _on_mapping_change(self, uuid: str, action: str, config: dict[str, Any] | None) -> None:
        self.esm.notify(uuid, action, config)
        if action == "create" and config is not None and config.get("State") == "Enabled":
            self._prewarm(config)

    def _prewarm(self, config: dict[str, Any]) -> None:
        """Start the mapping's workers now, while the deploy waits for the mapping to leave ``Creating``: a
        handler that cannot load fails the deploy (``HandlerError``) and the first batches pay no cold start."""
        try:
            fn = self.registry.spec(str(config["FunctionArn"]))
        except FunctionCodeUnknown as exc:
            log.warning("%s", exc)
            return
        workers = 1
        arn = str(config["EventSourceArn"])
        if arn.split(":")[2] == "kinesis":
            shards = self._raw_client("kinesis").list_shards(StreamName=arn.split("/", 1)[1])["Shards"]
            workers = len(shards) * int(config.get("ParallelizationFactor") or 1)
        self.runtime.check_handler(fn, workers=min(10, workers))

    # -- clients ---------------------------------------------------------------------------------------
    def lambda_client(self, real: Any) -> LocalLambdaClient:
        return LocalLambdaClient(real, self.mappings, self.registry, self._run, on_create=self.logs.created)

    def s3_client(self, real: Any) -> LocalS3Client:
        return LocalS3Client(real, self.notifications)

    def _source_exists(self, arn: str) -> bool:
        service, name = arn.split(":")[2], arn.rsplit(":", 1)[-1].split("/")[-1]
        try:
            if service == "kinesis":
                self._raw_client("kinesis").describe_stream_summary(StreamName=name)
            elif service == "dynamodb":
                self._raw_client("dynamodbstreams").describe_stream(StreamArn=arn)
            else:
                self._raw_client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=arn.split(":")[4])
        except ClientError:
            return False
        return True

    # -- reset -----------------------------------------------------------------------------------------
    def stop_mappings(self) -> None:
        """Delete every mapping and wait until their pollers stopped (before their streams and queues vanish)."""
        for mapping in self.mappings.list()["EventSourceMappings"]:
            self.mappings.delete(UUID=mapping["UUID"])
        self.esm.wait_synced()

    def clear(self) -> None:
        self.esm.reset()
        self.registry.clear()
        self.notifications.clear()
        with self._lock:
            self._roles.clear()

    # -- running functions -----------------------------------------------------------------------------
    def invoke_function(self, fn: FunctionSpec, payload: bytes) -> InvocationResult:
        started = time.time()
        plan = self.handler_faults
        try:
            result = self.runtime.invoke(fn, payload, fault=plan(fn.name) if plan is not None else None)
        finally:
            with self._lock:
                self.finished += 1
        self.invocations.append(
            InvocationRecord(
                function=fn.name, request_id=result.request_id, started=started, duration_ms=result.duration_ms,
                cold_start=result.cold_start, error=result.function_error, logs=result.logs,
            )
        )
        return result

    def _run(self, fn: FunctionSpec, payload: bytes, asynchronous: bool) -> tuple[bytes, str | None, str]:
        if asynchronous:
            self._submit(fn, payload)
            return b"", None, ""
        result = self.invoke_function(fn, payload)
        return result.payload, result.function_error, result.logs

    def _invoke_async(self, function_arn: str, payload: bytes) -> None:
        try:
            fn = self.registry.spec(function_arn)
        except (ClientError, FunctionCodeUnknown) as exc:
            log.warning("S3 notification for %s not delivered: %s", function_arn, exc)
            return
        self._submit(fn, payload)

    def _submit(self, fn: FunctionSpec, payload: bytes) -> None:
        future = self._executor.submit(self.invoke_function, fn, payload)
        with self._lock:
            self._pending.add(future)

        def done(f: Future[InvocationResult]) -> None:
            with self._lock:
                self._pending.discard(f)

        future.add_done_callback(done)

    def role_arn(self, function_arn: str) -> str:
        with self._lock:
            known = self._roles.get(function_arn)
        if known is None:
            config = self._raw_client("lambda").get_function_configuration(FunctionName=function_arn)
            known = str(config.get("Role", ""))
            with self._lock:
                self._roles[function_arn] = known
        return known

    def warm(self, workers: dict[str, int]) -> None:
        for arn, count in workers.items():
            self.runtime.check_handler(self.registry.spec(arn), workers=count)

    # -- status ----------------------------------------------------------------------------------------
    def in_flight(self) -> int:
        with self._lock:
            return self.runtime.in_flight() + len(self._pending)

    def quiescent(self, since: float) -> bool:
        """Every mapping read past ``since`` (monotonic) with nothing left to do, and nothing running or queued.
        The S3 notification scans are asked apart (``scans_idle_since``): they must have looked after this."""
        return self.esm.idle_since(since) and self.in_flight() == 0

    def scans_idle_since(self, started: float) -> bool:
        """A notification scan that began at or after ``started`` (monotonic) found nothing new."""
        return self.notifications.idle_since(started)

    def errors(self) -> list[BaseException]:
        return self.esm.poller_errors() + list(self.notifications.errors)


class _LocalInvoker:
    """Pollers invoke through pipemu's runtime, as on the embedded backend; an unknown function is an error
    before it ran (on AWS the mapping reports a PROBLEM and retries)."""

    def __init__(self, driver: LocalDriver) -> None:
        self._driver = driver

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        try:
            fn = self._driver.registry.spec(function_arn)
        except ClientError as exc:
            return InvokeOutcome(b"", None, 404, invoked=False, error_code=exc.response["Error"]["Code"])
        except FunctionCodeUnknown as exc:
            log.warning("%s", exc)
            return InvokeOutcome(b"", None, 404, invoked=False, error_code="FunctionCodeUnknown")
        result = self._driver.invoke_function(fn, payload)
        return InvokeOutcome(
            payload=result.payload, function_error=result.function_error, status_code=200,
            request_id=result.request_id,
        )

    def role_arn(self, function_arn: str) -> str:
        return self._driver.role_arn(function_arn)

