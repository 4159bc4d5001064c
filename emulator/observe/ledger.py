"""The ledger: one line per replayed event, so every event ends delivered, dead-lettered, filtered, or
reported as lost with what is known about why. Nothing is lost silently.

Memory is a few arrays and one dict entry per event, so a million-event replay stays small.
"""

from __future__ import annotations

import bisect
import math
import threading
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

NAN = math.nan


@dataclass(frozen=True)
class FateCounts:
    sent: int
    delivered: int
    dead_lettered: int
    filtered: int
    lost: int
    duplicates: int  # events whose output appeared more often than they were sent (at-least-once redelivery)
    rejected: int = 0  # refused by the source at put time (e.g. over Kinesis's 1 MiB record limit)
    duplicated: int = 0  # sent again on purpose by the scenario (faults.duplicates)

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "dead_lettered": self.dead_lettered,
            "filtered": self.filtered,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "duplicated": self.duplicated,
        }


@dataclass
class DeadLetter:
    """A message in a dead-letter queue, with the events it accounts for."""

    queue: str
    body: Any
    sent: float
    event_indexes: list[int] = field(default_factory=list)
    condition: str | None = None
    batch_size: int | None = None


def kinesis_identity(stream: str, shard_id: str, sequence_number: str) -> str:
    """A Kinesis record's identity: sequence numbers are unique within one shard of one stream only."""
    return f"kinesis:{stream}/{shard_id}/{sequence_number}"


