"""The closed loop: scenario -> deploy -> replay -> observe -> quiescence -> expectations -> result.

result = run_scenario("scenarios/clickstream-smoke.yaml")
assert result.passed, result.summary()
"""

from __future__ import annotations

import dataclasses
import json
import math
import shlex
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError

from emulator.backends.base import Backend, DrivenBackend, driven, mapping_manager
from emulator.backends.embedded import EmbeddedBackend
from emulator.cost import hooks as cost_hooks
from emulator.cost.bill import Bill
from emulator.cost.measure import RunMeter
from emulator.deploy import Deployer, Deployment
from emulator.errors import ConfigError, HarnessError, RunInterrupted, WaitTimeout
from emulator.esm.streams.dynamodb_events import ledger_key as dynamodb_ledger_key
from emulator.esm.streams.dynamodb_events import record_identity as dynamodb_record_identity
from emulator.esm.streams.records import StreamRecord
from emulator.expect.agreement import dead_lettered_events, ledger_agreement
from emulator.expect.checks import check
from emulator.expect.latency import summarize
from emulator.expect.outputs import output_checker
from emulator.expect.verdict import ExpectationResult
from emulator.observe import ends
from emulator.observe.collector import Collector, stream_name
from emulator.observe.ledger import Ledger, kinesis_identity
from emulator.observe.outputs import ObjectFeed, PollingFeed, PushFeed, QueueWatcher
from emulator.observe.stall import StallMeter
from emulator.observe.tables import TableSampler
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
    labelled,
    producer_for,
    replay_additional,
    scenario_events,
    table_keys,
)
from emulator.result import RunResult
from emulator.runtime import interpreters
from emulator.spec.pipeline import PipelineSpec
from emulator.spec.scenario import EndSpec, ScenarioSpec, check_judgeable, load_scenario
from emulator.spec.traffic import RateSpec
from emulator.stepfunctions import scenario_hooks as sfn_hooks

Progress = Callable[[dict[str, int]], None]
POLL_S = 0.01
SETTLE_S = 2.0  # backends that cannot report quiescence: quiet this long after the last arrival


