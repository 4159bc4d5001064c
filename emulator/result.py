"""What a run produced: counts, latency, expectations, and everything the reports draw."""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.deploy import Deployment
from emulator.expect.verdict import ExpectationResult
from emulator.observe.ledger import FateCounts, Ledger
from emulator.replay.producer import ReplayStats
from emulator.replay.rates import Schedule
from emulator.report import write_html

if TYPE_CHECKING:
    from emulator.backends.base import InvocationRecord
    from emulator.cost.bill import Bill


@dataclass
class RunResult:
    scenario: str
    backend: str
    seed: int
    passed: bool
    events: FateCounts
    latency_ms: dict[str, float | None]
    throughput_eps: float
    duration_s: float
    expectations: list[ExpectationResult]
    replay: ReplayStats
    time_scale: float
    command: str
    mappings: dict[str, dict[str, int]] = field(default_factory=dict)
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    ledger: Ledger = field(default_factory=Ledger, repr=False)
    deployment: Deployment | None = None
    timed_out: bool = False
    interrupted: bool = False  # Ctrl-C or SIGTERM: the figures are what was measured until then
    # How late the harness's own 10 ms sleeps woke (max_ms, p99_ms, total_ms): the host's scheduling delay.
    host_stall_ms: dict[str, float] = field(default_factory=dict)
    timeline: list[tuple[float, str, int]] = field(default_factory=list, repr=False)
    schedule: Schedule | None = None
    invocations: list[InvocationRecord] = field(default_factory=list, repr=False)
    cost: Bill | None = None  # what the run would cost on AWS (emulator.cost)
    # DynamoDB tables: spec name -> {table, items (last count), over_time: [[seconds since deploy, items]]}
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    lint: list[dict[str, Any]] = field(default_factory=list)  # `pipemu lint` findings (emulator.lint), not failing
    iam: dict[str, Any] | None = None  # each function's calls and the policy it needs (emulator.security)

    @property
    def failures(self) -> list[ExpectationResult]:
        return [e for e in self.expectations if not e.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "backend": self.backend,
            "seed": self.seed,
            "passed": self.passed,
            "events": self.events.as_dict(),
            # per end of expect.delivered: how many events reached it ("output" when the scenario names none)
            "delivered_ends": {"mode": self.ledger.mode, "reached": self.ledger.reached_counts()},
            "latency_ms": {k: self.latency_ms.get(k) for k in ("p50", "p95", "p99", "max")},
            "throughput_eps": round(self.throughput_eps, 1),
            "duration_s": round(self.duration_s, 3),
            "expectations": [
                {
                    "name": e.name,
                    "passed": e.passed,
                    "expected": e.expected,
                    "actual": e.actual,
                    "detail": e.detail,
                    "near_misses": e.near_misses,
                }
                for e in self.expectations
            ],
            "time_scale": self.time_scale,
            "latency_clock": "wall",
            "replay": {
                "sent": self.replay.sent,
                "failed": self.replay.failed,
                "asked_rate": self.replay.asked_rate,
                "asked": self.replay.asked,
                "achieved_rate": round(self.replay.achieved_rate, 1),
                "duration_s": round(self.replay.duration_s, 3),
            },
            "mappings": self.mappings,
            "functions": self.functions,
            "dead_letters": [
                {
                    "queue": d.queue,
                    "condition": d.condition,
                    "batch_size": d.batch_size,
                    "events": len(d.event_indexes),
                }
                for d in self.ledger.dead_letters[:100]
            ],
            "timed_out": self.timed_out,
            "interrupted": self.interrupted,
            "host_stall_ms": self.host_stall_ms,
            "replay_command": self.command,
            "cost": self.cost.as_dict() if self.cost is not None else None,
            "tables": self.tables,
            "lint": self.lint,
            "iam": self.iam,
        }

    def report_data(self, *, max_points: int = 5000) -> dict[str, Any]:
        """Everything the HTML report draws: report.json plus time series (seconds since the replay began)."""
        t0 = self.replay.started
        ledger = self.ledger
        # One pass at a time over the ledger's arrays, never a list per event: a million-event report stays small.
        def delivered() -> Iterator[tuple[float, float]]:  # (sent, delivered) of each delivered event
            return ((a, b) for a, b in zip(ledger.sent_at, ledger.delivered_at, strict=True)
                    if not math.isnan(a) and not math.isnan(b))

        step = max(1, sum(1 for _ in delivered()) // max_points)
        latency_points = [
            [round(sent - t0, 4), round((done - sent) * 1000, 3)]
            for sent, done in itertools.islice(delivered(), 0, None, step)
        ]
        end = max(0.0, max((t - t0 for t in itertools.chain(ledger.sent_at, ledger.delivered_at) if not math.isnan(t)),
                           default=0.0))
        bucket = max(0.1, round(end / 60, 1)) if end > 0 else 1.0
        n_buckets = int(end / bucket) + 1
        sent_hist, done_hist = [0] * n_buckets, [0] * n_buckets
        for times, hist in ((ledger.sent_at, sent_hist), (ledger.delivered_at, done_hist)):
            for t in times:
                if not math.isnan(t):
                    hist[min(n_buckets - 1, max(0, int((t - t0) / bucket)))] += 1
        events_over_time = [[round(t - t0, 4), kind, n] for t, kind, n in self.timeline]
        failed = [i for i in self.invocations if i.error is not None][:20]
        return {
            **self.to_json(),
            "series": {
                "latency": latency_points,
                "throughput": {
                    "bucket_s": bucket,
                    "sent_per_s": [round(n / bucket, 1) for n in sent_hist],
                    "delivered_per_s": [round(n / bucket, 1) for n in done_hist],
                    "asked_per_s": self.replay.asked_rate,
                    "asked_profile_per_s": (
                        [round(self.schedule.rate_at((i + 0.5) * bucket) or 0.0, 1) for i in range(n_buckets)]
                        if self.schedule is not None and self.replay.asked_rate is None and not self.schedule.unpaced
                        and not self.schedule.recorded
                        else None
                    ),
                },
                "mapping_events": events_over_time,
                "invocations": [
                    [round(i.started - t0, 4), i.function, round(i.duration_ms, 3), i.cold_start, i.error is not None]
                    for i in self.invocations[:: max(1, len(self.invocations) // max_points)]
                ],
            },
            "failed_invocations": [
                {"function": i.function, "request_id": i.request_id, "error": i.error, "logs": i.logs[-4000:]}
                for i in failed
            ],
            "dead_letter_samples": [
                {"queue": d.queue, "condition": d.condition, "batch_size": d.batch_size, "body": d.body,
                 "events": [ledger.keys[i] for i in d.event_indexes[:10]]}
                for d in ledger.dead_letters[:20]
            ],
        }

    def summary(self) -> str:
        lines = [f"scenario {self.scenario}: {'PASSED' if self.passed else 'FAILED'} (seed {self.seed})"]
        lines += [f"  {'ok  ' if e.passed else 'FAIL'} {e.describe()}" for e in self.expectations]
        lines += [f"  note: {note}" for note in self.runtime_notes()]
        lines += [f"  lint {f['rule']} {f['severity']}: {f['message']}" for f in self.lint if not f["silenced"]]
        lines += self.iam_notes()
        if not self.passed:
            lines.append(f"  replay with: {self.command}")
        return "\n".join(lines)

    def iam_notes(self) -> list[str]:
        """A line naming the first denied call, when the functions' roles refused (or would refuse) any."""
        iam = self.iam or {}
        if not iam.get("denied_total"):
            return []
        first = iam["denied"][0]
        verb = "denied" if iam.get("mode") == "enforce" else "would be denied under iam: enforce"
        return [f"  iam: {iam['denied_total']} call(s) {verb}; first: {first['function']}: {first.get('message')}"]

    def runtime_notes(self) -> list[str]:
        """One line per runtime that ran on another interpreter version than the one it names."""
        return sorted({str(f["runtime_note"]) for f in self.functions.values() if f.get("runtime_note")})

    def write(self, report_dir: Path) -> Path:
        """Write report.json and report.html; each appears whole or not at all (written beside, then renamed), so
        a full disk never leaves a truncated report. ``OSError`` names the path that could not be written."""
        report_dir.mkdir(parents=True, exist_ok=True)
        path = report_dir / "report.json"
        staged = report_dir / ".report.json.partial"
        try:
            staged.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n")
            os.replace(staged, path)
            html = report_dir / "report.html"
            staged = report_dir / ".report.html.partial"
            write_html(self.report_data(), staged)
            os.replace(staged, html)
        finally:
            staged.unlink(missing_ok=True)
        return path
