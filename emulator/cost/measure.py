"""Reading a run's usage (``emulator.cost.usage.Usage``) from where each figure is measured:

- Lambda invocations and durations: the runtime's per-function stats (every invocation path: mappings, Invoke,
  Step Functions tasks, S3 notifications), counted from the moment metering starts;
- Kinesis records and payload units: the records read back from the embedded backend's shard store after the
  run (each record's data size, rounded to 25 KB chunks as AWS bills PUT payload units);
- API requests (S3, SQS, SNS, DynamoDB): the embedded server's meter (``emulator.observe.api_meter``);
- mapping invocations: the pollers' stats; state transitions: the executions' histories.

``RunMeter.start`` is called once the pipeline is deployed (deploy requests are not the pipeline's running
cost); ``RunMeter.usage`` after the run has gone quiet.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.backends.base import DrivenBackend
from emulator.cost.usage import (
    ApiUsage,
    FunctionUsage,
    MappingUsage,
    StateMachineUsage,
    StreamUsage,
    Usage,
    billed_ms,
    kib_rounded,
    payload_units,
)
from emulator.deploy import Deployment
from emulator.spec.pipeline import PipelineSpec

_READ_LIMIT = 10_000


def _stream_sizes(stream_arn: str) -> Iterator[int]:
    """Data size of every record in the embedded store's stream, oldest first (GetRecords' view)."""
    from emulator.backends.moto_seams.kinesis_store import InProcessShardSource

    source = InProcessShardSource(stream_arn)
    for shard_id in source.shard_ids():
        iterator: str | None = source.open(shard_id, position="TRIM_HORIZON")
        while iterator is not None:
            records, iterator, _ = source.read(iterator, _READ_LIMIT)
            if not records:
                break
            for r in records:
                yield len(r.data)


@dataclass
class RunMeter:
    backend: DrivenBackend | None
    embedded_store: bool  # the Kinesis store is moto in this process (the embedded backend)
    before: dict[str, int] = field(default_factory=dict)  # invocations per function when metering started

    @classmethod
    def start(cls, backend: DrivenBackend | None) -> RunMeter:
        """A backend with a meter serves moto from this process: its Kinesis store can be read back too."""
        embedded_store = backend is not None and backend.meter is not None
        before: dict[str, int] = {}
        if backend is not None and backend.runtime is not None:
            before = {name: s.invocations for name, s in backend.runtime.stats().items()}
        if backend is not None and backend.meter is not None:
            backend.meter.start()
        return cls(backend, embedded_store, before)

    def stop(self) -> None:
        if self.backend is not None and self.backend.meter is not None:
            self.backend.meter.stop()

    def usage(
        self,
        pipeline: PipelineSpec,
        deployment: Deployment,
        *,
        events: int,
        rate_per_s: float,
        sfn: Any = None,
    ) -> Usage:
        notes: list[str] = []
        api: tuple[ApiUsage, ...] = ()
        if self.backend is not None and self.backend.meter is not None:
            counts = self.backend.meter.stop()
            api = tuple(ApiUsage(svc, op, c.requests, c.chunks_64k, c.kib_in, c.units_4k_out, c.bytes_in)
                        for (svc, op), c in sorted(counts.items()))
        else:
            notes.append("API requests (S3, SQS, SNS, DynamoDB) are metered on the embedded backend only")
        mappings = self._mappings(pipeline, deployment)
        return Usage(
            events=events,
            rate_per_s=rate_per_s,
            streams=self._streams(pipeline, deployment, notes),
            functions=self._functions(pipeline, deployment),
            mappings=mappings,
            api=api,
            state_machines=_state_machines(pipeline, deployment, sfn) if sfn is not None else (),
            fifo_queues_only=bool(pipeline.queues) and all(q.fifo for q in pipeline.queues.values()),
            notes=tuple(notes),
        )

    def _functions(self, pipeline: PipelineSpec, deployment: Deployment) -> tuple[FunctionUsage, ...]:
        runtime = self.backend.runtime if self.backend is not None else None
        if runtime is None:
            return ()
        stats = runtime.stats()
        out = []
        for name, fn in pipeline.functions.items():
            aws_name = deployment.functions.get(name, name).rsplit(":", 1)[-1]
            s = stats.get(aws_name)
            if s is None:
                continue
            durations = s.durations_ms[self.before.get(aws_name, 0):]
            out.append(FunctionUsage(name, fn.memory, fn.architecture, len(durations),
                                     sum(billed_ms(d) for d in durations)))
        return tuple(out)

    def _streams(self, pipeline: PipelineSpec, deployment: Deployment, notes: list[str]) -> tuple[StreamUsage, ...]:
        out = []
        for name, spec in pipeline.streams.items():
            consumers = sum(1 for m in pipeline.mappings if m.source == f"stream/{name}")
            records = units = kib = 0
            if self.embedded_store and name in deployment.streams:
                for size in _stream_sizes(deployment.streams[name]):
                    records += 1
                    units += payload_units(size)
                    kib += kib_rounded(size)
            out.append(StreamUsage(name, spec.shards, spec.mode, records, units, kib, consumers))
        if pipeline.streams and not self.embedded_store:
            notes.append("Kinesis records are read back from the embedded backend's store only: not counted here")
        return tuple(out)

    def _mappings(self, pipeline: PipelineSpec, deployment: Deployment) -> tuple[MappingUsage, ...]:
        esm = self.backend.esm if self.backend is not None else None
        if esm is None:
            return ()
        stats = esm.stats()
        return tuple(
            MappingUsage(uuid, m.source, m.function, stats[uuid].invocations)
            for uuid, m in zip(deployment.mappings, pipeline.mappings, strict=False)
            if uuid in stats
        )


def _transitions(events: tuple[dict[str, Any], ...]) -> int:
    """"Step Functions counts a state transition each time a step of your workflow is executed ... each retry
    will be charged as an additional state transition" (https://aws.amazon.com/step-functions/pricing/)."""
    from emulator.stepfunctions.observe import state_visits

    return sum(1 + v.retries for v in state_visits(events))


def _state_machines(pipeline: PipelineSpec, deployment: Deployment, sfn: Any) -> tuple[StateMachineUsage, ...]:
    from emulator.stepfunctions.observe import collect

    machines: Mapping[str, str] = {n: a for n, a in deployment.state_machines.items() if n in pipeline.state_machines}
    if not machines:
        return ()
    records = collect(sfn, machines, history=True)
    out = []
    for name, spec in pipeline.state_machines.items():
        mine = [r for r in records if r.state_machine == name]
        hundreds = sum(max(1, -(-int(r.duration_ms or 0) // 100)) for r in mine)
        out.append(StateMachineUsage(name, spec.type, len(mine), sum(_transitions(r.events) for r in mine),
                                     hundreds))
    return tuple(out)
