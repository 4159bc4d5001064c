"""Scales, ticks and escaping under the charts."""

from __future__ import annotations

import pytest

from emulator.report.svg import Canvas, fmt_ms, linear, logarithmic, ms_value


def test_linear_scale_widens_to_round_ticks() -> None:
    scale = linear(0, 1160, 0, 100)

    assert scale.ticks() == [0, 200, 400, 600, 800, 1000, 1200]
    assert scale(600) == pytest.approx(50)


def test_counts_never_get_fractional_ticks() -> None:
    assert linear(0, 15, 0, 100, integer=True).ticks() == [0, 5, 10, 15]
    assert linear(0, 1, 0, 100, integer=True).ticks() == [0, 1]
    assert linear(0, 15, 0, 100).ticks() == [0, 2.5, 5, 7.5, 10, 12.5, 15]


def test_empty_domain_still_makes_a_scale() -> None:
    assert linear(0, 0, 0, 100).ticks() == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert linear(5, 5, 0, 100).ticks()[0] <= 4


def test_log_scale_uses_1_2_5_ticks_and_drops_to_decades_when_crowded() -> None:
    assert logarithmic(1.1, 6.2, 0, 100).ticks() == [1, 2, 5, 10]
    assert logarithmic(1.3, 850, 0, 100).ticks() == [1, 10, 100, 1000]


def test_scales_clamp_values_outside_the_domain() -> None:
    scale = linear(0, 10, 100, 0)

    assert scale(-5) == 100
    assert scale(50) == 0


@pytest.mark.parametrize(
    ("value", "text"), [(0.4231, "0.42 ms"), (12.34, "12.3 ms"), (6131.7, "6,132 ms"), (None, "\u2013")]
)
def test_durations_read_as_people_write_them(value: float | None, text: str) -> None:
    assert ms_value(value) == text


def test_axis_labels_switch_to_seconds() -> None:
    assert [fmt_ms(v) for v in (500, 1000, 2500)] == ["500 ms", "1 s", "2.5 s"]


def test_canvas_escapes_text_titles_and_attributes() -> None:
    c = Canvas(10, 10)
    c.text(1, 2, "<b>&", data_x='"quoted"')
    c.shape("rect", "<title>", x=1.0, y=2.25, width=3, height=4, fill="red")

    svg = c.render("a <label>")

    assert "&lt;b&gt;&amp;" in svg
    assert 'data-x="&quot;quoted&quot;"' in svg
    assert "<title>&lt;title&gt;</title>" in svg
    assert 'aria-label="a &lt;label&gt;"' in svg
    assert 'y="2.25"' in svg and 'x="1"' in svg
