"""Latency and throughput charts: what the events experienced end to end."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from emulator.report import model
from emulator.report.svg import (
    BLUE,
    INK,
    PURPLE,
    RED,
    TEAL,
    Canvas,
    Plot,
    Scale,
    fmt_ms,
    fmt_num,
    fmt_s,
    linear,
    logarithmic,
    ms_value,
)

W, H = 600, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 40, 48
PCT_COLOURS = {"p50": TEAL, "p95": "#e07b1f", "p99": PURPLE, "max": INK}
MAX_DOTS = 3000


@dataclass(frozen=True)
class Chart:
    key: str  # the figure's data-chart attribute
    title: str
    svg: str
    caption: str


def _plot(canvas: Canvas, x: Scale, y: Scale) -> Plot:
    return Plot(canvas, x, y)


def _quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def _budget_lines_y(plot: Plot, budgets: list[model.Budget]) -> None:
    for b in budgets:
        py = plot.y(b.ms)
        plot.canvas.line(plot.left, py, plot.right, py, RED, stroke_width=1.5, stroke_dasharray="6 4")
        plot.canvas.text(plot.right - 4, py - 5, f"{b.key} budget {ms_value(b.ms)}", size=11, fill=RED,
                         text_anchor="end", halo=True)


def _label_goes_right(px: float, width: float, others: list[float]) -> bool:
    """Put a marker's label on the side where it fits and crosses fewer of the other marker lines."""
    if px + width > W - RIGHT:
        return False
    if px - width < LEFT:
        return True
    right = sum(1 for o in others if px < o <= px + width)
    left = sum(1 for o in others if px - width <= o < px)
    return right <= left


def latency_histogram(data: dict[str, Any]) -> Chart:
    values = sorted(ms for _, ms in model.latency_points(data))
    pct = model.percentiles(data)
    budgets = model.budgets(data)
    c = Canvas(W, H)
    title = "Latency distribution"
    if not values:
        plot = _plot(c, linear(0, 1000, LEFT, W - RIGHT), linear(0, 1, H - BOTTOM, TOP, integer=True))
        plot.axes(xlabel="end-to-end latency", ylabel="events", xfmt=fmt_ms)
        plot.note("No event was delivered, so there is no latency to show.")
        return Chart("latency-histogram", title, c.render(title), "No delivered events: nothing to measure.")
    marks = [*[v for k, v in pct.items() if k != "max"], *[b.ms for b in budgets]]
    lo, hi = max(values[0], 0.01), max(values[-1], *marks, values[0] * 1.05)
    use_log = hi / lo >= 8
    x = logarithmic(lo, hi, LEFT, W - RIGHT) if use_log else linear(min(values[0], *marks), hi, LEFT, W - RIGHT, 8)
    n_bins = 40
    d_lo, d_hi = (math.log10(lo), math.log10(max(values[-1], lo * 1.01))) if use_log else (values[0], values[-1])
    if d_hi <= d_lo:
        d_hi = d_lo + (0.01 if use_log else 1.0)
    width = (d_hi - d_lo) / n_bins
    counts = [0] * n_bins
    for v in values:
        tv = math.log10(max(v, lo)) if use_log else v
        counts[min(n_bins - 1, max(0, int((tv - d_lo) / width)))] += 1
    y = linear(0, max(counts), H - BOTTOM, TOP + 14, integer=True)
    plot = _plot(c, x, y)
    plot.axes(xlabel="end-to-end latency" + (" (log scale)" if use_log else ""), ylabel="events", xfmt=fmt_ms)
    with c.marks():
        for i, n in enumerate(counts):
            if not n:
                continue
            b_lo, b_hi = d_lo + i * width, d_lo + (i + 1) * width
            lo_ms, hi_ms = (10**b_lo, 10**b_hi) if use_log else (b_lo, b_hi)
            x0, x1 = x(lo_ms), x(hi_ms)
            c.shape("rect", f"{ms_value(lo_ms)} \u2013 {ms_value(hi_ms)}: {n} events", x=x0 + 0.5, y=y(n),
                    width=max(1.0, x1 - x0 - 1), height=y(0) - y(n), fill=BLUE, fill_opacity=0.75)
    # Labels go one row each, below the legend, so close percentiles (p95 and p99 often are) do not overprint.
    marks_at: list[tuple[str, float, str, str | None]] = [
        (f"{k} {ms_value(v)}", v, PCT_COLOURS[k], None) for k, v in pct.items() if k != "max"
    ]
    marks_at += [(f"{b.key} budget {ms_value(b.ms)}", b.ms, RED, "6 4") for b in budgets]
    xs = [x(v) for _, v, _, _ in marks_at]
    for row, (label, v, colour, dash) in enumerate(marks_at):
        px = x(v)
        c.line(px, TOP + 4, px, H - BOTTOM, colour, stroke_width=1.5 if dash else 2, stroke_dasharray=dash)
        right_side = _label_goes_right(px, 6.6 * len(label) + 6, xs)
        c.text(px + (4 if right_side else -4), TOP + 14 + 13 * row, label, size=11, fill=colour, halo=True,
               text_anchor="start" if right_side else "end", font_weight="600")
    legend = [("events", BLUE, "box"), *[(k, PCT_COLOURS[k], "line") for k in pct if k != "max"]]
    c.legend(LEFT, 18, legend + ([("budget", RED, "dash")] if budgets else []))
    caption = (
        f"End-to-end latency of {len(values):,} delivered events (send to arrival, wall clock), "
        f"{'log-scaled' if use_log else 'linear'} buckets. "
        + ", ".join(f"{k} {ms_value(v)}" for k, v in pct.items())
        + "".join(f"; {b.key} budget {ms_value(b.ms)} ({'met' if b.passed else 'missed'})" for b in budgets)
        + "."
    )
    return Chart("latency-histogram", title, c.render(title), caption)


