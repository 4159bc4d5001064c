"""The report's stylesheet, inlined into every page; colours match the palette in ``svg.py``."""

CSS = """
:root {
  --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --panel: #ffffff; --page: #f5f7fa;
  --pass: #2f9e5b; --pass-bg: #e8f6ee; --fail: #d64545; --fail-bg: #fdecec; --warn: #b7791f;
  --blue: #3b6fd8; --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--page); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0; letter-spacing: -0.01em; }
h2 { font-size: 17px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 18px 0 8px; }
code, pre { font-family: var(--mono); font-size: 12.5px; }
pre {
  margin: 0; padding: 10px 12px; background: #f0f3f7; border: 1px solid var(--line); border-radius: 6px;
  overflow: auto; max-height: 360px; white-space: pre-wrap; word-break: break-word;
}
.muted { color: var(--muted); }
#verdict {
  display: flex; gap: 20px; align-items: center; padding: 18px 22px; border-radius: 10px;
  border: 1px solid; border-left-width: 8px; background: var(--panel);
}
#verdict[data-passed="true"] { border-color: var(--pass); background: var(--pass-bg); }
#verdict[data-passed="false"] { border-color: var(--fail); background: var(--fail-bg); }
.verdict-word { font-size: 30px; font-weight: 800; letter-spacing: 0.04em; }
#verdict[data-passed="true"] .verdict-word { color: var(--pass); }
#verdict[data-passed="false"] .verdict-word { color: var(--fail); }
.verdict-text { display: flex; flex-direction: column; gap: 2px; }
.meta { color: var(--muted); font-size: 13px; }
.meta b { color: var(--ink); font-weight: 600; }
.replay { margin-top: 12px; }
.replay pre { background: #1f2933; color: #f5f7fa; border: 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-top: 16px; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; }
.tile .value { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile.bad .value { color: var(--fail); }
.tile .sub { color: var(--muted); font-size: 12px; }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line);
  border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f3f7; font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fff7f7; }
tr:last-child td { border-bottom: 0; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 700; }
.pill.pass { background: var(--pass-bg); color: var(--pass); }
.pill.fail { background: var(--fail-bg); color: var(--fail); }
details summary { cursor: pointer; color: var(--blue); }
details[open] summary { margin-bottom: 6px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
figure.chart { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 14px 10px; }
figure.chart h3 { margin: 0 0 4px; }
figure.chart svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  margin-bottom: 12px; }
.card h3 { margin-top: 0; }
.keys { font-family: var(--mono); font-size: 12px; color: var(--muted); }
.warn { color: var(--warn); font-weight: 600; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""
