"""A lane is idle only with nothing buffered and no batch running, also when it is asked while its thread takes
a batch: the settle decision reads ``idle`` from another thread, with no lock."""

from __future__ import annotations

from test_stream_batch import config

from emulator.clock import FakeClock
from emulator.esm.streams.lanes import CheckpointTracker, Lane
from emulator.esm.streams.records import StreamRecord


class RacingLane(Lane):
    """A lane whose own thread, once, takes its next batch right after another thread read ``busy``."""

    racing = False

    @property  # type: ignore[override]
    def busy(self) -> bool:
        value = self._busy
        if self.racing:
            self.racing = False
            self.step()  # the lane thread runs between the observer's two reads
        return value

    @busy.setter
    def busy(self, value: bool) -> None:
        self._busy = value


def test_a_batch_taken_while_idle_is_asked_is_seen() -> None:
    # GIVEN a lane with a record buffered and a batch that is still running when the check ends
    running: list[list[str]] = []
    lane = RacingLane(config(), process=lambda batch: running.append([r.sequence_number for r in batch]) or True,
                      size=lambda record: 100, tracker=CheckpointTracker(), clock=FakeClock(), idle_poll_s=0.01)
    lane.add([StreamRecord("1", "k", b"{}", 1_700_000_000.0)])
    # WHEN another thread asks whether it is idle while the lane's thread takes that record
    lane.racing = True
    idle = lane.idle
    # THEN the record is seen: either still buffered or in the batch, never neither
    assert not idle
    assert running == [["1"]] or lane.buffer
