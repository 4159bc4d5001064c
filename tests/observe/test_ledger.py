"""The ledger on its own: every fate and which one wins, the conservation equation, duplicates, unmatched
outputs, sequence ranges, and what is still unaccounted. Ledgers are built by hand; no pipeline runs."""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.observe.ledger import DeadLetter, FateCounts, Ledger

FATES = ("delivered", "dead_lettered", "filtered", "rejected", "duplicated", "lost")


def ledger_of(*keys: str) -> Ledger:
    ledger = Ledger()
    for key in keys:
        ledger.add(key)
    return ledger


def letter(*indexes: int, queue: str = "http://127.0.0.1:5000/123456789012/dlq", sent: float = 5.0) -> DeadLetter:
    return DeadLetter(queue=queue, body={"n": len(indexes)}, sent=sent, event_indexes=list(indexes))


def conserved(counts: FateCounts) -> bool:
    """Every sent event has exactly one fate."""
    return counts.sent == (counts.delivered + counts.dead_lettered + counts.filtered + counts.rejected
                           + counts.duplicated + counts.lost)


# -- every fate ----------------------------------------------------------------------------------------------
def test_each_fate_is_reported_and_counted_once() -> None:
    ledger = ledger_of("d", "x", "f", "r", "l")
    assert ledger.add("d") == 5  # the scenario sent "d" again on purpose
    ledger.delivered("d", 1.0)
    ledger.dead_lettered(letter(1))
    ledger.mark_filtered("f")
    ledger.mark_rejected(3, "ValidationException: over 1 MiB")
    # "l" is never seen downstream

    assert [ledger.fate(i) for i in range(6)] == [
        "delivered", "dead_lettered", "filtered", "rejected", "lost", "duplicated"
    ]
    counts = ledger.counts()
    assert counts == FateCounts(sent=6, delivered=1, dead_lettered=1, filtered=1, lost=1, duplicates=0,
                                rejected=1, duplicated=1)
    assert conserved(counts)
    assert ledger.rejected == {3: "ValidationException: over 1 MiB"}
    assert ledger.duplicate_of == {5: 0}


def test_fate_counts_as_dict_names_every_fate() -> None:
    counts = FateCounts(sent=21, delivered=1, dead_lettered=2, filtered=3, lost=4, duplicates=5, rejected=6,
                        duplicated=7)
    assert counts.as_dict() == {"sent": 21, "delivered": 1, "dead_lettered": 2, "filtered": 3, "lost": 4,
                                "duplicates": 5, "rejected": 6, "duplicated": 7}
    assert FateCounts(sent=0, delivered=0, dead_lettered=0, filtered=0, lost=0, duplicates=0).as_dict() == {
        "sent": 0, "delivered": 0, "dead_lettered": 0, "filtered": 0, "lost": 0, "duplicates": 0, "rejected": 0,
        "duplicated": 0,
    }


Mark = Callable[[Ledger], None]
DELIVER: Mark = lambda ledger: ledger.delivered("e", 2.0)  # noqa: E731
DEAD_LETTER: Mark = lambda ledger: ledger.dead_lettered(letter(0))  # noqa: E731
FILTER: Mark = lambda ledger: ledger.mark_filtered("e")  # noqa: E731
REJECT: Mark = lambda ledger: ledger.mark_rejected(0, "refused")  # noqa: E731
DROP: Mark = lambda ledger: ledger.mark_dropped("e", "discarded: no on-failure destination")  # noqa: E731


@pytest.mark.parametrize(
    ("marks", "fate"),
    [
        ((), "lost"),
        ((DROP,), "lost"),  # the mapping said why, but nothing accounts for it
        ((FILTER,), "filtered"),
        ((FILTER, DEAD_LETTER), "dead_lettered"),
        ((DEAD_LETTER, FILTER), "dead_lettered"),
        ((DEAD_LETTER, DELIVER), "delivered"),  # written before a retry that later gave up
        ((FILTER, DELIVER), "delivered"),
        ((DELIVER, REJECT), "rejected"),
        ((REJECT, DEAD_LETTER, FILTER), "rejected"),
        ((DROP, FILTER), "filtered"),
    ],
    ids=["nothing", "dropped", "filtered", "filtered+dead", "dead+filtered", "dead+delivered", "filtered+delivered",
         "delivered+rejected", "rejected+dead+filtered", "dropped+filtered"],
)
def test_which_fate_wins_when_several_happened(marks: tuple[Mark, ...], fate: str) -> None:
    ledger = ledger_of("e")
    for mark in marks:
        mark(ledger)
    assert ledger.fate(0) == fate
    counts = ledger.counts().as_dict()
    assert counts[fate] == 1 and conserved(ledger.counts())


