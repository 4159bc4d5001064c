"""The closed loop: scenario -> deploy -> replay -> observe -> quiescence -> expectations -> result.

result = run_scenario("scenarios/clickstream-smoke.yaml")
assert result.passed, result.summary()
"""

from __future__ import annotations

import json
import math
import shlex
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError

from emulator.backends.base import Backend, DrivenBackend, InvocationRecord, driven
from emulator.backends.embedded import EmbeddedBackend
from emulator.deploy import Deployer
from emulator.errors import ConfigError, HarnessError, WaitTimeout
from emulator.esm.kinesis_events import StreamRecord
from emulator.expect.checks import check
from emulator.expect.latency import summarize
from emulator.expect.outputs import output_checker
from emulator.observe.collector import Collector
from emulator.observe.ledger import Ledger
from emulator.observe.outputs import PollingFeed, PushFeed, QueueWatcher
from emulator.replay.generate import GeneratedEvent
from emulator.replay.producer import (
    Producer,
    ReplayStats,
    merge_stats,
    replay,
)
from emulator.replay.rates import Schedule
from emulator.replay.sources import (
    fault_seed,
    inject_backend_faults,
    producer_for,
    replay_additional,
    scenario_events,
)
from emulator.result import RunResult
from emulator.spec.pipeline import PipelineSpec
from emulator.spec.scenario import ScenarioSpec, load_scenario
from emulator.spec.traffic import RateSpec
from emulator.stepfunctions import scenario_hooks as sfn_hooks

Progress = Callable[[dict[str, int]], None]
POLL_S = 0.01
SETTLE_S = 2.0  # backends that cannot report quiescence: quiet this long after the last arrival


class _Observer:
    """Tells the ledger about records the mapping filtered out or gave up on without a destination."""

    def __init__(self, ledger: Ledger, correlate: str | None) -> None:
        self._ledger = ledger
        self._correlate = correlate

    def _keys(self, records: list[StreamRecord]) -> Iterator[str]:
        for r in records:
            try:
                value = json.loads(r.data)
            except ValueError:
                continue
            if self._correlate and isinstance(value, dict) and self._correlate in value:
                yield str(value[self._correlate])

    def on_filtered(self, mapping_uuid: str, records: list[StreamRecord]) -> None:
        for key in self._keys(records):
            self._ledger.mark_filtered(key)

    def on_gave_up(
        self, mapping_uuid: str, records: list[StreamRecord], condition: str, destination: str | None
    ) -> None:
        if destination is None:
            for key in self._keys(records):
                self._ledger.mark_dropped(
                    key,
                    f"discarded by mapping {mapping_uuid} ({condition}); it has no on-failure destination",
                )


def _dead_letter_queues(pipeline: PipelineSpec, scenario: ScenarioSpec) -> set[str]:
    names = {q.redrive.dead_letter for q in pipeline.queues.values() if q.redrive is not None}
    for m in pipeline.mappings:
        if m.on_failure and m.on_failure.startswith("queue/"):
            names.add(m.on_failure.split("/", 1)[1])
        if m.on_failure and m.on_failure.startswith("topic/"):
            topic = pipeline.topics[m.on_failure.split("/", 1)[1]]
            names.update(ref.split("/", 1)[1] for ref in topic.subscriptions if ref.startswith("queue/"))
    if scenario.expect.dead_letters is not None:
        names.add(scenario.expect.dead_letters.queue)
    return names


def replay_command(
    scenario: ScenarioSpec, seed: int, count: int | None, rate: float | None, recording: Path | None = None
) -> str:
    args = ["pipemu", "replay", str(scenario.source_path), "--seed", str(seed)]
    if recording is not None:
        args += ["--from", str(recording)]
    if count is not None:
        args += ["--count", str(count)]
    if rate is not None:
        args += ["--rate", f"{rate:g}"]
    return shlex.join(args)


def run_scenario(
    scenario: str | Path | ScenarioSpec,
    *,
    backend: Backend | None = None,
    seed: int | None = None,
    count: int | None = None,
    rate: float | None = None,
    timeout_s: float | None = None,
    progress: Progress | None = None,
    events: Iterator[GeneratedEvent] | None = None,
    recording: Path | None = None,
) -> RunResult:
    """Run a scenario end to end. ``rate`` overrides the scenario's rate with a constant one; ``events``
    replaces generation; ``recording`` is a file written by ``pipemu record`` whose events are replayed as they
    are, faults included, without calling Faker."""
    if isinstance(scenario, ScenarioSpec):
        from emulator.spec.pipeline import load_pipeline

        spec, pipeline = scenario, load_pipeline(scenario.pipeline)
    else:
        spec, pipeline = load_scenario(scenario)
    effective_seed = spec.seed if seed is None else seed
    if recording is not None:
        from emulator.replay.recording import read_recording

        correlate = spec.expect.delivered.correlate if spec.expect.delivered else None
        events = read_recording(recording, correlate=correlate)
    with ExitStack() as stack:
        if backend is None:
            backend = stack.enter_context(EmbeddedBackend(time_scale=spec.time_scale or 1.0))
        return _run(
            spec,
            pipeline,
            backend,
            stack,
            seed=effective_seed,
            count=count,
            rate=rate,
            timeout_s=timeout_s or spec.timeout_s,
            progress=progress,
            events=events,
            recording=recording,
        )


