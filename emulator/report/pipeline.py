"""Charts of what the pipeline did along the way: mapping events, and each function's invocations."""

from __future__ import annotations

from typing import Any

from emulator.report import model
from emulator.report.charts import BOTTOM, LEFT, RIGHT, TOP, Chart, W
from emulator.report.svg import (
    BLUE,
    BROWN,
    GOLD,
    MUTED,
    ORANGE,
    PURPLE,
    RED,
    SERIES,
    SLATE,
    TEAL,
    Canvas,
    Plot,
    fmt_ms,
    fmt_s,
    linear,
    ms_value,
)

KIND_COLOURS = {
    "retries": ORANGE,
    "bisects": PURPLE,
    "partial_failures": GOLD,
    "throttles": SLATE,
    "records_dead_lettered": RED,
    "records_filtered": TEAL,
    "records_discarded": BROWN,
}


def _label(kind: str) -> str:
    return kind.removeprefix("records_").replace("_", " ")


def mapping_events(data: dict[str, Any]) -> Chart:
    """Two panels on one time axis: batch-level events, then records given up on or filtered out."""
    events = model.mapping_events(data)
    t_lo, t_hi = model.time_domain(data)
    n_bins = 50
    width = (t_hi - t_lo) / n_bins or 1.0
    c = Canvas(W, 390)
    x = linear(t_lo, t_hi, LEFT, W - RIGHT)
    panels = (
        (model.BATCH_KINDS, 24, 175, "batches", "No retries, bisects, partial failures or throttles."),
        (model.RECORD_KINDS, 220, 390 - BOTTOM, "records", "No record was dead-lettered, filtered or discarded."),
    )
    totals: dict[str, float] = {}
    for kinds, top, bottom, unit, empty in panels:
        bins = {k: [0.0] * n_bins for k in kinds}
        for t, kind, n in events:
            if kind in bins:
                bins[kind][min(n_bins - 1, max(0, int((t - t_lo) / width)))] += n
                totals[kind] = totals.get(kind, 0.0) + n
        stack_hi = max([sum(bins[k][i] for k in kinds) for i in range(n_bins)] + [1.0])
        y = linear(0, stack_hi, bottom, top + 14, ticks=3, integer=True)
        plot = Plot(c, x, y)
        plot.axes(xlabel="seconds since the replay began" if unit == "records" else "", ylabel=unit, xfmt=fmt_s,
                  xticks=unit == "records")
        with c.marks():
            for i in range(n_bins):
                base = 0.0
                for k in kinds:
                    n = bins[k][i]
                    if n:
                        x0 = x(t_lo + i * width)
                        c.shape("rect", f"{fmt_s(t_lo + i * width)}: {n:g} {_label(k)}", x=x0 + 0.5, y=y(base + n),
                                width=max(1.0, x(t_lo + (i + 1) * width) - x0 - 1), height=y(base) - y(base + n),
                                fill=KIND_COLOURS[k])
                        base += n
        if not any(totals.get(k) for k in kinds):
            plot.note(empty)
        c.legend(LEFT, top - 6, [(_label(k), KIND_COLOURS[k], "box") for k in kinds])
    listed = ", ".join(f"{totals[k]:g} {_label(k)}" for k in KIND_COLOURS if totals.get(k))
    caption = (
        f"Event source mapping activity per {width:.2g} s, stacked by kind: batch events above, records below. "
        + (f"In total: {listed}." if listed else "The mappings needed no retries and gave up on nothing.")
    )
    return Chart("mapping-events", "Retries, bisects and dead letters", c.render("Mapping events over time"), caption)


def function_colours(data: dict[str, Any]) -> dict[str, str]:
    names = {model.clean(name) for name in model.mapping(data, "functions")}
    names.update(i.function for i in model.invocations(data))
    return {name: SERIES[i % len(SERIES)] for i, name in enumerate(sorted(names))}


