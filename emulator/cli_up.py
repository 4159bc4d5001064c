"""`pipemu up` (the emulator a developer keeps open) and the commands that talk to it from any shell in the
project: `pipemu env`, `pipemu logs`, `pipemu reset`, `pipemu health`."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from emulator import project_state
from emulator.cli_output import fail, make_console
from emulator.errors import ConfigError, HarnessError, PipemuError

if TYPE_CHECKING:
    from rich.console import Console

    from emulator.backends.embedded import EmbeddedBackend
    from emulator.backends.log_shipper import LogLine
    from emulator.spec.pipeline import PipelineSpec
    from emulator.stepfunctions.mocks import MockConfig

# Function names in live logs cycle through these (as `docker compose up` colours its services).
_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "bright_magenta")
_NOT_RUNNING_HINT = "start one with `pipemu up PIPELINE` in this directory or a parent"


def _running() -> project_state.RunningEmulator:
    """The emulator `pipemu up` runs for this project (this directory or a parent), or exit 2."""
    running, path = project_state.find_running(Path.cwd())
    if running is not None:
        return running
    if path is None:
        raise ConfigError("no running emulator found", file=Path.cwd() / project_state.STATE_DIR,
                          hint=_NOT_RUNNING_HINT)
    state = project_state.read(path)
    if state is not None and project_state.pid_alive(state.pid):
        raise HarnessError(f"the emulator recorded here (pid {state.pid}) does not answer at {state.endpoint_url}",
                           hint=f"it may be busy or hung; stop it (`kill {state.pid}`) and start `pipemu up` again")
    path.unlink(missing_ok=True)
    raise ConfigError("the emulator recorded here is no longer running (the record is removed)", file=path,
                      hint=_NOT_RUNNING_HINT)


class _LivePrinter:
    """Prints each log line as invocations finish: ``enrich | START RequestId: ...``, the name coloured."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._colours: dict[str, str] = {}
        self._width = 0

    def __call__(self, line: LogLine) -> None:
        from rich.text import Text

        colour = self._colours.setdefault(line.function, _COLOURS[len(self._colours) % len(_COLOURS)])
        self._width = max(self._width, len(line.function))
        self._console.print(Text.assemble((line.function.ljust(self._width), colour), " | ", line.message),
                            soft_wrap=True)


def _deploy(backend: EmbeddedBackend, spec: PipelineSpec) -> Any:
    from emulator.deploy import Deployer

    deployment = Deployer(backend.client).deploy(spec)
    backend.warm(deployment.concurrency(spec))  # a handler that cannot load fails here, not on the first event
    if backend.esm is not None:
        backend.esm.wait_synced()
    return deployment


def _refuse_second(running: project_state.RunningEmulator) -> ConfigError:
    return ConfigError(
        f"an emulator is already running for this project at {running.endpoint_url} (pid {running.pid}, "
        f"pipeline {running.pipeline})",
        file=running.path,
        hint=f"use it (`eval $(pipemu env)`), or stop it first (Ctrl-C in its terminal, or `kill {running.pid}`)",
    )


def up(
    pipeline: Annotated[Path, typer.Argument(help="pipeline YAML to deploy")],
    time_scale: Annotated[float, typer.Option(min=0.001)] = 1.0,
    port: Annotated[int | None, typer.Option(help="port for the AWS endpoint (default: a free one)")] = None,
    region: Annotated[str, typer.Option(help="AWS region the emulator answers as")] = "us-east-1",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="do not print invocation logs")] = False,
    mock_config: Annotated[Path | None, typer.Option(
        help="Step Functions Local MockConfigFile: start-execution with ARN#TestCase runs that test case "
             "(default: $SFN_MOCK_CONFIG)")] = None,
    no_color: Annotated[bool, typer.Option("--no-color")] = False,
) -> None:
    """Start the embedded emulator with a pipeline deployed; print export lines and invocation logs; run until
    Ctrl-C."""
    from emulator.backends.embedded import EmbeddedBackend
    from emulator.spec.pipeline import load_pipeline
    from emulator.stepfunctions.mocks import use_mock_config

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        running, _ = project_state.find_running(Path.cwd())
        if running is not None:
            raise _refuse_second(running)
        spec = load_pipeline(pipeline)
        mocks = _mock_config(mock_config)
        with EmbeddedBackend(time_scale=time_scale, port=port, region=region) as backend, ExitStack() as stack:
            if mocks is not None:
                stack.enter_context(use_mock_config(backend, mocks))
            deployment = _deploy(backend, spec)
            backend.set_redeploy(lambda: _deploy(backend, spec),
                                 {"name": spec.name, "file": str(pipeline.resolve())})
            if not quiet and backend.logs is not None:
                backend.logs.subscribe(_LivePrinter(make_console(no_color)))
            env = backend.env()
            state = project_state.write(Path.cwd(), env=env, pipeline=str(pipeline))
            try:
                _serve(backend, env, spec.name, deployment, stop)
            finally:
                project_state.remove(state)
    except PipemuError as error:
        raise fail(error, make_console(stderr=True)) from None


