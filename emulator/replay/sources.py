"""Where a run's events come from and go to: the scenario's event stream (generated, then made faulty), a
producer per source kind, additional sources replayed side by side, and faults injected into the backend."""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any, Protocol

from emulator.deploy import Deployment
from emulator.observe.ledger import Ledger
from emulator.replay.faults import HandlerFaults, S3WriteFaults, ThrottlingKinesis, apply_event_faults
from emulator.replay.generate import GeneratedEvent, generate
from emulator.replay.producer import KinesisProducer, Producer, ReplayStats, S3Producer, SqsProducer, replay
from emulator.replay.rates import Schedule
from emulator.replay.table_producer import TableProducer, TableWritePlanner
from emulator.runtime import InjectedFault
from emulator.spec.pipeline import PipelineSpec
from emulator.spec.scenario import ScenarioSpec
from emulator.spec.traffic import FaultsSpec


class Clients(Protocol):
    """Where producers get their clients (every backend is one)."""

    def client(self, service: str) -> Any: ...


class FaultHooks(Protocol):
    """Where backend faults go in (a driven backend is one)."""

    def set_handler_faults(self, plan: Callable[[str], InjectedFault | None] | None) -> None: ...

    def set_s3_write_failures(self, decider: Callable[[str, str], bool] | None) -> None: ...


def producer_for(
    ref: str, spec: ScenarioSpec, backend: Clients, deployment: Deployment, pipeline: PipelineSpec, seed: int
) -> Producer:
    kind, name = ref.split("/", 1)
    if kind == "stream":
        kinesis = backend.client("kinesis")
        if spec.faults is not None and spec.faults.producer is not None:
            kinesis = ThrottlingKinesis(kinesis, spec.faults.producer.throttle_ratio, fault_seed(spec, seed))
        return KinesisProducer(kinesis, deployment.stream_names[name])
    if kind == "bucket":
        return S3Producer(backend.client("s3"), deployment.buckets[name])
    if kind == "table":  # the scenario's operations apply to its own source; an additional table source puts
        operations = spec.operations if ref == spec.source else None
        planner = TableWritePlanner(pipeline.tables[name], operations, seed)
        return TableProducer(backend.client("dynamodb"), deployment.tables[name], planner)
    return SqsProducer(backend.client("sqs"), deployment.queues[name], fifo=pipeline.queues[name].fifo)


def replay_additional(
    i: int,
    spec: ScenarioSpec,
    backend: Clients,
    deployment: Deployment,
    pipeline: PipelineSpec,
    ledger: Ledger,
    seed: int,
    correlate: str | None,
    *,
    deadline: float = math.inf,
    stop: threading.Event | None = None,
) -> ReplayStats:
    """One of ``additional_sources``: its own generator (seed + i + 1), rate and producer, same ledger; it ends at
    the run's ``deadline`` or when ``stop`` is set, like the main source."""
    extra = spec.additional_sources[i]
    as_spec = spec.model_copy(update={"source": extra.source, "events": extra.events, "rate": extra.rate})
    label = extra.source

    def key_of(event: GeneratedEvent) -> str:
        return str(event.fields.get(correlate, f"#{label}:{event.index}")) if correlate else f"{label}:{event.index}"

    producer = producer_for(extra.source, spec, backend, deployment, pipeline, seed)
    return labelled(label, replay(
        scenario_events(as_spec, seed=seed + i + 1),
        producer,
        ledger,
        key_of=table_keys(producer, key_of),
        schedule=Schedule(extra.rate),
        deadline=deadline,
        stop=stop,
    ))


def labelled(source: str, stats: ReplayStats) -> ReplayStats:
    """Stats whose reason for being cut short names the source (several are replayed side by side)."""
    return dataclasses.replace(stats, cut_short=f"{source}: {stats.cut_short}") if stats.cut_short else stats


def table_keys(producer: Producer, key_of: Callable[[GeneratedEvent], str]) -> Callable[[GeneratedEvent], str]:
    """A table source names each event as its stream record will (a delete by the keys it removes)."""
    if not isinstance(producer, TableProducer):
        return key_of
    return lambda event: producer.ledger_key(event, key_of(event))


def scenario_events(spec: ScenarioSpec, *, seed: int, count: int | None = None) -> Iterator[GeneratedEvent]:
    """The scenario's events exactly as a run sends them: generated, then made faulty as ``faults`` says."""
    return apply_event_faults(generate(spec, seed=seed, count=count), spec.faults, fault_seed(spec, seed))


def fault_seed(spec: ScenarioSpec, seed: int) -> int:
    if spec.faults is not None and spec.faults.seed is not None:
        return spec.faults.seed
    return seed


def inject_backend_faults(
    faults: FaultsSpec, backend: FaultHooks, deployment: Deployment, stack: ExitStack, seed: int
) -> None:
    handler = faults.handler_faults()
    if handler:
        names = {deployment.prefix + h.function: h for h in handler}
        plan = HandlerFaults([h.model_copy(update={"function": n}) for n, h in names.items()], seed)
        backend.set_handler_faults(plan)
        stack.callback(backend.set_handler_faults, None)
    if faults.s3_write_failures is not None:
        bucket = deployment.buckets[faults.s3_write_failures.bucket]
        backend.set_s3_write_failures(S3WriteFaults(bucket, faults.s3_write_failures.ratio, seed))
        stack.callback(backend.set_s3_write_failures, None)