class _Observer:
    """Tells the ledger what the mappings did with each record: filtered out, given up on without a destination,
    or processed (a ``processed_by`` end). Records are found by the source's identity (stream, shard and
    sequence number; SQS message id), else by the correlate field of a JSON body."""

    def __init__(self, ledger: Ledger, correlate: str | None, processed_ends: dict[str, list[int]]) -> None:
        self._ledger = ledger
        self._correlate = correlate
        self._processed_ends = processed_ends  # function name -> the ledger's processed_by ends for it
        self.routes: dict[str, tuple[str, str]] = {}  # mapping UUID -> (function name, AWS stream name or "")
        self.processed: Counter[str] = Counter()  # function name -> records its mappings saw it process

    def _each(
        self, mapping_uuid: str, records: list[StreamRecord], shard_id: str, action: Callable[[int], None]
    ) -> None:
        """``action(index)`` for each record's event: by identity, else by the correlate field of its body, else
        once the producer names the identity (the record may be processed before its put returned)."""
        stream = self.routes.get(mapping_uuid, ("", ""))[1]
        for r in records:
            table_key = dynamodb_ledger_key(r, self._correlate)
            if table_key is not None:  # a DynamoDB stream record: known by its image's correlate field or keys
                self._table_record(r, table_key, action)
                continue
            identity = kinesis_identity(stream, shard_id, r.sequence_number) if shard_id else f"sqs:{r.sequence_number}"
            index = self._ledger.by_identity(identity)
            if index is None:
                index = self._by_body(r.data)
            if index is None:
                self._ledger.when_identified(identity, action)
            else:
                action(index)

    def _table_record(self, record: StreamRecord, table_key: str, action: Callable[[int], None]) -> None:
        """A DynamoDB stream record's event: by the correlate field of its image (or the keys a REMOVE removed),
        else by the image itself, as a table source names the events it writes."""
        found = self._ledger.index_of(table_key) if table_key else None
        if found is not None:
            action(found)
            return
        identity = dynamodb_record_identity(record)
        if identity is None:
            return
        found = self._ledger.by_identity(identity)
        if found is not None:
            action(found)
        elif not table_key:  # written by a table source, whose put may not have returned yet
            self._ledger.when_identified(identity, action)

    def _by_body(self, data: bytes) -> int | None:
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            return None
        if self._correlate and isinstance(value, dict) and self._correlate in value:
            return self._ledger.index_of(str(value[self._correlate]))
        return None

    def on_filtered(self, mapping_uuid: str, records: list[StreamRecord], *, shard_id: str = "") -> None:
        self._each(mapping_uuid, records, shard_id, self._ledger.filter_out)

    def on_gave_up(
        self, mapping_uuid: str, records: list[StreamRecord], condition: str, destination: str | None,
        *, shard_id: str = "",
    ) -> None:
        if destination is not None:
            self._locate_table_records(mapping_uuid, records, shard_id)
            return
        why = f"discarded by mapping {mapping_uuid} ({condition}); it has no on-failure destination"

        def dropped(index: int) -> None:
            self._ledger.dropped[index] = why

        self._each(mapping_uuid, records, shard_id, dropped)

    def _locate_table_records(self, mapping_uuid: str, records: list[StreamRecord], shard_id: str) -> None:
        """DynamoDB stream records a mapping sends to its on-failure destination: where they were in the stream,
        so the destination's record (a shard and a sequence range) names their events. Kinesis events are
        located by their producer."""
        stream = self.routes.get(mapping_uuid, ("", ""))[1]
        for r in records:
            table_key = dynamodb_ledger_key(r, self._correlate)
            if table_key is None:
                continue
            index = self._ledger.index_of(table_key) if table_key else None
            identity = dynamodb_record_identity(r) if index is None else None
            if identity is not None:
                index = self._ledger.by_identity(identity)
            if index is not None:
                self._ledger.locate(index, shard_id, r.sequence_number, stream=stream)

    def on_processed(self, mapping_uuid: str, records: list[StreamRecord], *, shard_id: str = "") -> None:
        function = self.routes.get(mapping_uuid, ("", ""))[0]
        self.processed[function] += len(records)
        ends = self._processed_ends.get(function, [])
        if not ends:
            return
        now = time.time()

        def reached(index: int) -> None:
            for end in ends:
                self._ledger.reached(index, now, end)

        self._each(mapping_uuid, records, shard_id, reached)


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
    pipeline: PipelineSpec | None = None,
) -> RunResult:
    """Run a scenario end to end: the one entry point of the CLI, the pytest plugin and the library. ``rate``
    overrides the scenario's rate with a constant one; ``events`` replaces generation; ``recording`` is a file
    written by ``pipemu record`` whose events are replayed as they are, faults included, without calling Faker;
    ``pipeline`` replaces the scenario's (``pipemu tune``)."""
    if isinstance(scenario, ScenarioSpec):
        from emulator.spec.pipeline import load_pipeline

        spec, loaded = scenario, pipeline or load_pipeline(scenario.pipeline)
    else:
        spec, loaded = load_scenario(scenario)
    pipeline = pipeline or loaded
    check_judgeable(spec, pipeline)
    if recording is not None:
        from emulator.replay.recording import read_recording

        events = read_recording(recording, correlate=_correlate(spec))
    with ExitStack() as stack:
        if backend is None:
            backend = stack.enter_context(EmbeddedBackend(time_scale=spec.time_scale or 1.0))
        run = _Run(
            spec, pipeline, backend, driven(backend), stack,
            seed=spec.seed if seed is None else seed, count=count, rate=rate,
            timeout_s=timeout_s or spec.timeout_s, progress=progress, recording=recording,
            schedule=Schedule(RateSpec.model_validate({"per_second": rate}) if rate is not None else spec.rate),
        )
        stats: ReplayStats | None = None
        stack.enter_context(run.stall)
        try:
            _wire(run)
            _deploy(run)
            run.deadline = time.monotonic() + run.timeout_s
            stats = _replay(run, events)
            timed_out = _settle(run, stats)
        except KeyboardInterrupt:
            # Assembled while the backend still runs (no waiting: figures as they stand), then released.
            run.interrupted = True
            raise RunInterrupted(_interrupted(run, stats)) from None
        result = _assemble(run, stats, timed_out)
        result.lint = _lint(run, result)
        result.iam = _iam(run)
        return result


