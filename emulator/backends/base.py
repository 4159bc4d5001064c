"""What every backend offers: an AWS endpoint, clients bound to it, reset, and its capabilities."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

FAKE_ACCESS_KEY_ID = "pipemu-testing"
FAKE_SECRET_ACCESS_KEY = "pipemu-testing-secret"
FAKE_SESSION_TOKEN = "pipemu-testing-session"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, so a scenario that needs more fails fast instead of running half-way."""

    time_scale: bool
    fault_injection: bool
    mocked_state_machines: bool
    runs_lambda: bool
    runs_event_source_mappings: bool


class Backend(Protocol):
    name: str
    endpoint_url: str
    region: str
    capabilities: Capabilities

    def client(self, service: str) -> Any: ...

    def env(self) -> dict[str, str]: ...

    def reset(self) -> None: ...

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...


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
