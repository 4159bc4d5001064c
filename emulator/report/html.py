"""report.html: one self-contained page per run (inline CSS and SVG, no scripts, no network).

Everything that came from the run (names, near misses, dead-letter bodies, handler logs) is escaped here or in
the chart code, because handler output is arbitrary text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from emulator.report import charts, cost, iam, lint, model, pipeline
from emulator.report.style import CSS
from emulator.report.svg import ms_value

ChartFn = Callable[[dict[str, Any]], charts.Chart]


def _e(value: Any) -> str:
    return escape(model.clean(value))


def _value(value: Any) -> str:
    if value is None:
        return '<span class="muted">none</span>'
    if isinstance(value, str):
        return _e(value)
    return _e(json.dumps(value, default=str, ensure_ascii=False))


def _figure(fn: ChartFn, data: dict[str, Any]) -> str:
    key = fn.__name__.replace("_", "-")
    try:
        chart = fn(data)
    except Exception as exc:  # a report of a broken run must still open; say which chart failed and why
        return (f'<figure class="chart" data-chart="{key}" data-error="true"><h3>{_e(key)}</h3>'
                f"<p class=\"warn\">This chart could not be drawn: {_e(repr(exc))}</p></figure>")
    return (
        f'<figure class="chart" data-chart="{_e(chart.key)}"><h3>{_e(chart.title)}</h3>{chart.svg}'
        f"<figcaption>{_e(chart.caption)}</figcaption></figure>"
    )


def _verdict(data: dict[str, Any]) -> str:
    passed = data.get("passed") is True
    exps = model.expectations(data)
    failed = [str(e.get("name", "?")) for e in exps if not e.get("passed")]
    if failed:
        headline = f"{len(failed)} of {len(exps)} expectations failed: {', '.join(failed)}"
    else:
        headline = f"all {len(exps)} expectations met" if exps else "no expectation was checked"
    meta = [
        ("backend", data.get("backend", "?")),
        ("seed", data.get("seed", "?")),
        ("duration", f"{model.num(data.get('duration_s')) or 0:.2f} s"),
        ("time scale", f"{model.num(data.get('time_scale')) or 1:g}x"),
        ("latency clock", data.get("latency_clock", "wall")),
    ]
    timed_out = (
        '<span class="warn">The run timed out before the pipeline went quiet.</span>' if data.get("timed_out") else ""
    ) + (
        '<span class="warn">The run was interrupted: these figures are what was measured until then.</span>'
        if data.get("interrupted") else ""
    )
    return (
        f'<section id="verdict" data-passed="{"true" if passed else "false"}">'
        f'<div class="verdict-word">{"PASSED" if passed else "FAILED"}</div><div class="verdict-text">'
        f"<h1>{_e(data.get('scenario', 'unnamed scenario'))}</h1><div>{_e(headline)}</div>"
        f'<div class="meta">{" · ".join(f"{_e(k)} <b>{_e(v)}</b>" for k, v in meta)}</div>{timed_out}</div>'
        f"</section>"
        f'<div class="replay"><div class="meta">Replay this run exactly:</div>'
        f"<pre><code>{_e(data.get('replay_command', ''))}</code></pre></div>"
    )


def _rates(replay: dict[str, Any]) -> str:
    asked, achieved = model.num(replay.get("asked_rate")), model.num(replay.get("achieved_rate")) or 0.0
    return f"{'asked ' + format(asked, 'g') + '/s' if asked else 'no rate limit'}, producer {achieved:g}/s"


def _tiles(data: dict[str, Any]) -> str:
    ev = model.mapping(data, "events")
    replay = model.mapping(data, "replay")
    missed = {b.key for b in model.budgets(data) if not b.passed}
    pct = model.percentiles(data)

    def count(key: str) -> str:
        return f"{int(model.num(ev.get(key)) or 0):,}"

    tiles = [
        ("sent", count("sent"), "", False),
        ("delivered", count("delivered"), "", False),
        ("dead-lettered", count("dead_lettered"), "", False),
        ("filtered", count("filtered"), "", False),
        ("lost", count("lost"), "", (model.num(ev.get("lost")) or 0) > 0),
        ("duplicates", count("duplicates"), "delivered more than once", False),
        ("throughput", f"{model.num(data.get('throughput_eps')) or 0:,.1f}/s",
         _rates(replay), False),
    ]
    for k in ("p50", "p95", "p99", "max"):
        sub = ("over budget" if k in pct else "no event delivered") if k in missed else ""
        tiles.append((f"latency {k}", ms_value(pct.get(k)), sub, k in missed))
    return '<div class="tiles">' + "".join(
        f'<div class="tile{" bad" if bad else ""}"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div><div class="sub">{_e(sub)}</div></div>'
        for label, value, sub, bad in tiles
    ) + "</div>"


def _expectations(data: dict[str, Any]) -> str:
    rows = []
    for e in model.expectations(data):
        ok = bool(e.get("passed"))
        misses = e.get("near_misses")
        misses = misses if isinstance(misses, list) else ([] if misses is None else [misses])
        near = (
            f'<details{"" if ok else " open"}><summary>{len(misses)} near miss{"es" if len(misses) != 1 else ""}'
            f"</summary><pre>{_e(model.pretty(misses))}</pre></details>"
            if misses
            else '<span class="muted">\u2013</span>'
        )
        rows.append(
            f'<tr class="{"passed" if ok else "failed"}"><td><span class="pill {"pass" if ok else "fail"}">'
            f'{"ok" if ok else "FAIL"}</span></td><td><code>{_e(e.get("name", "?"))}</code></td>'
            f"<td>{_value(e.get('expected'))}</td><td>{_value(e.get('actual'))}</td>"
            f"<td>{_e(e.get('detail') or '')}</td><td>{near}</td></tr>"
        )
    if not rows:
        return '<p class="muted">No expectation was checked.</p>'
    return (
        "<table><thead><tr><th>result</th><th>expectation</th><th>expected</th><th>actual</th><th>detail</th>"
        f"<th>near misses</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _delivery_ends(data: dict[str, Any]) -> str:
    """Events that reached each end of expect.delivered, and whether one end was enough (mode any) or all."""
    ends = model.mapping(data, "delivered_ends")
    reached = model.mapping(ends, "reached")
    if not reached:
        return ""
    sent = model.num(model.mapping(data, "events").get("sent")) or 0
    rows = "".join(
        f'<tr><td><code>{_e(label)}</code></td><td class="num">{_e(f"{model.num(n) or 0:g}")}</td>'
        f'<td class="num">{_e(f"{model.num(sent):g}")}</td></tr>'
        for label, n in reached.items()
    )
    mode = _e(ends.get("mode", "all"))
    return (f'<h3>Delivery per end (an event is delivered at {"any" if mode == "any" else "all"} of them)</h3>'
            f'<table class="delivery-ends"><thead><tr><th>end</th><th class="num">events reached</th>'
            f'<th class="num">sent</th></tr></thead><tbody>{rows}</tbody></table>')


def _function_table(data: dict[str, Any]) -> str:
    calls = model.invocations(data)
    rows = []
    for name, stats in sorted(model.mapping(data, "functions").items()):
        stats = stats if isinstance(stats, dict) else {}
        total = int(model.num(stats.get("invocations")) or 0)
        cold = int(model.num(stats.get("cold_starts")) or 0)
        errors = int(model.num(stats.get("errors")) or 0)
        mine = [c for c in calls if c.function == name]
        cold_ms = [c.duration_ms for c in mine if c.cold]
        warm_ms = [c.duration_ms for c in mine if not c.cold]
        cells = [
            f"{total:,}", f"{cold:,}", f"{total - cold:,}", f"{errors:,}",
            f"{errors / total:.1%}" if total else "\u2013",
            ms_value(model.num(stats.get("duration_ms_p50"))), ms_value(model.num(stats.get("duration_ms_max"))),
            ms_value(sum(cold_ms) / len(cold_ms) if cold_ms else None),
            ms_value(sum(warm_ms) / len(warm_ms) if warm_ms else None),
        ]
        runs_on = f'<br><span class="muted">{_e(stats["runtime"])} on {_e(stats.get("runs_on", ""))}</span>' if (
            stats.get("runtime")) else ""
        if stats.get("runtime_note"):
            runs_on += f'<br><span class="muted">{_e(stats["runtime_note"])}</span>'
        rows.append(f"<tr><td><code>{_e(name)}</code>{runs_on}</td>"
                    + "".join(f'<td class="num">{_e(c)}</td>' for c in cells) + "</tr>")
    if not rows:
        return '<p class="muted">No function was invoked.</p>'
    head = ["invocations", "cold", "warm", "errors", "error rate", "p50", "max", "mean cold", "mean warm"]
    return ("<table><thead><tr><th>function</th>" + "".join(f'<th class="num">{h}</th>' for h in head)
            + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _mapping_table(data: dict[str, Any]) -> str:
    mappings = model.mapping(data, "mappings")
    keys = ["invocations", "records_succeeded", *model.BATCH_KINDS, *model.RECORD_KINDS]
    if any(isinstance(s, dict) and s.get("windows_closed") for s in mappings.values()):
        keys.append("windows_closed")  # tumbling windows whose final invocation succeeded
    rows = [
        f"<tr><td><code>{_e(uuid)}</code></td>"
        + "".join(f'<td class="num">{_e(f"{model.num(s.get(k)) or 0:g}")}</td>' for k in keys)
        + "</tr>"
        for uuid, s in sorted(mappings.items())
        if isinstance(s, dict)
    ]
    if not rows:
        return '<p class="muted">No event source mapping ran (or the backend does not report them).</p>'
    head = "".join(f'<th class="num">{_e(k.replace("records_", "").replace("_", " "))}</th>' for k in keys)
    return f"<table><thead><tr><th>mapping</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _tables_table(data: dict[str, Any]) -> str:
    """DynamoDB tables: the items each held at the end, and a few of the counts sampled over the run."""
    rows = []
    for name, figures in sorted(model.mapping(data, "tables").items()):
        if not isinstance(figures, dict):
            continue
        samples = [s for s in figures.get("over_time") or [] if isinstance(s, list) and len(s) == 2]
        step = max(1, len(samples) // 8)
        shown = samples[::step][-8:] if samples else []
        over_time = " · ".join(f"{model.num(t) or 0:.1f} s: {model.num(n) or 0:g}" for t, n in shown)
        rows.append(f"<tr><td><code>{_e(name)}</code></td>"
                    f'<td class="num">{_e(figures.get("items", "?"))}</td><td>{_e(over_time)}</td></tr>')
    if not rows:
        return ""
    return ("<h3>DynamoDB tables</h3><table><thead><tr><th>table</th><th class=\"num\">items</th>"
            f"<th>items over time</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _failing_events(data: dict[str, Any]) -> str:
    out = ["<h3>Dead letters</h3>"]
    samples = [s for s in model.items(data, "dead_letter_samples") if isinstance(s, dict)]
    total = len(model.items(data, "dead_letters"))
    for s in samples:
        keys = [model.clean(k) for k in s.get("events") or [] if k is not None] if isinstance(
            s.get("events"), list) else []
        out.append(
            f'<div class="card dead-letter"><h3>{_e(model.short_queue(s.get("queue", "?")))} · '
            f"{_e(s.get('condition', '?'))} · batch of {_e(s.get('batch_size', '?'))}</h3>"
            + (f'<div class="keys">events: {_e(", ".join(keys))}</div>' if keys else "")
            + f"<details open><summary>message body</summary><pre>{_e(model.pretty(s.get('body')))}</pre></details>"
            "</div>"
        )
    if not samples:
        out.append('<p class="muted">No message reached a dead-letter queue.</p>')
    elif total > len(samples):
        out.append(f'<p class="muted">Showing {len(samples)} of {total} dead-letter messages.</p>')
    out.append("<h3>Failed invocations</h3>")
    failed = [f for f in model.items(data, "failed_invocations") if isinstance(f, dict)]
    for f in failed:
        out.append(
            f'<div class="card failed-invocation"><h3>{_e(f.get("function", "?"))} · request '
            f"<code>{_e(f.get('request_id', '?'))}</code></h3><pre class=\"error\">{_e(f.get('error', ''))}</pre>"
            f"<h3>log lines</h3><pre class=\"logs\">{_e(f.get('logs') or '(the handler logged nothing)')}</pre></div>"
        )
    if not failed:
        out.append('<p class="muted">No invocation raised an error.</p>')
    return "".join(out)


def render_html(data: dict[str, Any]) -> str:
    """The whole report for one run, given ``RunResult.report_data()``."""
    data = data if isinstance(data, dict) else {}
    verdict = "PASSED" if data.get("passed") is True else "FAILED"
    latency = [charts.latency_histogram, charts.latency_over_time]
    flow = [charts.throughput, pipeline.mapping_events]
    functions = [pipeline.function_invocations, pipeline.function_durations]
    body = [
        _verdict(data),
        _tiles(data),
        "<h2>Expectations</h2>",
        _expectations(data),
        _delivery_ends(data),
        "<h2>Latency</h2>",
        '<div class="charts">' + "".join(_figure(f, data) for f in latency) + "</div>",
        "<h2>Throughput and mapping activity</h2>",
        '<div class="charts">' + "".join(_figure(f, data) for f in flow) + "</div>",
        "<h2>Functions</h2>",
        '<div class="charts">' + "".join(_figure(f, data) for f in functions) + "</div>",
        "<h3>Durations</h3>",
        _function_table(data),
        "<h3>Event source mappings</h3>",
        _mapping_table(data),
        _tables_table(data),
        "<h2>Lint</h2>",
        lint.lint_table(data),
        "<h2>IAM: what each function called</h2>",
        iam.iam_section(data),
        "<h2>Cost on AWS</h2>",
        '<div class="charts">' + _figure(cost.cost_breakdown, data) + "</div>",
        cost.cost_table(data),
        "<h2>Failing events</h2>",
        _failing_events(data),
        '<footer>Written by pipemu. Times are seconds since the replay began; latency is measured on the '
        f"{_e(data.get('latency_clock', 'wall'))} clock from send to arrival at the output.</footer>",
    ]
    # clean() once more over the whole page: a control character or lone surrogate that reached a chart label
    # unescaped would make the file unwritable as UTF-8 or invisible in the browser.
    return model.clean(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">"
        f"<title>{verdict} · {_e(data.get('scenario', 'pipemu run'))} · pipemu</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def write_html(data: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(data), encoding="utf-8")
    return path
