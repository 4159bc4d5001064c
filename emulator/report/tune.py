"""``tune.html``: every combination of a ``pipemu tune`` sweep as a point of p99 latency against cost per million
events, the Pareto front joined by a line, the budget, and the recommended setting ringed.

Input is plain data (``rows``: dicts with ``label``, ``p99_ms``, ``per_million_usd``, ``passed``, ``front``,
``recommended``), so the report layer needs nothing of the sweep's types.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from emulator.report import model
from emulator.report.cost import usd
from emulator.report.style import CSS
from emulator.report.svg import BLUE, MUTED, RED, TEAL, Canvas, Plot, fmt_ms, linear

W, H = 640, 380
LEFT, RIGHT, TOP, BOTTOM = 84, 24, 40, 52


def front_chart(rows: list[dict[str, Any]], *, budget_ms: float | None, latency_kind: str) -> str:
    points: list[tuple[float, float, dict[str, Any]]] = []
    for r in rows:
        p99, cost = model.num(r.get("p99_ms")), model.num(r.get("per_million_usd"))
        if p99 is not None and cost is not None:
            points.append((p99, cost, r))
    c = Canvas(W, H)
    title = "Latency against cost"
    xs = [x for x, _, _ in points] + ([budget_ms] if budget_ms else []) + [1.0]
    ys = [y for _, y, _ in points] + [1e-9]
    x = linear(0, max(xs) * 1.08, LEFT, W - RIGHT)
    y = linear(0, max(ys) * 1.12, H - BOTTOM, TOP)
    plot = Plot(c, x, y)
    plot.axes(xlabel=f"p99 latency ({latency_kind})", ylabel="USD per million events", xfmt=fmt_ms, yfmt=usd)
    if budget_ms:
        c.line(x(budget_ms), TOP, x(budget_ms), H - BOTTOM, RED, stroke_width=1.5, stroke_dasharray="6 4")
        c.text(x(budget_ms) + 4, TOP + 12, f"p99 budget {fmt_ms(budget_ms)}", size=11, fill=RED, halo=True)
    front = sorted((p for p in points if p[2].get("front")), key=lambda p: p[0])
    with c.marks():
        if len(front) >= 2:
            c.path([(x(px), y(py)) for px, py, _ in front], TEAL, stroke_width=2)
        for px, py, r in points:
            colour = TEAL if r.get("front") else (BLUE if r.get("passed") else RED)
            label = model.clean(r.get("label", "?"))
            c.shape("circle", f"{label}: p99 {fmt_ms(px)}, {usd(py)} per million"
                    + ("" if r.get("passed") else " (fails an expectation)"),
                    cx=x(px), cy=y(py), r=5, fill=colour if r.get("passed") else "white", stroke=colour,
                    stroke_width=2)
            if r.get("recommended"):
                c.shape("circle", cx=x(px), cy=y(py), r=10, fill="none", stroke=RED, stroke_width=2)
    for px, py, r in points:
        if r.get("front") or r.get("recommended"):
            c.text(x(px) + 8, y(py) - 8, model.clean(r.get("short", r.get("label", "")))[:40], size=11, fill=MUTED,
                   halo=True)
    c.legend(LEFT, 18, [("Pareto front", TEAL, "dot"), ("other setting", BLUE, "dot"),
                        ("fails an expectation", RED, "ring"), ("recommended", RED, "ring")])
    if not points:
        plot.note("No combination produced a latency and a cost.")
    return c.render(title)


def write_tune_html(path: Path, *, scenario: str, rows: list[dict[str, Any]], budget_ms: float | None,
                    latency_kind: str, patch: str | None, notes: list[str], keys: str = "") -> Path:
    head = ["setting", "p50", "p95", "p99", "p99 measured", "events/s", "invocations", "retries", "$ per million",
            "result"]
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(model.clean(v))}</td>" for v in r.get("cells", [])) + "</tr>" for r in rows
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>tune · {escape(model.clean(scenario))} · pipemu</title><style>{CSS}</style></head><body><main>"
        f"<h1>pipemu tune: {escape(model.clean(scenario))}</h1>"
        f'<figure class="chart" data-chart="tune-front"><h3>Latency against cost</h3>'
        f"{front_chart(rows, budget_ms=budget_ms, latency_kind=latency_kind)}"
        f"<figcaption>Each point is one combination; the front and the recommendation are labelled "
        f"{escape(model.clean(keys))}. {escape(model.clean(latency_kind)).capitalize()} p99 latency; cost projected "
        "from measured counts at list prices.</figcaption></figure>"
        "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr></thead><tbody>{body}</tbody></table>"
        + (f"<h2>Recommended setting</h2><pre><code>{escape(patch)}</code></pre>" if patch else
           "<p class=\"warn\">No combination met the budget.</p>")
        + "".join(f"<p class=\"muted\">{escape(model.clean(n))}</p>" for n in notes)
        + "</main></body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model.clean(page), encoding="utf-8")
    return path
