"""JUnit XML for CI: one <testsuite> per scenario run, one <testcase> per expectation.

The shape is the one Jenkins (junit-10.xsd), GitLab, GitHub test reporters and Ant's JUnitReport read:
``testsuites > testsuite[name tests failures errors skipped time] > properties, testcase[name classname time]
> failure[message type], system-out``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emulator.report import model

FAILURE_TYPE = "pipemu.ExpectationFailed"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return model.clean(value)
    return model.clean(json.dumps(value, default=str, ensure_ascii=False))


def _failure_message(e: dict[str, Any]) -> str:
    message = f"expected {_text(e.get('expected'))}, got {_text(e.get('actual'))}"
    detail = model.clean(e.get("detail") or "")
    return f"{message} ({detail})" if detail else message


def _failure_body(e: dict[str, Any], replay_command: str) -> str:
    lines = [
        f"expectation: {model.clean(e.get('name', '?'))}",
        f"expected:    {_text(e.get('expected'))}",
        f"actual:      {_text(e.get('actual'))}",
    ]
    if e.get("detail"):
        lines.append(f"detail:      {model.clean(e.get('detail'))}")
    misses = e.get("near_misses")
    if misses:
        lines += ["near misses:", model.pretty(misses)]
    if replay_command:
        lines.append(f"replay with: {replay_command}")
    return "\n".join(lines) + "\n"


def _suite(result: dict[str, Any]) -> ET.Element:
    scenario = model.clean(result.get("scenario") or "unnamed-scenario")
    exps = model.expectations(result)
    failed = [e for e in exps if not e.get("passed")]
    duration = model.num(result.get("duration_s")) or 0.0
    replay_command = model.clean(result.get("replay_command") or "")
    suite = ET.Element(
        "testsuite",
        {
            "name": scenario,
            "tests": str(len(exps)),
            "failures": str(len(failed)),
            "errors": "0",
            "skipped": "0",
            "time": f"{max(0.0, duration):.3f}",
        },
    )
    props = ET.SubElement(suite, "properties")
    replay = model.mapping(result, "replay")
    for name, value in (
        ("seed", result.get("seed")),
        ("backend", result.get("backend")),
        ("time_scale", result.get("time_scale")),
        ("timed_out", result.get("timed_out")),
        ("asked_rate", replay.get("asked_rate")),
        ("replay_command", result.get("replay_command")),
    ):
        if value is not None:
            ET.SubElement(props, "property", {"name": name, "value": _text(value)})
    for e in exps:
        # Expectations are checked once at the end of the run, so they have no duration of their own.
        case = ET.SubElement(
            suite, "testcase", {"name": model.clean(e.get("name") or "?"), "classname": scenario, "time": "0.000"}
        )
        if not e.get("passed"):
            failure = ET.SubElement(case, "failure", {"message": _failure_message(e), "type": FAILURE_TYPE})
            failure.text = _failure_body(e, replay_command)
    out = ET.SubElement(suite, "system-out")
    verdict = "PASSED" if result.get("passed") is True else "FAILED"
    out.text = f"scenario {scenario}: {verdict} (seed {_text(result.get('seed'))})\nreplay with: {replay_command}\n"
    if result.get("timed_out"):
        out.text += "the run timed out before the pipeline went quiet\n"
    return suite


def render_junit(results: Sequence[dict[str, Any]]) -> str:
    """JUnit XML for a list of report.json dicts (one per scenario run)."""
    suites = [_suite(r if isinstance(r, dict) else {}) for r in results]
    root = ET.Element(
        "testsuites",
        {
            "name": "pipemu",
            "tests": str(sum(int(s.get("tests", "0")) for s in suites)),
            "failures": str(sum(int(s.get("failures", "0")) for s in suites)),
            "errors": "0",
            "time": f"{sum(float(s.get('time', '0')) for s in suites):.3f}",
        },
    )
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(results: Sequence[dict[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_junit(results), encoding="utf-8")
    return path