@pytest.mark.parametrize("mark", [DELIVER, DEAD_LETTER, FILTER, REJECT, DROP],
                         ids=["delivered", "dead_lettered", "filtered", "rejected", "dropped"])
def test_a_duplicate_copy_stays_duplicated_whatever_happens_to_it(mark: Mark) -> None:
    ledger = ledger_of("e", "e")
    ledger.dead_lettered(letter(1))  # a letter naming the copy's position
    ledger.mark_rejected(1, "refused")
    mark(ledger)
    assert ledger.fate(1) == "duplicated"
    assert ledger.counts().duplicated == 1


def test_unaccounted_events_are_lost_not_filtered() -> None:
    ledger = ledger_of("a", "b", "c")
    ledger.delivered("a", 1.0)
    assert [ledger.fate(i) for i in range(3)] == ["delivered", "lost", "lost"]
    counts = ledger.counts()
    assert (counts.lost, counts.filtered) == (2, 0)


def test_an_empty_ledger_counts_nothing_and_is_accounted() -> None:
    ledger = Ledger()
    assert ledger.counts() == FateCounts(sent=0, delivered=0, dead_lettered=0, filtered=0, lost=0, duplicates=0)
    assert ledger.accounted() and ledger.unaccounted() == 0
    assert ledger.lost_indexes() == [] and ledger.latencies_ms() == []


# -- conservation, for any mix of outcomes ---------------------------------------------------------------------
OUTCOMES = st.sampled_from(["deliver", "dead_letter", "filter", "reject", "drop", "nothing"])


@given(keys=st.lists(st.integers(0, 15), max_size=40), outcomes=st.lists(OUTCOMES, max_size=40),
       unknown_outputs=st.integers(0, 3))
def test_every_sent_event_has_exactly_one_fate(keys: list[int], outcomes: list[str], unknown_outputs: int) -> None:
    ledger = ledger_of(*(f"k{k}" for k in keys))
    for index, outcome in zip(range(len(keys)), outcomes, strict=False):
        key = ledger.keys[index]
        if outcome == "deliver":
            ledger.delivered(key, float(index))
        elif outcome == "dead_letter":
            ledger.dead_lettered(letter(index))
        elif outcome == "filter":
            ledger.mark_filtered(key)
        elif outcome == "reject":
            ledger.mark_rejected(index, "refused")
        elif outcome == "drop":
            ledger.mark_dropped(key, "discarded")
    for n in range(unknown_outputs):
        ledger.delivered(f"stranger-{n}", 1.0)
    counts = ledger.counts()
    assert counts.sent == len(keys)
    assert conserved(counts)
    assert counts.duplicated == len(keys) - len(set(keys))
    # what the run waits for and what the verdict calls lost are the same events
    assert ledger.unaccounted() == counts.lost == len(ledger.lost_indexes())
    assert ledger.accounted() == (counts.lost == 0)
    assert ledger.unmatched_outputs == unknown_outputs


# -- duplicates and unmatched outputs --------------------------------------------------------------------------
@pytest.mark.parametrize(("outputs", "duplicates"), [(0, 0), (1, 0), (2, 1), (3, 1)])
def test_an_output_seen_more_than_once_is_one_duplicate(outputs: int, duplicates: int) -> None:
    ledger = ledger_of("a", "b")
    for n in range(outputs):
        assert ledger.delivered("a", 10.0 + n) is True
    ledger.delivered("b", 20.0)
    assert ledger.arrivals[0][0] == outputs
    assert ledger.counts().duplicates == duplicates
    assert ledger.counts().delivered == (2 if outputs else 1)


def test_duplicates_count_events_not_outputs() -> None:
    ledger = ledger_of("a", "b", "c")
    for key, times in (("a", 2), ("b", 3), ("c", 1)):
        for _ in range(times):
            ledger.delivered(key, 1.0)
    assert ledger.counts().duplicates == 2


@pytest.mark.parametrize(("outputs", "duplicates"), [(1, 0), (2, 0), (3, 1)])
def test_an_event_sent_twice_on_purpose_is_expected_twice(outputs: int, duplicates: int) -> None:
    ledger = ledger_of("a", "a", "b")
    for _ in range(outputs):
        ledger.delivered("a", 1.0)
    ledger.delivered("b", 1.0)
    ledger.delivered("b", 1.0)
    assert ledger.counts().duplicates == duplicates + 1


def test_the_first_arrival_is_the_delivery_time_and_order() -> None:
    ledger = ledger_of("a", "b", "c")
    ledger.delivered("b", 3.0)
    ledger.delivered("a", 4.0)
    ledger.delivered("b", 9.0)  # a redelivery moves nothing
    assert list(ledger.delivery_order) == [1, 0, -1]
    assert ledger.delivered_at[0] == 4.0 and ledger.delivered_at[1] == 3.0 and math.isnan(ledger.delivered_at[2])


