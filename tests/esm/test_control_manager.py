"""The manager that keeps one poller per enabled mapping as ListEventSourceMappings shows them (``EsmManager``):
mappings created, updated (restarted from their checkpoints), disabled and enabled again, deleted; a LATEST
mapping's shard positions pinned inside CreateEventSourceMapping; a source that vanishes; reset and stop. Its
pollers are fakes of a source kind registered for the test, so ``sync`` runs without threads or a server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from waiting import wait_for

from emulator.clock import FakeClock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.manager import EsmManager
from emulator.esm.core.sources import SOURCE_KINDS, PollerContext, SourceKind, register_source
from emulator.esm.core.stats import MappingStats, NullObserver
from emulator.esm.streams.kinesis_source import STREAM_GONE_RESULT, StreamGone

KIND = "fakestream"
QUEUE_KIND = "fakequeue"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:enrich"


def arn(name: str = "clicks", kind: str = KIND) -> str:
    return f"arn:aws:{kind}:us-east-1:123456789012:stream/{name}"


def mapping(uuid: str = "m-1", *, source: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"UUID": uuid, "FunctionArn": FUNCTION_ARN, "EventSourceArn": source or arn(), "State": "Enabled",
            "StartingPosition": "TRIM_HORIZON"} | extra


@dataclass
class FakeShards:
    """A stream's reader: its shards and the positions opened on them."""

    arn: str
    shards: list[str] = field(default_factory=lambda: ["shard-0", "shard-1"])
    opened: list[tuple[str, str]] = field(default_factory=list)

    def shard_ids(self) -> list[str]:
        return list(self.shards)

    def open(self, shard_id: str, *, position: str, **_: Any) -> str:
        self.opened.append((shard_id, position))
        return f"{position}@{shard_id}"


@dataclass
class FakePoller:
    config: MappingConfig
    ctx: PollerContext
    checkpoint: dict[str, str] = field(default_factory=dict)
    started: bool = False
    halted: bool = False
    stopped_with: float | None = None
    woken: int = 0
    idle: bool = True
    idle_asked: list[float] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    source_gone: bool = False

    def start(self) -> None:
        self.started = True

    def halt(self) -> None:
        self.halted = True

    def stop(self, timeout_s: float = 5.0) -> dict[str, str]:
        self.stopped_with = timeout_s
        return dict(self.checkpoint)

    def wake(self) -> None:
        self.woken += 1

    def idle_since(self, since: float) -> bool:
        self.idle_asked.append(since)
        return self.idle


class Kinds:
    """The pollers the registered fake kinds made, in order; ``fail`` makes the next one raise instead."""

    def __init__(self) -> None:
        self.made: list[FakePoller] = []
        self.fail: BaseException | None = None
        self.fail_for: dict[str, BaseException] = {}

    def make(self, config: MappingConfig, ctx: PollerContext) -> FakePoller:
        if self.fail is not None:
            raise self.fail
        if config.uuid in self.fail_for:
            raise self.fail_for[config.uuid]
        poller = FakePoller(config, ctx)
        self.made.append(poller)
        return poller

    def of(self, uuid: str) -> list[FakePoller]:
        return [p for p in self.made if p.config.uuid == uuid]


@pytest.fixture
def kinds() -> Iterator[Kinds]:
    made = Kinds()
    register_source(SourceKind(KIND, made.make, ordered=True, reader=lambda clients, a: clients("streams")(a)))
    register_source(SourceKind(QUEUE_KIND, made.make, ordered=False))
    yield made
    SOURCE_KINDS.pop(KIND, None)
    SOURCE_KINDS.pop(QUEUE_KIND, None)


class Listing:
    """A Lambda client listing ``pages`` of mappings (change them between syncs)."""

    def __init__(self, *pages: list[dict[str, Any]]) -> None:
        self.pages = list(pages)
        self.error: Exception | None = None
        self.blocked = threading.Event()  # set while a listing is held by ``hold``
        self.hold: threading.Event | None = None

    def set(self, *mappings: dict[str, Any]) -> None:
        self.pages = [list(mappings)]

    def get_paginator(self, name: str) -> Listing:
        assert name == "list_event_source_mappings"
        return self

    def paginate(self) -> Iterator[dict[str, Any]]:
        if self.error is not None:
            raise self.error
        if self.hold is not None:
            self.blocked.set()
            self.hold.wait(60.0)
        for page in self.pages:
            yield {"EventSourceMappings": page}


