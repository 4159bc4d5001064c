"""`pipemu lint` (the pipeline's static checks, for people, CI and pre-commit) and `pipemu policy` (the policy each
function needs, from a run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from emulator.cli_output import fail, make_console
from emulator.errors import ConfigError, PipemuError
from emulator.spec.yamlsrc import close_match_hint


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


def _function_policy(report: dict[str, Any] | None, function: str, where: Path) -> dict[str, Any]:
    iam = (report or {}).get("iam")
    if not isinstance(iam, dict):
        raise ConfigError("no run with the functions' calls in this report directory", file=where / "report.json",
                          hint="run `pipemu replay SCENARIO` on the embedded backend first, or pass --scenario")
    functions = iam.get("functions") or {}
    if function not in functions:
        raise ConfigError(f"function '{function}' made no call in the last run", file=where / "report.json",
                          hint=close_match_hint(function, functions, what="functions that did"))
    found: dict[str, Any] = functions[function]
    return found


def register_policy(app: typer.Typer) -> None:
    @app.command("policy")
    def policy_command(
        function: Annotated[str, typer.Argument(help="function name, as in the pipeline")],
        scenario: Annotated[
            Path | None, typer.Option(help="replay this scenario first (embedded backend), then print")
        ] = None,
        report_dir: Annotated[
            Path | None, typer.Option(help="where the run's report.json is; default: settings")
        ] = None,
        spec_form: Annotated[
            bool, typer.Option("--spec", help="statements with ${kind:name} references, for pipeline.yaml")
        ] = False,
    ) -> None:
        """Print the least-privilege policy covering what a run of FUNCTION exercised (JSON on stdout), and its
        difference from the declared policies (on stderr)."""
        from emulator.lint import last_report
        from emulator.settings import load_settings

        err = make_console(stderr=True)
        try:
            where = report_dir or load_settings().report_dir
            if scenario is not None:
                from emulator.runner import run_scenario

                run_scenario(scenario).write(where)
            found = _function_policy(last_report(where), function, where)
        except PipemuError as error:
            raise fail(error, err) from None
        print(json.dumps(found["spec_policies"] if spec_form else found["policy"], indent=2))
        if found.get("declared") is None:
            err.print(f"# {function} declares no policies", markup=False)
        for label in ("missing_grants", "unused_grants"):
            grants = found.get(label) or []
            err.print(f"# {label.replace('_', ' ')}: {len(grants)}", markup=False)
            for grant in grants:
                err.print(f"#   {grant}", markup=False)