def _correlate(spec: ScenarioSpec) -> str | None:
    return spec.expect.delivered.correlate if spec.expect.delivered else None


def _ledger_for(spec: ScenarioSpec) -> Ledger:
    """A ledger that knows the scenario's delivery ends, in the order ``expect.delivered`` lists them."""
    delivered = spec.expect.delivered
    if delivered is None:
        return Ledger()
    return Ledger(ends=[e.label for e in delivered.ends], mode=delivered.mode)


def _processed_ends(spec: ScenarioSpec) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, end in enumerate(spec.expect.delivered.ends if spec.expect.delivered else []):
        if end.kind == "processed_by":
            out.setdefault(end.name, []).append(i)
    return out


@dataclass
class _Run:
    """What the phases of one run share. ``driven`` is the backend when pipemu drives its pipeline, else None."""

    spec: ScenarioSpec
    pipeline: PipelineSpec
    backend: Backend
    driven: DrivenBackend | None
    stack: ExitStack
    seed: int
    count: int | None
    rate: float | None
    timeout_s: float
    progress: Progress | None
    recording: Path | None
    schedule: Schedule
    ledger: Ledger = field(default_factory=Ledger)
    stall: StallMeter = field(default_factory=StallMeter)  # the host's scheduling delay during the run
    # timeout_s covers the whole run after deploy (generate, send, settle).
    deadline: float = field(default_factory=lambda: math.inf)
    cut_short: tuple[int, str] | None = None  # events sent when the deadline stopped the replay, and why
    deployment: Deployment | None = None
    collector: Collector | None = None
    observer: _Observer | None = None  # on driven backends: what the mappings did with each record
    producer: Producer | None = None
    results: list[ExpectationResult] = field(default_factory=list)  # from settle hooks (Step Functions)
    cost_meter: RunMeter | None = None  # what the run uses in AWS's billed units, from deploy on
    inits_before: dict[str, int] = field(default_factory=dict)  # environments started per function before deploy
    iam_since: float = 0.0  # epoch time deploy began: the functions' calls recorded from then on (emulator.security)
    tables: TableSampler | None = None  # items per DynamoDB table over the run
    interrupted: bool = False  # Ctrl-C or SIGTERM: the figures are taken as they stand, without waiting

    def deployed(self) -> Deployment:
        if self.deployment is None:
            raise HarnessError("the run reached a phase before its pipeline was deployed")
        return self.deployment

    def observed(self) -> Collector:
        if self.collector is None:
            raise HarnessError("the run reached a phase before its collector was made")
        return self.collector

    def report_progress(self, sent: int) -> None:
        if self.progress is None:
            return
        c = self.ledger.counts()
        in_flight = self.driven.in_flight() if self.driven is not None else 0
        self.progress(
            {"sent": sent, "delivered": c.delivered, "dead_lettered": c.dead_lettered, "in_flight": in_flight}
        )


# -- phase 1: wire ----------------------------------------------------------------------------------------------
def _wire(run: _Run) -> None:
    """Check the backend can do what the scenario needs, set its clock, and make its mappings tell the ledger
    about records they filtered or gave up on."""
    check_capabilities(run.spec, run.backend)
    driven_part, spec = run.driven, run.spec
    run.ledger = _ledger_for(spec)
    if driven_part is None:
        return
    if spec.time_scale is not None and spec.time_scale != driven_part.clock.scale:
        run.stack.callback(driven_part.clock.set_scale, driven_part.clock.scale)
        driven_part.clock.set_scale(spec.time_scale)
    run.observer = _Observer(run.ledger, _correlate(spec), _processed_ends(spec))
    driven_part.set_observer(run.observer)
    run.stack.callback(driven_part.set_observer, None)