def _run(
    spec: ScenarioSpec,
    pipeline: PipelineSpec,
    backend: Backend,
    stack: ExitStack,
    *,
    seed: int,
    count: int | None,
    rate: float | None,
    timeout_s: float,
    progress: Progress | None,
    events: Iterator[GeneratedEvent] | None,
    recording: Path | None = None,
) -> RunResult:
    embedded = driven(backend)  # pipemu drives it: embedded, or an endpoint driven locally
    check_capabilities(spec, backend)
    if embedded is not None and spec.time_scale is not None and spec.time_scale != embedded.clock.scale:
        stack.callback(embedded.clock.set_scale, embedded.clock.scale)
        embedded.clock.set_scale(spec.time_scale)
    correlate = spec.expect.delivered.correlate if spec.expect.delivered else None
    schedule = Schedule(RateSpec.model_validate({"per_second": rate}) if rate is not None else spec.rate)
    ledger = Ledger()
    if embedded is not None:
        embedded.set_observer(_Observer(ledger, correlate))
        stack.callback(embedded.set_observer, None)
    deployment = Deployer(backend.client, prefix=backend.resource_prefix).deploy(pipeline)
    if embedded is not None and embedded.esm is not None:
        embedded.warm(deployment.concurrency(pipeline))
        embedded.esm.wait_synced()

    feed: PushFeed | PollingFeed | None = None
    if spec.expect.delivered is not None:
        bucket = deployment.buckets[spec.expect.delivered.bucket]
        if embedded is not None:
            push = PushFeed({bucket})
            stack.callback(embedded.watch_s3(push.push))
            feed = push
        else:
            feed = PollingFeed(backend.client("s3"), {bucket}, spec.expect.delivered.prefix or "")
    sqs = backend.client("sqs")
    watchers = [QueueWatcher(sqs, deployment.queues[q]) for q in sorted(_dead_letter_queues(pipeline, spec))]
    collector = Collector(
        ledger, correlate=correlate, feed=feed, dead_letter_queues=watchers,
        output_check=output_checker(spec.expect.outputs),
    )

    if spec.source.startswith("state_machine/"):  # issue 4: one execution per event
        producer: Producer = sfn_hooks.producer(spec, deployment, backend, stack)
    else:
        producer = producer_for(spec.source, spec, backend, deployment, pipeline, seed)

    def key_of(event: GeneratedEvent) -> str:
        # A poison event may have lost its correlate field: it is still tracked (by its position).
        return str(event.fields.get(correlate, f"#{event.index}")) if correlate else str(event.index)

    if embedded is not None and spec.faults is not None:
        inject_backend_faults(spec.faults, embedded, deployment, stack, fault_seed(spec, seed))

    def report_progress(sent: int) -> None:
        if progress is not None:
            collector.poll()
            c = ledger.counts()
            progress(
                {
                    "sent": sent,
                    "delivered": c.delivered,
                    "dead_lettered": c.dead_lettered,
                    "in_flight": embedded.in_flight() if embedded else 0,
                }
            )

    stream = events if events is not None else scenario_events(spec, seed=seed, count=count)
    try:
        with ThreadPoolExecutor(max_workers=max(1, len(spec.additional_sources)),
                                thread_name_prefix="pipemu-source") as pool:
            others = [
                pool.submit(replay_additional, i, spec, backend, deployment, pipeline, ledger, seed, correlate)
                for i in range(len(spec.additional_sources))
            ]
            stats = replay(
                stream, producer, ledger, key_of=key_of, schedule=schedule, on_progress=report_progress,
                keep_partition_keys=spec.expect.order is not None,
            )
            stats = merge_stats([stats, *(f.result() for f in others)])
    except (HarnessError, BotoCoreError):  # BotoCoreError: the endpoint stopped answering (e.g. it died)
        if embedded is not None:
            embedded.check_alive(settle_s=1.0)  # a more precise error: what died
        raise
    timed_out = _wait_for_quiescence(backend, embedded, collector, ledger, stats, timeout_s, progress)
    collector.poll()
    # -- issue 4: wait for Step Functions executions, account state_machine/ source events, expect.executions
    sfn_results = (
        sfn_hooks.settle(spec, deployment, backend, ledger, producer, timeout_s=timeout_s)
        if sfn_hooks.wanted(spec)
        else []
    )

    counts = ledger.counts()
    latency = summarize(ledger.latencies_ms())
    expectations = check(spec.expect, ledger, latency, collector=collector) + sfn_results
    last = max((t for t in ledger.delivered_at if not math.isnan(t)), default=stats.finished)
    duration = max(last, stats.finished) - stats.started
    mappings = {}
    functions: dict[str, dict[str, Any]] = {}
    timeline: list[tuple[float, str, int]] = []
    invocations: list[InvocationRecord] = []
    if embedded is not None and embedded.esm is not None:
        mapping_stats = embedded.esm.stats()
        mappings = {uuid: s.as_dict() for uuid, s in mapping_stats.items()}
        timeline = sorted(entry for s in mapping_stats.values() for entry in list(s.timeline))
        functions = _function_stats(embedded)
        invocations = list(embedded.invocations)
    return RunResult(
        scenario=spec.name,
        backend=backend.name,
        seed=seed,
        passed=all(e.passed for e in expectations),
        events=counts,
        latency_ms=latency,
        throughput_eps=counts.sent / duration if duration > 0 else 0.0,
        duration_s=duration,
        expectations=expectations,
        replay=stats,
        time_scale=embedded.clock.scale if embedded is not None else 1.0,
        command=replay_command(spec, seed, count, rate, recording),
        mappings=mappings,
        functions=functions,
        timeline=timeline,
        schedule=schedule,
        invocations=invocations,
        ledger=ledger,
        deployment=deployment,
        timed_out=timed_out,
    )


