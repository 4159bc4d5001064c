"""What every backend offers: an AWS endpoint, clients bound to it, reset, and its capabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import boto3
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


def make_client(service: str, *, endpoint_url: str | None, region: str) -> Any:
    """A boto3 client with fake credentials bound to ``endpoint_url``.

    A private session keeps the host's profile, credentials file and env vars out of the picture.
    """
    session = boto3.session.Session(
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