# -- phase 2: deploy --------------------------------------------------------------------------------------------
def deploy_pipeline(backend: Backend, pipeline: PipelineSpec) -> Deployment:
    """Deploy ``pipeline`` through boto3; on a driven backend, load every handler and wait until every mapping
    polls, so the first events pay no cold start."""
    deployment = Deployer(backend.client, prefix=backend.resource_prefix).deploy(pipeline)
    driven_part, esm = driven(backend), mapping_manager(backend)
    if driven_part is not None and esm is not None:
        driven_part.warm(deployment.concurrency(pipeline))
        esm.wait_synced()
    return deployment


def _deploy(run: _Run) -> None:
    """Deploy the pipeline and start watching its outputs and dead-letter queues."""
    spec, backend = run.spec, run.backend
    run.inits_before = _environments_started(run.driven)
    run.iam_since = time.time()
    deployment = run.deployment = deploy_pipeline(backend, run.pipeline)
    run.cost_meter = cost_hooks.start(run.driven, run.stack)  # deploying is not the pipeline's running cost
    run.ledger.resource_prefix = deployment.prefix  # dead_letters expectations name queues unprefixed
    if deployment.tables:
        run.tables = TableSampler(backend.client("dynamodb"), deployment.tables)
        run.tables.start()
        run.stack.callback(run.tables.stop)
    if run.observer is not None:
        run.observer.routes = _mapping_routes(run.pipeline, deployment)
    feeds = [
        (i, _end_feed(run, end))
        for i, end in enumerate(spec.expect.delivered.ends if spec.expect.delivered else [])
        if end.kind != "processed_by"  # the mappings tell the ledger (the observer)
    ]
    sqs = backend.client("sqs")
    queues = sorted(_dead_letter_queues(run.pipeline, spec))
    run.collector = Collector(
        run.ledger, correlate=_correlate(spec), feeds=feeds,
        dead_letter_queues=[QueueWatcher(sqs, deployment.queues[q]) for q in queues],
        output_check=output_checker(spec.expect.outputs),
    )


def _end_feed(run: _Run, end: EndSpec) -> ObjectFeed:
    """What arrives at one end of ``expect.delivered``, read through boto3 (S3 pushed on a driven backend). A
    topic is read through a queue pipemu subscribes to it now, before the replay, and removes after the run."""
    deployment, client = run.deployed(), run.backend.client
    if end.kind == "bucket":
        bucket = deployment.buckets[end.name]
        if run.driven is None:
            return PollingFeed(client("s3"), {bucket}, end.prefix or "")
        push = PushFeed({bucket}, end.prefix or "")
        run.stack.callback(run.driven.watch_s3(push.push))
        return push
    if end.kind == "queue":
        return ends.QueueFeed(client("sqs"), deployment.queues[end.name])
    if end.kind == "stream":
        return ends.StreamFeed(client("kinesis"), deployment.stream_names.get(end.name, end.name))
    if end.kind == "topic":
        name = ends.topic_queue_name(deployment.prefix, end.name)
        url, subscription = ends.subscribe_queue(client("sns"), client("sqs"), deployment.topics[end.name], name)
        run.stack.callback(ends.unsubscribe, client("sns"), client("sqs"), url, subscription)
        return ends.QueueFeed(client("sqs"), url)
    attribute = run.pipeline.tables[end.name].partition_key
    return ends.TableFeed(client("dynamodb"), deployment.tables[end.name], attribute, end.field or attribute)


def _mapping_routes(pipeline: PipelineSpec, deployment: Deployment) -> dict[str, tuple[str, str]]:
    """Mapping UUID -> (the function it invokes, the AWS name of its stream or "" for a queue)."""
    routes = {}
    for mapping, uuid in zip(pipeline.mappings, deployment.mappings, strict=False):
        kind, name = mapping.source.split("/", 1)
        stream = deployment.stream_names.get(name, name) if kind == "stream" else ""
        if kind == "table":  # as the on-failure records' streamArn names it
            stream = stream_name(deployment.table_streams.get(name, ""))
        routes[uuid] = (mapping.function, stream)
    return routes


# -- phase 3: replay --------------------------------------------------------------------------------------------
def _data_source(run: _Run) -> Producer:
    return producer_for(run.spec.source, run.spec, run.backend, run.deployed(), run.pipeline, run.seed)


