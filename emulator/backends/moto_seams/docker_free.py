"""Seam: moto's ``/moto-api/data.json`` answers without a Docker engine.

moto's data dump reads every public attribute of every model instance and skips the ones that raise
TypeError, AttributeError or ValueError. A Lambda function's ``docker_client`` property connects to Docker on
first read and raises ``DockerException`` when no engine answers, which the dump does not catch: the whole
request fails with a 500 and a traceback on the server's console. pipemu runs Lambda code without Docker, so
the property reports "no such attribute" instead when Docker is not there.
"""

from __future__ import annotations

from typing import Any

from moto.utilities.docker_utilities import DockerModel

TOUCHES = ("moto.utilities.docker_utilities.DockerModel.docker_client (a property)",)

_original: Any = None


def _docker_client(self: Any) -> Any:
    import docker.errors

    try:
        return _original.fget(self)
    except docker.errors.DockerException as exc:
        raise AttributeError(f"docker_client: no Docker engine answers ({exc})") from None


def install() -> None:
    global _original
    if _original is None:
        _original = DockerModel.__dict__["docker_client"]
        setattr(DockerModel, "docker_client", property(_docker_client))


def uninstall() -> None:
    global _original
    if _original is not None:
        setattr(DockerModel, "docker_client", _original)
        _original = None
