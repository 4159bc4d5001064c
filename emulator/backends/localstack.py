"""LocalStack as a pipemu backend: LocalStack runs the Lambda functions (in containers, through the Docker socket)
and the event source mappings itself; pipemu deploys, replays and observes through its endpoint.

Two ways to get one:
- ``LocalStackBackend()`` starts a container with testcontainers (default image ``localstack/localstack:4.14.0``,
  the last that runs without an auth token; for newer images ``LOCALSTACK_AUTH_TOKEN`` is passed through), the
  Docker socket mounted so LocalStack can start Lambda containers, its port published on 127.0.0.1 only;
- ``LocalStackBackend(endpoint_url="http://127.0.0.1:4566")`` uses one already running
  (``docker compose -f compose/localstack.yml up -d``).

Functions are deployed as zips with their dependencies: a ``requirements.txt`` beside the handler code is installed
into the zip (see ``vendoring``).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from emulator.backends.base import DEFAULT_REGION
from emulator.backends.embedded import free_port
from emulator.backends.endpoint import EndpointBackend
from emulator.errors import HarnessError

log = logging.getLogger(__name__)

DEFAULT_IMAGE = "localstack/localstack:4.14.0"
SERVICES = "s3,sqs,sns,kinesis,lambda,iam,sts,stepfunctions,logs,cloudwatch"
DOCKER_SOCKET = "/var/run/docker.sock"
EDGE_PORT = 4566


def docker_unavailable() -> str | None:
    """None when a Docker engine answers a ping, else why not (the reason tests skip with)."""
    try:
        docker: Any = importlib.import_module("docker")  # no type stubs; the project does not pin types-docker
        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # docker raises DockerException, requests' errors, OSError...
        return f"no Docker engine answers (docker.from_env().ping() failed: {type(exc).__name__}: {exc})"
    return None


@dataclass(frozen=True)
class ContainerSettings:
    """How the LocalStack container is started, as data (testable without a Docker engine)."""

    image: str
    region: str
    host_port: int  # published on 127.0.0.1 only
    env: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, str] = field(default_factory=dict)  # host path -> container path, read-write


def container_settings(
    image: str, *, region: str, port: int, environ: Mapping[str, str] | None = None, socket: str = DOCKER_SOCKET
) -> ContainerSettings:
    environ = os.environ if environ is None else environ
    env = {"SERVICES": SERVICES, "LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT": "60"}
    if environ.get("LOCALSTACK_AUTH_TOKEN"):
        env["LOCALSTACK_AUTH_TOKEN"] = environ["LOCALSTACK_AUTH_TOKEN"]
    # LocalStack starts each function's container through the host's Docker engine.
    volumes = {socket: DOCKER_SOCKET} if os.path.exists(socket) else {}
    return ContainerSettings(image=image, region=region, host_port=port, env=env, volumes=volumes)


def make_container(settings: ContainerSettings) -> Any:
    """The testcontainers LocalStack container, configured but not started (needs a Docker engine)."""
    from testcontainers.community.localstack import LocalStackContainer

    container = LocalStackContainer(image=settings.image, region_name=settings.region)
    for key, value in settings.env.items():
        container.with_env(key, value)
    for host, inside in settings.volumes.items():
        container.with_volume_mapping(host, inside, "rw")
    cast(dict[Any, Any], container.ports)[EDGE_PORT] = ("127.0.0.1", settings.host_port)
    return container


class LocalStackBackend(EndpointBackend):
    name = "localstack"

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        image: str = DEFAULT_IMAGE,
        region: str = DEFAULT_REGION,
        start_timeout_s: float = 180.0,
    ) -> None:
        super().__init__(endpoint_url or "http://127.0.0.1:4566", drive_locally=False, region=region)
        self.image = image
        self._own_container = endpoint_url is None
        self._start_timeout_s = start_timeout_s
        self._container: Any = None

    def start(self) -> LocalStackBackend:
        if self._own_container:
            reason = docker_unavailable()
            if reason is not None:
                raise HarnessError(
                    f"cannot start LocalStack: {reason}",
                    hint="start Docker, or point at a running LocalStack with --endpoint-url "
                    "(docker compose -f compose/localstack.yml up -d)",
                )
            if not self.image.endswith(":4.14.0") and not os.environ.get("LOCALSTACK_AUTH_TOKEN"):
                log.warning("LocalStack images after 4.14.0 need LOCALSTACK_AUTH_TOKEN; it is not set")
            port = free_port()
            self._container = make_container(container_settings(self.image, region=self.region, port=port))
            try:
                self._container.start(timeout=self._start_timeout_s)
            except Exception as exc:
                raise HarnessError(
                    f"LocalStack ({self.image}) did not start: {type(exc).__name__}: {exc}",
                    hint="`docker logs` of the container says why; newer images need LOCALSTACK_AUTH_TOKEN",
                ) from exc
            self.endpoint_url = f"http://127.0.0.1:{port}"
        super().start()
        if self.kind != "localstack":
            log.warning("%s does not look like LocalStack (it answers as %s)", self.endpoint_url, self.kind)
        return self

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            container, self._container = self._container, None
            if container is not None:
                container.stop()
