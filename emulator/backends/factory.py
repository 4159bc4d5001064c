"""The one place that maps a backend name (``--backend``, ``--pipemu-backend``, ``pipemu parity --backends``) to
a backend object. Nothing is started here: use the result as a context manager.

- ``embedded``: moto in-process, pipemu's runtime and pollers (default; no Docker).
- ``endpoint``: any AWS-compatible endpoint at ``endpoint_url`` (a moto server is driven from the client side).
- ``moto-server``: a moto server subprocess on 127.0.0.1, driven from the client side (no URL needed).
- ``localstack``: LocalStack in a container via testcontainers, or the one at ``endpoint_url``.
- ``aws``: real AWS; needs ``allow_aws=True`` or ``PIPEMU_ALLOW_AWS=1``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from emulator.errors import ConfigError

if TYPE_CHECKING:  # imported lazily: the pytest plugin reads BACKENDS before moto may load
    from emulator.backends.base import Backend

_REGION = "us-east-1"  # emulator.backends.base.DEFAULT_REGION, without importing boto3 here


@dataclass(frozen=True)
class BackendOptions:
    """What a user may say about a backend; each builder reads the options it understands."""

    endpoint_url: str | None = None
    time_scale: float = 1.0
    allow_aws: bool = False
    region: str | None = None
    drive_locally: bool | None = None
    image: str | None = None


def _embedded(o: BackendOptions) -> Backend:
    from emulator.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(time_scale=o.time_scale, region=o.region or _REGION)


def _endpoint(o: BackendOptions) -> Backend:
    from emulator.backends.endpoint import EndpointBackend

    if not o.endpoint_url:
        raise ConfigError(
            "the endpoint backend needs an endpoint URL", key="--endpoint-url",
            hint="e.g. --endpoint-url http://127.0.0.1:4566 (LocalStack) or http://127.0.0.1:5000 (moto server)",
        )
    return EndpointBackend(
        o.endpoint_url, drive_locally=o.drive_locally, time_scale=o.time_scale, region=o.region or _REGION
    )


def _moto_server(o: BackendOptions) -> Backend:
    from emulator.backends.moto_server import MotoServerBackend

    return MotoServerBackend(time_scale=o.time_scale, region=o.region or _REGION)


def _localstack(o: BackendOptions) -> Backend:
    from emulator.backends.localstack import DEFAULT_IMAGE, LocalStackBackend

    return LocalStackBackend(endpoint_url=o.endpoint_url, image=o.image or DEFAULT_IMAGE, region=o.region or _REGION)


def _aws(o: BackendOptions) -> Backend:
    from emulator.backends.aws import AwsBackend

    return AwsBackend(allow=o.allow_aws, region=o.region)


REGISTRY: dict[str, Callable[[BackendOptions], Backend]] = {
    "embedded": _embedded,
    "endpoint": _endpoint,
    "moto-server": _moto_server,
    "localstack": _localstack,
    "aws": _aws,
}
"""Backend name -> builder. A new backend: its module, and one entry here."""

BACKENDS = tuple(REGISTRY)


def make_backend(
    name: str,
    *,
    endpoint_url: str | None = None,
    time_scale: float = 1.0,
    allow_aws: bool = False,
    region: str | None = None,
    drive_locally: bool | None = None,
    image: str | None = None,
) -> Backend:
    """A backend by name, not started. Raises ``ConfigError`` for an unknown name, a missing endpoint URL, or
    ``aws`` without the opt-in."""
    build = REGISTRY.get(name)
    if build is None:
        raise ConfigError(f"unknown backend {name!r}", key="--backend", hint=f"one of: {', '.join(BACKENDS)}")
    return build(BackendOptions(endpoint_url, time_scale, allow_aws, region, drive_locally, image))


__all__ = ["BACKENDS", "REGISTRY", "BackendOptions", "make_backend"]
