"""report.html in a real browser: headless Chromium lays it out, and the verdict and the charts are really there.

Uses the Chromium-family browser that tests/support/browser.py finds (.ci/run installs Debian's chromium); with
none, these tests skip with the install command, or fail where PIPEMU_REQUIRE_BROWSER=1 (CI). The DOM that
Chromium built is checked for the verdict and for chart SVGs with real content; the screenshot is checked for the
verdict's colour and for chart ink.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from browser import browser_or_skip
from report_dom import Node, parse
from report_png import Image, read_png
from report_samples import recorded

from emulator.report import write_html

WIDTH, HEIGHT = 1400, 3000
VERDICT_BACKGROUND = {"orders-failing": (0xFD, 0xEC, 0xEC), "smoke-passing": (0xE8, 0xF6, 0xEE)}

@pytest.fixture(scope="module")
def browser() -> Path:
    return browser_or_skip()


def chromium(browser: Path, tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    command = [
        str(browser), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}", *args, page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(tmp_path)}, check=False)
    assert done.returncode == 0, f"{browser} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(params=["orders-failing", "smoke-passing"])
def page(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    name: str = request.param
    return name, write_html(recorded(name), tmp_path / name / "report.html")


def test_chromium_builds_the_verdict_and_the_charts(browser: Path, page: tuple[str, Path], tmp_path: Path) -> None:
    name, path = page

    dom: Node = parse(chromium(browser, tmp_path, path, "--dump-dom").stdout)

    verdict = dom.by_id("verdict")
    passed = name == "smoke-passing"
    assert verdict.attrs["data-passed"] == ("true" if passed else "false")
    assert ("PASSED" if passed else "FAILED") in verdict.all_text()
    charts = {f.attrs["data-chart"]: f.find("svg") for f in dom.find_all("figure") if "data-chart" in f.attrs}
    drawn = {key: svg.shapes() for key, svg in charts.items() if svg.shapes() > 10}
    assert len(drawn) >= 5, f"charts with real content: {drawn} of {list(charts)}"
    assert {"latency-histogram", "latency-over-time", "throughput", "mapping-events", "cost-breakdown"} <= set(drawn)
    # The cost chart draws one bar per billed resource of the recorded run's bill.
    billed = [k for k, v in recorded(name)["cost"]["by_resource"].items() if v > 0]
    cost_bars = charts["cost-breakdown"].find_all("g", **{"class": "marks"})
    assert sum(g.shapes() for g in cost_bars) == len(billed) >= 3, billed
    # Axes alone have more than 10 shapes; the data marks prove the run's numbers were drawn.
    marks = {key: sum(g.shapes() for g in svg.find_all("g", **{"class": "marks"})) for key, svg in charts.items()}
    assert all(marks.values()), f"charts without data marks: {marks}"
    assert sum(marks.values()) > 300, marks


def test_the_screenshot_shows_the_verdict_colour_and_chart_ink(browser: Path, page: tuple[str, Path],
                                                              tmp_path: Path) -> None:
    name, path = page
    png = tmp_path / "report.png"

    chromium(browser, tmp_path, path, f"--screenshot={png}")

    image: Image = read_png(png.read_bytes(), max_rows=2000)
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    top = image.pixels(0, 260)
    assert top.count(VERDICT_BACKGROUND[name]) > 20_000, "the verdict banner is missing or has the wrong colour"
    pixels = image.pixels(0, 2000)
    assert len(set(pixels)) > 300, "the page looks blank"
    blue_ink = sum(1 for r, g, b in pixels if b > r + 70 and b > g + 30)
    assert blue_ink > 3000, f"too little chart colour on the page ({blue_ink} blue pixels)"