def _state_machine_source(run: _Run) -> Producer:
    return sfn_hooks.producer(run.spec, run.deployed(), run.backend, run.stack)


SOURCES: dict[str, Callable[[_Run], Producer]] = {
    "stream": _data_source,
    "queue": _data_source,
    "bucket": _data_source,
    "table": _data_source,  # each event written as an item (replay.table_producer)
    "state_machine": _state_machine_source,  # one execution per event
}
"""Scenario source kind (the part of ``source:`` before the slash) -> the producer that feeds it."""


def _replay(run: _Run, events: Iterator[GeneratedEvent] | None) -> ReplayStats:
    """Send the scenario's events (and its additional sources' side by side) at the scheduled rate."""
    spec = run.spec
    run.producer = SOURCES[spec.source.split("/", 1)[0]](run)
    correlate = _correlate(spec)

    def key_of(event: GeneratedEvent) -> str:
        # A poison event may have lost its correlate field: it is still tracked (by its position).
        return str(event.fields.get(correlate, f"#{event.index}")) if correlate else str(event.index)

    if run.driven is not None and spec.faults is not None:
        inject_backend_faults(spec.faults, run.driven, run.deployed(), run.stack, fault_seed(spec, run.seed))

    def on_progress(sent: int) -> None:
        if run.progress is not None:
            run.observed().poll()
            run.report_progress(sent)

    events = events if events is not None else scenario_events(spec, seed=run.seed, count=run.count)
    stop = threading.Event()  # the main replay failed or was interrupted: the additional sources stop too
    pool = ThreadPoolExecutor(max_workers=max(1, len(spec.additional_sources)), thread_name_prefix="pipemu-source")
    try:
        others = [
            pool.submit(replay_additional, i, spec, run.backend, run.deployed(), run.pipeline, run.ledger,
                        run.seed, correlate, deadline=run.deadline, stop=stop)
            for i in range(len(spec.additional_sources))
        ]
        stats = replay(
            events, run.producer, run.ledger, key_of=table_keys(run.producer, key_of), schedule=run.schedule,
            on_progress=on_progress, keep_partition_keys=spec.expect.order is not None, deadline=run.deadline,
        )
        stats = merge_stats([labelled(spec.source, stats), *(f.result() for f in others)])
        if stats.cut_short:
            run.cut_short = (stats.sent, stats.cut_short)
        return stats
    except (HarnessError, BotoCoreError):  # BotoCoreError: the endpoint stopped answering (e.g. it died)
        if run.driven is not None:
            run.driven.check_alive(settle_s=1.0)  # a more precise error: what died
        raise
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)


# -- phase 4: settle --------------------------------------------------------------------------------------------
def _executions_settle(run: _Run) -> list[ExpectationResult]:
    if not sfn_hooks.wanted(run.spec):
        return []
    remaining = max(0.5, run.deadline - time.monotonic())
    return sfn_hooks.settle(run.spec, run.deployed(), run.backend, run.ledger, run.producer, timeout_s=remaining)


SETTLE_HOOKS: list[Callable[[_Run], list[ExpectationResult]]] = [_executions_settle]
"""After quiescence, each hook waits for the work it knows about and returns its own expectations' results
(Step Functions: executions finish, their source events are accounted, ``expect.executions`` is checked)."""


def _settle(run: _Run, stats: ReplayStats) -> bool:
    """Wait for quiescence, then for every settle hook. Returns True when the wait timed out."""
    timed_out = _wait_for_quiescence(run, stats)
    run.observed().poll(catch_up=True)
    _read_dead_letters(run)
    for hook in SETTLE_HOOKS:
        run.results += hook(run)
    return timed_out


DEAD_LETTER_READ_S = 5.0  # bound for reading on-failure records the mappings already sent