def test_an_output_no_event_explains_is_counted_as_unmatched() -> None:
    ledger = ledger_of("a")
    assert ledger.delivered("zzz", 1.0) is False
    assert ledger.delivered("zzz", 2.0) is False
    assert ledger.unmatched_outputs == 2
    assert ledger.counts().delivered == 0 and ledger.fate(0) == "lost"
    assert ledger.delivered("a", 1.0) is True and ledger.unmatched_outputs == 2


def test_outcomes_for_unknown_keys_change_nothing() -> None:
    ledger = ledger_of("a")
    ledger.mark_filtered("zzz")
    ledger.mark_dropped("zzz", "why")
    assert ledger.dropped == {} and ledger.fate(0) == "lost" and ledger.unaccounted() == 1
    assert ledger.index_of("a") == 0 and ledger.index_of("zzz") is None


def test_a_duplicate_key_points_at_its_first_event() -> None:
    ledger = ledger_of("a", "b", "a", "a")
    assert ledger.index_of("a") == 0 and ledger.duplicate_of == {2: 0, 3: 0}
    ledger.delivered("a", 1.0)
    assert ledger.arrivals[0][0] == 1 and ledger.arrivals[0][2] == 0


# -- accounting ----------------------------------------------------------------------------------------------
def test_accounted_counts_each_event_once_whatever_happens_to_it() -> None:
    ledger = ledger_of("a", "b", "c", "a")
    assert (ledger.accounted(), ledger.unaccounted()) == (False, 3)  # the copy of "a" is accounted at once
    ledger.delivered("a", 1.0)
    ledger.delivered("a", 2.0)
    ledger.dead_lettered(letter(0))
    assert ledger.unaccounted() == 2
    ledger.mark_dropped("b", "discarded")  # a reason, not a fate
    assert ledger.unaccounted() == 2
    ledger.mark_filtered("b")
    ledger.mark_filtered("b")
    assert ledger.unaccounted() == 1
    ledger.mark_rejected(2, "refused")
    ledger.mark_rejected(2, "refused")
    assert (ledger.accounted(), ledger.unaccounted()) == (True, 0)


def test_dead_letters_account_for_every_event_they_name() -> None:
    ledger = ledger_of("a", "b", "c")
    ledger.dead_lettered(letter(0, 2, sent=7.0))
    ledger.dead_lettered(letter(2, sent=9.0))
    assert ledger.unaccounted() == 1 and ledger.lost_indexes() == [1]
    assert ledger.dead_lettered_at[2] == 7.0  # the first letter's time
    assert math.isnan(ledger.dead_lettered_at[1])
    assert len(ledger.dead_letters) == 2


def test_lost_indexes_lists_lost_events_in_order_up_to_a_limit() -> None:
    ledger = ledger_of(*"abcdefg")
    for key in "bdf":
        ledger.delivered(key, 1.0)
    assert ledger.lost_indexes() == [0, 2, 4, 6]
    assert ledger.lost_indexes(limit=2) == [0, 2]
    assert ledger.lost_indexes(limit=1) == [0]
    assert ledger.lost_indexes(limit=4) == [0, 2, 4, 6]
    assert ledger.lost_indexes(limit=10) == [0, 2, 4, 6]
    assert ledger.lost_indexes(limit=0) == []


# -- sequence positions ------------------------------------------------------------------------------------------
def located(*positions: tuple[int, str, str]) -> Ledger:
    ledger = ledger_of(*(f"e{index}" for index, _, _ in positions))
    for index, shard, seq in positions:
        ledger.locate(index, shard, seq)
    return ledger


def test_in_range_finds_events_by_sequence_number_whatever_order_they_were_located_in() -> None:
    # sequence numbers compare as numbers ("9" < "10"), and a producer's retried record lands late
    ledger = located((0, "shardId-0", "100"), (1, "shardId-0", "9"), (2, "shardId-0", "30"), (3, "shardId-1", "20"),
                     (4, "shardId-0", "10"), (5, "shardId-0", "200"))
    assert ledger.in_range("shardId-0", "9", "200") == [1, 4, 2, 0, 5]
    assert ledger.in_range("shardId-0", "10", "100") == [4, 2, 0]  # both ends included
    assert ledger.in_range("shardId-0", "11", "99") == [2]
    assert ledger.in_range("shardId-0", "31", "99") == []
    assert ledger.in_range("shardId-0", "30", "30") == [2]
    assert ledger.in_range("shardId-1", "0", "1000") == [3]
    assert ledger.in_range("shardId-2", "0", "1000") == []