def _wait_for_quiescence(
    backend: Backend,
    embedded: DrivenBackend | None,
    collector: Collector,
    ledger: Ledger,
    stats: ReplayStats,
    timeout_s: float,
    progress: Progress | None,
) -> bool:
    """Wait until every event is accounted for, or the pipeline has nothing left to do. Returns True on timeout."""
    replay_done = time.monotonic()
    deadline = replay_done + timeout_s
    last_arrival = time.monotonic()
    quiet_checks = 0
    if embedded is not None and embedded.esm is not None:
        embedded.esm.wake()
    while time.monotonic() < deadline:
        try:
            arrived = collector.poll()
        except BotoCoreError:  # the endpoint stopped answering: say what died if we can tell
            if embedded is not None:
                embedded.check_alive(settle_s=1.0)
            raise
        if arrived:
            last_arrival = time.monotonic()
            quiet_checks = 0
        if progress is not None:
            c = ledger.counts()
            progress(
                {
                    "sent": stats.sent,
                    "delivered": c.delivered,
                    "dead_lettered": c.dead_lettered,
                    "in_flight": embedded.in_flight() if embedded else 0,
                }
            )
        if ledger.accounted():
            return False
        if embedded is not None:
            embedded.check_alive()
            # Two consecutive quiet checks: a batch finishing writes its output before the poller goes idle.
            quiet_checks = quiet_checks + 1 if embedded.quiescent(replay_done) else 0
            if quiet_checks >= 3:
                return False
        elif time.monotonic() - last_arrival > SETTLE_S:
            return False
        collector.wait(POLL_S)
    return True


def _function_stats(backend: DrivenBackend) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for record in list(backend.invocations):
        entry = out.setdefault(
            record.function, {"invocations": 0, "cold_starts": 0, "errors": 0, "duration_ms": []}
        )
        entry["invocations"] += 1
        entry["cold_starts"] += int(record.cold_start)
        entry["errors"] += int(record.error is not None)
        entry["duration_ms"].append(record.duration_ms)
    for entry in out.values():
        durations = sorted(entry.pop("duration_ms"))
        entry["duration_ms_p50"] = round(durations[len(durations) // 2], 3) if durations else None
        entry["duration_ms_max"] = round(durations[-1], 3) if durations else None
    return out


def check_capabilities(spec: ScenarioSpec, backend: Backend) -> None:
    """Fail fast, before anything is deployed, when the scenario needs what this backend cannot do."""
    if spec.time_scale not in (None, 1.0) and not backend.capabilities.time_scale:
        raise ConfigError(
            f"backend {backend.name} cannot compress time",
            file=spec.source_path,
            key="time_scale",
            hint="remove time_scale or run on the embedded backend",
        )
    faults = spec.faults
    needs_injection = faults is not None and (bool(faults.handler_faults()) or faults.s3_write_failures is not None)
    if needs_injection and not backend.capabilities.fault_injection:
        raise ConfigError(
            f"backend {backend.name} cannot inject handler or S3 faults",
            file=spec.source_path,
            key="faults",
            hint="run this scenario on the embedded backend, or keep only poison/duplicates/late/producer faults",
        )


__all__ = ["RunResult", "WaitTimeout", "check_capabilities", "run_scenario"]