class Sink:
    def send(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("no failure is sent by the manager itself")


class Invoker:
    def invoke(self, function_arn: str, payload: bytes) -> Any:
        raise AssertionError("the manager invokes nothing itself")

    def role_arn(self, function_arn: str) -> str:
        return "arn:aws:iam::123456789012:role/r"


@dataclass
class World:
    lam: Listing
    manager: EsmManager
    readers: dict[str, FakeShards]
    results: list[tuple[str, str]]
    sink: Sink
    invoker: Invoker
    clock: FakeClock


def world(lam: Listing | None = None, *, own: tuple[str, ...] = (), **options: Any) -> World:
    """``own``: kinds the backend reads itself (with the same recording reader)."""
    readers: dict[str, FakeShards] = {}
    results: list[tuple[str, str]] = []

    def reader(source_arn: str) -> FakeShards:
        return readers.setdefault(source_arn, FakeShards(source_arn))

    lam = lam or Listing([])
    sink, invoker, clock = Sink(), Invoker(), FakeClock()
    options.setdefault("clients", lambda service: reader if service == "streams" else None)
    if own:
        options["readers"] = dict.fromkeys(own, reader)
    manager = EsmManager(
        lambda_client=lam, invoker=invoker, sink=sink, clock=clock, region="eu-west-1",
        idle_poll_s=0.125, processing_result=lambda uuid, text: results.append((uuid, text)), **options,
    )
    return World(lam, manager, readers, results, sink, invoker, clock)


# -- reconcile -----------------------------------------------------------------------------------------------


def test_every_enabled_mapping_of_a_polled_kind_gets_a_started_poller(kinds: Kinds) -> None:
    w = world(Listing(
        [mapping("m-5", source="not-an-arn"), mapping("m-1"), mapping("m-2", State="Disabled")],
        [mapping("m-4", source="arn:aws:kafka:us-east-1:1:cluster/c/1"), mapping("m-3", source=arn("views"))],
    ))
    w.manager.sync()
    assert w.manager.running() == {"m-1", "m-3"}
    assert [(p.config.uuid, p.started) for p in kinds.made] == [("m-1", True), ("m-3", True)]
    assert w.manager.labels() == {"m-1": "queue/clicks -> enrich", "m-3": "queue/views -> enrich"}


def test_a_poller_is_given_the_mappings_reader_and_the_managers_collaborators(kinds: Kinds) -> None:
    w = world(Listing([mapping("m-1", BatchSize=7)]))
    w.manager.sync()
    [poller] = kinds.made
    ctx = poller.ctx
    assert poller.config == MappingConfig.from_api(mapping("m-1", BatchSize=7))
    assert ctx.reader is w.readers[arn()]
    assert (ctx.invoker, ctx.sink, ctx.clock, ctx.region, ctx.idle_poll_s) == (
        w.invoker, w.sink, w.clock, "eu-west-1", 0.125)
    assert isinstance(ctx.observer, NullObserver)
    assert isinstance(ctx.stats, MappingStats)
    assert ctx.stats is w.manager.stats()["m-1"]
    assert (ctx.checkpoints, ctx.start_iterators) == (None, None)
    assert ctx.on_processing_result is not None
    ctx.on_processing_result("m-1", "OK")
    assert w.results == [("m-1", "OK")]


def test_an_unchanged_mapping_keeps_its_poller(kinds: Kinds) -> None:
    w = world(Listing([mapping()]))
    w.manager.sync()
    w.manager.sync()
    [poller] = kinds.made
    assert poller.stopped_with is None


def test_an_updated_mapping_restarts_from_its_checkpoints(kinds: Kinds) -> None:
    w = world(Listing([mapping(BatchSize=10)]))
    w.manager.sync()
    [first] = kinds.made
    first.checkpoint = {"shard-0": "41"}
    w.lam.set(mapping(BatchSize=20))
    w.manager.sync()
    old, new = kinds.made
    assert old.stopped_with is not None
    assert (new.config.batch_size, new.started, new.ctx.checkpoints) == (20, True, {"shard-0": "41"})
    assert new.ctx.stats is old.ctx.stats  # one mapping, one set of counts across restarts
    assert w.manager.running() == {"m-1"}


def test_a_disabled_mapping_stops_and_resumes_from_its_checkpoints_when_enabled_again(kinds: Kinds) -> None:
    w = world(Listing([mapping()]))
    w.manager.sync()
    kinds.made[0].checkpoint = {"shard-1": "7"}
    for state in ("Disabling", "Disabled"):
        w.lam.set(mapping(State=state))
        w.manager.sync()
        assert w.manager.running() == set()
    assert kinds.made[0].stopped_with is not None
    w.lam.set(mapping(State="Enabled"))
    w.manager.sync()
    assert w.manager.running() == {"m-1"}
    assert kinds.made[-1].ctx.checkpoints == {"shard-1": "7"}


def test_a_deleted_mapping_stops_and_its_checkpoints_and_pins_are_forgotten(kinds: Kinds) -> None:
    w = world(Listing([mapping(StartingPosition="LATEST")]))
    w.manager.notify("m-1", "create", mapping(StartingPosition="LATEST"))
    w.manager.sync()
    kinds.made[0].checkpoint = {"shard-0": "3"}
    w.lam.set()
    w.manager.sync()
    assert kinds.made[0].stopped_with is not None
    assert w.manager.running() == set()
    # Made again with the same UUID (a reset backend reuses nothing, but a store might): from its start
    w.lam.set(mapping(StartingPosition="LATEST"))
    w.manager.sync()
    assert (kinds.made[-1].ctx.checkpoints, kinds.made[-1].ctx.start_iterators) == (None, None)


def test_checkpoints_of_a_disabled_mapping_are_forgotten_when_it_is_deleted(kinds: Kinds) -> None:
    w = world(Listing([mapping()]))
    w.manager.sync()
    kinds.made[0].checkpoint = {"shard-0": "3"}
    w.lam.set(mapping(State="Disabled"))
    w.manager.sync()
    w.lam.set()
    w.manager.sync()
    w.lam.set(mapping())
    w.manager.sync()
    assert kinds.made[-1].ctx.checkpoints is None


def test_a_mapping_whose_stream_vanished_starts_again_from_its_starting_position(kinds: Kinds) -> None:
    w = world(Listing([mapping()]))
    w.manager.sync()
    kinds.made[0].checkpoint = {"shard-0": "9"}
    kinds.made[0].source_gone = True
    w.manager.sync()
    assert kinds.made[0].stopped_with is not None
    assert w.results == [("m-1", STREAM_GONE_RESULT)]
    assert len(kinds.made) == 2 and kinds.made[1].ctx.checkpoints is None
    assert w.manager.running() == {"m-1"}


def test_a_mapping_whose_stream_is_missing_shows_the_problem_and_is_tried_again(kinds: Kinds) -> None:
    w = world(Listing([mapping()]))
    kinds.fail = StreamGone(arn())
    w.manager.sync()
    assert w.manager.running() == set()
    assert w.results == [("m-1", STREAM_GONE_RESULT)]
    kinds.fail = None
    w.manager.sync()
    assert w.manager.running() == {"m-1"}


def test_a_mapping_that_cannot_start_is_skipped_without_stopping_the_others(kinds: Kinds) -> None:
    w = world(Listing([mapping("m-1"), mapping("m-2", source=arn("views"))]))
    kinds.fail = LookupError("function enrich was deleted")
    w.manager.sync()
    assert w.manager.running() == set()
    assert w.results == []
    assert w.manager.poller_errors() == []
    kinds.fail = None
    w.manager.sync()
    assert w.manager.running() == {"m-1", "m-2"}


@pytest.mark.parametrize("failure", [StreamGone(arn()), LookupError("function enrich was deleted")])
def test_a_mapping_that_cannot_start_does_not_keep_the_next_one_from_starting(
    kinds: Kinds, failure: BaseException
) -> None:
    w = world(Listing([mapping("m-1"), mapping("m-2", source=arn("views"))]))
    kinds.fail_for["m-1"] = failure
    w.manager.sync()
    assert w.manager.running() == {"m-2"}


def test_a_stream_that_vanished_after_an_update_does_not_resume_from_the_old_checkpoint(kinds: Kinds) -> None:
    # A stream made again under the same name numbers its records anew: the old checkpoint means nothing there.
    w = world(Listing([mapping(BatchSize=10)]))
    w.manager.sync()
    kinds.made[0].checkpoint = {"shard-0": "9"}
    w.lam.set(mapping(BatchSize=20))
    w.manager.sync()
    assert kinds.made[1].ctx.checkpoints == {"shard-0": "9"}
    kinds.made[1].source_gone = True
    w.manager.sync()
    assert kinds.made[2].ctx.checkpoints is None


def test_no_processing_result_callback_is_fine(kinds: Kinds) -> None:
    manager = EsmManager(lambda_client=Listing([mapping()]), invoker=Invoker(), sink=Sink(), clock=FakeClock(),
                         region="r", clients=lambda service: FakeShards)
    kinds.fail = StreamGone(arn())
    manager.sync()
    assert manager.running() == set()


# -- readers -------------------------------------------------------------------------------------------------


def test_a_backends_own_reader_is_preferred_to_the_kinds_boto3_reader(kinds: Kinds) -> None:
    own = FakeShards("own")
    w = world(Listing([mapping()]), readers={KIND: lambda a: own})
    w.manager.sync()
    assert kinds.made[0].ctx.reader is own
    assert w.readers == {}


def test_a_kind_without_a_reader_is_not_polled(kinds: Kinds) -> None:
    w = world(Listing([mapping(source=arn(kind=QUEUE_KIND))]))
    w.manager.sync()
    assert w.manager.running() == set()
    assert kinds.made == []
    assert w.manager.labels() == {"m-1": "queue/clicks -> enrich"}


def test_without_clients_only_the_backends_readers_are_used(kinds: Kinds) -> None:
    queue_reader = FakeShards("queue")
    w = world(Listing([mapping("m-1"), mapping("m-2", source=arn(kind=QUEUE_KIND))]), clients=None,
              readers={QUEUE_KIND: lambda a: queue_reader})
    w.manager.sync()
    assert w.manager.running() == {"m-2"}
    assert kinds.made[0].ctx.reader is queue_reader


# -- pinning LATEST at create time -------------------------------------------------------------------------


def test_a_new_latest_stream_mapping_pins_every_shard_inside_the_create_call(kinds: Kinds) -> None:
    w = world(Listing([mapping(StartingPosition="LATEST")]))
    w.manager.notify("m-1", "create", mapping(StartingPosition="LATEST"))
    assert w.readers[arn()].opened == [("shard-0", "LATEST"), ("shard-1", "LATEST")]
    w.manager.sync()
    assert kinds.made[0].ctx.start_iterators == {"shard-0": "LATEST@shard-0", "shard-1": "LATEST@shard-1"}


@pytest.mark.parametrize(
    ("action", "configuration"),
    [
        ("create", mapping(StartingPosition="TRIM_HORIZON")),
        ("create", mapping(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1.0)),
        ("create", mapping(StartingPosition="LATEST", source=arn(kind=QUEUE_KIND))),
        ("create", mapping(StartingPosition="LATEST", source=arn(kind="kafka"))),
        ("create", mapping(StartingPosition="LATEST", source=arn(kind="kinesisvideo"))),  # no kind, no reader
        ("create", mapping(StartingPosition="LATEST", source="not-an-arn")),
        ("create", None),
        ("update", mapping(StartingPosition="LATEST")),
        ("delete", mapping(StartingPosition="LATEST")),
    ],
)
def test_other_changes_pin_nothing(kinds: Kinds, action: str, configuration: dict[str, Any] | None) -> None:
    w = world(own=(QUEUE_KIND, "kafka"))
    w.manager.notify("m-1", action, configuration)
    assert w.readers == {}
    assert w.manager.idle_since(0.0) is False  # a change is still to be applied


def test_a_latest_mapping_of_a_kind_without_a_reader_pins_nothing(kinds: Kinds) -> None:
    w = world(clients=None)
    w.manager.notify("m-1", "create", mapping(StartingPosition="LATEST"))
    w.lam.set(mapping(StartingPosition="LATEST"))
    w.manager.sync()
    assert w.manager.running() == set()


# -- the manager's thread ------------------------------------------------------------------------------------


def test_a_notified_change_is_applied_by_the_managers_thread(kinds: Kinds) -> None:
    w = world(Listing([]), resync_interval_s=600.0)
    w.manager.start()
    try:
        assert w.manager.wait_synced(timeout=30.0)
        w.lam.set(mapping())
        w.manager.notify("m-1", "create", mapping())
        assert w.manager.wait_synced(timeout=30.0)
        assert w.manager.running() == {"m-1"}
        assert w.manager.idle_since(0.0) is True
    finally:
        w.manager.stop()
    assert kinds.made[0].halted
    assert w.manager.running() == set()


def test_without_notifications_a_periodic_resync_finds_changes(kinds: Kinds) -> None:
    # The endpoint backend is not told of changes: the manager lists the mappings every resync interval.
    w = world(Listing([]), resync_interval_s=0.05)
    w.manager.start()
    try:
        w.lam.set(mapping())
        wait_for("the new mapping to be polled", w.manager.running, lambda r: r == {"m-1"})
        w.lam.set()
        wait_for("the deleted mapping to stop", w.manager.running, lambda r: r == set())
    finally:
        w.manager.stop()


def test_a_failed_sync_is_kept_for_the_harness_and_the_thread_goes_on(kinds: Kinds) -> None:
    w = world(Listing([]), resync_interval_s=600.0)
    w.lam.error = RuntimeError("lambda unreachable")
    w.manager.start()
    try:
        w.manager.notify("m-1", "create", None)
        assert w.manager.wait_synced(timeout=30.0)
        assert [str(e) for e in w.manager.poller_errors()] == ["lambda unreachable"]
        w.lam.error = None
        w.lam.set(mapping())
        w.manager.notify("m-1", "create", None)
        assert w.manager.wait_synced(timeout=30.0)
        assert w.manager.running() == {"m-1"}
    finally:
        w.manager.stop()


def test_a_change_not_yet_applied_is_not_synced() -> None:
    w = world()
    assert w.manager.wait_synced(timeout=0.0) is True  # nothing notified
    w.manager.notify("m-1", "update")
    assert w.manager.wait_synced(timeout=0.01) is False


def test_the_thread_ends_when_stopped_and_a_stopped_manager_halts_its_pollers(kinds: Kinds) -> None:
    w = world(Listing([mapping()]), resync_interval_s=600.0)
    w.manager.sync()
    w.manager.start()
    thread = w.manager._thread
    assert thread is not None
    w.manager.stop(timeout_s=20.0)
    assert not thread.is_alive()
    [poller] = kinds.made
    assert poller.halted
    assert poller.stopped_with is not None and 4.0 < poller.stopped_with <= 5.0


def test_stop_shares_its_timeout_among_the_pollers(kinds: Kinds) -> None:
    w = world(Listing([mapping()]))
    w.manager.sync()
    w.manager.stop(timeout_s=0.5)
    stopped_with = kinds.made[0].stopped_with
    assert stopped_with is not None and 0.0 <= stopped_with <= 0.5


def test_stop_does_not_wait_for_a_sync_that_hangs(kinds: Kinds) -> None:
    w = world(Listing([mapping()]), resync_interval_s=600.0)
    w.lam.hold = threading.Event()
    stopped = threading.Event()
    w.manager.start()
    try:
        w.manager.notify("m-1", "create", None)
        assert w.lam.blocked.wait(30.0)
        threading.Thread(target=lambda: (w.manager.stop(timeout_s=0.2), stopped.set()), daemon=True).start()
        wait_for("stop() to return while the sync still hangs", stopped.is_set, bool, timeout=30.0)
    finally:
        w.lam.set()  # the released sync lists nothing, so it makes no poller after the test
        w.lam.hold.set()
        if w.manager._thread is not None:
            w.manager._thread.join(30.0)


def test_stop_gives_up_when_a_sync_holds_the_lock(kinds: Kinds) -> None:
    w = world(Listing([mapping()]))
    w.manager.sync()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with w.manager._lock:
            held.set()
            release.wait(30.0)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30.0)
        w.manager.stop(timeout_s=0.05)
        [poller] = kinds.made
        assert poller.halted and poller.stopped_with is None
    finally:
        release.set()
        holder.join()