def latency_over_time(data: dict[str, Any]) -> Chart:
    points = model.latency_points(data)
    budgets = model.budgets(data)
    c = Canvas(W, H)
    title = "Latency over time"
    x = linear(0, max([t for t, _ in points] + [0.0]) or 1.0, LEFT, W - RIGHT)
    y_hi = max([ms for _, ms in points] + [b.ms for b in budgets] + [1.0])
    y = linear(0, y_hi, H - BOTTOM, TOP)
    plot = _plot(c, x, y)
    plot.axes(xlabel="send time (seconds since the replay began)", ylabel="latency", xfmt=fmt_s, yfmt=fmt_ms)
    if not points:
        plot.note("No event was delivered.")
        return Chart("latency-over-time", title, c.render(title), "No delivered events: nothing to plot.")
    step = max(1, len(points) // MAX_DOTS)
    with c.marks():
        for t, ms in points[::step]:
            c.shape("circle", cx=x(t), cy=y(ms), r=2.2, fill=BLUE, fill_opacity=0.35)
    n_bins = 30
    width = (x.hi - x.lo) / n_bins
    bins: list[list[float]] = [[] for _ in range(n_bins)]
    for t, ms in points:
        bins[min(n_bins - 1, max(0, int((t - x.lo) / width)))].append(ms)
    lines: dict[str, list[tuple[float, float]]] = {"p50": [], "p99": []}
    for i, b in enumerate(bins):
        if b:
            b.sort()
            px = x(x.lo + (i + 0.5) * width)
            lines["p50"].append((px, y(_quantile(b, 0.5))))
            lines["p99"].append((px, y(_quantile(b, 0.99))))
    with c.marks():
        for key, pts in lines.items():
            if len(pts) >= 2:
                c.path(pts, PCT_COLOURS[key], stroke_width=2, stroke_linejoin="round")
            for px, py in pts:
                c.shape("circle", cx=px, cy=py, r=2.5, fill=PCT_COLOURS[key])
    _budget_lines_y(plot, budgets)
    legend = [("event", BLUE, "dot"), ("p50 per bin", TEAL, "line"), ("p99 per bin", PURPLE, "line")]
    c.legend(LEFT, 18, legend + ([("budget", RED, "dash")] if budgets else []))
    sampled = f" (every {step}th shown)" if step > 1 else ""
    caption = (
        f"Each dot is one delivered event{sampled}: when it was sent and how long it took to arrive. Lines are the "
        f"p50 and p99 of {width:.2g} s bins of send time; a rising line means a backlog building up."
    )
    return Chart("latency-over-time", title, c.render(title), caption)


def _steps(x: Scale, y: Scale, bucket: float, values: list[float]) -> list[tuple[float, float]]:
    pts = []
    for i, v in enumerate(values):
        pts += [(x(i * bucket), y(v)), (x((i + 1) * bucket), y(v))]
    return pts


def throughput(data: dict[str, Any]) -> Chart:
    tp = model.throughput(data)
    t_lo, t_hi = model.time_domain(data)
    c = Canvas(W, H + 90)
    title = "Throughput"
    x = linear(t_lo, t_hi, LEFT, W - RIGHT)
    rate_hi = max([*tp.sent, *tp.delivered, *(tp.asked_profile or []), tp.asked or 0.0, 1.0])
    y = linear(0, rate_hi, 190, TOP)
    top = _plot(c, x, y)
    top.axes(xlabel="", ylabel="events / s", xticks=False)
    with c.marks():
        for i, v in enumerate(tp.sent):
            if v > 0:
                x0, x1 = x(i * tp.bucket_s), x((i + 1) * tp.bucket_s)
                c.shape("rect", f"{fmt_s(i * tp.bucket_s)}: sent {v:g}/s", x=x0, y=y(v), width=max(0.8, x1 - x0 - 0.6),
                        height=y(0) - y(v), fill=BLUE, fill_opacity=0.55)
        delivered = _steps(x, y, tp.bucket_s, tp.delivered)
        c.path(delivered, TEAL, close_to=y(0), fill=TEAL, fill_opacity=0.15, stroke_width=2)
    if tp.asked is not None:
        c.line(LEFT, y(tp.asked), W - RIGHT, y(tp.asked), INK, stroke_width=1.5, stroke_dasharray="6 4")
        c.text(W - RIGHT - 4, y(tp.asked) - 5, f"asked {fmt_num(tp.asked)}/s", size=11, fill=INK, text_anchor="end")
    if tp.asked is None and tp.asked_profile:
        c.path(_steps(x, y, tp.bucket_s, tp.asked_profile), INK, stroke_width=1.5, stroke_dasharray="6 4")
    if not tp.sent and not tp.delivered:
        top.note("No event was sent.")

    total_sent, total_done = sum(tp.sent) * tp.bucket_s, sum(tp.delivered) * tp.bucket_s
    cy = linear(0, max(total_sent, total_done, 1.0), H + 90 - BOTTOM, 232, ticks=3)
    cum = _plot(c, x, cy)
    cum.axes(xlabel="seconds since the replay began", ylabel="total", xfmt=fmt_s)
    with c.marks():
        for values, colour in ((tp.sent, BLUE), (tp.delivered, TEAL)):
            running, pts = 0.0, [(x(0), cy(0))]
            for i, v in enumerate(values):
                running += v * tp.bucket_s
                pts.append((x((i + 1) * tp.bucket_s), cy(running)))
            c.path(pts, colour, stroke_width=2, stroke_linejoin="round")
    c.text(LEFT, 216, "cumulative: the gap between the lines is the backlog still in flight", size=11,
           fill="#616e7c")
    legend = [("sent per s", BLUE, "box"), ("delivered per s", TEAL, "line")]
    asked_shown = tp.asked is not None or bool(tp.asked_profile)
    c.legend(LEFT, 18, legend + ([("asked rate", INK, "dash")] if asked_shown else []))
    replay = model.mapping(data, "replay")
    achieved, asked = model.num(replay.get("achieved_rate")), model.num(replay.get("asked_rate"))
    caption = (
        f"Events sent and delivered per {tp.bucket_s:g} s bucket. The producer achieved "
        f"{fmt_num(achieved or 0)}/s against "
        f"{'an asked ' + fmt_num(asked) + '/s' if asked else replay.get('asked') or 'no rate limit'}; "
        f"{total_sent:,.0f} sent, {total_done:,.0f} delivered."
    )
    return Chart("throughput", title, c.render(title), caption)
