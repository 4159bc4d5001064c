"""What a lint rule is and what it finds: stable ids, a severity, the AWS page that explains it, a hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from emulator.spec.yamlsrc import KeyPath, YamlDoc, format_path

if TYPE_CHECKING:
    from emulator.spec.pipeline import PipelineSpec
    from emulator.spec.scenario import ScenarioSpec

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    doc: str  # the AWS documentation page behind the rule
    hint: str


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    file: str
    line: int | None
    key: str
    doc: str
    hint: str
    silenced: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "severity": self.severity, "message": self.message, "file": self.file,
            "line": self.line, "key": self.key, "doc": self.doc, "hint": self.hint, "silenced": self.silenced,
        }

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return (f"{where}: {self.key}: {self.rule} {self.severity}: {self.message}\n"
                f"  hint: {self.hint}\n  see: {self.doc}")


@dataclass
class LintContext:
    """What the rules read: the pipeline (and its YAML lines), optionally a scenario and a last run's report."""

    spec: PipelineSpec
    doc: YamlDoc
    scenario: ScenarioSpec | None = None
    measured: dict[str, Any] | None = None  # a report.json of a run of this pipeline
    findings: list[Finding] = field(default_factory=list)

    def hit(self, rule: Rule, message: str, path: KeyPath, *owners: KeyPath, file: Path | None = None,
            line: int | None = None) -> None:
        """Record a finding at ``path``. It is silenced when the pipeline's ``lint.ignore`` or that of any owner
        resource (default: the resource ``path`` is in, e.g. ``("mappings", 0)``) lists the rule."""
        owners = owners or (path[:2],)
        silenced = rule.id in self._ignored(()) or any(rule.id in self._ignored(o) for o in owners)
        self.findings.append(Finding(
            rule=rule.id, severity=rule.severity, message=message, file=str(file or self.doc.file),
            line=line if file is not None else self.doc.line_for(path), key=format_path(path), doc=rule.doc,
            hint=rule.hint, silenced=silenced,
        ))

    def _ignored(self, owner: KeyPath) -> list[str]:
        node: Any = self.spec
        for part in owner:
            if isinstance(part, int):
                node = node[part] if isinstance(node, list) and part < len(node) else None
            elif isinstance(node, dict):
                node = node.get(part)
            else:
                node = getattr(node, part, None)
            if node is None:
                return []
        lint = getattr(node, "lint", None)
        return list(lint.ignore) if lint is not None else []
