"""The one place that knows the kinds of event source: a source kind (the ARN's service, ``kinesis``, ``sqs``)
-> how its mappings are polled. The mapping configuration is parsed the same way for every kind
(``config.MappingConfig.from_api``); each kind brings its reader over boto3 (a shard source for a stream, a
queue source for a queue; a backend may give a faster one of its own), its event shaper and its poller.

An ordered stream (records in sequence per shard, checkpoints, retries, bisect, partial batch responses, record
age, on-failure destinations) registers with ``ordered_stream(name, hooks)``: the algorithm is written once
(``streams.batch``, ``streams.poller``) and the source fills ``StreamHooks`` (LocalStack's ``StreamPoller`` with its
Kinesis and DynamoDB hooks is the same idea). A queue brings its own poller.

    register_source(ordered_stream("kinesis", KINESIS_HOOKS))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from emulator.clock import Clock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.destinations import FailureSink
from emulator.esm.core.invoker import Invoker
from emulator.esm.core.stats import MappingObserver, MappingStats
from emulator.esm.sqs.poller import SqsMappingPoller
from emulator.esm.sqs.source import Boto3QueueSource
from emulator.esm.streams.batch import StreamHooks
from emulator.esm.streams.dynamodb_events import DYNAMODB_HOOKS
from emulator.esm.streams.dynamodb_source import Boto3DynamoDBStreamSource
from emulator.esm.streams.kinesis_events import KINESIS_HOOKS
from emulator.esm.streams.kinesis_source import Boto3ShardSource
from emulator.esm.streams.poller import StreamMappingPoller


class Poller(Protocol):
    """What the manager needs of one mapping's poller."""

    config: MappingConfig

    def start(self) -> None: ...

    def halt(self) -> None:
        """Ask the poller to stop, without waiting: what it raises from then on (its function's runtime closed
        under it) is part of stopping, not an error to show."""

    def stop(self, timeout_s: float = 5.0) -> dict[str, str]:
        """Stop, waiting at most ``timeout_s`` for its threads; returns the checkpoints to resume from (per
        shard; empty for a queue)."""

    def wake(self) -> None: ...

    def idle_since(self, since: float) -> bool: ...

    @property
    def errors(self) -> list[BaseException]: ...

    @property
    def source_gone(self) -> bool: ...


@dataclass(frozen=True)
class PollerContext:
    """Everything a poller may need, made by the manager for one mapping. ``reader`` is the backend's reader
    of this kind of source for the mapping's ARN."""

    reader: Any
    invoker: Invoker
    sink: FailureSink
    clock: Clock
    region: str
    observer: MappingObserver
    stats: MappingStats
    idle_poll_s: float
    checkpoints: dict[str, str] | None = None
    start_iterators: dict[str, str] | None = None
    on_processing_result: Callable[[str, str], None] | None = None


@dataclass(frozen=True)
class SourceKind:
    """``ordered``: a stream read per shard in sequence (a new LATEST mapping pins each shard's position when
    it is created, so records put after CreateEventSourceMapping returns are read and earlier ones are not)."""

    name: str
    make_poller: Callable[[MappingConfig, PollerContext], Poller]
    ordered: bool = False
    reader: Callable[[Callable[[str], Any], str], Any] | None = None
    """``reader(clients, arn)``: a reader of the source over the backend's boto3 ``clients(service)``."""


SOURCE_KINDS: dict[str, SourceKind] = {}


def register_source(kind: SourceKind) -> None:
    """Make mappings whose event source ARN's service is ``kind.name`` polled by ``kind``."""
    SOURCE_KINDS[kind.name] = kind


def ordered_stream(
    name: str, hooks: StreamHooks, reader: Callable[[Callable[[str], Any], str], Any] | None = None
) -> SourceKind:
    """A source kind whose mappings run the ordered-stream algorithm with ``hooks``; its reader is a
    ``streams.kinesis_source.ShardSource``."""

    def make(config: MappingConfig, ctx: PollerContext) -> Poller:
        return StreamMappingPoller(
            config, source=ctx.reader, invoker=ctx.invoker, sink=ctx.sink, clock=ctx.clock, region=ctx.region,
            observer=ctx.observer, stats=ctx.stats, checkpoints=ctx.checkpoints, idle_poll_s=ctx.idle_poll_s,
            start_iterators=ctx.start_iterators, on_processing_result=ctx.on_processing_result, hooks=hooks,
        )

    return SourceKind(name, make, ordered=True, reader=reader)


def _queue_poller(config: MappingConfig, ctx: PollerContext) -> Poller:
    return SqsMappingPoller(
        config, source=ctx.reader, invoker=ctx.invoker, clock=ctx.clock, region=ctx.region, observer=ctx.observer,
        stats=ctx.stats, idle_poll_s=ctx.idle_poll_s,
    )


register_source(
    ordered_stream("kinesis", KINESIS_HOOKS, reader=lambda clients, arn: Boto3ShardSource(clients("kinesis"), arn))
)
register_source(ordered_stream(
    "dynamodb", DYNAMODB_HOOKS,
    reader=lambda clients, arn: Boto3DynamoDBStreamSource(clients("dynamodbstreams"), arn),
))
register_source(SourceKind("sqs", _queue_poller, reader=lambda clients, arn: Boto3QueueSource(clients("sqs"), arn)))


__all__ = ["SOURCE_KINDS", "Poller", "PollerContext", "SourceKind", "ordered_stream", "register_source"]
