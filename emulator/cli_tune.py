"""`pipemu tune`: the cheapest mapping setting that meets a latency budget (see ``emulator.tune``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from emulator.errors import PipemuError

VARY_HELP = "KEY=V1,V2,... (repeatable): a mapping key, or memory/architecture of its function, shards of its stream"
LATENCY_HELP = "aws_timing (default: measured + AWS's polling and batching waits, modelled) or measured"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _result(trial: Any, front: set[int], recommended: Any, budget: float | None) -> str:
    if not trial.passed:
        return "fails " + ", ".join(trial.failures)
    words = ["did not keep up"] if trial.saturated else []
    if trial is recommended:
        words.append("RECOMMENDED")
    if id(trial) in front:
        words.append("front")
    if budget is not None and (trial.p99 or 0) > budget:
        words.append("over budget")
    return ", ".join(words) or "ok"


def rows(trials: list[Any], front: list[Any], recommended: Any, budget: float | None) -> list[dict[str, Any]]:
    from emulator.cost.bill import usd_text

    on_front = {id(t) for t in front}
    out = []
    for t in trials:
        lat = t.latency_ms
        setting = "\n".join(f"{k}={v}" for k, v in t.combo.values.items())
        cells = [setting, _ms(lat["p50"]), _ms(lat["p95"]), _ms(lat["p99"]), _ms(t.measured_ms["p99"]),
                 f"{t.throughput_eps:,.0f}", f"{t.invocations:,}", f"{t.retries:,}",
                 "-" if t.per_million_usd is None else usd_text(t.per_million_usd),
                 _result(t, on_front, recommended, budget)]
        out.append({"label": t.combo.label, "short": " / ".join(str(v) for v in t.combo.values.values()),
                    "values": t.combo.values, "p99_ms": lat["p99"],
                    "latency_ms": lat, "measured_ms": t.measured_ms, "throughput_eps": t.throughput_eps,
                    "invocations": t.invocations, "retries": t.retries, "per_million_usd": t.per_million_usd,
                    "per_month_usd": t.per_month_usd, "passed": t.passed, "failures": list(t.failures),
                    "front": id(t) in on_front, "recommended": t is recommended, "seconds": round(t.seconds, 2),
                    "cells": cells})
    return out


def table(title: str, data: list[dict[str, Any]], latency_kind: str) -> Table:
    """The settings tried, one row each; ``title`` is text (a scenario's name in it is never read as markup)."""
    out = Table(title=escape(title))
    heads = ["setting", f"p50 ms ({latency_kind})", "p95 ms", "p99 ms", "p99 ms measured", "events/s measured",
             "invocations", "retries", "$ per million", "result"]
    for i, h in enumerate(heads):
        out.add_column(h, justify="left" if i in (0, 9) else "right", no_wrap=i == 0)
    for r in data:
        style = "bold green" if r["recommended"] else ("red" if not r["passed"] else None)
        out.add_row(*(escape(c) for c in r["cells"]), style=style)
    return out


def _recording(spec: Any, out: Path, *, seed: int, count: int | None) -> Path:
    from emulator.replay.rates import Schedule
    from emulator.replay.recording import write_recording
    from emulator.replay.sources import scenario_events

    correlate = spec.expect.delivered.correlate if spec.expect.delivered else None
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        write_recording(scenario_events(spec, seed=seed, count=count), f, scenario=spec.name, seed=seed,
                        schedule=Schedule(spec.rate), correlate=correlate)
    return out


def register(app: typer.Typer) -> None:
    @app.command()
    def tune(
        scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
        vary: Annotated[list[str], typer.Option("--vary", help=VARY_HELP)],
        p99_ms: Annotated[float | None, typer.Option("--p99-ms", min=0.001, help="p99 latency budget")] = None,
        from_recording: Annotated[Path | None, typer.Option("--from", help="a recording (pipemu record)")] = None,
        count: Annotated[int | None, typer.Option(min=1, help="events to record (default: the scenario's)")] = None,
        seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
        rate: Annotated[float | None, typer.Option(min=0.001, help="events/s on AWS (default: the scenario's)")] = None,
        time_scale: Annotated[float, typer.Option(min=1.0, help="replay this much faster, waits this much shorter")]
        = 20.0,
        latency: Annotated[str, typer.Option(help=LATENCY_HELP)] = "aws_timing",
        mapping: Annotated[int | None, typer.Option(help="which mapping (index; default: the source's)")] = None,
        report_dir: Annotated[Path | None, typer.Option(help="where tune.html/json go (default: settings)")] = None,
        no_color: Annotated[bool, typer.Option("--no-color", help="plain output")] = False,
    ) -> None:
        """Replay one recording under every combination of --vary and recommend the cheapest that meets --p99-ms."""
        from emulator.cli_output import fail, make_console

        console = make_console(no_color)
        try:
            code = _tune(console, scenario, vary, p99_ms, from_recording, count, seed, rate, time_scale, latency,
                         mapping, report_dir)
        except PipemuError as error:
            raise fail(error, make_console(no_color, stderr=True)) from None
        except KeyboardInterrupt:
            make_console(no_color, stderr=True).print("pipemu: interrupted")
            raise typer.Exit(130) from None
        raise typer.Exit(code)


def _tune(console: Any, scenario: Path, vary: list[str], p99_ms: float | None, from_recording: Path | None,
          count: int | None, seed: int | None, rate: float | None, time_scale: float, latency: str,
          mapping: int | None, report_dir: Path | None) -> int:
    from emulator.errors import ConfigError
    from emulator.settings import load_settings
    from emulator.spec.scenario import load_scenario
    from emulator.tune import grid, sweep

    if latency not in ("aws_timing", "measured"):
        raise ConfigError(f"unknown latency model '{latency}'", key="--latency", hint="aws_timing or measured")
    settings = load_settings()
    out_dir = report_dir or settings.report_dir
    spec, pipeline = load_scenario(scenario)
    index = grid.mapping_index(pipeline, spec.source, mapping)
    combos = grid.combinations(pipeline, index, grid.parse_vary(vary))
    aws_rate = sweep.base_rate(spec, rate)
    if p99_ms is None and spec.expect.latency is not None:
        p99_ms = spec.expect.latency.p99_ms  # the scenario's own budget
    used_seed = seed if seed is not None else (settings.seed if settings.seed is not None else spec.seed)
    recording = from_recording or _recording(spec, out_dir / "tune-recording.jsonl", seed=used_seed, count=count)
    console.print(f"tune {spec.name}: {len(combos)} combinations of {', '.join(grid.parse_vary(vary))}, "
                  f"replaying {recording} at {aws_rate:g} x {time_scale:g} events/s (time scale {time_scale:g})",
                  markup=False)

    def progress(trial: Any) -> None:
        done = sum(1 for _ in trials_seen) + 1
        trials_seen.append(trial)
        console.print(f"  [{done}/{len(combos)}] {escape(trial.combo.label)}: p99 {_ms(trial.p99)} ms, "
                      f"{trial.per_million_usd or 0:.4g} $/M, {trial.seconds:.1f} s", highlight=False)

    trials_seen: list[Any] = []
    trials = sweep.run_sweep(spec, combos, recording=recording, rate=aws_rate, time_scale=time_scale, model=latency,
                             on_trial=progress)
    front = sweep.pareto_front(trials)
    best = sweep.recommend(trials, p99_ms)
    data = rows(trials, front, best, p99_ms)
    latency_kind = "modelled" if latency == "aws_timing" else "measured"
    wide = console if console.is_terminal else Console(no_color=console.no_color, width=160, highlight=False,
                                                       emoji=False)
    wide.print(table(f"{spec.name}: {len(trials)} settings", data, latency_kind))  # a pipe gets all columns
    notes = _notes(latency, trials, time_scale, p99_ms)
    for note in notes:
        console.print(note, highlight=False, markup=False)
    patch = grid.spec_patch(pipeline, best.combo) if best is not None else None
    _write(out_dir, spec.name, data, p99_ms, latency_kind, patch, notes)
    if patch is None:
        console.print("no combination met the budget and every other expectation", style="bold red")
        return 1
    console.print(f"recommended ({_ms(best.p99 if best else None)} ms p99, "
                  f"{best.per_million_usd if best else 0:.4g} $ per million events):", style="bold green")
    console.print(patch, markup=False, highlight=False)
    console.print(f"written: {out_dir / 'tune.html'}, {out_dir / 'tune.json'}, {out_dir / 'tune-recommendation.yaml'}",
                  markup=False)
    return 0


def _notes(latency: str, trials: list[Any], time_scale: float, budget: float | None) -> list[str]:
    notes = [
        "measured here, and transfers to AWS: invocations, retries, records and billed units (the cost column).",
        f"measured here, does not transfer: wall latency and handler durations on this machine (time scale "
        f"{time_scale:g}: AWS's waits ran {time_scale:g}x shorter, traffic {time_scale:g}x faster).",
    ]
    if any(t.saturated for t in trials):
        notes.append(f"did not keep up: latency rose through the replay at {time_scale:g}x the rate (a backlog on "
                     "this machine), so its latency and batch sizes over-state AWS's; check with a lower --time-scale.")
    if latency == "aws_timing":
        notes.append("modelled (aws_timing): p50/p95/p99 = measured + up to 1 s of Kinesis shard polling + the time "
                      "a batch gathers at the scenario's rate, capped by the batching window (emulator/tune/timing.py)"
                      ".")
    if budget is not None:
        notes.append(f"recommendation: the cheapest setting on the Pareto front with p99 <= {budget:g} ms that "
                     "meets every other expectation of the scenario.")
    return notes


def _write(out_dir: Path, scenario: str, data: list[dict[str, Any]], budget: float | None, latency_kind: str,
           patch: str | None, notes: list[str]) -> None:
    from emulator.report.tune import write_tune_html

    out_dir.mkdir(parents=True, exist_ok=True)
    keys = " / ".join(data[0]["values"]) if data else ""
    write_tune_html(out_dir / "tune.html", scenario=scenario, rows=data, budget_ms=budget, latency_kind=latency_kind,
                    patch=patch, notes=notes, keys=keys)
    payload = {"scenario": scenario, "p99_budget_ms": budget, "latency": latency_kind, "notes": notes,
               "trials": [{k: v for k, v in r.items() if k != "cells"} for r in data], "recommendation": patch}
    (out_dir / "tune.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    if patch is not None:
        (out_dir / "tune-recommendation.yaml").write_text(patch)