def _serve(backend: EmbeddedBackend, env: dict[str, str], name: str, deployment: Any, stop: threading.Event) -> None:
    for key, value in env.items():
        print(f"export {key}={value}")
    print(
        f"# pipeline '{name}' deployed: {len(deployment.functions)} functions, {len(deployment.mappings)} mappings. "
        f"Health: {backend.endpoint_url}/_pipemu/health. Ctrl-C to stop.",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            backend.check_alive()
    except KeyboardInterrupt:
        pass


def _mock_config(path: Path | None) -> MockConfig | None:
    """``--mock-config``, else ``SFN_MOCK_CONFIG`` (the variable LocalStack and Step Functions Local read)."""
    from emulator.stepfunctions.mocks import load_mock_config

    if path is None and os.environ.get("SFN_MOCK_CONFIG"):
        path = Path(os.environ["SFN_MOCK_CONFIG"])
    if path is None:
        return None
    if not path.is_file():
        raise ConfigError("mock config file not found", file=path,
                          hint="pass a Step Functions Local MockConfigFile (JSON) to --mock-config or SFN_MOCK_CONFIG")
    return load_mock_config(path)


def env() -> None:
    """Print the export lines of the emulator `pipemu up` runs for this project (found from any subdirectory)."""
    try:
        running = _running()
    except PipemuError as error:
        raise fail(error, make_console(stderr=True)) from None
    for key, value in running.env.items():
        print(f"export {key}={value}")


_SINCE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float) -> float:
    """``30s``, ``10m``, ``2h``, ``1d``, ``1w`` ago (as `aws logs tail --since`), or an ISO 8601 time."""
    match = _SINCE.match(text.strip())
    if match:
        return now - float(match.group(1)) * _UNIT_S[match.group(2)]
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"cannot read --since {text!r}", key="--since",
                          hint="use 30s, 10m, 2h, 1d, 1w or an ISO time like 2026-01-31T12:00:00") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def logs(
    function: Annotated[str | None, typer.Argument(help="function name (default: every function)")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines until Ctrl-C")] = False,
    since: Annotated[str | None, typer.Option(help="only lines newer than 30s, 10m, 2h, 1d or an ISO time")] = None,
    no_color: Annotated[bool, typer.Option("--no-color")] = False,
) -> None:
    """Print the CloudWatch Logs of the running emulator's Lambda functions (/aws/lambda/NAME)."""
    from emulator.backends.base import make_client
    from emulator.logs_reader import LogsReader

    try:
        running = _running()
        start = parse_since(since, time.time()) if since else 0.0
        client = make_client("logs", endpoint_url=running.endpoint_url, region=running.region)
        reader = LogsReader(client, function, start_ms=int(start * 1000))
        printer = _LivePrinter(make_console(no_color))
        try:
            for line in reader.read():
                printer(line)
            while follow:
                time.sleep(0.5)  # polling interval of `--follow`, as `aws logs tail --follow` polls
                for line in reader.read():
                    printer(line)
        except KeyboardInterrupt:
            pass
    except PipemuError as error:
        raise fail(error, make_console(stderr=True)) from None


def _call(running: project_state.RunningEmulator, path: str, method: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{running.endpoint_url}{path}", method=method,
                                     data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            data: dict[str, Any] = json.loads(response.read())
            return data
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500]
        raise HarnessError(f"{method} {path} on {running.endpoint_url} answered {exc.code}: {detail!r}") from None
    except OSError as exc:
        raise HarnessError(f"{method} {path} on {running.endpoint_url} failed: {exc}") from None


def _print_health(health: dict[str, Any]) -> None:
    pipeline = health.get("pipeline") or {}
    print(f"{health['status']}: {health['endpoint']} ({health['region']}), pid {health['pid']}"
          + (f", pipeline '{pipeline.get('name')}'" if pipeline else ""))
    for service, names in health["services"].items():
        if names:
            print(f"  {service}: {', '.join(names)}")
    for fn in health["functions"]:
        print(f"  function {fn['name']}: {fn.get('invocations', 0)} invocations, "
              f"{fn.get('cold_starts', 0)} cold starts, {fn.get('errors', 0)} errors")
    for m in health["mappings"]:
        print(f"  mapping {m['name']}: {m['state']}, {m['last_processing_result']}"
              + ("" if m["polling"] else " (not polling)"))
    for error in health.get("errors", []):
        print(f"  error: {error}")


def reset(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Delete every resource of the running emulator and deploy its pipeline again."""
    try:
        health = _call(_running(), "/_pipemu/reset", "POST")
    except PipemuError as error:
        raise fail(error, make_console(stderr=True)) from None
    if json_output:
        print(json.dumps(health, indent=2))
    else:
        print("reset: every resource deleted, pipeline deployed again")
        _print_health(health)


def health(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What the running emulator has deployed and what runs (GET /_pipemu/health)."""
    try:
        answer = _call(_running(), "/_pipemu/health", "GET")
    except PipemuError as error:
        raise fail(error, make_console(stderr=True)) from None
    if json_output:
        print(json.dumps(answer, indent=2))
    else:
        _print_health(answer)


def register(app: typer.Typer) -> None:
    for command in (up, env, logs, reset, health):
        app.command()(command)
