"""pytest plugin: fixtures over the library, in layers (as pytest-httpserver does it).

- ``pipemu_backend_name``, ``pipemu_time_scale``: configuration, overridable in a conftest.py;
- ``pipemu_session_backend``: one emulator per session (or per xdist worker);
- ``pipemu``: per test, resets the emulator and offers deploy / replay / clients.

    def test_smoke(pipemu):
        result = pipemu.replay("scenarios/clickstream-smoke.yaml")
        assert result.passed, result.summary()
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from emulator.backends.factory import BACKENDS  # no moto, no boto3 at import

if TYPE_CHECKING:  # imported lazily: moto must not load before the host's AWS profile is hidden
    from emulator.backends.base import Backend
    from emulator.deploy import Deployment
    from emulator.runner import RunResult

_SUMMARY_PROPERTY = "pipemu_scenario"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pipemu")
    group.addoption(
        "--pipemu-backend",
        default="embedded",
        choices=list(BACKENDS),
        help="backend for pipemu fixtures (default: embedded); aws also needs PIPEMU_ALLOW_AWS=1",
    )
    group.addoption(
        "--pipemu-endpoint-url",
        default=None,
        metavar="URL",
        help="endpoint for --pipemu-backend endpoint or localstack (localstack without it: start a container)",
    )
    group.addoption(
        "--pipemu-time-scale",
        type=float,
        default=None,
        help="compress AWS waits (retry backoff, windows, record age) by this factor",
    )
    group.addoption(
        "--pipemu-keep-reports",
        metavar="DIR",
        default=None,
        help="write each scenario test's report.json under DIR/<test id>/",
    )


def pytest_configure(config: pytest.Config) -> None:
    from emulator import hostenv

    hostenv.hide_host_profile()


class Pipemu:
    """What a test gets from the ``pipemu`` fixture."""

    def __init__(self, backend: Backend, request: pytest.FixtureRequest) -> None:
        self.backend = backend
        self._request = request

    def client(self, service: str) -> Any:
        return self.backend.client(service)

    def deploy(self, pipeline: str | Path) -> Deployment:
        from emulator.runner import deploy_pipeline
        from emulator.spec.pipeline import load_pipeline
        return deploy_pipeline(self.backend, load_pipeline(pipeline))

    def replay(self, scenario: str | Path, **options: Any) -> RunResult:
        from emulator.runner import run_scenario
        result = run_scenario(scenario, backend=self.backend, **options)
        config = self._request.config
        # Through the test report, so the summary also reaches the controller under pytest-xdist.
        self._request.node.user_properties.append((_SUMMARY_PROPERTY, _summary_line(self._request.node.nodeid, result)))
        keep = config.getoption("--pipemu-keep-reports")
        if keep:
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self._request.node.nodeid)
            result.write(Path(keep) / safe)
        return result


@pytest.fixture(scope="session")
def pipemu_backend_name(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--pipemu-backend"))


@pytest.fixture(scope="session")
def pipemu_time_scale(pytestconfig: pytest.Config) -> float:
    value = pytestconfig.getoption("--pipemu-time-scale")
    return float(value) if value else 1.0


@pytest.fixture(scope="session")
def pipemu_endpoint_url(pytestconfig: pytest.Config) -> str | None:
    value = pytestconfig.getoption("--pipemu-endpoint-url")
    return str(value) if value else None


@pytest.fixture(scope="session")
def pipemu_session_backend(
    pipemu_backend_name: str, pipemu_time_scale: float, pipemu_endpoint_url: str | None
) -> Iterator[Backend]:
    from emulator.backends.factory import make_backend
    with make_backend(pipemu_backend_name, endpoint_url=pipemu_endpoint_url, time_scale=pipemu_time_scale) as backend:
        yield backend


@pytest.fixture
def pipemu(pipemu_session_backend: Backend, request: pytest.FixtureRequest) -> Iterator[Pipemu]:
    """Per test: the session's emulator, reset. While the test runs, plain ``boto3.client(...)`` and the AWS CLI
    reach it too: its endpoint, fake credentials and region are in the environment (restored afterwards, as
    moto's ``mock_aws`` does for its clients)."""
    from emulator.backends.base import mapping_manager
    pipemu_session_backend.reset()
    with _sdk_environment(pipemu_session_backend.env()):
        yield Pipemu(pipemu_session_backend, request)
    esm = mapping_manager(pipemu_session_backend)
    errors = esm.poller_errors() if esm is not None else []
    if errors:
        raise errors[0]


# What the environment of a test using ``pipemu`` changes: the variables any AWS SDK reads for endpoint,
# credentials and region, and the profile ones that would point it elsewhere.
_SDK_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                  "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


@contextmanager
def _sdk_environment(env: dict[str, str]) -> Iterator[None]:
    import boto3

    saved = {key: os.environ.get(key) for key in _SDK_VARIABLES}
    session = boto3.DEFAULT_SESSION
    if "AWS_ENDPOINT_URL" in env:  # an emulator: nothing of the host's AWS set-up may take part
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            os.environ.pop(key, None)
    os.environ.update(env)
    boto3.DEFAULT_SESSION = None  # the default session caches credentials and region: start afresh
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        boto3.DEFAULT_SESSION = session


def _summary_line(nodeid: str, r: RunResult) -> str:
    lat = r.latency_ms
    p99 = "-" if lat.get("p99") is None else f"{lat['p99']:.1f}ms"
    return (
        f"{'PASS' if r.passed else 'FAIL'} {r.scenario} ({nodeid}): sent {r.events.sent}, delivered "
        f"{r.events.delivered}, dead-lettered {r.events.dead_lettered}, lost {r.events.lost}, p99 {p99}, "
        f"{r.throughput_eps:.0f} ev/s"
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the scenario lines of each finished test (in the controller process under pytest-xdist)."""
    if report.when != "teardown":
        return
    lines = [str(v) for k, v in report.user_properties if k == _SUMMARY_PROPERTY]
    if lines:
        _collected.extend(lines)


_collected: list[str] = []


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _collected:
        return
    terminalreporter.section("pipemu scenarios")
    for line in _collected:
        terminalreporter.write_line(line)
