"""What the ``pipemu`` commands print: consoles, the error line and its exit code, the run summary and the
progress bar. Shared by ``cli`` and ``cli_tools``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from emulator.errors import PipemuError


def make_console(no_color: bool = False, stderr: bool = False) -> Console:
    # emoji=False: ':x:' in a scenario name or an error is text, not an emoji (escape() does not cover emoji codes);
    # user text inside our own markup goes through escape().
    return Console(
        no_color=no_color or bool(os.environ.get("NO_COLOR")), stderr=stderr, highlight=False, emoji=False
    )


def fail(error: PipemuError, console: Console) -> typer.Exit:
    """Print ``error`` and return the ``typer.Exit`` with its exit code (2 input, 3 harness, 1 failed)."""
    kind = {2: "input error", 3: "harness error", 1: "failed"}.get(error.exit_code, "error")
    console.print(f"[bold red]pipemu: {kind}:[/] {escape(str(error))}", soft_wrap=True)
    return typer.Exit(error.exit_code)


def summary_table(result: Any) -> Table:
    table = Table(title=escape(f"{result.scenario} on {result.backend} (seed {result.seed})"), show_lines=False)
    table.add_column("expectation")
    table.add_column("expected")
    table.add_column("actual", justify="right")
    table.add_column("", justify="center")
    for e in result.expectations:
        table.add_row(
            escape(e.name),
            escape(str(e.expected)),
            escape(str(e.actual) + (f"  ({e.detail})" if e.detail else "")),
            "[green]ok[/]" if e.passed else "[bold red]FAIL[/]",
        )
    return table


def _ends(result: Any) -> str:
    """Delivery per end, when the scenario lists several: the line that says which end fell short."""
    ends = result.to_json()["delivered_ends"]
    if len(ends["reached"]) < 2:
        return ""
    reached = ", ".join(f"{label} {n}" for label, n in ends["reached"].items())
    return f"delivered (mode {ends['mode']}) reached: {escape(reached)}\n"


def figures(result: Any) -> str:
    ev = result.events
    lat = result.latency_ms

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    return (
        f"events: sent {ev.sent}, delivered {ev.delivered}, dead-lettered {ev.dead_lettered}, filtered {ev.filtered}, "
        f"lost {ev.lost}, duplicates {ev.duplicates}\n"
        + _ends(result)
        +
        f"latency ms (wall): p50 {fmt(lat.get('p50'))}  p95 {fmt(lat.get('p95'))}  p99 {fmt(lat.get('p99'))}  "
        f"max {fmt(lat.get('max'))}\n"
        f"throughput {result.throughput_eps:.0f} events/s over {result.duration_s:.2f}s; replay rate asked "
        f"{result.replay.asked}, achieved {result.replay.achieved_rate:.0f}/s; "
        f"time scale {result.time_scale:g}"
        + "".join(f"\nnote: {escape(note)}" for note in result.runtime_notes())
        + (f"\n{escape(result.cost.summary())}" if result.cost is not None else "")
        + "".join(f"\nlint {escape(f['rule'])} {f['severity']}: {escape(f['message'])} (see {f['doc']})"
                  for f in getattr(result, "lint", []) if not f["silenced"])
        + "".join(f"\n{escape(line.strip())}" for line in result.iam_notes())
    )


def show_result(result: Any, path: Path, console: Console, err: Console, *, quiet: bool, json_out: bool) -> None:
    """The run's report: ``--json`` prints report.json, ``--quiet`` the verdict only, else the table, the figures
    and where the reports are. A failed run also prints each failure, the seed and the command that replays it."""
    if json_out:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, default=str) + "\n")
    elif quiet:
        console.print(f"{result.scenario}: {'PASSED' if result.passed else 'FAILED'}", markup=False)
    else:
        console.print(summary_table(result))
        console.print(figures(result))
        console.print(f"report: {path} and {path.with_name('report.html')}", markup=False)
        verdict = "[bold green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"
        if getattr(result, "interrupted", False):
            verdict = "[bold yellow]INTERRUPTED[/]"
        console.print(f"{escape(result.scenario)}: {verdict}")
    if not result.passed:
        for failure in result.failures:
            err.print(f"expectation failed: {failure.describe()}", soft_wrap=True, markup=False)
        err.print(f"seed {result.seed}; replay with: {result.command}", soft_wrap=True, markup=False)


def write_reports(result: Any, report_dir: Path, junit: Path | None, err: Console) -> None:
    """Write report.json/html (and JUnit XML); a report that cannot be written is a harness error naming the path
    (exit 3), after the verdict was printed."""
    from emulator.errors import HarnessError

    try:
        result.write(report_dir)
        if junit is not None:
            from emulator.report import write_junit

            write_junit([result.to_json()], junit)
    except OSError as exc:
        where = exc.filename or report_dir
        raise fail(HarnessError(
            f"could not write the report to {where}: {exc.strerror or exc}",
            hint="check that --report-dir (or PIPEMU_REPORT_DIR) names a writable directory on a disk with room",
        ), err) from None


@contextmanager
def replay_progress(
    console: Console, total: int, *, enabled: bool
) -> Iterator[Callable[[dict[str, int]], None] | None]:
    """A transient progress bar while inside; yields the runner's ``progress`` callback (None when disabled)."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("replay", total=total, detail="")

        def progress(p: dict[str, int]) -> None:
            done = p["delivered"] + p["dead_lettered"]
            bar.update(
                task,
                completed=min(done, total),
                detail=(
                    f"sent {p['sent']}  delivered {p['delivered']}  dead-lettered {p['dead_lettered']}  "
                    f"in-flight {p['in_flight']}"
                ),
            )

        yield progress