def _read_dead_letters(run: _Run) -> None:
    """A run ends when every event is accounted for, which a delivered event is even when its batch then failed
    and went to the dead-letter queue: read the queues until they hold what the mappings say they sent."""
    until = min(run.deadline, time.monotonic() + DEAD_LETTER_READ_S)
    driven_part = run.driven
    if driven_part is not None and _stream_dead_letters(run) is not None:
        # The run may have ended on "every event accounted" while a batch whose output was written still fails:
        # let the mappings finish (and send their on-failure records) before counting what they sent.
        since = time.monotonic()
        _poll_until(run, lambda: driven_part.quiescent(since), until)
    sent = _stream_dead_letters(run)
    if sent:
        _poll_until(run, lambda: len(dead_lettered_events(run.ledger, streams_only=True)) >= sent, until)


def _poll_until(run: _Run, done: Callable[[], bool], until: float) -> None:
    """Collect outputs until ``done()`` or the monotonic instant ``until``."""
    while not done() and time.monotonic() < until:
        run.observed().wait(POLL_S)
        run.observed().poll()


def _stream_dead_letters(run: _Run) -> int | None:
    """Records the stream mappings sent to an on-failure queue (None: the backend does not say)."""
    if run.driven is None or run.driven.esm is None or run.deployment is None:
        return None
    stats = run.driven.esm.stats()
    return sum(
        stats[uuid].records_dead_lettered
        for mapping, uuid in zip(run.pipeline.mappings, run.deployment.mappings, strict=False)
        if mapping.source.startswith("stream/") and (mapping.on_failure or "").startswith("queue/") and uuid in stats
    )


def _wait_for_quiescence(run: _Run, stats: ReplayStats) -> bool:
    """Wait until every event is accounted for, or the pipeline has nothing left to do. Returns True on timeout."""
    collector, ledger, driven_part = run.observed(), run.ledger, run.driven
    replay_done = time.monotonic()
    deadline = run.deadline
    last_arrival = time.monotonic()
    quiet_checks = 0
    esm = mapping_manager(run.backend)
    if esm is not None:
        esm.wake()
    while time.monotonic() < deadline:
        try:
            arrived = collector.poll()
        except BotoCoreError:  # the endpoint stopped answering: say what died if we can tell
            if driven_part is not None:
                driven_part.check_alive(settle_s=1.0)
            raise
        if arrived:
            last_arrival = time.monotonic()
            quiet_checks = 0
        run.report_progress(stats.sent)
        if ledger.accounted():
            return False
        if driven_part is not None:
            driven_part.check_alive()
            # Three consecutive quiet checks: a batch finishing writes its output before the poller goes idle.
            quiet_checks = quiet_checks + 1 if driven_part.quiescent(replay_done) else 0
            if quiet_checks >= 3:
                return False
        elif time.monotonic() - last_arrival > SETTLE_S:
            return False
        collector.wait(POLL_S)
    return True


# -- phase 5: assemble ------------------------------------------------------------------------------------------
def _assemble(run: _Run, stats: ReplayStats, timed_out: bool) -> RunResult:
    """Check the expectations and put the run's figures together."""
    spec, ledger = run.spec, run.ledger
    counts = ledger.counts()
    latency = summarize(ledger.latencies_ms())
    bill, cost_results = _bill(run, stats)
    processed = dict(run.observer.processed) if run.observer is not None else None
    expectations = check(spec.expect, ledger, latency, collector=run.observed(), processed=processed)
    expectations += run.results + cost_results
    if timed_out or run.cut_short is not None:
        expectations.append(_within_timeout(run, stats))
    disagreement = ledger_agreement(ledger, _stream_dead_letters(run))
    if disagreement is not None:
        expectations.append(disagreement)
    stall = run.stall.figures()
    expectations = [_stall_noted(e, stall) for e in expectations]
    if run.tables is not None:
        run.tables.stop()
    last = max((t for t in ledger.delivered_at if not math.isnan(t)), default=stats.finished)
    duration = max(last, stats.finished) - stats.started
    return RunResult(
        scenario=spec.name,
        backend=run.backend.name,
        seed=run.seed,
        passed=all(e.passed for e in expectations),
        events=counts,
        latency_ms=latency,
        throughput_eps=counts.sent / duration if duration > 0 else 0.0,
        duration_s=duration,
        expectations=expectations,
        replay=stats,
        time_scale=run.driven.clock.scale if run.driven is not None else 1.0,
        command=replay_command(spec, run.seed, run.count, run.rate, run.recording),
        schedule=run.schedule,
        ledger=ledger,
        deployment=run.deployment,
        timed_out=timed_out,
        host_stall_ms=stall,
        cost=bill,
        tables=run.tables.figures() if run.tables is not None else {},
        **_driven_figures(run),
    )


