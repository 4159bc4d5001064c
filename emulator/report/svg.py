"""Just enough SVG for the report's charts: scales with readable ticks, a canvas, and framed plot areas.

No JavaScript and no external files: the report must open from a CI artifact store with the network off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape

# One palette for the CSS and every chart, so a colour means the same thing everywhere on the page.
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
AXIS = "#9aa5b1"
BLUE = "#3b6fd8"
TEAL = "#12a38a"
ORANGE = "#f08a24"
PURPLE = "#8a63d2"
RED = "#d64545"
GOLD = "#d9a400"
SLATE = "#627d98"
BROWN = "#8d5b3e"
PINK = "#d25a9a"
SERIES = (BLUE, TEAL, PURPLE, ORANGE, PINK, SLATE, BROWN, GOLD)

Fmt = Callable[[float], str]


def fmt_num(v: float) -> str:
    if abs(v) >= 10_000:
        return f"{round(v / 1000, 1):g}k"
    return f"{round(v, 6):g}"


def fmt_ms(v: float) -> str:
    """Axis ticks: ``500 ms``, ``1 s``, ``2.5 s``."""
    return f"{round(v / 1000, 3):g} s" if abs(v) >= 1000 else f"{round(v, 3):g} ms"


def fmt_s(v: float) -> str:
    return f"{round(v, 3):g} s"


def ms_value(v: float | None) -> str:
    """A measured duration for prose and tables: ``0.42 ms``, ``12.3 ms``, ``6,132 ms``."""
    if v is None:
        return "\u2013"
    if abs(v) < 10:
        return f"{v:.2f} ms"
    return f"{v:.1f} ms" if abs(v) < 100 else f"{v:,.0f} ms"


def _nice_step(span: float, n: int, integer: bool) -> float:
    raw = span / max(1, n)
    if integer and raw <= 1:
        return 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    # 2.5 gives round tick labels for measurements, but "12.5 events" for counts.
    return next(m * mag for m in ((1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)) if m * mag >= raw)


@dataclass(frozen=True)
class Scale:
    """Maps a data domain onto pixels; ``log`` scales use decades with 1-2-5 ticks."""

    lo: float
    hi: float
    r0: float
    r1: float
    log: bool = False
    step: float = 0.0

    def __call__(self, v: float) -> float:
        lo, hi = self.lo, self.hi
        if self.log:
            lo, hi, v = math.log10(lo), math.log10(hi), math.log10(max(v, self.lo))
        t = (v - lo) / (hi - lo) if hi > lo else 0.5
        return self.r0 + min(1.0, max(0.0, t)) * (self.r1 - self.r0)

    def invert(self, px: float) -> float:
        t = (px - self.r0) / (self.r1 - self.r0) if self.r1 != self.r0 else 0.0
        if self.log:
            return float(10 ** (math.log10(self.lo) + t * (math.log10(self.hi) - math.log10(self.lo))))
        return self.lo + t * (self.hi - self.lo)

    def ticks(self) -> list[float]:
        if self.log:
            out = [
                m * 10.0**k
                for k in range(math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi)) + 1)
                for m in (1, 2, 5)
            ]
            out = [v for v in out if self.lo * 0.999 <= v <= self.hi * 1.001]
            return [v for v in out if math.log10(v) % 1 < 1e-9] if len(out) > 9 else out
        n = round((self.hi - self.lo) / self.step) if self.step > 0 else 0
        return [round(self.lo + i * self.step, 9) for i in range(n + 1)] if 0 < n <= 20 else [self.lo, self.hi]


def linear(lo: float, hi: float, r0: float, r1: float, ticks: int = 6, *, integer: bool = False) -> Scale:
    """A scale whose domain is widened to whole ``step``s, about ``ticks`` of them; ``integer`` for counts."""
    if not hi > lo:
        lo, hi = (lo - 1, hi + 1) if lo != 0 else (0.0, 1.0)
    step = _nice_step(hi - lo, ticks, integer)
    return Scale(math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, r0, r1, step=step)


def logarithmic(lo: float, hi: float, r0: float, r1: float) -> Scale:
    """A log scale from the 1-2-5 value at or below ``lo`` to the one at or above ``hi``."""
    lo, hi = max(lo, 1e-3), max(hi, lo * 1.01, 1e-3)
    decades = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 2)
    steps = [m * 10.0**k for k in decades for m in (1, 2, 5)]
    lo_nice = max(v for v in steps if v <= lo * 1.0001)
    return Scale(lo_nice, min(v for v in steps if v >= hi * 0.9999), r0, r1, log=True)


def _attrs(attrs: dict[str, object]) -> str:
    out = []
    for key, value in attrs.items():
        if value is None:
            continue
        text = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        out.append(f' {key.rstrip("_").replace("_", "-")}="{escape(text)}"')
    return "".join(out)


@dataclass
class Canvas:
    width: int
    height: int
    parts: list[str] = field(default_factory=list)

    def shape(self, tag: str, title: str | None = None, /, **attrs: object) -> None:
        if title is None:
            self.parts.append(f"<{tag}{_attrs(attrs)}/>")
        else:
            self.parts.append(f"<{tag}{_attrs(attrs)}><title>{escape(title)}</title></{tag}>")

    def text(self, x: float, y: float, text: str, *, size: int = 12, fill: str = INK, halo: bool = False,
             **attrs: object) -> None:
        """``halo`` outlines the text in white so a label stays readable where it crosses bars or dots."""
        attrs = {"x": x, "y": y, "font_size": size, "fill": fill, **attrs}
        if halo:
            attrs.update(paint_order="stroke", stroke="white", stroke_width=3, stroke_linejoin="round")
        self.parts.append(f"<text{_attrs(attrs)}>{escape(text)}</text>")

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, **attrs: object) -> None:
        self.shape("line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=stroke, **attrs)

    def path(self, points: Sequence[tuple[float, float]], stroke: str, *, close_to: float | None = None,
             fill: str = "none", **attrs: object) -> None:
        """A polyline through ``points``; with ``close_to`` (a pixel y), an area down to that baseline."""
        if not points:
            return
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
        if close_to is not None:
            d += f" L{points[-1][0]:.1f},{close_to:.1f} L{points[0][0]:.1f},{close_to:.1f} Z"
        self.shape("path", d=d, stroke=stroke, fill=fill, **attrs)

    def legend(self, x: float, y: float, entries: Sequence[tuple[str, str, str]]) -> None:
        """Entries are (label, colour, mark) with mark one of box, line, dash, dot, ring, cross."""
        for label, colour, mark in entries:
            if mark == "cross":
                self.shape("path", d=f"M{x + 1},{y - 7} l8,8 m-8,0 l8,-8", stroke=colour, stroke_width=2.5)
            elif mark == "box":
                self.shape("rect", x=x, y=y - 8, width=10, height=10, rx=2, fill=colour)
            elif mark in ("dot", "ring"):
                filled = colour if mark == "dot" else "none"
                self.shape("circle", cx=x + 5, cy=y - 3, r=4, fill=filled, stroke=colour, stroke_width=1.5)
            else:
                dash = "5 3" if mark == "dash" else None
                self.line(x, y - 3, x + 14, y - 3, colour, stroke_width=2.5, stroke_dasharray=dash)
            self.text(x + 18, y + 1, label, size=11, fill=MUTED)
            x += 30 + 6.2 * len(label)

    @contextmanager
    def marks(self) -> Iterator[None]:
        """Groups the shapes that stand for data (not axes, labels or legend), so tests and styles can find them."""
        self.parts.append('<g class="marks">')
        yield
        self.parts.append("</g>")

    def render(self, label: str) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-label="{escape(label)}" font-family="inherit">' + "".join(self.parts) + "</svg>"
        )


@dataclass
class Plot:
    """A framed area of a canvas with its two scales; draws grid, ticks and axis titles."""

    canvas: Canvas
    x: Scale
    y: Scale

    @property
    def left(self) -> float:
        return min(self.x.r0, self.x.r1)

    @property
    def right(self) -> float:
        return max(self.x.r0, self.x.r1)

    @property
    def top(self) -> float:
        return min(self.y.r0, self.y.r1)

    @property
    def bottom(self) -> float:
        return max(self.y.r0, self.y.r1)

    def axes(self, *, xlabel: str, ylabel: str, xfmt: Fmt = fmt_num, yfmt: Fmt = fmt_num,
             xticks: bool = True) -> None:
        c = self.canvas
        for v in self.y.ticks():
            py = self.y(v)
            c.line(self.left, py, self.right, py, GRID, stroke_width=1)
            c.text(self.left - 6, py + 4, yfmt(v), size=11, fill=MUTED, text_anchor="end")
        c.line(self.left, self.bottom, self.right, self.bottom, AXIS, stroke_width=1)
        for v in self.x.ticks():
            px = self.x(v)
            c.line(px, self.bottom, px, self.bottom + 4, AXIS, stroke_width=1)
            if xticks:
                c.text(px, self.bottom + 17, xfmt(v), size=11, fill=MUTED, text_anchor="middle")
        if xlabel:
            c.text((self.left + self.right) / 2, self.bottom + 34, xlabel, size=11, fill=MUTED, text_anchor="middle")
        mid = (self.top + self.bottom) / 2
        c.text(14, mid, ylabel, size=11, fill=MUTED, text_anchor="middle", transform=f"rotate(-90 14 {mid:.1f})")

    def note(self, text: str) -> None:
        """A message in the middle of an empty plot, so "nothing happened" reads as a finding, not a bug."""
        self.canvas.text((self.left + self.right) / 2, (self.top + self.bottom) / 2, text, size=13, fill=MUTED,
                         text_anchor="middle", class_="empty-note")
