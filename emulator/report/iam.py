"""The report's IAM section: calls each function's role refused, and per function the policy it needs."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from emulator.report import model

_NONE = '<span class="muted">none</span>'


def _e(value: Any) -> str:
    return escape(model.clean(value))


def _function(name: str, f: dict[str, Any]) -> str:
    used = [u for u in model.items(f, "used") if isinstance(u, dict)]
    rows = "".join(
        f'<tr class="{"failed" if "denied" in str(u.get("outcome")) else "passed"}"><td><code>{_e(u.get("action"))}'
        f'</code></td><td><code>{_e(u.get("resource"))}</code></td><td>{_e(u.get("outcome"))}</td>'
        f'<td class="num">{_e(u.get("count"))}</td></tr>'
        for u in used[:50]
    )
    more = f'<p class="muted">Showing 50 of {len(used)} call kinds.</p>' if len(used) > 50 else ""
    diff = "".join(
        f"<p><b>{label}</b>: {', '.join(f'<code>{_e(g)}</code>' for g in grants) or _NONE}</p>"
        for label, grants in (("missing grants", model.items(f, "missing_grants")),
                              ("unused grants", model.items(f, "unused_grants")))
    ) if f.get("declared") is not None or model.items(f, "missing_grants") else (
        '<p class="muted">This function declares no policies (it ran under the shared role).</p>')
    policy = json.dumps(f.get("policy"), indent=2)
    return (f'<div class="card iam-function"><h3>{_e(name)} · {_e(f.get("calls", 0))} calls</h3>'
            "<table><thead><tr><th>action</th><th>resource</th><th>outcome</th><th class=\"num\">calls</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>{more}{diff}"
            f"<details><summary>least-privilege policy (what this run exercised)</summary><pre>{_e(policy)}</pre>"
            "</details></div>")


def iam_section(data: dict[str, Any]) -> str:
    iam = data.get("iam")
    if not isinstance(iam, dict):
        return '<p class="muted" id="iam">This backend does not see each function\'s calls (the embedded one does).</p>'
    denied = [d for d in model.items(iam, "denied") if isinstance(d, dict)]
    head = (f'<p>iam: <b>{_e(iam.get("mode"))}</b> · {_e(iam.get("calls_total", 0))} calls by functions · '
            f'{_e(iam.get("denied_total", 0))} denied</p>')
    refused = "".join(f'<pre class="error">{_e(d.get("function"))}: {_e(d.get("message"))}</pre>' for d in denied[:10])
    functions = model.mapping(iam, "functions")
    cards = "".join(_function(name, f) for name, f in sorted(functions.items()) if isinstance(f, dict))
    return f'<section id="iam">{head}{refused}{cards}</section>'
