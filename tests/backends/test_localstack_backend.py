"""The LocalStack backend. The container tests need a Docker engine and skip, saying so, only when none answers;
the container settings and the dependency vendoring are checked without one."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.backends import localstack
from emulator.backends.factory import make_backend
from emulator.backends.localstack import (
    DEFAULT_IMAGE,
    LocalStackBackend,
    container_settings,
    docker_unavailable,
)
from emulator.backends.vendoring import install_requirements, vendor_requirements
from emulator.errors import HarnessError
from emulator.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]
NO_DOCKER = docker_unavailable()


def test_default_image_is_the_last_one_without_an_auth_token() -> None:
    assert DEFAULT_IMAGE == "localstack/localstack:4.14.0"
    backend = make_backend("localstack")
    assert isinstance(backend, LocalStackBackend) and backend.image == DEFAULT_IMAGE


def test_container_settings_pass_the_token_mount_the_socket_and_bind_loopback(tmp_path: Path) -> None:
    socket = tmp_path / "docker.sock"
    socket.touch()
    settings = container_settings(
        "localstack/localstack:latest", region="eu-west-1", port=45660,
        environ={"LOCALSTACK_AUTH_TOKEN": "ls-token"}, socket=str(socket),
    )
    assert settings.env["LOCALSTACK_AUTH_TOKEN"] == "ls-token"
    assert "lambda" in settings.env["SERVICES"] and "kinesis" in settings.env["SERVICES"]
    assert settings.volumes == {str(socket): "/var/run/docker.sock"}
    assert settings.host_port == 45660 and settings.region == "eu-west-1"
    without = container_settings(DEFAULT_IMAGE, region="us-east-1", port=1, environ={}, socket=str(tmp_path / "x"))
    assert "LOCALSTACK_AUTH_TOKEN" not in without.env and without.volumes == {}


def test_starting_without_a_docker_engine_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localstack, "docker_unavailable", lambda: "no Docker engine answers (test)")
    with pytest.raises(HarnessError, match=r"no Docker engine answers \(test\)") as error, LocalStackBackend():
        pass
    assert "compose/localstack.yml" in str(error.value)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def test_requirements_beside_the_handler_are_vendored_into_the_zip(tmp_path: Path) -> None:
    # GIVEN a cache that already holds the install of these requirements (so no pip, no network)
    requirements = b"tinylib==1.0\n"
    cache = tmp_path / "cache"
    site = cache / hashlib.sha256(requirements + b"python3.12").hexdigest()[:20]
    (site / "tinylib").mkdir(parents=True)
    (site / "tinylib" / "__init__.py").write_text("VERSION = '1.0'\n")
    (site / "app.py").write_text("# a package file of the handler's name\n")
    (site / "bin").mkdir()
    (site / "bin" / "tool").write_text("#!/bin/sh\n")
    assert install_requirements(requirements, "python3.12", cache) == site
    # WHEN a zip with a requirements.txt is vendored
    code = _zip({"app.py": b"import tinylib\n", "requirements.txt": requirements})
    out = vendor_requirements(code, runtime="python3.12", cache_dir=cache)
    # THEN the packages are in it, scripts are not, and the handler's own files win
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        names = set(archive.namelist())
        assert {"app.py", "requirements.txt", "tinylib/__init__.py"} <= names
        assert not any(n.startswith("bin/") for n in names)
        assert archive.read("app.py") == b"import tinylib\n"
    plain = _zip({"app.py": b"x = 1\n"})
    assert vendor_requirements(plain, cache_dir=cache) == plain


@pytest.fixture(scope="module")
def localstack_backend() -> Iterator[LocalStackBackend]:
    if NO_DOCKER is not None:
        pytest.skip(NO_DOCKER)
    with LocalStackBackend() as backend:
        yield backend


@pytest.mark.docker
def test_clickstream_runs_on_localstack(localstack_backend: LocalStackBackend) -> None:
    assert localstack_backend.kind == "localstack" and not localstack_backend.drive_locally
    result = run_scenario(ROOT / "scenarios" / "clickstream-smoke.yaml", backend=localstack_backend, count=50,
                          timeout_s=300)
    try:
        assert result.events.delivered == 50, result.summary()
    finally:
        localstack_backend.reset()