def test_in_range_handles_aws_sized_sequence_numbers() -> None:
    base = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898
    ledger = located((0, "s", str(base + 2)), (1, "s", str(base)), (2, "s", str(base + 1)))
    assert ledger.in_range("s", str(base), str(base + 1)) == [1, 2]


def test_sequence_positions_number_shards_in_shard_id_order() -> None:
    ledger = located((0, "shardId-000000000001", "5"), (1, "shardId-000000000000", "7"),
                     (2, "shardId-000000000001", "3"), (3, "shardId-000000000000", "2"))
    assert ledger.sequence_positions() == {3: (0, 2), 1: (0, 7), 2: (1, 3), 0: (1, 5)}
    assert located().sequence_positions() == {}


# -- reading ----------------------------------------------------------------------------------------------------
def test_latencies_are_milliseconds_from_sent_to_first_delivery() -> None:
    ledger = Ledger()
    ledger.add("a", 1.0)
    ledger.add("b", 2.0)
    ledger.add("never-sent")  # a producer that failed before sending it
    ledger.add("never-delivered", 3.0)
    ledger.add("clock-skew", 5.0)
    ledger.delivered("a", 1.25)
    ledger.delivered("a", 9.0)
    ledger.delivered("b", 4.5)
    ledger.delivered("never-sent", 4.0)
    ledger.delivered("clock-skew", 4.999)
    assert ledger.latencies_ms() == [250.0, 2500.0, 0.0]


def test_mark_sent_sets_when_an_event_left() -> None:
    ledger = ledger_of("a")
    assert math.isnan(ledger.sent_at[0])
    ledger.mark_sent(0, 2.0)
    ledger.delivered("a", 2.5)
    assert ledger.sent_at[0] == 2.0 and ledger.latencies_ms() == [500.0]


def test_dead_letters_in_matches_the_queue_name_at_the_end_of_its_url() -> None:
    ledger = ledger_of("a")
    mine = letter(queue="http://127.0.0.1:5000/123456789012/dlq")
    slash = letter(queue="http://127.0.0.1:5000/123456789012/dlq/")
    other = letter(queue="http://127.0.0.1:5000/123456789012/other-dlq")
    for each in (mine, other, slash):
        ledger.dead_lettered(each)
    assert ledger.dead_letters_in("dlq") == [mine, slash]
    assert ledger.dead_letters_in("other-dlq") == [other]
    assert ledger.dead_letters_in("missing") == []


def test_dead_letters_in_knows_the_run_prefix_of_resource_names() -> None:
    ledger = ledger_of("a")
    ledger.resource_prefix = "pmu-3f9a1c2e-"
    prefixed = letter(queue="https://sqs.eu-west-1.amazonaws.com/123456789012/pmu-3f9a1c2e-dlq")
    bare = letter(queue="https://sqs.eu-west-1.amazonaws.com/123456789012/dlq")
    ledger.dead_lettered(prefixed)
    ledger.dead_lettered(bare)
    assert ledger.dead_letters_in("dlq") == [prefixed]


def test_dead_letters_in_strips_only_trailing_slashes() -> None:
    ledger = ledger_of("a")
    upper = letter(queue="http://127.0.0.1:5000/123456789012/DLX")
    ledger.dead_lettered(upper)
    assert ledger.dead_letters_in("DLX") == [upper] and ledger.dead_letters_in("DL") == []


def test_partition_keys_are_kept_only_when_asked_for() -> None:
    ledger = ledger_of("a")
    assert ledger.partition_keys is None
    ledger.partition_keys = []
    ledger.add("b", partition_key="user-1")
    ledger.add("c")
    assert ledger.partition_keys == ["user-1", ""]


def test_faults_are_remembered_by_position() -> None:
    ledger = Ledger()
    ledger.add("a")
    ledger.add("b", fault="poison:malformed_json")
    assert ledger.faulty == {1: "poison:malformed_json"}


def test_a_reader_sees_an_event_being_added_whole_or_not_at_all() -> None:
    # progress reads counts() without the lock while another source's thread adds events
    ledger = ledger_of("a")
    seen: list[tuple[int, int | None]] = []

    class Watched(array):  # type: ignore[type-arg]
        def append(self, value: float) -> None:
            seen.append((ledger.counts().sent, ledger.index_of("b")))  # what another thread can read now
            super().append(value)

    for name in ("sent_at", "delivered_at", "dead_lettered_at"):
        setattr(ledger, name, Watched("d", getattr(ledger, name)))
    ledger.add("b")
    assert seen == [(1, None)] * 3
    assert ledger.counts().sent == 2 and ledger.index_of("b") == 1

