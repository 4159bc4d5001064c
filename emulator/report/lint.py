"""The report's lint section: `pipemu lint` findings of the run's pipeline, each with its AWS page."""

from __future__ import annotations

from html import escape
from typing import Any

from emulator.report import model


def lint_table(data: dict[str, Any]) -> str:
    findings = [f for f in model.items(data, "lint") if isinstance(f, dict)]
    active = [f for f in findings if not f.get("silenced")]
    silenced = len(findings) - len(active)
    note = f' <span class="muted">({silenced} silenced in the spec)</span>' if silenced else ""
    if not active:
        return f'<p class="muted" id="lint">No lint finding.</p>{note}'

    def e(value: Any) -> str:
        return escape(model.clean(value))

    rows = "".join(
        f'<tr class="{"failed" if f.get("severity") == "error" else "passed"}"><td><code>{e(f.get("rule", "?"))}'
        f'</code></td><td>{e(f.get("severity", ""))}</td><td><code>{e(f.get("key", ""))}</code>'
        f'<br><span class="muted">{e(f.get("file", ""))}:{e(f.get("line", ""))}</span></td>'
        f'<td>{e(f.get("message", ""))}<br><span class="muted">{e(f.get("hint", ""))}</span></td>'
        f'<td>{e(f.get("doc", ""))}</td></tr>'
        for f in active
    )
    return ('<table id="lint"><thead><tr><th>rule</th><th>severity</th><th>where</th><th>finding</th>'
            f"<th>AWS documentation</th></tr></thead><tbody>{rows}</tbody></table>{note}")
