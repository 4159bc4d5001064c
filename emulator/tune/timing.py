"""The ``aws_timing`` latency model: what a replay measured here, plus the waits AWS adds that a laptop does not.

What transfers from a local run to AWS and what does not:
- counts transfer: records, batches, invocations, retries, billed units;
- wall latency does not. On AWS, a Kinesis event source mapping polls each shard about once a second when it
  has caught up ("Lambda polls each shard in your Kinesis stream for records at a base rate of once per
  second", https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html), and with a batching window it
  gathers records for up to that window before invoking ("Lambda reads records from the event source until it
  has gathered a full batch, the batching window expires, or the batch reaches the payload limit of 6 MB",
  https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html#invocation-eventsourcemapping-batching).
  An SQS mapping long-polls (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html), which returns as soon
  as a message arrives: no polling delay is added for it.

The model, per delivered event ``i``: ``modelled = measured + poll + gather`` where
- ``poll`` = ``v_i`` x 1 s for a stream mapping (the event lands at a uniformly spread point of the one-second
  poll cycle), 0 for a queue;
- ``gather`` = ``u_i`` x ``G`` with ``G = min(window, batch_size / records per second per lane)``: the time a
  batch takes to fill at the scenario's rate (lanes = shards x parallelization factor), capped by the window;
  an event arrives at a uniformly spread point of it. ``G`` is 0 when the window is 0.
``u_i`` and ``v_i`` are low-discrepancy sequences of the event's index, so the model is deterministic. The
measured part already holds the (time-scaled) wait the emulator did, at most ``G / time_scale``. Not modelled:
cold starts and AWS's invoke overhead (the measured local invoke stands in), throttling, other sources.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from emulator.spec.mapping import MappingSpec
from emulator.spec.pipeline import PipelineSpec

STREAM_POLL_S = 1.0  # "at a base rate of once per second"
_PHI = (math.sqrt(5) - 1) / 2
_PLASTIC = 0.7548776662466927  # 1 / the plastic number: a second sequence independent of the first


@dataclass(frozen=True)
class AwsTiming:
    poll_s: float  # the polling cycle a record may wait through (0 for SQS long polling)
    gather_s: float  # G: how long a batch gathers at the scenario's rate

    def added_ms(self, index: int) -> float:
        u = (index * _PHI) % 1.0
        v = (index * _PLASTIC) % 1.0
        return (v * self.poll_s + u * self.gather_s) * 1000


def timing_for(pipeline: PipelineSpec, mapping: MappingSpec, rate_per_s: float) -> AwsTiming:
    """The model's parameters for one mapping at the scenario's rate (events per second into its source)."""
    window = float(mapping.maximum_batching_window_in_seconds or 0)
    default_batch = 100 if mapping.source_kind == "stream" else 10  # AWS's defaults for Kinesis and SQS
    batch = mapping.batch_size or default_batch
    if mapping.source_kind == "stream":
        stream = pipeline.streams[mapping.source_name]
        lanes = (4 if stream.mode == "on_demand" else stream.shards) * (mapping.parallelization_factor or 1)
        poll = STREAM_POLL_S
    else:
        lanes, poll = 1, 0.0
    per_lane = rate_per_s / lanes if rate_per_s > 0 else 0.0
    fill = batch / per_lane if per_lane > 0 else window
    return AwsTiming(poll_s=poll, gather_s=min(window, fill))


def modelled_latencies(measured: list[tuple[int, float]], timing: AwsTiming) -> list[float]:
    """``measured``: (event index, latency ms) of each delivered event."""
    return [ms + timing.added_ms(i) for i, ms in measured]