def test_halt_asks_every_poller_to_stop_without_waiting(kinds: Kinds) -> None:
    w = world(Listing([mapping("m-1"), mapping("m-2", source=arn("views"))]))
    w.manager.sync()
    w.manager.halt()
    assert [(p.halted, p.stopped_with) for p in kinds.made] == [(True, None), (True, None)]


# -- reset and status ----------------------------------------------------------------------------------------


def test_reset_forgets_every_mapping_and_runs_the_backends_reset_under_the_lock(kinds: Kinds) -> None:
    w = world(Listing([mapping(StartingPosition="LATEST")]))
    w.manager.notify("m-1", "create", mapping(StartingPosition="LATEST"))
    w.manager.sync()
    kinds.made[0].checkpoint = {"shard-0": "5"}
    kinds.made[0].errors.append(RuntimeError("poller"))
    w.manager.errors.append(RuntimeError("sync"))
    w.manager.notify("m-1", "update")
    locked: list[bool] = []

    def backend_reset() -> None:
        got = w.manager._lock.acquire(blocking=False)  # re-entrant: held by this thread
        locked.append(got and w.manager._lock._is_owned())  # type: ignore[attr-defined]
        if got:
            w.manager._lock.release()

    w.manager.reset(backend_reset)
    assert locked == [True]
    assert kinds.made[0].stopped_with is not None
    assert (w.manager.running(), w.manager.stats(), w.manager.labels()) == (set(), {}, {})
    assert w.manager.poller_errors() == []
    assert w.manager.idle_since(0.0) is True  # the pending change went with the mappings
    w.manager.sync()  # the listing still shows it: made again from scratch
    assert (kinds.made[-1].ctx.checkpoints, kinds.made[-1].ctx.start_iterators) == (None, None)
    w.manager.reset()


