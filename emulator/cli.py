"""The ``pipemu`` command.

Exit codes: 0 every expectation held; 1 an expectation failed; 2 bad input (the message names file, line and
key); 3 the emulator or infrastructure failed; 130 interrupted.
"""

from __future__ import annotations

import gc
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from emulator.cli_output import fail as _fail
from emulator.cli_output import make_console as _console
from emulator.cli_output import replay_progress, show_result, write_reports
from emulator.errors import ConfigError, PipemuError, RunInterrupted

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Local emulator and test harness for AWS data pipelines."
)
BACKEND_HELP = (
    "embedded (default: moto in-process, no Docker), endpoint (--endpoint-url), moto-server (a moto subprocess), "
    "localstack (a container, or the one at --endpoint-url), aws (real AWS: needs --i-understand-this-uses-real-aws)"
)
ENDPOINT_HELP = "AWS-compatible endpoint URL (moto server, LocalStack...); alone it selects --backend endpoint"
AWS_HELP = "allow --backend aws to deploy to the real AWS account of your credentials (or set PIPEMU_ALLOW_AWS=1)"


# Over 60 lines by its sixteen option declarations; the body is short (its docstring is the command's help).
@app.command()
def replay(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
    count: Annotated[int | None, typer.Option(min=1, help="override the number of events")] = None,
    rate: Annotated[
        float | None, typer.Option(min=0.001, help="events per second (default: the scenario's)")
    ] = None,
    report_dir: Annotated[
        Path | None, typer.Option(help="where report.json/html go (default: settings, else ./pipemu-report)")
    ] = None,
    time_scale: Annotated[
        float | None, typer.Option(min=0.001, help="compress AWS waits by this factor")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="only the verdict line")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="plain output")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print report.json to stdout")] = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="also write JUnit XML (one test case per expectation) to FILE")
    ] = None,
    from_recording: Annotated[
        Path | None, typer.Option("--from", help="replay the events of a recording (pipemu record) instead")
    ] = None,
    backend_name: Annotated[str | None, typer.Option("--backend", help=BACKEND_HELP)] = None,
    endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", help=ENDPOINT_HELP)] = None,
    allow_aws: Annotated[bool, typer.Option("--i-understand-this-uses-real-aws", help=AWS_HELP)] = False,
) -> None:
    """Replay a scenario through its pipeline (on the embedded backend by default) and check its expectations."""
    from emulator.backends.factory import make_backend
    from emulator.runner import run_scenario
    from emulator.settings import load_settings
    from emulator.spec.scenario import load_scenario

    console, err = _console(no_color), _console(no_color, stderr=True)
    try:
        settings = load_settings()
        seed = seed if seed is not None else settings.seed
        report_dir = report_dir or settings.report_dir
        backend_name = backend_name or settings.backend
        time_scale = time_scale or settings.time_scale
        spec, _ = load_scenario(scenario)
        if time_scale is not None:  # the flag (or setting) wins over the scenario's own time_scale
            spec = spec.model_copy(update={"time_scale": time_scale})
        scale = spec.time_scale or 1.0
        total = count or spec.events.count
        show_progress = not quiet and not json_out and console.is_terminal
        if endpoint_url and backend_name == "embedded":
            backend_name = "endpoint"  # --endpoint-url alone means: that endpoint
        with make_backend(backend_name, endpoint_url=endpoint_url, time_scale=scale, allow_aws=allow_aws) as backend, \
                replay_progress(console, total, enabled=show_progress) as progress:
            result = run_scenario(
                spec, backend=backend, seed=seed, count=count, rate=rate, progress=progress, recording=from_recording
            )
    except PipemuError as error:
        raise _fail(error, err) from None
    except RunInterrupted as stop:  # Ctrl-C or SIGTERM: the report says what was measured until then
        err.print("pipemu: interrupted", markup=False)
        if stop.result is not None and report_dir is not None:
            write_reports(stop.result, report_dir, junit, err)
            err.print(f"partial report: {report_dir / 'report.json'}", markup=False)
        raise typer.Exit(130) from None
    except KeyboardInterrupt:
        err.print("pipemu: interrupted", markup=False)
        raise typer.Exit(130) from None
    # The verdict first: a report directory that cannot be written must not hide how the run went.
    show_result(result, report_dir / "report.json", console, err, quiet=quiet, json_out=json_out)
    write_reports(result, report_dir, junit, err)
    if not result.passed:
        raise typer.Exit(1)


