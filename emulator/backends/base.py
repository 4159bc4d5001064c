"""The backend contract.

- ``Backend``: what every backend offers: an AWS endpoint, clients bound to it, the environment for other SDKs,
  reset, and its declared ``Capabilities``.
- ``DrivenBackend``: what a backend whose pipeline pipemu itself drives offers on top (its clock, its Lambda
  runtime, its mapping manager, fault hooks, liveness). A backend declares it with ``capabilities.runs_lambda``;
  code asks ``driven(backend)`` and never looks at a backend's class.

A new backend is one module that fills one of these Protocols plus one entry in ``factory.REGISTRY``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

FAKE_ACCESS_KEY_ID = "pipemu-testing"
FAKE_SECRET_ACCESS_KEY = "pipemu-testing-secret"
FAKE_SESSION_TOKEN = "pipemu-testing-session"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"


if TYPE_CHECKING:
    from emulator.clock import ScaledClock
    from emulator.esm.core.manager import EsmManager
    from emulator.esm.core.stats import MappingObserver
    from emulator.observe.api_meter import ApiMeter
    from emulator.runtime import FunctionSpec, InjectedFault, InvocationResult, LambdaRuntime
    from emulator.security.audit import CallAudit


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, so a scenario that needs more fails fast instead of running half-way.

    ``runs_lambda``: pipemu's own runtime runs the handlers here, so the backend is a ``DrivenBackend``.
    ``runs_event_source_mappings``: pipemu's own pollers drive the mappings here (its ``esm`` manager)."""

    time_scale: bool
    fault_injection: bool
    mocked_state_machines: bool
    runs_lambda: bool
    runs_event_source_mappings: bool


@dataclass(frozen=True)
class InvocationRecord:
    """One finished invocation on a driven backend, for reports and near-miss messages."""

    function: str
    request_id: str
    started: float
    duration_ms: float
    cold_start: bool
    error: str | None
    logs: str


S3Listener = Callable[[str, str, bytes, float], None]
"""``(bucket, key, body, arrived)`` for every object written."""


class Backend(Protocol):
    """What every backend offers. ``resource_prefix`` is put before every deployed resource's name (empty but on
    shared accounts)."""

    name: str
    endpoint_url: str
    region: str
    capabilities: Capabilities
    resource_prefix: str

    def client(self, service: str) -> Any: ...

    def env(self) -> dict[str, str]: ...

    def reset(self) -> None: ...

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...


class DrivenBackend(Backend, Protocol):
    """A backend whose pipeline pipemu drives: its clock, runtime and pollers run in this process."""

    clock: ScaledClock
    invocations: deque[InvocationRecord]
    meter: ApiMeter | None  # AWS API requests as AWS bills them (emulator.cost); None when the server is not ours
    audit: CallAudit | None  # every call a function makes, authorised by its role (emulator.security); ditto

    # -- what runs the pipeline ------------------------------------------------------------------------
    @property
    def runtime(self) -> LambdaRuntime | None: ...

    @property
    def esm(self) -> EsmManager | None:
        """The mapping manager (None while stopped)."""

    def warm(self, workers: dict[str, int]) -> None:
        """Load every handler now, ``workers[arn]`` warm workers each."""

    def invoke_function(self, fn: FunctionSpec, payload: bytes) -> InvocationResult: ...

    # -- observation -----------------------------------------------------------------------------------
    def watch_s3(self, listener: S3Listener) -> Callable[[], None]:
        """Call ``listener`` for every object written; returns the unsubscribe."""

    def set_observer(self, observer: MappingObserver | None) -> None: ...

    # -- fault hooks -----------------------------------------------------------------------------------
    def set_handler_faults(self, plan: Callable[[str], InjectedFault | None] | None) -> None: ...

    def set_s3_write_failures(self, decider: Callable[[str, str], bool] | None) -> None: ...

    # -- liveness --------------------------------------------------------------------------------------
    def in_flight(self) -> int: ...

    def quiescent(self, since: float) -> bool:
        """Nothing left to do for what was put before ``since`` (monotonic), and every output the pipeline
        wrote already reported to the run's watchers (the runner settles on it)."""

    def check_alive(self, *, settle_s: float = 0.0) -> None:
        """Raise ``EmulatorDied`` naming what died."""


def driven(backend: Backend) -> DrivenBackend | None:
    """``backend`` when pipemu drives its pipeline (it declares ``capabilities.runs_lambda``), else None."""
    return cast("DrivenBackend", backend) if backend.capabilities.runs_lambda else None


def mapping_manager(backend: Backend) -> EsmManager | None:
    """The manager of pipemu's pollers when they drive the backend's mappings (it declares
    ``capabilities.runs_event_source_mappings``) and the backend runs; else None."""
    driven_part = driven(backend)
    if driven_part is None or not backend.capabilities.runs_event_source_mappings:
        return None
    return driven_part.esm


_CLIENT_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"},
    connect_timeout=5,
    read_timeout=120,
    max_pool_connections=32,
)


_clients: dict[tuple[str, str | None, str], Any] = {}
_clients_lock = threading.Lock()


def make_client(service: str, *, endpoint_url: str | None, region: str) -> Any:
    """A boto3 client with fake credentials bound to ``endpoint_url``, made once and shared (clients are
    thread-safe; building one parses the service model, ~0.2 s).

    A private session keeps the host's profile, config and credentials files and env vars out of the picture.
    """
    key = (service, endpoint_url, region)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _new_client(service, endpoint_url=endpoint_url, region=region)
        return client


def close_clients(endpoint_url: str) -> None:
    """Close and forget the shared clients bound to ``endpoint_url`` (a backend that stops): their pooled
    connections would otherwise stay open, in CLOSE_WAIT once the server is gone, for the life of the process."""
    with _clients_lock:
        gone = [key for key in _clients if key[1] == endpoint_url]
        clients = [_clients.pop(key) for key in gone]
    for client in clients:
        client.close()


_sessions: dict[str, boto3.session.Session] = {}
_loader = botocore.loaders.create_loader()  # one for every session: endpoints and models are read once


def shared_loader() -> botocore.loaders.Loader:
    """The botocore data loader every pipemu client session uses (and the embedded moto's region lookup)."""
    return _loader



def _new_client(service: str, *, endpoint_url: str | None, region: str) -> Any:
    session = _sessions.get(region)
    if session is None:
        # One session per region, reused: its loaded service models serve every client. Its botocore session
        # ignores the host's profile and config files.
        isolated = botocore.session.Session(
            session_vars={
                "profile": (None, None, None, None),
                "config_file": (None, None, "/nonexistent/pipemu/config", None),
                "credentials_file": (None, None, "/nonexistent/pipemu/credentials", None),
            }
        )
        isolated.register_component("data_loader", _loader)
        session = _sessions[region] = boto3.session.Session(
            botocore_session=isolated,
            aws_access_key_id=FAKE_ACCESS_KEY_ID,
            aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
            aws_session_token=FAKE_SESSION_TOKEN,
            region_name=region,
        )
    make: Any = session.client  # boto3-stubs overloads per service name; we pass names through
    return make(service, endpoint_url=endpoint_url, config=_CLIENT_CONFIG)


def client_env(endpoint_url: str, region: str) -> dict[str, str]:
    """Environment variables that point any AWS SDK at the emulator with fake credentials."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": FAKE_SESSION_TOKEN,
    }