def test_wake_wakes_every_poller(kinds: Kinds) -> None:
    w = world(Listing([mapping("m-1"), mapping("m-2", source=arn("views"))]))
    w.manager.sync()
    w.manager.wake()
    assert [p.woken for p in kinds.made] == [1, 1]


def test_idle_means_no_pending_change_and_every_poller_idle_since_the_instant(kinds: Kinds) -> None:
    w = world(Listing([mapping("m-1"), mapping("m-2", source=arn("views"))]))
    assert w.manager.idle_since(1.0) is True
    w.manager.sync()
    assert w.manager.idle_since(12.5) is True
    assert [p.idle_asked for p in kinds.made] == [[12.5], [12.5]]
    kinds.made[1].idle = False
    assert w.manager.idle_since(13.0) is False
    kinds.made[1].idle = True
    w.manager.notify("m-3", "update")
    assert w.manager.idle_since(13.0) is False


def test_the_observer_set_before_deploying_is_given_to_new_pollers(kinds: Kinds) -> None:
    observer = NullObserver()
    w = world(Listing([mapping()]))
    w.manager.set_observer(observer)
    w.manager.sync()
    assert kinds.made[0].ctx.observer is observer
    w.manager.set_observer(None)
    w.lam.set(mapping(BatchSize=3))
    w.manager.sync()
    assert isinstance(kinds.made[-1].ctx.observer, NullObserver)
    assert kinds.made[-1].ctx.observer is not observer


def test_errors_stats_and_labels(kinds: Kinds) -> None:
    w = world(Listing([mapping()]))
    w.manager.sync()
    failure, sync_failure = RuntimeError("shard reader"), RuntimeError("sync")
    kinds.made[0].errors.append(failure)
    w.manager.errors.append(sync_failure)
    assert w.manager.poller_errors() == [sync_failure, failure]
    stats = w.manager.stats()
    stats.clear()
    labels = w.manager.labels()
    labels.clear()
    assert set(w.manager.stats()) == {"m-1"}
    assert w.manager.labels() == {"m-1": "queue/clicks -> enrich"}
    running = w.manager.running()
    running.clear()
    assert w.manager.running() == {"m-1"}
