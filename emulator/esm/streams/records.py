"""The record every ordered-stream source reads, before its source shapes it for the function (Kinesis today;
any stream whose records carry a sequence number and a partition key)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One record read from a shard, before it is shaped for the function."""

    sequence_number: str
    partition_key: str
    data: bytes
    arrival: float  # epoch seconds
