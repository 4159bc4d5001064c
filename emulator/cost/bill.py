"""The bill of a run: usage (``emulator.cost.usage``) times prices (``emulator.cost.prices``), line by line.

Per line: the service, the resource (function, stream, state machine, or ``*`` for account-wide requests), the
units behind it and the price's source. Projections: the cost per million events (per-event lines scaled, plus
time-priced lines such as shard-hours spread over the events that arrive in an hour at the scenario's rate) and
per month of 730 hours at that rate.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from emulator.cost.prices import PriceTable
from emulator.cost.usage import StateMachineUsage, StreamUsage, Usage

HOURS_PER_MONTH = 730  # AWS's pricing examples use 730 hours a month
GIB = 1024**3
_S3_CLASS_A = frozenset({"PUT", "POST", "COPY", "LIST"})
_S3_FREE = frozenset({"DELETE", "OPTIONS"})
_DDB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_DDB_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
_SQS_OPS = frozenset({
    "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
    "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
})


@dataclass(frozen=True)
class CostLine:
    service: str
    resource: str
    item: str  # the price table's item
    quantity: float  # in the price's unit (e.g. 0.002 million requests)
    units: str  # what was measured, in words
    usd: float
    per_hour: bool  # priced by time (shard-hours), not by events
    source: str
    checked: str


@dataclass(frozen=True)
class Bill:
    region: str
    prices_version: str
    events: int
    rate_per_s: float
    lines: tuple[CostLine, ...]
    by_mapping: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def variable_usd(self) -> float:
        return sum(line.usd for line in self.lines if not line.per_hour)

    @property
    def hourly_usd(self) -> float:
        """Time-priced lines per hour of running (their ``usd`` is for the run's traffic hours)."""
        hours = self.events / self.rate_per_s / 3600 if self.rate_per_s > 0 else 0.0
        return sum(line.usd for line in self.lines if line.per_hour) / hours if hours > 0 else 0.0

    @property
    def run_usd(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def per_million_usd(self) -> float:
        if self.events <= 0:
            return 0.0
        per_event = self.variable_usd / self.events
        fixed = self.hourly_usd / (self.rate_per_s * 3600) if self.rate_per_s > 0 else 0.0
        return (per_event + fixed) * 1_000_000

    @property
    def per_month_usd(self) -> float:
        per_event = self.variable_usd / self.events if self.events else 0.0
        return per_event * self.rate_per_s * 3600 * HOURS_PER_MONTH + self.hourly_usd * HOURS_PER_MONTH

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for line in self.lines:
            out[line.service] += line.usd
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def by_resource(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for line in self.lines:
            out[f"{line.service}:{line.resource}"] += line.usd
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def at_rate(self, rate_per_s: float) -> Bill:
        """The same usage arriving at another rate (a time-scaled replay sends ``scale`` times faster than the
        scenario): time-priced lines last ``self.rate_per_s / rate_per_s`` times as long."""
        factor = self.rate_per_s / rate_per_s if rate_per_s > 0 else 1.0
        lines = tuple(replace(line, quantity=line.quantity * factor, usd=line.usd * factor) if line.per_hour
                      else line for line in self.lines)
        return replace(self, rate_per_s=rate_per_s, lines=lines)

    def summary(self) -> str:
        """Two lines for the CLI: the projections, then the largest services."""
        services = ", ".join(f"{name} {usd_text(usd)}" for name, usd in self.by_service().items())
        return (
            f"cost on AWS ({self.region} list prices of {self.prices_version}, counts measured, durations "
            f"measured locally): this run {usd_text(self.run_usd)}, {usd_text(self.per_million_usd)} per million "
            f"events, {usd_text(self.per_month_usd)} per month at {self.rate_per_s:g} events/s\n"
            f"  by service (this run): {services or 'nothing billable'}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "prices_version": self.prices_version,
            "events": self.events,
            "rate_per_s": self.rate_per_s,
            "run_usd": self.run_usd,
            "per_million_usd": self.per_million_usd,
            "per_month_usd": self.per_month_usd,
            "by_service": self.by_service(),
            "by_resource": self.by_resource(),
            "by_mapping": dict(self.by_mapping),
            "lines": [asdict(line) for line in self.lines],
            "notes": list(self.notes),
        }


def usd_text(usd: float) -> str:
    """Dollars with enough digits to be read: $413, $2.50, $0.0000629."""
    if usd >= 100:
        return f"${usd:,.0f}"
    if usd >= 1:
        return f"${usd:,.2f}"
    if usd <= 0:
        return "$0"
    digits = max(2, 2 - math.floor(math.log10(usd)))
    return f"${usd:.{digits}f}"


class _Lines:
    def __init__(self, prices: PriceTable) -> None:
        self._prices = prices
        self.lines: list[CostLine] = []

    def add(self, service: str, resource: str, item: str, quantity: float, units: str, *,
            per_hour: bool = False) -> float:
        price = self._prices.price(service, item)
        usd = quantity * price.usd
        self.lines.append(CostLine(service, resource, item, quantity, units, usd, per_hour, price.source,
                                   price.checked))
        return usd


def _stream_lines(out: _Lines, stream: StreamUsage, hours: float) -> None:
    if stream.mode == "on_demand":
        out.add("kinesis", stream.name, "on_demand_stream_hour", hours, f"1 stream x {hours:.4g} h", per_hour=True)
        gb_in = stream.kib_in * 1024 / GIB
        out.add("kinesis", stream.name, "on_demand_gb_in", gb_in,
                f"{stream.records:,} records = {stream.kib_in:,} KB (each rounded up to 1 KB)")
        out.add("kinesis", stream.name, "on_demand_gb_out", gb_in * stream.consumers,
                f"{stream.kib_in:,} KB read by {stream.consumers} mapping(s)")
        return
    out.add("kinesis", stream.name, "shard_hour", stream.shards * hours,
            f"{stream.shards} shard(s) x {hours:.4g} h", per_hour=True)
    out.add("kinesis", stream.name, "put_payload_units_million", stream.payload_units / 1e6,
            f"{stream.payload_units:,} PUT payload units (25 KB chunks) of {stream.records:,} records")


def _machine_lines(out: _Lines, machine: StateMachineUsage) -> None:
    if machine.type == "EXPRESS":
        out.add("stepfunctions", machine.name, "express_requests_million", machine.executions / 1e6,
                f"{machine.executions:,} executions")
        gb_s = machine.billed_100ms * 0.1 * 64 / 1024
        out.add("stepfunctions", machine.name, "express_gb_second", gb_s,
                f"{machine.billed_100ms * 100:,} ms (100 ms increments) x 64 MB")
        return
    out.add("stepfunctions", machine.name, "standard_transitions_thousand", machine.transitions / 1000,
            f"{machine.transitions:,} state transitions in {machine.executions:,} executions")


def _api_lines(out: _Lines, usage: Usage) -> None:
    by_op = {(a.service, a.operation): a for a in usage.api}
    s3_a = sum(a.requests for (svc, op), a in by_op.items() if svc == "s3" and op in _S3_CLASS_A)
    s3_b = sum(a.requests for (svc, op), a in by_op.items()
               if svc == "s3" and op not in _S3_CLASS_A and op not in _S3_FREE)
    stored = sum(a.bytes_in for (svc, op), a in by_op.items() if svc == "s3" and op in ("PUT", "POST"))
    if s3_a:
        out.add("s3", "*", "put_requests_thousand", s3_a / 1000, f"{s3_a:,} PUT/COPY/POST/LIST requests")
    if s3_b:
        out.add("s3", "*", "get_requests_thousand", s3_b / 1000, f"{s3_b:,} GET/HEAD requests")
    if stored:
        out.add("s3", "*", "storage_gb_month", stored / GIB, f"{stored:,} bytes written, kept one month")
    sqs = [a for (svc, op), a in by_op.items() if svc == "sqs" and op in _SQS_OPS]
    if sqs:
        chunks = sum(a.chunks_64k for a in sqs)
        item = "fifo_requests_million" if usage.fifo_queues_only else "standard_requests_million"
        detail = ", ".join(f"{a.operation} {a.requests:,}" for a in sorted(sqs, key=lambda a: a.operation))
        out.add("sqs", "*", item, chunks / 1e6, f"{chunks:,} requests in 64 KB chunks ({detail})")
    publishes = [a for (svc, op), a in by_op.items() if svc == "sns" and op in ("Publish", "PublishBatch")]
    if publishes:
        chunks = sum(a.chunks_64k for a in publishes)
        out.add("sns", "*", "publish_million", chunks / 1e6, f"{chunks:,} publishes in 64 KB chunks")
    writes = sum(a.kib_in for (svc, op), a in by_op.items() if svc == "dynamodb" and op in _DDB_WRITES)
    reads = sum(a.units_4k_out for (svc, op), a in by_op.items() if svc == "dynamodb" and op in _DDB_READS)
    if writes:
        out.add("dynamodb", "*", "write_request_units_million", writes / 1e6,
                f"{writes:,} write request units (request bodies in 1 KB units)")
    if reads:
        out.add("dynamodb", "*", "read_request_units_million", reads / 1e6,
                f"{reads:,} read request units (response bodies in 4 KB units)")


def compute_bill(usage: Usage, prices: PriceTable) -> Bill:
    out = _Lines(prices)
    hours = usage.traffic_hours
    for stream in usage.streams:
        _stream_lines(out, stream, hours)
    lambda_by_function: dict[str, float] = {}
    for fn in usage.functions:
        gb_s = fn.billed_ms / 1000 * fn.memory_mb / 1024
        item = "gb_second_arm64" if fn.architecture == "arm64" else "gb_second_x86_64"
        usd = out.add("lambda", fn.name, "requests_million", fn.invocations / 1e6, f"{fn.invocations:,} invocations")
        usd += out.add("lambda", fn.name, item, gb_s,
                       f"{fn.billed_ms:,} billed ms (each rounded up to 1 ms) x {fn.memory_mb} MB")
        lambda_by_function[fn.name] = usd
    for machine in usage.state_machines:
        _machine_lines(out, machine)
    _api_lines(out, usage)
    invocations = {fn.name: fn.invocations for fn in usage.functions}
    by_mapping = {
        m.uuid: lambda_by_function.get(m.function, 0.0) * m.invocations / invocations[m.function]
        for m in usage.mappings
        if invocations.get(m.function)
    }
    return Bill(region=prices.region, prices_version=prices.version, events=usage.events,
                rate_per_s=usage.rate_per_s, lines=tuple(out.lines), by_mapping=by_mapping, notes=usage.notes)
