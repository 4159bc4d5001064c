"""`pipemu lint`: the pipeline's static checks, for people, CI and pre-commit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from emulator.cli_output import fail, make_console
from emulator.errors import PipemuError


def _load(target: Path, scenario: Path | None) -> tuple[object, object]:
    """(pipeline, scenario or None): ``target`` may be the pipeline or a scenario naming it."""
    from emulator.spec.pipeline import load_pipeline
    from emulator.spec.scenario import load_scenario
    from emulator.spec.yamlsrc import load_yaml

    doc = load_yaml(target)
    if "scenario" in doc.data and scenario is None:
        return load_scenario(target)[::-1]
    pipeline = load_pipeline(target)
    return pipeline, (load_scenario(scenario)[0] if scenario is not None else None)


def register(app: typer.Typer) -> None:
    @app.command("lint")
    def lint_command(
        pipeline: Annotated[Path, typer.Argument(help="pipeline YAML (or a scenario, which names its pipeline)")],
        scenario: Annotated[
            Path | None, typer.Option(help="a scenario of this pipeline: enables the rules that need one (PM007)")
        ] = None,
        report_dir: Annotated[
            Path | None, typer.Option(help="where the last run's report.json is (PM005); default: settings")
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="print the findings as JSON")] = False,
        show_silenced: Annotated[bool, typer.Option("--show-silenced", help="also list silenced findings")] = False,
    ) -> None:
        """Check a pipeline for configuration AWS accepts but that fails in production; exit 1 on errors."""
        from emulator.lint import last_report, lint
        from emulator.settings import load_settings

        err = make_console(stderr=True)
        try:
            spec, scenario_spec = _load(pipeline, scenario)
            measured = last_report(report_dir or load_settings().report_dir)
            report = lint(spec, scenario=scenario_spec, measured=measured)  # type: ignore[arg-type]
        except PipemuError as error:
            raise fail(error, err) from None
        if json_out:
            print(json.dumps(report.as_list(), indent=2))
        else:
            for finding in report.findings:
                if show_silenced or not finding.silenced:
                    print(finding.format() + (" (silenced)" if finding.silenced else ""))
            print(f"{pipeline}: {report.summary()}")
        if report.errors:
            raise typer.Exit(1)

    @app.command("lint-rules")
    def lint_rules() -> None:
        """List the lint rules: id, severity, what each checks and the AWS page behind it."""
        from emulator.lint import RULES

        for rule in RULES:
            print(f"{rule.id} {rule.severity:7} {rule.title}\n    {rule.doc}")