def _iam(run: _Run) -> dict[str, Any] | None:
    """Each function's calls and the policy it needs (emulator.security); None where the backend cannot see them."""
    from emulator.security.run_report import iam_section

    audit = run.driven.audit if run.driven is not None else None
    return iam_section(run.pipeline, run.deployment, audit, run.iam_since)


def _lint(run: _Run, result: RunResult) -> list[dict[str, Any]]:
    """`pipemu lint`'s findings for the run's pipeline; PM005 measures this run's batches."""
    from emulator.lint import lint

    return lint(run.pipeline, scenario=run.spec, measured=result.to_json()).as_list()


def _bill(run: _Run, stats: ReplayStats) -> tuple[Bill | None, list[ExpectationResult]]:
    if run.cost_meter is None:
        return None, cost_hooks.check_cost(run.spec.expect.cost, None)
    return cost_hooks.settle(run.cost_meter, run.spec, run.pipeline, run.deployed(), stats, run.backend)


def _interrupted(run: _Run, stats: ReplayStats | None) -> RunResult | None:
    """What was measured until Ctrl-C, as a result marked interrupted (None before anything was deployed)."""
    if run.collector is None:
        return None
    if stats is None:
        sent_at = [t for t in run.ledger.sent_at if not math.isnan(t)]
        started = min(sent_at, default=time.time())
        finished = max(sent_at, default=started)
        stats = ReplayStats(
            sent=len(sent_at), failed=0, asked_rate=None, asked=run.schedule.describe(),
            achieved_rate=len(sent_at) / (finished - started) if finished > started else 0.0,
            duration_s=finished - started, started=started, finished=finished,
        )
    result = _assemble(run, stats, timed_out=False)
    stopped = ExpectationResult(name="interrupted", passed=False, expected="run to the end",
                                actual="interrupted", detail=f"stopped after {stats.sent} events were sent")
    return dataclasses.replace(result, interrupted=True, passed=False, expectations=[*result.expectations, stopped])


STALL_NOTE_MS = 50.0  # scheduling delay beyond which a missed latency budget is blamed on the host too


def _stall_noted(result: ExpectationResult, stall: dict[str, float]) -> ExpectationResult:
    """A latency budget (events' or executions' durations) missed while the host stalled says so, with the
    harness's own scheduling delay."""
    budget = result.name.startswith(("latency", "executions.duration"))
    if result.passed or not budget or stall["max_ms"] < STALL_NOTE_MS:
        return result
    note = (f"the host stalled during the run: the harness's 10 ms sleeps overslept by up to {stall['max_ms']:g} ms "
            f"(p99 {stall['p99_ms']:g} ms); the machine was busy, which delays the pipeline as much")
    return dataclasses.replace(result, detail=f"{result.detail}; {note}" if result.detail else note)


def _within_timeout(run: _Run, stats: ReplayStats) -> ExpectationResult:
    """A run that did not finish within ``timeout_s`` fails, saying how far it got."""
    if run.cut_short is not None:
        sent, why = run.cut_short
        detail = f"sent {sent} events, then stopped: {why}; the rest were never sent"
    else:
        detail = f"sent all {stats.sent} events; the pipeline had not gone quiet when the time ran out"
    return ExpectationResult(
        name="timeout_s", passed=False, expected=f"run finishes within {run.timeout_s:g}s",
        actual="timed out", detail=detail,
    )


