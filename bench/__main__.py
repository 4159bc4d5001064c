"""``python -m bench [--quick] [--only NAME ...] [--output bench-results.json]``

Runs each benchmark group in a fresh interpreter (one embedded backend per process, clean peak-RSS readings,
nothing left running if a group fails), prints every figure next to its target and its same-run baseline, and
writes the figures as a JSON list of ``{name, value, unit, target, baseline, passed}``. ``--only`` takes a group
(boot, latency, throughput, invoke, replay, suite, release) or a figure name; exit status 1 when a target is
missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.child import GROUPS
from bench.figures import Figure, failed

FIGURE_GROUPS = {
    "boot_deploy_s": "boot", "emulator_ready_s": "boot", "import_s": "boot", "handler_warm_s": "boot",
    "put_to_handler_p50_ms_silent": "latency", "put_to_handler_p99_ms_silent": "latency",
    "put_to_handler_p50_ms_loud": "latency", "put_to_handler_p99_ms_loud": "latency",
    "put_to_handler_p50_ms_silent_node": "latency", "put_to_handler_p99_ms_silent_node": "latency",
    "put_to_handler_p50_ms_loud_node": "latency", "put_to_handler_p99_ms_loud_node": "latency",
    "put_records_rps": "throughput", "kinesis_lambda_s3_rps": "throughput", "e2e_over_raw_put": "throughput",
    "put_records_cpu_us_per_record": "throughput", "e2e_cpu_us_per_record": "throughput",
    "e2e_over_raw_put_cpu_bound": "throughput",
    "warm_invoke_overhead_ms": "invoke", "warm_invoke_overhead_p99_ms": "invoke",
    "warm_invoke_overhead_ms_node": "invoke", "warm_invoke_overhead_p99_ms_node": "invoke",
    "replay_peak_rss_mib": "replay", "replay_sent_last_over_first_decile": "replay",
    "replay_delivered_last_over_first_decile": "replay", "generate_rss_growth_mib": "replay",
    "generate_eps": "replay", "scenario_suite_s": "suite",
    "release_after_sigint_s": "release", "release_after_sigterm_s": "release",
}
TIMEOUT_S = {"boot": 600, "latency": 600, "throughput": 1200, "invoke": 600, "replay": 3600, "suite": 3600,
             "release": 1200}
ROOT = Path(__file__).resolve().parent.parent


def _run_group(group: str, quick: bool, console: Console) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="pipemu-bench-") as tmp:
        out = Path(tmp) / "figures.json"
        cmd = [sys.executable, "-m", "bench.child", group, str(out), *(["--quick"] if quick else [])]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            output, _ = proc.communicate(timeout=TIMEOUT_S[group])
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)  # lets the group's context managers stop servers and workers
            try:
                output, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            return [failed(group, "", None, "<=", f"timed out after {TIMEOUT_S[group]} s")]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        took = time.perf_counter() - started
        if proc.returncode != 0 or not out.exists():
            last = (output or "").strip().splitlines()[-1:] or ["no output"]
            console.print(f"[red]{group} failed[/red] (exit {proc.returncode}):\n{(output or '')[-3000:]}",
                          markup=True, highlight=False)
            return [failed(group, "", None, "<=", last[0][:200])]
        console.print(f"  {group}: {took:.0f} s", highlight=False)
        return [Figure.from_json(raw, raw["goal"], raw["note"]) for raw in json.loads(out.read_text())]


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if math.isnan(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def _table(figures: list[Figure], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column, justify in (("figure", "left"), ("value", "right"), ("unit", "left"), ("target", "right"),
                            ("baseline", "right"), ("", "center"), ("baseline is / note", "left")):
        table.add_column(column, justify=justify, no_wrap=column != "baseline is / note")  # type: ignore[arg-type]
    for f in figures:
        target = "-" if f.target is None else f"{f.goal} {_fmt(f.target)}"
        mark = ("[green]ok[/green]" if f.passed else "[red]MISS[/red]") if f.target is not None else ""
        if math.isnan(f.value):
            mark = "[red]FAIL[/red]"
        table.add_row(f.name, _fmt(f.value), f.unit, target, _fmt(f.baseline), mark, f.note)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=" ".join(__doc__.split("\n\n")[1].split()))
    parser.add_argument("--quick", action="store_true", help="smaller counts, fewer rounds (a smoke run)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="a group or figure name")
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"), help="where the JSON goes")
    args = parser.parse_args(argv)
    unknown = [n for n in args.only if n not in GROUPS and n not in FIGURE_GROUPS]
    if unknown:
        parser.error(f"unknown --only {', '.join(unknown)}; groups: {', '.join(GROUPS)}; "
                     f"figures: {', '.join(FIGURE_GROUPS)}")
    wanted_groups = [g for g in GROUPS if not args.only or g in args.only
                     or any(FIGURE_GROUPS.get(n) == g for n in args.only)]
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # a log file keeps whole rows
    load_before = os.getloadavg()
    console.print(f"pipemu bench ({'quick' if args.quick else 'full'}): {', '.join(wanted_groups)}; "
                  f"{os.cpu_count()} cores, load {load_before[0]:.1f}", highlight=False)
    figures: list[Figure] = []
    for group in wanted_groups:
        figures += _run_group(group, args.quick, console)
    if args.only:
        figures = [f for f in figures if f.name in args.only or FIGURE_GROUPS.get(f.name) in args.only
                   or math.isnan(f.value)]  # a group that failed is always shown
    load_after = os.getloadavg()
    console.print(_table(figures, f"load average {load_before[0]:.1f} -> {load_after[0]:.1f} "
                                  f"(1 min; other work on this machine slows every figure)"))
    args.output.write_text(json.dumps([f.as_json() for f in figures], indent=2) + "\n")
    console.print(f"wrote {args.output}", highlight=False)
    return 0 if all(f.passed for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
