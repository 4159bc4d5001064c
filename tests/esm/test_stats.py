"""A mapping's counters (shown in reports and ``describe``) and its timeline of what happened when (the report's
events-over-time chart)."""

from __future__ import annotations

import threading
import time

from esm_fakes import records

from emulator.esm.core.stats import MappingStats, NullObserver

COUNTERS = [
    "invocations", "batches_succeeded", "records_succeeded", "retries", "bisects", "partial_failures", "throttles",
    "records_filtered", "records_dead_lettered", "records_discarded", "windows_closed",
]


def test_a_new_mapping_counts_nothing_and_shows_only_its_counters() -> None:
    stats = MappingStats()
    assert stats.as_dict() == dict.fromkeys(COUNTERS, 0)
    assert list(stats.timeline) == []


def test_add_counts_one_by_default_or_n_and_notes_each_addition_at_wall_time() -> None:
    stats = MappingStats()
    before = time.time()
    stats.add("retries")
    stats.add("records_succeeded", 5)
    stats.add("records_succeeded", 2)
    after = time.time()
    assert stats.as_dict() == dict.fromkeys(COUNTERS, 0) | {"retries": 1, "records_succeeded": 7}
    assert [(kind, n) for _, kind, n in stats.timeline] == [("retries", 1), ("records_succeeded", 5),
                                                            ("records_succeeded", 2)]
    times = [t for t, _, _ in stats.timeline]
    assert before <= times[0] <= times[1] <= times[2] <= after


def test_the_timeline_keeps_the_last_ten_thousand_additions() -> None:
    stats = MappingStats()
    for n in range(10_001):
        stats.add("invocations", n)
    assert len(stats.timeline) == 10_000
    assert stats.timeline[0][2] == 1 and stats.timeline[-1][2] == 10_000
    assert stats.invocations == sum(range(10_001))  # the counters are not bounded


def test_additions_from_concurrent_threads_are_all_counted() -> None:
    stats = MappingStats()

    def add_many() -> None:
        for _ in range(2_000):
            stats.add("records_succeeded")

    threads = [threading.Thread(target=add_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stats.records_succeeded == 8_000
    assert len(stats.timeline) == 8_000


def test_the_null_observer_accepts_every_notification() -> None:
    observer = NullObserver()
    batch = records(2)
    assert observer.on_filtered("u-1", batch, shard_id="s") is None
    assert observer.on_gave_up("u-1", batch, "RetryAttemptsExhausted", None, shard_id="s") is None
    assert observer.on_processed("u-1", batch) is None