class Ledger:
    """``ends``: where an event can arrive (``expect.delivered``'s ends, by label); ``mode``: an event is delivered
    when it has reached all of them, or any. Events are found by their correlation key (``add``) and by the
    source's own identity: a Kinesis stream, shard and sequence number (``locate``), an SQS message id or an S3
    object (``identify``), so an event whose body is not JSON is accounted like any other."""

    def __init__(self, ends: Sequence[str] = ("output",), mode: Literal["all", "any"] = "all") -> None:
        self._lock = threading.Lock()
        self.keys: list[str] = []
        self._index: dict[str, int] = {}
        self._identities: dict[str, int] = {}
        self._waiting: dict[str, list[Callable[[int], None]]] = defaultdict(list)
        self.ends = tuple(ends)
        self.mode = mode
        self.sent_at = array("d")
        self.delivered_at = array("d")
        self.dead_lettered_at = array("d")
        self.reached_at = [array("d") for _ in self.ends]  # per end: when the event first arrived there
        self.arrivals = [array("I") for _ in self.ends]  # per end: how often it arrived there
        self.filtered = bytearray()
        self._done = bytearray()
        self._n_done = 0
        self._positions: dict[tuple[str, str], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        self.dead_letters: list[DeadLetter] = []
        self.resource_prefix = ""  # put before every deployed resource's name by the backend
        self.unmatched_outputs = 0
        self.dropped: dict[int, str] = {}
        self.faulty: dict[int, str] = {}
        self.rejected: dict[int, str] = {}
        self.duplicate_of: dict[int, int] = {}
        self.partition_keys: list[str] | None = None  # kept only when an order expectation needs them
        self.delivery_order = array("q")
        self._deliveries_seen = 0

    # -- sending ---------------------------------------------------------------------------------------
    def add(self, key: str, sent_at: float = NAN, *, fault: str | None = None, partition_key: str = "") -> int:
        with self._lock:
            index = len(self.keys)
            first = self._index.get(key, index)
            if fault is not None:
                self.faulty[index] = fault
            if self.partition_keys is not None:
                self.partition_keys.append(partition_key)
            self.delivery_order.append(-1)
            self.sent_at.append(sent_at)
            self.delivered_at.append(NAN)
            self.dead_lettered_at.append(NAN)
            for reached, arrivals in zip(self.reached_at, self.arrivals, strict=True):
                reached.append(NAN)
                arrivals.append(0)
            self.filtered.append(0)
            self._done.append(0)
            if first != index:  # the same event again: its fate is its original's
                self.duplicate_of[index] = first
                self._account(index)
            # Published last: readers that do not take the lock (progress counts while another source's thread
            # adds events) see the event whole or not at all.
            self._index.setdefault(key, index)
            self.keys.append(key)
            return index

    def mark_sent(self, index: int, at: float) -> None:
        self.sent_at[index] = at

    def locate(self, index: int, shard_id: str, sequence_number: str, stream: str = "") -> None:
        """Where Kinesis put the event (its identity), to match the records mappings processed and the
        on-failure records that name sequence ranges. Sequence numbers are unique within one shard of one
        stream only."""
        with self._lock:
            self._locate(index, (stream, shard_id), sequence_number)
        self.identify(index, kinesis_identity(stream, shard_id, sequence_number))

    def _locate(self, index: int, lane: tuple[str, str], sequence_number: str) -> None:
        seqs, idxs = self._positions[lane]
        seq = int(sequence_number)
        if not seqs or seq > seqs[-1]:
            seqs.append(seq)
            idxs.append(index)
        else:
            at = bisect.bisect_left(seqs, seq)
            seqs.insert(at, seq)
            idxs.insert(at, index)

    def sequence_positions(self) -> dict[int, tuple[int, ...]]:
        """Event index -> (shard number, sequence number) for events a stream accepted."""
        out: dict[int, tuple[int, ...]] = {}
        for shard_no, (_, (seqs, idxs)) in enumerate(sorted(self._positions.items())):
            for seq, index in zip(seqs, idxs, strict=True):
                out[index] = (shard_no, seq)
        return out

    def index_of(self, key: str) -> int | None:
        return self._index.get(key)

    def identify(self, index: int, identity: str) -> None:
        """The source's own name for the event: ``kinesis:STREAM/SHARD/SEQUENCE`` (``locate``),
        ``sqs:MESSAGE_ID``, ``s3:BUCKET/KEY``. A copy sent on purpose stands for its original. Runs what waited
        for this identity (``when_identified``)."""
        index = self.duplicate_of.get(index, index)
        with self._lock:
            self._identities[identity] = index
            waiting = self._waiting.pop(identity, [])
        for action in waiting:
            action(index)

    def by_identity(self, identity: str) -> int | None:
        return self._identities.get(identity)

    def when_identified(self, identity: str, action: Callable[[int], None]) -> None:
        """Run ``action(index)`` for the event known as ``identity``: now, or once the producer names it. A
        mapping can process a record before the put that sent it has returned its sequence number or id."""
        with self._lock:
            index = self._identities.get(identity)
            if index is None:
                self._waiting[identity].append(action)
                return
        action(index)

    # -- outcomes --------------------------------------------------------------------------------------
    def _account(self, index: int) -> None:
        if not self._done[index]:
            self._done[index] = 1
            self._n_done += 1

    def delivered(self, key: str, at: float, end: int = 0) -> bool:
        """An output carrying correlation key ``key`` arrived at end number ``end``; False when no event has
        that key (counted as an unmatched output)."""
        index = self._index.get(key)
        if index is None:
            self.unmatched_outputs += 1
            return False
        self.reached(index, at, end)
        return True

    def reached(self, index: int, at: float, end: int = 0) -> None:
        """Event ``index`` arrived at end number ``end``: delivered once it has reached every end (mode all) or
        one (mode any)."""
        index = self.duplicate_of.get(index, index)  # a copy sent on purpose counts for its original
        with self._lock:
            self.arrivals[end][index] += 1
            if math.isnan(self.reached_at[end][index]):
                self.reached_at[end][index] = at
            if not math.isnan(self.delivered_at[index]):
                return
            times = [reached[index] for reached in self.reached_at]
            if self.mode == "all" and any(math.isnan(t) for t in times):
                return
            self.delivered_at[index] = at
            self.delivery_order[index] = self._deliveries_seen
            self._deliveries_seen += 1
            self._account(index)

    def mark_rejected(self, index: int, reason: str) -> None:
        with self._lock:
            self.rejected[index] = reason
            self._account(index)

    def mark_filtered(self, key: str) -> None:
        index = self._index.get(key)
        if index is not None:
            self.filter_out(index)

    def filter_out(self, index: int) -> None:
        with self._lock:
            self.filtered[index] = 1
            self._account(index)

    def mark_dropped(self, key: str, reason: str) -> None:
        index = self._index.get(key)
        if index is not None:
            self.dropped[index] = reason

    def in_range(self, shard_id: str, start: str, end: str, stream: str = "") -> list[int]:
        seqs, idxs = self._positions.get((stream, shard_id), ([], []))
        lo = bisect.bisect_left(seqs, int(start))
        hi = bisect.bisect_right(seqs, int(end))
        return idxs[lo:hi]

    def dead_letters_in(self, queue: str) -> list[DeadLetter]:
        """The dead-letter messages read from the pipeline's queue ``queue``: its URL ends in /PREFIX+queue,
        PREFIX being the run's ``resource_prefix`` (the AWS backend names every resource pmu-XXXXXXXX-NAME)."""
        name = "/" + self.resource_prefix + queue
        return [d for d in self.dead_letters if d.queue.rstrip("/").endswith(name)]

    def dead_lettered(self, letter: DeadLetter) -> None:
        with self._lock:
            self.dead_letters.append(letter)
            for index in letter.event_indexes:
                if math.isnan(self.dead_lettered_at[index]):
                    self.dead_lettered_at[index] = letter.sent
                self._account(index)

    # -- reading ---------------------------------------------------------------------------------------
    def fate(self, index: int) -> str:
        if index in self.duplicate_of:
            return "duplicated"
        if index in self.rejected:
            return "rejected"
        if not math.isnan(self.delivered_at[index]):
            return "delivered"
        if not math.isnan(self.dead_lettered_at[index]):
            return "dead_lettered"
        if self.filtered[index]:
            return "filtered"
        return "lost"

    def counts(self) -> FateCounts:
        fates = Counter(self.fate(i) for i in range(len(self.keys)))
        # An event the scenario sent twice on purpose is expected twice: only outputs beyond the sends count.
        sends = Counter(self.duplicate_of.values())
        duplicates = sum(
            1 for i in range(len(self.keys)) if any(arrivals[i] > 1 + sends[i] for arrivals in self.arrivals)
        )
        return FateCounts(
            sent=len(self.keys),
            delivered=fates["delivered"],
            dead_lettered=fates["dead_lettered"],
            filtered=fates["filtered"],
            lost=fates["lost"],
            duplicates=duplicates,
            rejected=fates["rejected"],
            duplicated=fates["duplicated"],
        )

    def reached_counts(self) -> dict[str, int]:
        """Per end: how many events (copies sent on purpose left out) reached it."""
        return {
            label: sum(1 for i, t in enumerate(reached) if not math.isnan(t) and i not in self.duplicate_of)
            for label, reached in zip(self.ends, self.reached_at, strict=True)
        }

    def accounted(self) -> bool:
        return self._n_done == len(self.keys)

    def unaccounted(self) -> int:
        return len(self.keys) - self._n_done

    def latencies_ms(self) -> list[float]:
        out = []
        for sent, delivered in zip(self.sent_at, self.delivered_at, strict=True):
            if not math.isnan(delivered) and not math.isnan(sent):
                out.append(max(0.0, (delivered - sent) * 1000))
        return out

    def lost_indexes(self, limit: int | None = None) -> list[int]:
        """The first ``limit`` lost events (all when None), in the order they were sent."""
        return list(islice((i for i in range(len(self.keys)) if self.fate(i) == "lost"), limit))
