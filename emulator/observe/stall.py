"""How late the harness's own threads ran during a run: a thread that sleeps 10 ms in a loop records how much
longer each sleep took. On an idle machine that is well under a millisecond; on a busy one (a loaded CI runner,
other jobs on the same cores) it is the scheduling delay every thread of the run suffered, the pipeline's
included. A latency budget missed while the host stalled says so, with this figure, so "the pipeline is slow"
can be told from "the machine was busy"."""

from __future__ import annotations

import threading
import time

TICK_S = 0.010


class StallMeter:
    """``with StallMeter() as meter: ...`` then ``meter.figures()``: oversleep of a 10 ms tick, in ms."""

    def __init__(self, tick_s: float = TICK_S) -> None:
        self._tick = tick_s
        self._stop = threading.Event()
        self._late: list[float] = []
        self._thread = threading.Thread(target=self._run, name="pipemu-stall-meter", daemon=True)

    def __enter__(self) -> StallMeter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while True:
            asked = time.monotonic()
            if self._stop.wait(self._tick):
                return
            self._late.append(max(0.0, time.monotonic() - asked - self._tick) * 1000)

    def figures(self) -> dict[str, float]:
        """``max_ms``, ``p99_ms`` and ``total_ms`` of oversleep so far (zeros before the first tick)."""
        late = sorted(self._late)
        if not late:
            return {"max_ms": 0.0, "p99_ms": 0.0, "total_ms": 0.0}
        return {
            "max_ms": round(late[-1], 1),
            "p99_ms": round(late[min(len(late) - 1, int(len(late) * 0.99))], 1),
            "total_ms": round(sum(late), 1),
        }
