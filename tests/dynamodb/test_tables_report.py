"""The report shows each DynamoDB table's items at the end and over time."""

from __future__ import annotations

from emulator.report.html import render_html


def test_report_lists_tables_with_final_count_and_samples() -> None:
    html = render_html({"tables": {"orders": {"table": "orders", "items": 42,
                                              "over_time": [[0.0, 0], [0.5, 17], [1.0, 42]]}}})
    assert "<h3>DynamoDB tables</h3>" in html
    assert '<td class="num">42</td>' in html
    assert "0.0 s: 0 · 0.5 s: 17 · 1.0 s: 42" in html


def test_no_tables_no_section() -> None:
    assert "DynamoDB tables" not in render_html({"tables": {}})


def test_mappings_with_tumbling_windows_show_the_windows_closed() -> None:
    html = render_html({"mappings": {"table/orders -> rollup": {"invocations": 4, "windows_closed": 3}}})
    assert "<th class=\"num\">windows closed</th>" in html and '<td class="num">3</td>' in html
    assert "windows closed" not in render_html({"mappings": {"stream/s -> f": {"invocations": 4}}})