def _driven_figures(run: _Run) -> dict[str, Any]:
    """Per-mapping and per-function figures, the batch timeline and the invocations (driven backends only)."""
    driven_part = run.driven
    esm = mapping_manager(driven_part) if driven_part is not None else None
    if driven_part is None or esm is None:
        return {"mappings": {}, "functions": {}, "timeline": [], "invocations": []}
    # The last batches' counters, within the run's deadline (a run that timed out takes them as they stand).
    remaining = min(10.0, run.deadline - time.monotonic())
    if not run.interrupted and remaining > 0:
        _settle_counters(driven_part, timeout_s=remaining)
    mapping_stats = esm.stats()
    labels = esm.labels()
    return {
        "mappings": {labels.get(uuid, uuid): s.as_dict() for uuid, s in mapping_stats.items()},
        "timeline": sorted(entry for s in mapping_stats.values() for entry in list(s.timeline)),
        "functions": _with_runtimes(_function_stats(driven_part, run.inits_before), run.pipeline, run.deployed()),
        "invocations": list(driven_part.invocations),
    }


def _environments_started(backend: DrivenBackend | None) -> dict[str, int]:
    """Execution environments initialised so far per function (on demand or ahead, as at deploy)."""
    runtime = backend.runtime if backend is not None else None
    return {name: s.cold_starts for name, s in runtime.stats().items()} if runtime is not None else {}


def _settle_counters(backend: DrivenBackend, timeout_s: float) -> None:
    """Wait (bounded) until no batch is in flight: a batch's output lands during its invocation, its counters
    after it, so the ledger can be complete a moment before the mapping stats are."""
    deadline = time.monotonic() + timeout_s
    mark = time.monotonic()
    while time.monotonic() < deadline and not backend.quiescent(mark):
        time.sleep(0.01)  # polling the pollers' state, not waiting for the pipeline


def _function_stats(backend: DrivenBackend, inits_before: dict[str, int]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for record in list(backend.invocations):
        entry = out.setdefault(
            record.function, {"invocations": 0, "cold_starts": 0, "errors": 0, "duration_ms": []}
        )
        entry["invocations"] += 1
        entry["cold_starts"] += int(record.cold_start)
        entry["errors"] += int(record.error is not None)
        entry["duration_ms"].append(record.duration_ms)
    # Cold starts: every environment initialised during the run, the ones warmed at deploy included (the
    # invocation records alone count only those that started on an invocation).
    started = _environments_started(backend)
    for name, entry in out.items():
        entry["cold_starts"] = max(entry["cold_starts"], started.get(name, 0) - inits_before.get(name, 0))
    for entry in out.values():
        durations = sorted(entry.pop("duration_ms"))
        entry["duration_ms_p50"] = round(durations[len(durations) // 2], 3) if durations else None
        entry["duration_ms_max"] = round(durations[-1], 3) if durations else None
    return out


def _with_runtimes(
    functions: dict[str, dict[str, Any]], pipeline: PipelineSpec, deployment: Deployment
) -> dict[str, dict[str, Any]]:
    """Each function's runtime and the interpreter pipemu ran it on, with the note when they differ."""
    for name, fn in pipeline.functions.items():
        entry = functions.get(deployment.functions[name].rsplit(":", 1)[-1])
        if entry is None:  # never invoked
            continue
        interpreter = interpreters.resolve(fn.runtime)
        entry.update({"runtime": fn.runtime, "runs_on": interpreter.label})
        if interpreter.note:
            entry["runtime_note"] = interpreter.note
    return functions


def check_capabilities(spec: ScenarioSpec, backend: Backend) -> None:
    """Fail fast, before anything is deployed, when the scenario needs what this backend cannot do."""
    if spec.time_scale not in (None, 1.0) and not backend.capabilities.time_scale:
        raise ConfigError(
            f"backend {backend.name} cannot compress time",
            file=spec.source_path,
            key="time_scale",
            hint="remove time_scale or run on the embedded backend",
        )
    delivered = spec.expect.delivered
    wanted = delivered.ends if delivered is not None else []
    if any(e.kind == "processed_by" for e in wanted) and not backend.capabilities.runs_event_source_mappings:
        raise ConfigError(
            f"backend {backend.name} runs the event source mappings itself: pipemu cannot see which records an "
            "invocation processed",
            file=spec.source_path, key="expect.delivered",
            hint="use processed_by on the embedded backend or a moto server, or an end the pipeline writes to",
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


__all__ = [
    "SETTLE_HOOKS", "SOURCES", "RunResult", "WaitTimeout", "check_capabilities", "deploy_pipeline", "run_scenario",
]