@app.command()
def parity(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    backends: Annotated[
        str, typer.Option("--backends", help="comma-separated backend names; the first is the reference")
    ] = "embedded,moto-server",
    endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", help=ENDPOINT_HELP)] = None,
    allow_aws: Annotated[bool, typer.Option("--i-understand-this-uses-real-aws", help=AWS_HELP)] = False,
    seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
    count: Annotated[int | None, typer.Option(min=1, help="override the number of events")] = None,
    rate: Annotated[float | None, typer.Option(min=0.001, help="events per second")] = None,
    strict_timing: Annotated[
        bool, typer.Option("--strict-timing", help="also count timing-dependent figures (batch sizes, invocations)")
    ] = False,
) -> None:
    """Run a scenario on several backends and diff what the pipeline did; exit 0 when they agree, 1 when not."""
    from emulator.parity import run_parity

    names = [name.strip() for name in backends.split(",") if name.strip()]
    try:
        if len(names) < 2:
            raise ConfigError("parity needs two backends or more", key="--backends", hint="e.g. embedded,localstack")
        report = run_parity(
            scenario, names, endpoint_url=endpoint_url, allow_aws=allow_aws, seed=seed, count=count, rate=rate,
            strict_timing=strict_timing,
        )
    except PipemuError as error:
        raise _fail(error, _console(stderr=True)) from None
    except KeyboardInterrupt:
        _console(stderr=True).print("pipemu: interrupted")
        raise typer.Exit(130) from None
    print(report.format())
    raise typer.Exit(0 if report.equal else 1)


@app.command()
def record(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON-lines file to write")],
    seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
    count: Annotated[int | None, typer.Option(min=1, help="override the number of events")] = None,
) -> None:
    """Write a scenario's exact events (faults included) to a file that `pipemu replay --from` replays."""
    from emulator.replay.rates import Schedule
    from emulator.replay.recording import write_recording
    from emulator.replay.sources import scenario_events
    from emulator.spec.scenario import load_scenario

    try:
        spec, _ = load_scenario(scenario)
        used_seed = spec.seed if seed is None else seed
        correlate = spec.expect.delivered.correlate if spec.expect.delivered else None
        with out.open("w", encoding="utf-8") as f:
            n = write_recording(
                scenario_events(spec, seed=used_seed, count=count), f, scenario=spec.name, seed=used_seed,
                schedule=Schedule(spec.rate), correlate=correlate,
            )
    except PipemuError as error:
        raise _fail(error, _console(stderr=True)) from None
    print(f"recorded {n} events of {spec.name} (seed {used_seed}) to {out}")


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="pipeline or scenario YAML")]) -> None:
    """Check a pipeline or scenario file without running anything."""
    from emulator.replay.rates import send_time_warning
    from emulator.spec.pipeline import load_pipeline
    from emulator.spec.scenario import check_judgeable, load_scenario
    from emulator.spec.yamlsrc import load_yaml
    from emulator.stepfunctions.definition import check_pipeline_definitions

    console = _console()
    try:
        doc = load_yaml(file)
        if isinstance(doc.data, dict) and "scenario" in doc.data:
            spec, pipeline = load_scenario(file)
            check_judgeable(spec, pipeline)
            check_pipeline_definitions(pipeline)
            console.print(f"{file}: scenario '{spec.name}' is valid (pipeline '{pipeline.name}')", markup=False)
            warning = send_time_warning(spec)
            if warning:
                _console(stderr=True).print(f"warning: {warning}", markup=False, soft_wrap=True)
        else:
            pipeline = load_pipeline(file)
            check_pipeline_definitions(pipeline)
            console.print(f"{file}: pipeline '{pipeline.name}' is valid", markup=False)
    except PipemuError as error:
        raise _fail(error, _console(stderr=True)) from None


def _register_tools() -> None:
    from emulator import cli_lint, cli_tools, cli_tune, cli_up

    cli_lint.register(app)
    cli_lint.register_policy(app)
    cli_tools.register(app)
    cli_up.register(app)
    cli_tune.register(app)


_register_tools()


def main() -> None:
    # SIGTERM ends a run as Ctrl-C does: a report marked interrupted, workers and temporary files released.
    # (`pipemu up` installs its own handler.)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if "aws" not in sys.argv[1:]:  # the AWS backend uses the host's credential chain; nothing else does
        from emulator import hostenv

        hostenv.hide_host_profile()
    try:
        app()
    finally:
        # The objects moto and boto3 built are left to the exit instead of a last garbage collection over all
        # of them (about a second; a Ctrl-C must release everything within 2 s). Every file, process and
        # thread of pipemu's is closed explicitly before this point.
        gc.freeze()


if __name__ == "__main__":
    main()
