"""`pipemu lint`: static checks of a pipeline for configuration AWS accepts but that fails in production.

Every rule has a stable id (PM001...), a severity, the AWS page that explains it and a hint. A rule is silenced
with ``lint: {ignore: [PM003]}`` at pipeline level or on the resource it names. Errors make ``pipemu lint`` exit
1; ``pipemu replay`` shows the findings in its summary and report without failing the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.lint.model import Finding, LintContext, Rule
from emulator.lint.rules import CHECKS, RULES
from emulator.spec.yamlsrc import load_yaml

if TYPE_CHECKING:
    from emulator.spec.pipeline import PipelineSpec
    from emulator.spec.scenario import ScenarioSpec


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.silenced]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.active if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.active if f.severity == "warning"]

    def summary(self) -> str:
        silenced = len(self.findings) - len(self.active)
        return (f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}, {len(self.warnings)} "
                f"warning{'s' if len(self.warnings) != 1 else ''}" + (f" ({silenced} silenced)" if silenced else ""))

    def as_list(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self.findings]


def lint(spec: PipelineSpec, *, scenario: ScenarioSpec | None = None,
         measured: dict[str, Any] | None = None) -> LintReport:
    """Run every rule over ``spec`` (loaded with ``load_pipeline``). ``measured`` is a report.json of a run of
    this pipeline (PM005 is skipped without one)."""
    ctx = LintContext(spec=spec, doc=load_yaml(spec.source_path, what="pipeline file"), scenario=scenario,
                      measured=measured)
    for check in CHECKS:
        check(ctx)
    order = {rule.id: index for index, rule in enumerate(RULES)}
    return LintReport(tuple(sorted(ctx.findings, key=lambda f: (f.severity != "error", order[f.rule], f.key))))


def last_report(report_dir: Path) -> dict[str, Any] | None:
    """The report.json of the last run in ``report_dir``, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


__all__ = ["RULES", "Finding", "LintReport", "Rule", "last_report", "lint"]
