"""pytest plugin: fixtures over the library, in layers (as pytest-httpserver does it).

- ``pipemu_backend_name``, ``pipemu_time_scale``: configuration, overridable in a conftest.py;
- ``pipemu_session_backend``: one emulator per session (or per xdist worker);
- ``pipemu``: per test, resets the emulator and offers deploy / replay / clients.

    def test_smoke(pipemu):
        result = pipemu.replay("scenarios/clickstream-smoke.yaml")
        assert result.passed, result.summary()
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from emulator.backends.factory import BACKENDS  # no moto, no boto3 at import

if TYPE_CHECKING:  # imported lazily: moto must not load before the host's AWS profile is hidden
    from emulator.backends.base import Backend
    from emulator.deploy import Deployment
    from emulator.runner import RunResult

_RESULTS_KEY = pytest.StashKey["list[tuple[str, RunResult]]"]()


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
    config.stash[_RESULTS_KEY] = []
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
        config.stash[_RESULTS_KEY].append((self._request.node.nodeid, result))
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
    from emulator.backends.base import mapping_manager
    pipemu_session_backend.reset()
    yield Pipemu(pipemu_session_backend, request)
    esm = mapping_manager(pipemu_session_backend)
    errors = esm.poller_errors() if esm is not None else []
    if errors:
        raise errors[0]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(_RESULTS_KEY, [])
    if not results:
        return
    terminalreporter.section("pipemu scenarios")
    for nodeid, r in results:
        lat = r.latency_ms
        p99 = "-" if lat.get("p99") is None else f"{lat['p99']:.1f}ms"
        terminalreporter.write_line(
            f"{'PASS' if r.passed else 'FAIL'} {r.scenario} ({nodeid}): sent {r.events.sent}, delivered "
            f"{r.events.delivered}, dead-lettered {r.events.dead_lettered}, lost {r.events.lost}, p99 {p99}, "
            f"{r.throughput_eps:.0f} ev/s"
        )
