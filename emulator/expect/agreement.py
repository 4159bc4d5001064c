"""One ledger truth: what the ledger says about dead letters agrees with what the mappings did and what the
dead-letter queues hold. A run where they disagree fails, naming the events involved, instead of printing
figures that contradict each other (e.g. "20 delivered, 0 dead-lettered" while a queue holds 11 records)."""

from __future__ import annotations

from emulator.expect.verdict import ExpectationResult
from emulator.observe.ledger import Ledger

_SHOWN = 5


def dead_lettered_events(ledger: Ledger, *, streams_only: bool = False) -> set[int]:
    """Every event some dead-letter message read from the queues stands for (``streams_only``: on-failure
    records of stream mappings, which name the batch they stand for)."""
    return {
        index for letter in ledger.dead_letters if not streams_only or letter.batch_size is not None
        for index in letter.event_indexes
    }


def ledger_agreement(ledger: Ledger, mapping_dead_lettered: int | None) -> ExpectationResult | None:
    """None when the ledger, the mapping statistics and the dead-letter queues agree, else the failed check.

    ``mapping_dead_lettered``: records the pipeline's stream mappings sent to an on-failure queue (None when the
    backend cannot tell)."""
    in_queues = dead_lettered_events(ledger)
    both = sorted(i for i in in_queues if ledger.fate(i) == "delivered")
    from_streams = dead_lettered_events(ledger, streams_only=True)
    problems = []
    if both:
        keys = ", ".join(ledger.keys[i] for i in both[:_SHOWN]) + (", ..." if len(both) > _SHOWN else "")
        problems.append(
            f"{len(both)} events are both delivered and in a dead-letter queue ({keys}): the handler wrote "
            "their output, then its invocation failed (an error after the write, or a response Lambda cannot "
            "serialise), so the mapping dead-lettered the batch"
        )
    if mapping_dead_lettered is not None and mapping_dead_lettered > len(from_streams):
        problems.append(
            f"the stream mappings dead-lettered {mapping_dead_lettered} records, the dead-letter queues hold "
            f"{len(from_streams)} of this run's events"
        )
    if not problems:
        return None
    return ExpectationResult(
        name="ledger agrees", passed=False,
        expected="each event delivered, dead-lettered or filtered, as the mappings and queues say",
        actual=f"{len(both)} delivered and dead-lettered" if both else "counts differ",
        detail="; ".join(problems),
        near_misses=[ledger.keys[i] for i in both[:20]],
    )
