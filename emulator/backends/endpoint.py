"""Any AWS-compatible endpoint (a moto server, LocalStack, others) as a pipemu backend.

Two modes, picked by ``drive_locally`` (None: ask the endpoint what it is):
- driven locally (a moto server: it answers ``/moto-api/``): the endpoint stores the data, pipemu runs the rest
  on the client side: its Lambda runtime runs the handlers (code captured when deployed through this backend's
  clients, or given with ``register_code``), its pollers drive the event source mappings (kept on the client
  side, see ``client_side``), a poller emulates S3 -> Lambda notifications (``s3_notify``). Handlers get
  ``AWS_ENDPOINT_URL`` = the endpoint. Time scale and handler fault injection work; state machines do not (moto
  would run their Lambda tasks in Docker).
- remote (LocalStack, anything else): the endpoint runs everything; pipemu deploys, replays and observes.
  Functions are deployed with their requirements vendored in (``vendoring``); ``reset`` deletes what was created
  through this backend's clients.

    with EndpointBackend("http://127.0.0.1:5000") as backend:
        run_scenario("scenarios/clickstream-smoke.yaml", backend=backend)
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator.backends.base import DEFAULT_REGION, Capabilities, InvocationRecord, client_env, make_client
from emulator.backends.local_driver import LocalDriver
from emulator.backends.s3_notify import Arrival, ArrivalWatcher
from emulator.backends.teardown import CreatedResources, TrackingClient, teardown
from emulator.backends.vendoring import VendoringLambdaClient
from emulator.clock import ScaledClock
from emulator.errors import ConfigError, EmulatorDied, HarnessError, WaitTimeout
from emulator.esm.core.manager import EsmManager
from emulator.esm.core.stats import MappingObserver
from emulator.observe.api_meter import ApiMeter
from emulator.runtime import FunctionSpec, InjectedFault, InvocationResult, LambdaRuntime
from emulator.security.audit import CallAudit

log = logging.getLogger(__name__)

LOCAL = Capabilities(
    time_scale=True, fault_injection=True, mocked_state_machines=False, runs_lambda=True,
    runs_event_source_mappings=True,
)
"""Driven locally: pipemu's runtime and pollers run the pipeline (a ``DrivenBackend``)."""
REMOTE = Capabilities(
    time_scale=False, fault_injection=False, mocked_state_machines=False, runs_lambda=False,
    runs_event_source_mappings=False,
)
"""The endpoint runs the handlers and the mappings itself; pipemu deploys, replays and observes."""


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def probe(endpoint_url: str, *, timeout_s: float = 30.0) -> str:
    """What answers at ``endpoint_url``: ``moto``, ``localstack`` or ``aws-compatible``. Waits up to
    ``timeout_s`` for it to answer at all (a compose service may still be starting)."""
    base = endpoint_url.rstrip("/")
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    delay = 0.05
    while True:
        try:
            status, body = _get(f"{base}/moto-api/config", 5)
            if 200 <= status < 300 and body.lstrip().startswith(b"{"):  # moto answers 201
                return "moto"
            status, body = _get(f"{base}/_localstack/health", 5)
            if status == 200 and b"services" in body:
                return "localstack"
            return "aws-compatible"
        except (urllib.error.URLError, OSError) as exc:
            last = repr(exc)
        if time.monotonic() >= deadline:
            raise WaitTimeout(
                f"the endpoint {base} to answer", timeout_s=timeout_s, last_seen=last,
                hint="is it running and reachable? (`docker compose -f compose/localstack.yml up -d`, or "
                "`python -m moto.server -H 127.0.0.1 -p 5000`)",
            )
        time.sleep(delay)  # nothing to wait on but the clock while a server starts
        delay = min(delay * 2, 1.0)


