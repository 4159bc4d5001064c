"""What a run used, in the units AWS bills: the input of the cost model (``emulator.cost.bill``).

Each figure says where it was measured: Lambda invocations and durations by pipemu's runtime, records and their
sizes read back from the Kinesis store, API requests by the embedded server's meter, state transitions from
execution histories. Nothing here knows a price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

KINESIS_PAYLOAD_UNIT = 25 * 1024  # a PUT payload unit is a 25 KB chunk of a record
KIB = 1024


def payload_units(size: int) -> int:
    """PUT payload units of one record: "a 5KB record contains one PUT Payload Unit, a 45KB record contains two"
    (https://aws.amazon.com/kinesis/data-streams/pricing/). KB is read as 1,024 bytes, as the same page does for
    on-demand data; its "1MB record contains 40 units" reads MB as 1,000 KB (a 1 MiB record counts 41 here)."""
    return max(1, -(-size // KINESIS_PAYLOAD_UNIT))


def kib_rounded(size: int) -> int:
    """On-demand data in: "the size of each record rounded up to the nearest 1 KB"
    (https://aws.amazon.com/kinesis/data-streams/pricing/)."""
    return max(1, -(-size // KIB))


def billed_ms(duration_ms: float) -> int:
    """Lambda bills duration "rounded up to the nearest 1 ms" (https://aws.amazon.com/lambda/pricing/)."""
    return max(1, math.ceil(duration_ms))


@dataclass(frozen=True)
class StreamUsage:
    name: str
    shards: int
    mode: str  # "provisioned" or "on_demand"
    records: int
    payload_units: int
    kib_in: int  # records rounded up to 1 KB each
    consumers: int  # event source mappings reading the stream (on-demand bills each read)


@dataclass(frozen=True)
class FunctionUsage:
    name: str
    memory_mb: int
    architecture: str  # "x86_64" or "arm64"
    invocations: int
    billed_ms: int  # sum over invocations of the measured duration rounded up to 1 ms


@dataclass(frozen=True)
class MappingUsage:
    uuid: str
    source: str
    function: str
    invocations: int


@dataclass(frozen=True)
class ApiUsage:
    service: str
    operation: str
    requests: int
    chunks_64k: int
    kib_in: int
    units_4k_out: int
    bytes_in: int


@dataclass(frozen=True)
class StateMachineUsage:
    name: str
    type: str  # STANDARD or EXPRESS
    executions: int
    transitions: int
    billed_100ms: int  # express: durations rounded up to 100 ms, summed, in 100 ms units


@dataclass(frozen=True)
class Usage:
    events: int  # events the producer put into the source
    rate_per_s: float  # the scenario's rate, for the projections
    streams: tuple[StreamUsage, ...] = ()
    functions: tuple[FunctionUsage, ...] = ()
    mappings: tuple[MappingUsage, ...] = ()
    api: tuple[ApiUsage, ...] = ()
    state_machines: tuple[StateMachineUsage, ...] = ()
    fifo_queues_only: bool = False  # every queue of the pipeline is FIFO (SQS bills those at the FIFO rate)
    notes: tuple[str, ...] = field(default=())

    @property
    def traffic_hours(self) -> float:
        """How long the run's events take to arrive on AWS at the scenario's rate: what time-priced resources
        (shard-hours) are billed for."""
        return self.events / self.rate_per_s / 3600 if self.rate_per_s > 0 else 0.0
