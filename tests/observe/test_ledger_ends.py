"""The ledger's delivery ends (mode all/any, per-end counts) and the source identities it knows events by
(Kinesis stream/shard/sequence, SQS message id, S3 key), including records processed before their put returned.
Ledgers are built by hand; no pipeline runs."""

from __future__ import annotations

import math

import pytest

from emulator.observe.ledger import Ledger, kinesis_identity

ENDS = ("bucket/out", "processed_by/f")


def ledger(*keys: str, mode: str = "all", ends: tuple[str, ...] = ENDS) -> Ledger:
    made = Ledger(ends=ends, mode=mode)  # type: ignore[arg-type]
    for key in keys:
        made.add(key)
    return made


def test_default_ledger_has_one_end_and_mode_all() -> None:
    plain = Ledger()
    assert plain.ends == ("output",) and plain.mode == "all"
    plain.add("a")
    plain.delivered("a", 3.0)
    assert plain.fate(0) == "delivered" and plain.delivered_at[0] == 3.0


# -- mode all / any ------------------------------------------------------------------------------------------
def test_mode_all_delivers_only_once_every_end_is_reached_at_the_last_arrival() -> None:
    made = ledger("a", "b")
    made.delivered("a", 1.0, end=1)
    assert made.fate(0) == "lost" and math.isnan(made.delivered_at[0]) and not made.accounted()
    assert made.reached_counts() == {"bucket/out": 0, "processed_by/f": 1}
    made.reached(0, 4.0, 0)
    assert made.fate(0) == "delivered" and made.delivered_at[0] == 4.0
    assert made.delivery_order[0] == 0 and made.unaccounted() == 1
    made.reached(0, 9.0, 0)  # a later arrival changes nothing but the count
    assert made.delivered_at[0] == 4.0 and made.reached_at[0][0] == 4.0 and made.arrivals[0][0] == 2
    assert made.counts().duplicates == 1


def test_mode_any_delivers_at_the_first_end_reached() -> None:
    made = ledger("a", "b", mode="any")
    made.reached(1, 2.0, 1)
    assert made.fate(1) == "delivered" and made.delivered_at[1] == 2.0 and made.delivery_order[1] == 0
    made.reached(1, 5.0, 0)
    assert made.delivered_at[1] == 2.0 and made.reached_counts() == {"bucket/out": 1, "processed_by/f": 1}
    made.reached(0, 6.0, 0)
    assert made.delivery_order[0] == 1 and made.counts().delivered == 2 and made.accounted()


@pytest.mark.parametrize("mode", ["all", "any"])
def test_one_arrival_per_end_is_no_duplicate(mode: str) -> None:
    made = ledger("a", mode=mode)
    made.reached(0, 1.0, 0)
    made.reached(0, 1.0, 1)
    assert made.counts().duplicates == 0 and list(made.arrivals[0]) == [1] and list(made.arrivals[1]) == [1]


def test_reached_counts_leave_out_copies_sent_on_purpose() -> None:
    made = ledger("a", "a", "b", ends=("processed_by/f",))
    made.reached(1, 1.0)  # the copy's arrival counts for its original
    assert made.fate(0) == "delivered" and made.fate(1) == "duplicated"
    assert made.arrivals[0][0] == 1 and made.arrivals[0][1] == 0
    assert made.reached_counts() == {"processed_by/f": 1}
    assert made.counts().duplicates == 0


# -- identities ------------------------------------------------------------------------------------------------
def test_kinesis_identity_names_stream_shard_and_sequence() -> None:
    assert kinesis_identity("s", "shardId-000000000001", "42") == "kinesis:s/shardId-000000000001/42"


def test_locate_makes_the_record_known_by_its_identity_per_stream() -> None:
    made = ledger("a", "b")
    made.locate(0, "shardId-0", "1", stream="one")
    made.locate(1, "shardId-0", "1", stream="two")  # same shard and sequence in another stream
    assert made.by_identity(kinesis_identity("one", "shardId-0", "1")) == 0
    assert made.by_identity(kinesis_identity("two", "shardId-0", "1")) == 1
    assert made.in_range("shardId-0", "1", "1", stream="two") == [1]
    assert made.in_range("shardId-0", "1", "1") == []


def test_identify_stands_a_copy_for_its_original_and_finds_nothing_unknown() -> None:
    made = ledger("a", "b", "a")
    made.identify(2, "sqs:m-3")
    made.identify(1, "s3:bucket/events/000000001.json")
    assert made.by_identity("sqs:m-3") == 0 and made.by_identity("s3:bucket/events/000000001.json") == 1
    assert made.by_identity("sqs:other") is None


def test_when_identified_runs_now_for_a_known_event() -> None:
    made = ledger("a")
    made.identify(0, "sqs:m")
    seen: list[int] = []
    made.when_identified("sqs:m", seen.append)
    assert seen == [0]


def test_when_identified_waits_for_the_producer_to_name_the_event() -> None:
    """A mapping can process a record before PutRecords returned its sequence number."""
    made = ledger("a", "b", "b")
    seen: list[int] = []
    identity = kinesis_identity("s", "shardId-0", "7")
    made.when_identified(identity, seen.append)
    made.when_identified(identity, lambda i: made.reached(i, 2.0, 1))
    made.when_identified("sqs:copy", seen.append)
    assert seen == []
    made.locate(1, "shardId-0", "7", stream="s")
    assert seen == [1] and made.reached_at[1][1] == 2.0
    made.identify(2, "sqs:copy")
    assert seen == [1, 1]  # the copy stands for its original
    made.identify(0, identity)  # already ran: nothing runs twice
    assert seen == [1, 1]


def test_filter_out_accounts_the_event() -> None:
    made = ledger("a", "b")
    made.filter_out(1)
    assert made.fate(1) == "filtered" and made.unaccounted() == 1