class _NoStateMachines:
    """Step Functions client for a moto endpoint: moto would run a state machine's Lambda tasks in Docker."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def create_state_machine(self, **kwargs: Any) -> Any:
        raise ConfigError(
            f"state machine {kwargs.get('name')!r}: a moto server endpoint cannot run state machines' Lambda tasks",
            key="state_machines",
            hint="run this pipeline on the embedded backend (the default) or on LocalStack",
        )


class EndpointBackend:
    """A ``DrivenBackend`` (see ``base``) while driven locally, a plain ``Backend`` otherwise."""

    name = "endpoint"
    resource_prefix = ""

    def __init__(
        self,
        endpoint_url: str,
        *,
        drive_locally: bool | None = None,
        region: str = DEFAULT_REGION,
        time_scale: float = 1.0,
        work_dir: Path | None = None,
        observer: MappingObserver | None = None,
        ready_timeout_s: float = 30.0,
        max_invocation_records: int = 10_000,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self.drive_locally = drive_locally
        self.kind = "unknown"
        self.clock = ScaledClock(time_scale)
        self.capabilities = LOCAL if drive_locally else REMOTE
        self.invocations: deque[InvocationRecord] = deque(maxlen=max_invocation_records)
        self.meter: ApiMeter | None = None  # the server is not ours: its requests are not metered
        self.audit: CallAudit | None = None  # nor authorised per function (emulator.security)
        self.driver: LocalDriver | None = None
        self.arrivals: ArrivalWatcher | None = None
        # ((since, invocations ended), when the driven pipeline was first seen idle with those)
        self._idle_from: tuple[tuple[float, int], float] | None = None
        self.created = CreatedResources()
        self._work_dir = work_dir
        self._observer = observer
        self._ready_timeout_s = ready_timeout_s

    # -- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> EndpointBackend:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> EndpointBackend:
        self.kind = probe(self.endpoint_url, timeout_s=self._ready_timeout_s)
        if self.drive_locally is None:
            self.drive_locally = self.kind == "moto"
        self.capabilities = LOCAL if self.drive_locally else REMOTE
        if self.drive_locally:
            self.driver = LocalDriver(
                endpoint_url=self.endpoint_url, region=self.region, clock=self.clock, raw_client=self._raw_client,
                invocations=self.invocations, work_dir=self._work_dir, observer=self._observer,
            )
            self.driver.start()
        return self

    def stop(self) -> None:
        arrivals, self.arrivals = self.arrivals, None
        driver, self.driver = self.driver, None
        if arrivals is not None:
            arrivals.stop()
        if driver is not None:
            driver.stop()

    def reset(self) -> None:
        """Delete what was created through this backend's clients (mappings first, so no poller reads a stream
        that is going away) and forget the client-side state. Other clients' resources stay."""
        if self.driver is not None:
            self.driver.stop_mappings()
        teardown(self._raw_client, self.created.take())
        if self.driver is not None:
            self.driver.clear()
        self.invocations.clear()

    # -- clients ---------------------------------------------------------------------------------------
    def _raw_client(self, service: str) -> Any:
        return make_client(service, endpoint_url=self.endpoint_url, region=self.region)

    def client(self, service: str) -> Any:
        real = TrackingClient(self._raw_client(service), self.created)
        driver = self.driver
        if driver is None:
            return VendoringLambdaClient(real) if service == "lambda" else real
        if service == "lambda":
            return driver.lambda_client(real)
        if service == "s3":
            return driver.s3_client(real)
        if service == "stepfunctions" and self.kind == "moto":
            return _NoStateMachines(real)
        return real

    def env(self) -> dict[str, str]:
        return client_env(self.endpoint_url, self.region)

    def watch_s3(self, listener: Arrival, buckets: set[str] | None = None) -> Callable[[], None]:
        """Call ``listener(bucket, key, body, arrived)`` for every new object (in ``buckets``, default all), seen
        by listing within ~20 ms; returns the unsubscribe. Same contract as the embedded backend's."""
        if self.arrivals is None:
            self.arrivals = ArrivalWatcher(self._raw_client("s3"))
        return self.arrivals.subscribe(listener, buckets)

    def register_code(self, function: str, code_zip: bytes) -> None:
        """The zip of a function deployed by another client, so pipemu can run it (driven locally only)."""
        if self.driver is None:
            raise HarnessError(f"backend {self.name} does not run functions itself: {function} runs on the endpoint")
        self.driver.registry.register(function, code_zip)

    # -- what the runner drives (same names as the embedded backend's) ---------------------------------
    @property
    def esm(self) -> EsmManager | None:
        return self.driver.esm if self.driver is not None else None

    @property
    def runtime(self) -> LambdaRuntime | None:
        return self.driver.runtime if self.driver is not None else None

    def invoke_function(self, fn: FunctionSpec, payload: bytes) -> InvocationResult:
        if self.driver is None:
            raise EmulatorDied(f"the {self.name} backend is stopped or runs no functions itself")
        return self.driver.invoke_function(fn, payload)

    def warm(self, workers: dict[str, int]) -> None:
        if self.driver is not None:
            self.driver.warm(workers)

    def set_observer(self, observer: MappingObserver | None) -> None:
        self._observer = observer
        if self.driver is not None:
            self.driver.esm.set_observer(observer)

    def set_handler_faults(self, plan: Callable[[str], InjectedFault | None] | None) -> None:
        if self.driver is not None:
            self.driver.handler_faults = plan
        elif plan is not None:
            raise ConfigError(
                f"backend {self.name} ({self.kind}) runs the handlers itself: pipemu cannot inject faults into them",
                key="faults", hint="run this scenario on the embedded backend",
            )

    def set_s3_write_failures(self, decider: Callable[[str, str], bool] | None) -> None:
        if decider is not None:
            raise ConfigError(
                f"backend {self.name} cannot make S3 writes fail: the endpoint stores the objects",
                key="faults.s3_write_failures", hint="run this scenario on the embedded backend",
            )

    def in_flight(self) -> int:
        return self.driver.in_flight() if self.driver is not None else 0

    def quiescent(self, since: float) -> bool:
        """Driven locally: every mapping read past ``since`` (monotonic) with nothing left to do and nothing
        running, and then the S3 scans (notifications that invoke functions, arrivals that report outputs) that
        began after the pipeline went idle found nothing new. Remote: unknown, so False (the runner settles
        instead).

        The scans must begin after the pipeline went idle, not after ``since``: objects written by the last
        invocations are found by the next scan, which reports them one request per object; a clean scan from
        before those writes says nothing about them (a run settled in the middle of such a scan and counted 25
        delivered events as lost; a notification not yet scanned would have been a function never run)."""
        if self.driver is None:
            return False
        driver = self.driver
        if not driver.quiescent(since):
            self._idle_from = None
            return False
        # An invocation that began and ended between two checks is seen by the count of ended invocations.
        seen = (since, driver.finished)
        if self._idle_from is None or self._idle_from[0] != seen:
            self._idle_from = (seen, time.monotonic())
        idle_from = self._idle_from[1]
        scanned = driver.scans_idle_since(idle_from)
        return scanned and (self.arrivals is None or self.arrivals.idle_since(idle_from))

    def check_alive(self, *, settle_s: float = 0.0) -> None:
        errors = self.driver.errors() if self.driver is not None else []
        errors += self.arrivals.errors if self.arrivals is not None else []
        if errors:
            raise EmulatorDied(f"a {self.name} backend poller failed: {errors[0]!r}") from errors[0]

    def describe(self) -> str:
        mode = "driven locally by pipemu" if self.drive_locally else "runs Lambda and mappings itself"
        return json.dumps({"backend": self.name, "endpoint": self.endpoint_url, "kind": self.kind, "mode": mode})

