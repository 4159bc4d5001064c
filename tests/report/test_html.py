"""report.html as a reader sees it: the verdict, the expectations, the charts, the failing events."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_dom import Node, parse
from report_samples import CHART_KEYS, HOSTILE, hostile, no_delivery, recorded, synthetic

from emulator.report import render_html, write_html


def figures(doc: Node) -> dict[str, Node]:
    return {f.attrs["data-chart"]: f for f in doc.find_all("figure")}


def test_failing_run_shows_a_failed_verdict_naming_the_failed_expectation() -> None:
    doc = parse(render_html(recorded("orders-failing")))

    verdict = doc.by_id("verdict")
    assert verdict.attrs["data-passed"] == "false"
    assert "FAILED" in verdict.all_text()
    assert "1 of 4 expectations failed: latency.p99" in verdict.all_text()
    assert "pipemu replay scenarios/orders-powertools.yaml --seed 7" in doc.all_text()


def test_passing_run_shows_a_passed_verdict() -> None:
    doc = parse(render_html(recorded("smoke-passing")))

    verdict = doc.by_id("verdict")
    assert verdict.attrs["data-passed"] == "true"
    assert "PASSED" in verdict.all_text()
    assert "all 4 expectations met" in verdict.all_text()


@pytest.mark.parametrize("name", ["orders-failing", "smoke-passing"])
def test_every_chart_is_an_svg_figure_with_a_caption_axes_and_shapes(name: str) -> None:
    doc = parse(render_html(recorded(name)))

    found = figures(doc)
    assert tuple(found) == CHART_KEYS
    for key, fig in found.items():
        assert "data-error" not in fig.attrs, key
        svg = fig.find("svg")
        assert svg.attrs["viewbox"].startswith("0 0 "), key
        assert svg.shapes() > 10, key
        assert fig.find("figcaption").all_text().strip(), key
        ticks = [t for t in svg.find_all("text") if re.fullmatch(r"\$?-?[\d.,]+k?( ms| s)?", t.all_text())]
        assert len(ticks) >= 3, f"{key} has no labelled axis"


def test_latency_histogram_marks_percentiles_and_the_budget_it_missed() -> None:
    doc = parse(render_html(recorded("orders-failing")))

    labels = [t.all_text() for t in figures(doc)["latency-histogram"].find_all("text")]
    assert "p50 3,418 ms" in labels
    assert "p99 6,132 ms" in labels
    assert "p99 budget 5,000 ms" in labels
    assert "p99 budget 5,000 ms (missed)" in figures(doc)["latency-histogram"].find("figcaption").all_text()


def test_long_tailed_latency_uses_a_log_axis() -> None:
    doc = parse(render_html(synthetic()))

    hist = figures(doc)["latency-histogram"]
    assert "end-to-end latency (log scale)" in [t.all_text() for t in hist.find_all("text")]
    assert len(hist.find_all("rect", fill="#3b6fd8")) >= 15


def test_throughput_draws_the_asked_rate_as_a_dashed_line() -> None:
    svg = figures(parse(render_html(recorded("orders-failing"))))["throughput"].find("svg")

    assert "asked 1000/s" in [t.all_text() for t in svg.find_all("text")]
    assert any(line.attrs.get("stroke-dasharray") for line in svg.find_all("line"))


def test_mapping_events_are_stacked_by_kind() -> None:
    svg = figures(parse(render_html(synthetic())))["mapping-events"].find("svg")

    tooltips = " ".join(t.all_text() for t in svg.find_all("title"))
    for kind in ("retries", "bisects", "partial failures", "throttles", "dead lettered", "filtered"):
        assert kind in tooltips


def test_functions_show_cold_starts_errors_and_a_duration_table() -> None:
    doc = parse(render_html(synthetic()))

    bars = " ".join(t.all_text() for t in figures(doc)["function-invocations"].find_all("title"))
    assert "enrich: 2 cold starts" in bars
    assert "enrich: 108 warm starts" in bars
    assert "enrich: 3 errors" in bars
    table = next(t for t in doc.find_all("table") if "mean cold" in t.all_text())
    assert "enrich" in table.all_text()
    assert "2.7%" in table.all_text()


def test_expectations_table_pretty_prints_near_misses() -> None:
    html = render_html(recorded("orders-failing"))

    assert "\n  {\n    &quot;requestContext&quot;: {" in html
    row = next(tr for tr in parse(html).find_all("tr") if "latency.p99" in tr.all_text())
    assert row.attrs["class"] == "failed"
    assert "+1131.7 ms against the budget" in row.all_text()


def test_failing_events_show_dead_letter_bodies_and_handler_logs() -> None:
    doc = parse(render_html(synthetic() | {"dead_letter_samples": recorded("orders-failing")["dead_letter_samples"]}))

    dead = doc.find_all("div", **{"class": "card dead-letter"})
    assert len(dead) == 2
    assert "orders-dlq · RetryAttemptsExhausted · batch of 10" in dead[0].all_text()
    assert '"approximateInvokeCount": 2' in dead[0].find("pre").all_text()
    failed = doc.find("div", **{"class": "card failed-invocation"})
    assert "ValueError: bad order total" in failed.all_text()
    logs = failed.find("pre", **{"class": "logs"}).all_text()
    assert "\\x1b[31mERROR\\x1b[0m bad order total -3" in logs


def test_user_strings_are_escaped_everywhere() -> None:
    html = render_html(hostile())

    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<b>evil" not in html
    assert "\x00" not in html and "\x1b" not in html
    assert escape(HOSTILE) == "&lt;script&gt;alert(&#x27;near miss&#x27;)&lt;/script&gt;"
    assert escape(HOSTILE) in html
    doc = parse(html)
    assert doc.by_id("verdict").find("h1").all_text() == "<img src=x onerror=alert(1)>"
    assert "<b>evil</b>" in [t.all_text() for t in figures(doc)["function-invocations"].find_all("text")]
    assert not [n for n in doc.walk() if n.tag in ("script", "img", "i")]
    assert "evil" not in [b.all_text() for b in doc.find_all("b")]


def test_control_characters_and_lone_surrogates_are_made_visible(tmp_path: Path) -> None:
    data = recorded("orders-failing")
    data["functions"]["bad\ud800name\x07"] = data["functions"].pop("record-order")

    path = write_html(data, tmp_path / "report.html")

    assert "bad\\ud800name\\x07" in path.read_text(encoding="utf-8")


def test_the_page_is_self_contained() -> None:
    doc = parse(render_html(recorded("orders-failing")))

    assert not [n.tag for n in doc.walk() if n.tag in ("script", "link", "img", "iframe", "object")]
    assert not [n.attrs for n in doc.walk() if "src" in n.attrs or "href" in n.attrs]
    csp = doc.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert "default-src 'none'" in csp.attrs["content"]


def test_a_run_where_nothing_arrived_still_renders_every_section() -> None:
    doc = parse(render_html(no_delivery()))

    assert doc.by_id("verdict").attrs["data-passed"] == "false"
    assert "timed out" in doc.by_id("verdict").all_text()
    assert tuple(figures(doc)) == CHART_KEYS
    assert all("data-error" not in f.attrs for f in figures(doc).values())
    assert not figures(doc)["latency-histogram"].find_all("g", **{"class": "marks"})
    assert figures(doc)["throughput"].find_all("g", **{"class": "marks"})  # 50 events were sent
    notes = [t.all_text() for t in doc.find_all("text", **{"class": "empty-note"})]
    assert "No event was delivered, so there is no latency to show." in notes
    assert "No function was invoked." in notes
    assert "No message reached a dead-letter queue." in doc.all_text()
    assert "No invocation raised an error." in doc.all_text()


def test_empty_dict_renders_a_failed_report() -> None:
    doc = parse(render_html({}))

    assert doc.by_id("verdict").attrs["data-passed"] == "false"
    assert "no expectation was checked" in doc.by_id("verdict").all_text()
    assert len(figures(doc)) == len(CHART_KEYS)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
KEYS = ["passed", "latency_ms", "expectations", "functions", "mappings", "replay", "events", "dead_letter_samples",
        "failed_invocations", "series"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(KEYS), series_key=st.sampled_from(["latency", "throughput", "mapping_events",
                                                               "invocations"]), value=json_values)
def test_any_malformed_field_renders_without_raising(key: str, series_key: str, value: Any) -> None:
    data = recorded("orders-failing")
    if key == "series":
        data["series"][series_key] = value
    else:
        data[key] = value

    html = render_html(data)

    assert 'data-error="true"' not in html
    assert len(re.findall(r"<figure ", html)) == len(CHART_KEYS)


NESTED = [
    ("expectations", 2, "name"), ("expectations", 2, "expected"), ("expectations", 2, "near_misses"),
    ("expectations", 2, "passed"), ("functions", "record-order", "invocations"), ("functions", "record-order", None),
    ("dead_letter_samples", 0, "events"), ("dead_letter_samples", 0, "body"), ("dead_letter_samples", 0, None),
    ("mappings", "94af825c-291b-435d-a25b-3411a8f85675", "retries"), ("series", "throughput", "bucket_s"),
    ("series", "throughput", "sent_per_s"), ("series", "latency", 0), ("series", "invocations", 0),
    ("series", "mapping_events", 0),
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(NESTED), value=json_values)
def test_any_malformed_nested_value_renders_without_raising(path: tuple[Any, ...], value: Any) -> None:
    data = recorded("orders-failing")
    data["failed_invocations"] = synthetic()["failed_invocations"]
    parent: Any = data
    for step in path[:-2]:
        parent = parent[step]
    if path[-1] is None:
        parent[path[-2]] = value
    else:
        parent[path[-2]][path[-1]] = value

    html = render_html(data)

    assert 'data-error="true"' not in html
    assert len(re.findall(r"<figure ", html)) == len(CHART_KEYS)


def test_write_html_writes_a_utf8_file(tmp_path: Path) -> None:
    path = write_html(recorded("smoke-passing"), tmp_path / "run" / "report.html")

    assert path == tmp_path / "run" / "report.html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert json.dumps("clickstream-smoke") in f'"{parse(text).by_id("verdict").find("h1").all_text()}"'


@pytest.mark.parametrize("mode", ["all", "any"])
def test_delivery_per_end_is_a_table_of_what_reached_each_end(mode: str) -> None:
    data = {**recorded("smoke-passing"), "delivered_ends": {
        "mode": mode, "reached": {"bucket/out": 7, "processed_by/<b>f</b>": 9}}}
    doc = parse(render_html(data))
    table = doc.find("table", **{"class": "delivery-ends"})
    rows = [[td.all_text() for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    sent = f"{data['events']['sent']:g}"
    assert rows == [["bucket/out", "7", sent], ["processed_by/<b>f</b>", "9", sent]]
    assert f"delivered at {mode} of them" in doc.all_text()


@pytest.mark.parametrize("ends", [None, {}, {"mode": "all", "reached": {}}, {"reached": "x"}])
def test_no_delivery_table_without_ends(ends: Any) -> None:
    data = {**recorded("smoke-passing"), "delivered_ends": ends}
    assert "delivery-ends" not in render_html(data)
