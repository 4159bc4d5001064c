"""State machine definitions as written beside a pipeline: ASL in JSON or YAML, with references to the
pipeline's resources that deployment fills in.

    "Resource": "${function:rollup}"            -> the function's ARN
    "Bucket": "${bucket:orders-out}"             -> the bucket's name
    "QueueUrl": "${queue:alerts}"                -> the queue's URL
    "StreamARN": "${stream:orders}"              -> the stream's ARN
    "TableName": "${table:totals}"               -> the table's name

A reference may be the whole string or part of one (``"s3://${bucket:out}/daily/"``). An unknown reference is a
``ConfigError`` naming the definition file, the line and the reference, with the closest declared name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.errors import ConfigError
from emulator.spec.yamlsrc import KeyPath, YamlDoc, close_match_hint, format_path
from emulator.stepfunctions.documents import load_document

if TYPE_CHECKING:
    from emulator.deploy import Deployment
    from emulator.spec.pipeline import PipelineSpec

REFERENCE = re.compile(r"\$\{\s*(?P<kind>[A-Za-z_-]*)\s*:\s*(?P<name>[^}]*?)\s*\}")
KINDS = {
    "function": "functions", "bucket": "buckets", "queue": "queues", "stream": "streams", "table": "tables",
}
WHAT = "state machine definition"


@dataclass(frozen=True)
class Reference:
    kind: str
    name: str
    path: KeyPath
    line: int | None

    @property
    def text(self) -> str:
        return f"${{{self.kind}:{self.name}}}"


@dataclass(frozen=True)
class References:
    """What each kind of reference resolves to: spec name -> ARN, bucket name or queue URL."""

    functions: Mapping[str, str] = field(default_factory=dict)
    buckets: Mapping[str, str] = field(default_factory=dict)
    queues: Mapping[str, str] = field(default_factory=dict)
    streams: Mapping[str, str] = field(default_factory=dict)
    tables: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_deployment(cls, deployment: Deployment) -> References:
        return cls(
            functions=dict(deployment.functions),
            buckets=dict(deployment.buckets),
            queues=dict(deployment.queues),
            streams=dict(deployment.streams),
            tables=dict(deployment.tables),
        )

    @classmethod
    def declared_in(cls, spec: PipelineSpec) -> References:
        """Names only (each resolving to itself): enough to check a definition before anything is deployed."""

        def names(section: Mapping[str, Any]) -> dict[str, str]:
            return {name: name for name in section}

        return cls(names(spec.functions), names(spec.buckets), names(spec.queues), names(spec.streams),
                   names(spec.tables))

    def section(self, kind: str) -> Mapping[str, str]:
        mapping: Mapping[str, str] = getattr(self, KINDS[kind])
        return mapping


def _strings(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def references_in(doc: YamlDoc) -> list[Reference]:
    """Every ``${kind:name}`` in the document's string values, in document order."""
    found = []
    for path, text in _strings(doc.data, ()):
        for match in REFERENCE.finditer(text):
            found.append(Reference(match["kind"], match["name"], path, doc.line_for(path)))
    return found


def _error(doc: YamlDoc, ref: Reference, message: str, hint: str | None) -> ConfigError:
    key = format_path(ref.path) or None
    return ConfigError(f"{message} in {ref.text}", file=doc.file, line=ref.line, key=key, hint=hint)


def check_references(doc: YamlDoc, refs: References) -> None:
    for ref in references_in(doc):
        if ref.kind not in KINDS:
            hint = close_match_hint(ref.kind, KINDS, what="reference kinds")
            raise _error(doc, ref, f"unknown reference kind '{ref.kind}'", hint)
        declared = refs.section(ref.kind)
        if ref.name not in declared:
            section = KINDS[ref.kind]
            if declared:
                hint = close_match_hint(ref.name, declared, what=f"declared {section}")
            else:
                hint = f"the pipeline declares no {section}; add one under '{section}:'"
            raise _error(doc, ref, f"unknown {ref.kind} '{ref.name}'", hint)


def _substitute(value: Any, refs: References) -> Any:
    if isinstance(value, str):
        return REFERENCE.sub(lambda m: refs.section(m["kind"])[m["name"]], value)
    if isinstance(value, dict):
        return {key: _substitute(item, refs) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, refs) for item in value]
    return value


def load_definition(path: str | Path) -> YamlDoc:
    """Read a definition file and check it looks like ASL (``StartAt`` and ``States``)."""
    doc = load_document(path, what=WHAT)
    missing = [key for key in ("StartAt", "States") if key not in doc.data]
    if missing:
        raise ConfigError(
            f"not an Amazon States Language definition: no {' or '.join(repr(k) for k in missing)}",
            file=doc.file, line=1,
            hint="a definition is an object with 'StartAt' and 'States' "
            "(https://states-language.net/spec.html#toplevelfields)",
        )
    return doc


_STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_TERMINAL = ("Choice", "Succeed", "Fail")  # these end or branch without Next/End
_ASL = "https://states-language.net/spec.html"


def check_structure(doc: YamlDoc) -> None:
    """The transitions of a definition hold together: ``StartAt`` and every ``Next``, ``Default`` and Catch
    target name a state of the same scope (a Parallel branch or a Map's processor is its own scope), every
    state has a known ``Type``, and every state that neither branches nor ends says ``Next`` or ``End``.
    CreateStateMachine refuses such a definition on AWS (``InvalidDefinition``); moto accepts it."""
    _check_scope(doc, doc.data, ())


def _check_scope(doc: YamlDoc, machine: Any, at: KeyPath) -> None:
    if not isinstance(machine, dict) or not isinstance(machine.get("States"), dict) or not machine["States"]:
        raise doc.error("a state machine needs 'States', a mapping of state names to states", (*at, "States"),
                        hint=f"{_ASL}#toplevelfields")
    states: dict[str, Any] = machine["States"]
    _target(doc, states, machine.get("StartAt"), (*at, "StartAt"))
    for name, state in states.items():
        here: KeyPath = (*at, "States", name)
        if not isinstance(state, dict):
            raise doc.error(f"state '{name}' is not a mapping", here)
        kind = state.get("Type")
        if kind not in _STATE_TYPES:
            raise doc.error(f"state '{name}' has Type {kind!r}", (*here, "Type"),
                            hint=close_match_hint(str(kind), _STATE_TYPES, what="state types"))
        for where, value in _transitions(state):
            _target(doc, states, value, (*here, *where))
        if kind not in _TERMINAL and "Next" not in state and state.get("End") is not True:
            raise doc.error(f"state '{name}' has neither Next nor End: true", here,
                            hint=f"every {kind} state goes on (Next) or ends the execution (End: true)")
        for index, branch in enumerate(state.get("Branches") or []):
            _check_scope(doc, branch, (*here, "Branches", index))
        for scope in ("ItemProcessor", "Iterator"):
            if scope in state:
                _check_scope(doc, state[scope], (*here, scope))


def _transitions(state: dict[str, Any]) -> Iterator[tuple[KeyPath, Any]]:
    if "Next" in state:
        yield ("Next",), state["Next"]
    for index, rule in enumerate(state.get("Choices") or []):
        if isinstance(rule, dict):
            yield ("Choices", index, "Next"), rule.get("Next")
    if "Default" in state:
        yield ("Default",), state["Default"]
    for index, rule in enumerate(state.get("Catch") or []):
        if isinstance(rule, dict):
            yield ("Catch", index, "Next"), rule.get("Next")


def _target(doc: YamlDoc, states: dict[str, Any], name: Any, path: KeyPath) -> None:
    if isinstance(name, str) and name in states:
        return
    what = path[-1]
    shown = f"'{name}'" if isinstance(name, str) else "nothing"
    raise doc.error(f"{what} names {shown}, which is not a state here", path,
                    hint=close_match_hint(str(name), states, what="states in this scope"))


def check_pipeline_definitions(spec: PipelineSpec) -> None:
    """Every state machine definition of a pipeline is ASL whose transitions hold together and whose references
    name declared resources (what deploy checks, without deploying: for validation commands)."""
    refs = References.declared_in(spec)
    for machine in spec.state_machines.values():
        doc = load_definition(machine.definition)
        check_structure(doc)
        check_references(doc, refs)


def render_definition(path: str | Path, refs: References) -> str:
    """The definition as JSON text for CreateStateMachine, every reference replaced by its value."""
    doc = load_definition(path)
    check_structure(doc)
    check_references(doc, refs)
    return json.dumps(_substitute(doc.data, refs), indent=2)


def state_names(definition: dict[str, Any]) -> set[str]:
    """Every state name in an ASL definition, including those inside Parallel branches and Map processors."""
    names: set[str] = set()
    for name, state in (definition.get("States") or {}).items():
        names.add(name)
        if not isinstance(state, dict):
            continue
        for branch in state.get("Branches") or []:
            names |= state_names(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                names |= state_names(state[key])
    return names


__all__ = [
    "KINDS", "REFERENCE", "Reference", "References", "check_pipeline_definitions", "check_references",
    "check_structure", "load_definition", "references_in", "render_definition", "state_names",
]