def function_invocations(data: dict[str, Any]) -> Chart:
    functions = model.mapping(data, "functions")
    rows = []
    for name, stats in sorted(functions.items()):
        stats = stats if isinstance(stats, dict) else {}
        total = int(model.num(stats.get("invocations")) or 0)
        cold = int(model.num(stats.get("cold_starts")) or 0)
        rows.append((model.clean(name), total, cold, int(model.num(stats.get("errors")) or 0)))
    label_w = min(180, max([len(r[0]) for r in rows] + [8]) * 7 + 12)
    band = 46
    height = max(150, TOP + 12 + band * len(rows) + BOTTOM)
    c = Canvas(W, height)
    title = "Invocations per function"
    x = linear(0, max([r[1] for r in rows] + [1]), label_w, W - RIGHT - 30, integer=True)
    plot = Plot(c, x, linear(0, 1, height - BOTTOM, TOP))
    for v in x.ticks():
        c.line(x(v), TOP, x(v), height - BOTTOM, "#e4e7eb", stroke_width=1)
        c.text(x(v), height - BOTTOM + 17, f"{v:g}", size=11, fill=MUTED, text_anchor="middle")
    c.line(label_w, height - BOTTOM, W - RIGHT, height - BOTTOM, "#9aa5b1")
    c.text((label_w + W - RIGHT) / 2, height - BOTTOM + 34, "invocations", size=11, fill=MUTED, text_anchor="middle")
    for i, (name, total, cold, errors) in enumerate(rows):
        top = TOP + 12 + i * band
        short = name if len(name) <= 24 else name[:23] + "…"
        c.text(label_w - 8, top + 13, short, size=12, text_anchor="end", font_weight="600")
        with c.marks():
            warm = max(0, total - cold)
            c.shape("rect", f"{name}: {cold} cold starts", x=x(0), y=top, width=x(cold) - x(0), height=18,
                    fill=ORANGE)
            c.shape("rect", f"{name}: {warm} warm starts", x=x(cold), y=top, width=x(total) - x(cold), height=18,
                    fill=BLUE)
            c.shape("rect", f"{name}: {errors} errors", x=x(0), y=top + 22, width=max(0.0, x(errors) - x(0)),
                    height=8, fill=RED)
        c.text(x(total) + 5, top + 13, f"{total}", size=11, fill=MUTED)
        c.text(x(errors) + 5, top + 30, f"{errors} error{'s' if errors != 1 else ''}", size=10,
               fill=RED if errors else MUTED)
    if not rows:
        plot.note("No function was invoked.")
    c.legend(label_w, 18, [("cold start", ORANGE, "box"), ("warm start", BLUE, "box"), ("error", RED, "box")])
    total_inv = sum(r[1] for r in rows)
    caption = (
        f"{total_inv:,} invocations across {len(rows)} function{'s' if len(rows) != 1 else ''}: "
        + "; ".join(f"{r[0]} {r[1]} ({r[2]} cold, {r[3]} errors)" for r in rows)
        + "."
        if rows
        else "No function was invoked during this run."
    )
    return Chart("function-invocations", title, c.render(title), caption)


def function_durations(data: dict[str, Any]) -> Chart:
    calls = model.invocations(data)
    colours = function_colours(data)
    t_lo, t_hi = model.time_domain(data)
    t_lo = min([t_lo, *(i.t for i in calls)])
    t_hi = max([t_hi, *(i.t + i.duration_ms / 1000 for i in calls)])
    c = Canvas(W, 300)
    title = "Function durations over time"
    x = linear(t_lo, t_hi, LEFT, W - RIGHT)
    y = linear(0, max([i.duration_ms for i in calls] + [1.0]), 300 - BOTTOM, TOP)
    plot = Plot(c, x, y)
    plot.axes(xlabel="invocation start (seconds since the replay began)", ylabel="duration", xfmt=fmt_s, yfmt=fmt_ms)
    opacity = 1.0 if len(calls) <= 300 else 0.5  # overlapping dots of a busy run still show their density
    with c.marks():
        for call in calls:
            colour = colours.get(call.function, BLUE)
            what = f"{call.function} at {fmt_s(call.t)}: {ms_value(call.duration_ms)}"
            what += (" (cold start)" if call.cold else "") + (" \u2013 error" if call.error else "")
            px, py = x(call.t), y(call.duration_ms)
            if len(calls) <= 60:  # stems help read a few invocations; for many they are only noise
                c.shape("line", None, x1=px, y1=y(0), x2=px, y2=py, stroke=colour, stroke_opacity=0.25, stroke_width=1)
            if call.cold:
                c.shape("circle", what, cx=px, cy=py, r=5.5, fill="white", stroke=colour, stroke_width=2)
            else:
                c.shape("circle", what, cx=px, cy=py, r=3.5, fill=colour, fill_opacity=opacity)
            if call.error:
                c.shape("path", None, d=f"M{px - 5:.1f},{py - 5:.1f} L{px + 5:.1f},{py + 5:.1f} M{px - 5:.1f},"
                        f"{py + 5:.1f} L{px + 5:.1f},{py - 5:.1f}", stroke=RED, stroke_width=2.5)
    if not calls:
        plot.note("No function was invoked.")
    legend = [(name, colour, "dot") for name, colour in colours.items()][:4]
    c.legend(LEFT, 18, [*legend, ("cold start", MUTED, "ring"), ("error", RED, "cross")])
    cold = [i.duration_ms for i in calls if i.cold]
    warm = [i.duration_ms for i in calls if not i.cold]
    caption = (
        f"Each dot is one invocation: when it started and how long the handler ran. Rings are cold starts "
        f"(mean {ms_value(sum(cold) / len(cold))}) against warm starts (mean {ms_value(sum(warm) / len(warm))})."
        if cold and warm
        else "Each dot is one invocation: when it started and how long the handler ran; rings are cold starts."
    )
    return Chart("function-durations", title, c.render(title), caption)
