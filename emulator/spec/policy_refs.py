"""Checks that every ``${kind:name}`` in a function's policies names a declared resource."""

from __future__ import annotations

from typing import Any

from emulator.spec.refs import check_reference
from emulator.spec.security import POLICY_REFERENCE, POLICY_REFERENCE_KINDS


def check_policy_refs(spec: Any, doc: Any) -> None:
    """Every ``${kind:name}`` in a function's policies names a declared resource (file, line and key if not).
    ``spec`` is the PipelineSpec, ``doc`` its YamlDoc (typed loosely: this module sits below the pipeline's)."""
    for name, fn in spec.functions.items():
        for index, statement in enumerate(fn.policies or []):
            for key in ("Resource", "NotResource"):
                for value in getattr(statement, "resource" if key == "Resource" else "not_resource") or []:
                    for match in POLICY_REFERENCE.finditer(value):
                        kind, ref = match["kind"], match["name"]
                        at = ("functions", name, "policies", index, key)
                        section = POLICY_REFERENCE_KINDS.get(kind)
                        if section is None:
                            raise doc.error(f"unknown reference kind '{kind}' in {match[0]}", at,
                                            hint=f"one of {', '.join(sorted(POLICY_REFERENCE_KINDS))}")
                        check_reference(doc, at, ref, getattr(spec, section, {}), section)
