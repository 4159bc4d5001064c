"""Reports of a run for people and for CI: a self-contained report.html and JUnit XML."""

from emulator.report.html import render_html, write_html
from emulator.report.junit import render_junit, write_junit

__all__ = ["render_html", "render_junit", "write_html", "write_junit"]
