"""Report data shaped like ``RunResult.report_data()``: two recorded runs, and runs built here for edge cases."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
HOSTILE = "<script>alert('near miss')</script>"
CHART_KEYS = (
    "latency-histogram",
    "latency-over-time",
    "throughput",
    "mapping-events",
    "function-invocations",
    "function-durations",
    "cost-breakdown",
)


def recorded(name: str) -> dict[str, Any]:
    """``orders-failing`` (p99 over budget, three dead letters) or ``smoke-passing``."""
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def expectation(name: str, passed: bool, expected: Any, actual: Any, detail: str = "",
                near_misses: list[Any] | None = None) -> dict[str, Any]:
    return {"name": name, "passed": passed, "expected": expected, "actual": actual, "detail": detail,
            "near_misses": near_misses or []}


def synthetic(*, n: int = 2000, seed: int = 1, failing: bool = True) -> dict[str, Any]:
    """A long-tailed run of two functions with throttles, bisects, filtered records and a handler error."""
    rng = random.Random(seed)
    sent = sorted(rng.uniform(0, 10) for _ in range(n))
    latency = [[round(t, 4), round(rng.lognormvariate(3.5, 0.9), 3)] for t in sent]
    ordered = sorted(ms for _, ms in latency)
    pct = {k: ordered[int(q * (n - 1))] for k, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))}
    bucket = 0.2
    buckets = int(12 / bucket)
    sent_hist, done_hist = [0] * buckets, [0] * buckets
    for t, ms in latency:
        sent_hist[min(buckets - 1, int(t / bucket))] += 1
        done_hist[min(buckets - 1, int((t + ms / 1000) / bucket))] += 1
    kinds = ["retries", "bisects", "partial_failures", "throttles", "records_dead_lettered", "records_filtered",
             "invocations"]
    events = sorted([round(rng.uniform(0, 11), 4), rng.choice(kinds), rng.randint(1, 6)] for _ in range(120))
    calls = [[round(rng.uniform(-0.5, 11), 4), rng.choice(["enrich", "archive"]), round(rng.uniform(5, 250), 3),
              i < 3, i % 40 == 7] for i in range(200)]
    budget = 150.0
    p99_ok = pct["p99"] <= budget or not failing
    return {
        "scenario": "synthetic-long-tail",
        "backend": "embedded",
        "seed": seed,
        "passed": p99_ok,
        "events": {"sent": n, "delivered": n, "dead_lettered": 0, "filtered": 12, "lost": 0, "duplicates": 3},
        "latency_ms": pct,
        "throughput_eps": round(n / 12, 1),
        "duration_s": 12.0,
        "expectations": [
            expectation("delivered", True, f"{n} events in s3://out", n),
            expectation("latency.p99", p99_ok, f"<= {budget:g} ms" if failing else f"<= {pct['p99'] + 1:g} ms",
                        pct["p99"], "" if p99_ok else "over budget"),
            expectation("lost", True, 0, 0),
        ],
        "time_scale": 1.0,
        "latency_clock": "wall",
        "replay": {"sent": n, "failed": 0, "asked_rate": 200.0, "achieved_rate": 199.5, "duration_s": 10.0},
        "mappings": {"m-1": {k: 3 for k in kinds}},
        "functions": {
            "enrich": {"invocations": 110, "cold_starts": 2, "errors": 3, "duration_ms_p50": 90.0,
                       "duration_ms_max": 250.0},
            "archive": {"invocations": 90, "cold_starts": 1, "errors": 2, "duration_ms_p50": 80.0,
                        "duration_ms_max": 240.0},
        },
        "dead_letters": [],
        "timed_out": False,
        "replay_command": f"pipemu replay scenarios/synthetic.yaml --seed {seed}",
        "series": {
            "latency": latency,
            "throughput": {"bucket_s": bucket, "sent_per_s": [c / bucket for c in sent_hist],
                           "delivered_per_s": [c / bucket for c in done_hist], "asked_per_s": 200.0},
            "mapping_events": events,
            "invocations": calls,
        },
        "failed_invocations": [
            {"function": "enrich", "request_id": "req-7", "error": "ValueError: bad order total",
             "logs": "START RequestId: req-7\n\x1b[31mERROR\x1b[0m bad order total -3\nEND RequestId: req-7\n"},
        ],
        "dead_letter_samples": [],
    }


def no_delivery() -> dict[str, Any]:
    """Everything was lost: no latency, no invocations, no dead letters, empty series."""
    return {
        "scenario": "nothing-arrived",
        "backend": "embedded",
        "seed": 3,
        "passed": False,
        "events": {"sent": 50, "delivered": 0, "dead_lettered": 0, "filtered": 0, "lost": 50, "duplicates": 0},
        "latency_ms": {"p50": None, "p95": None, "p99": None, "max": None},
        "throughput_eps": 0.0,
        "duration_s": 30.0,
        "expectations": [
            expectation("delivered", False, "50 events in s3://out", 0, "50 missing", [{"id": "e-1"}]),
            expectation("latency.p99", False, "<= 1000 ms", None, "no event was delivered"),
            expectation("lost", False, 0, 50, "events that were neither delivered, dead-lettered nor filtered",
                        [{"event": "e-1", "why": "unknown: never seen downstream"}]),
        ],
        "time_scale": 1.0,
        "latency_clock": "wall",
        "replay": {"sent": 50, "failed": 0, "asked_rate": None, "achieved_rate": 0.0, "duration_s": 0.1},
        "mappings": {},
        "functions": {},
        "dead_letters": [],
        "timed_out": True,
        "replay_command": "pipemu replay scenarios/x.yaml --seed 3",
        "series": {"latency": [], "throughput": {"bucket_s": 1.0, "sent_per_s": [50.0], "delivered_per_s": [0.0],
                                                 "asked_per_s": None},
                   "mapping_events": [], "invocations": []},
        "failed_invocations": [],
        "dead_letter_samples": [],
    }


def hostile() -> dict[str, Any]:
    """A failing run whose every user-controlled string tries to break out of HTML or XML."""
    data = copy.deepcopy(recorded("orders-failing"))
    data["scenario"] = "<img src=x onerror=alert(1)>"
    data["expectations"][2]["near_misses"] = [HOSTILE, {"key": HOSTILE, "ctl": "\x00\x1b[0m", "cdata": "]]>"}]
    data["expectations"][2]["detail"] = "</td></tr></table><script>x()</script>"
    data["functions"]["<b>evil</b>"] = {"invocations": 1, "cold_starts": 1, "errors": 1}
    data["series"]["invocations"].append([1.0, "<b>evil</b>", 12.0, True, True])
    data["failed_invocations"] = [
        {"function": "<b>evil</b>", "request_id": "\"><script>", "error": HOSTILE,
         "logs": "line 1\n</pre><script>alert(2)</script>\n\x1b[31mred\x1b[0m"},
    ]
    data["dead_letter_samples"][0]["body"] = {"message": HOSTILE}
    data["dead_letter_samples"][0]["events"] = ["<i>k</i>"]
    data["replay_command"] = "pipemu replay '<x>.yaml' --seed 7"
    return data
