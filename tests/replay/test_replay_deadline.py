"""The replay loop ends at the run's deadline or when asked to stop, whatever the source, rate or count; an event
it does not send is never in the ledger."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

from emulator.observe.ledger import Ledger
from emulator.replay.generate import GeneratedEvent
from emulator.replay.producer import ReplayStats, merge_stats, replay
from emulator.replay.rates import Schedule
from emulator.spec.traffic import RateSpec


class Recorder:
    max_batch = 500

    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, batch: list[tuple[int, GeneratedEvent]], ledger: Ledger) -> int:
        for index, event in batch:
            ledger.mark_sent(index, time.time())
            self.sent.append(event.index)
        return 0


def endless() -> Iterator[GeneratedEvent]:
    """A billion events and more: only a deadline or a stop ends their replay."""
    for i in itertools.count():
        yield GeneratedEvent(index=i, partition_key="k", payload=b"{}", fields={"id": i})


def rate(per_second: float) -> Schedule:
    return Schedule(RateSpec.model_validate({"per_second": per_second}))


def run(schedule: Schedule, *, deadline: float, stop: threading.Event | None = None,
        ledger: Ledger | None = None) -> tuple[ReplayStats, Recorder, Ledger]:
    ledger = ledger if ledger is not None else Ledger()
    producer = Recorder()
    stats = replay(endless(), producer, ledger, key_of=lambda e: str(e.index), schedule=schedule,
                   deadline=deadline, stop=stop)
    return stats, producer, ledger


def test_an_endless_source_at_full_speed_stops_when_the_time_runs_out() -> None:
    stats, producer, ledger = run(Schedule(None), deadline=time.monotonic() + 0.3)
    assert stats.cut_short == "the time ran out"
    assert stats.sent == len(producer.sent) == len(ledger.keys) > 0


def test_a_source_whose_next_event_is_due_after_the_deadline_stops_at_once() -> None:
    """One event every 100 s and 60 s left: the first goes, the second would come after the deadline. Without
    the check the replay would sleep 100 s (this test's own wait would fail first)."""
    stats, producer, ledger = run(rate(0.01), deadline=time.monotonic() + 60)
    assert producer.sent == [0] and len(ledger.keys) == 1  # the unsent event is not in the ledger (not "lost")
    assert stats.cut_short is not None and stats.cut_short.startswith("at its rate the next event was due")


def test_a_stop_ends_a_paced_replay_sleeping_until_its_next_event() -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    stats, producer, _ = run(rate(0.02), deadline=time.monotonic() + 3600, stop=stop)
    assert producer.sent == [0] and stats.cut_short == "the run stopped"


def test_merged_stats_keep_why_one_source_was_cut_short() -> None:
    whole = ReplayStats(1, 0, None, "max", 1.0, 1.0, 0.0, 1.0)
    cut = ReplayStats(1, 0, None, "max", 1.0, 1.0, 0.0, 1.0, cut_short="the time ran out")
    assert merge_stats([whole, cut]).cut_short == "the time ran out"
    assert merge_stats([whole, whole]).cut_short is None
