"""The run's projected AWS bill: a breakdown chart (USD per million events, by service and resource) and the
lines behind it, each with its units and the pricing page its price came from."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from emulator.report import model
from emulator.report.charts import Chart
from emulator.report.svg import MUTED, SERIES, Canvas, Plot, linear

W, RIGHT, TOP, BOTTOM = 600, 90, 40, 48


def usd(value: float | None) -> str:
    """Dollars readable at any size: $413, $2.50, $0.0000629."""
    if value is None:
        return "\u2013"
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:,.2f}"
    if value <= 0:
        return "$0"
    return f"${value:.{max(2, 2 - math.floor(math.log10(value)))}f}"


def _rows(cost: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(service, resource, USD per million events), largest first."""
    run, per_million = model.num(cost.get("run_usd")), model.num(cost.get("per_million_usd"))
    out = []
    for key, value in model.mapping(cost, "by_resource").items():
        v = model.num(value)
        if v is None or not run or per_million is None:
            continue
        service, _, resource = model.clean(key).partition(":")
        out.append((service, resource, v / run * per_million))
    return sorted(out, key=lambda r: -r[2])


def cost_breakdown(data: dict[str, Any]) -> Chart:
    cost = model.mapping(data, "cost")
    rows = _rows(cost)
    services = sorted({r[0] for r in rows})
    colour = {s: SERIES[i % len(SERIES)] for i, s in enumerate(services)}
    label_w = min(200, max([len(f"{s} {r}") for s, r, _ in rows] + [10]) * 7 + 12)
    band = 30
    height = max(150, TOP + 12 + band * len(rows) + BOTTOM)
    c = Canvas(W, height)
    title = "Cost on AWS per million events"
    x = linear(0, max([r[2] for r in rows] + [1e-9]), label_w, W - RIGHT)
    plot = Plot(c, x, linear(0, 1, height - BOTTOM, TOP))
    for v in x.ticks():
        c.line(x(v), TOP, x(v), height - BOTTOM, "#e4e7eb", stroke_width=1)
        c.text(x(v), height - BOTTOM + 17, usd(v), size=11, fill=MUTED, text_anchor="middle")
    c.line(label_w, height - BOTTOM, W - RIGHT, height - BOTTOM, "#9aa5b1")
    c.text((label_w + W - RIGHT) / 2, height - BOTTOM + 34, "USD per million events", size=11, fill=MUTED,
           text_anchor="middle")
    for i, (service, resource, value) in enumerate(rows):
        top = TOP + 12 + i * band
        label = f"{service} {resource}" if resource != "*" else service
        c.text(label_w - 8, top + 13, label[:28], size=12, text_anchor="end", font_weight="600")
        with c.marks():
            c.shape("rect", f"{label}: {usd(value)} per million events", x=x(0), y=top,
                    width=max(1.0, x(value) - x(0)), height=18, fill=colour[service])
        c.text(x(value) + 5, top + 13, usd(value), size=11, fill=MUTED)
    if not rows:
        plot.note("No cost was measured (the backend does not meter usage).")
    c.legend(label_w, 18, [(s, colour[s], "box") for s in services])
    caption = (
        f"{usd(model.num(cost.get('per_million_usd')))} per million events and "
        f"{usd(model.num(cost.get('per_month_usd')))} per month at {model.num(cost.get('rate_per_s')) or 0:g} "
        f"events/s, at {model.clean(cost.get('region', '?'))} list prices of "
        f"{model.clean(cost.get('prices_version', '?'))}. Counts (requests, records, invocations) transfer to "
        "AWS; Lambda durations were measured on this machine."
        if rows else "No cost was measured."
    )
    return Chart("cost-breakdown", title, c.render(title), caption)


def cost_table(data: dict[str, Any]) -> str:
    cost = model.mapping(data, "cost")
    lines = [line for line in model.items(cost, "lines") if isinstance(line, dict)]
    if not lines:
        return '<p class="muted">No cost was measured on this backend.</p>'

    def e(value: Any) -> str:
        return escape(model.clean(value))

    rows = "".join(
        f"<tr><td>{e(line.get('service', '?'))}</td><td><code>{e(line.get('resource', '?'))}</code></td>"
        f"<td>{e(line.get('units', ''))}</td><td class=\"num\">{e(usd(model.num(line.get('usd'))))}</td>"
        f"<td><code>{e(line.get('item', ''))}</code> {e(line.get('source', ''))} "
        f"<span class=\"muted\">({e(line.get('checked', ''))})</span></td></tr>"
        for line in lines
    )
    notes = "".join(f"<li>{e(n)}</li>" for n in model.items(cost, "notes"))
    return (
        "<table><thead><tr><th>service</th><th>resource</th><th>measured units</th><th class=\"num\">this run</th>"
        f"<th>price (source)</th></tr></thead><tbody>{rows}</tbody></table>"
        + (f"<ul>{notes}</ul>" if notes else "")
    )
