"""How many items each of a pipeline's DynamoDB tables holds, sampled over a run (the report's "items over
time"). Counting goes through the DynamoDB API (``Scan`` with ``Select=COUNT``), so it works on every backend;
``DescribeTable``'s ItemCount would not do, as AWS refreshes it only about every six hours
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableDescription.html).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


def count_items(dynamodb: Any, table: str) -> int:
    """Every item of ``table``, counted page by page (a Scan page stops at 1 MB)."""
    total = 0
    kwargs: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
    while True:
        page = dynamodb.scan(**kwargs)
        total += int(page.get("Count", 0))
        last = page.get("LastEvaluatedKey")
        if not last:
            return total
        kwargs["ExclusiveStartKey"] = last


class TableSampler:
    """Counts the items of ``tables`` (spec name -> table name) every ``every_s`` seconds in a thread, from
    ``start()`` to ``stop()``; ``figures()`` is the report's view: per table the last count and the samples
    ``[seconds since start, items]``. A failed count is skipped (the table may be going away at teardown)."""

    def __init__(
        self, dynamodb: Any, tables: Mapping[str, str], *, every_s: float = 0.5,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._dynamodb = dynamodb
        self._tables = dict(tables)
        self._every_s = every_s
        self._now = now
        self._samples: dict[str, list[list[float]]] = {name: [] for name in self._tables}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = now()
        self._lock = threading.Lock()

    def sample(self) -> None:
        at = round(self._now() - self._started, 3)
        for name, table in self._tables.items():
            try:
                items = count_items(self._dynamodb, table)
            except (ClientError, BotoCoreError):
                continue
            with self._lock:
                self._samples[name].append([at, items])

    def _loop(self) -> None:
        while not self._stop.wait(self._every_s):
            self.sample()

    def start(self) -> None:
        self._started = self._now()
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="pipemu-table-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and take one last count, so the report's figure is the table as the run left it.
        A second call does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.sample()

    def figures(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                name: {"table": self._tables[name], "items": samples[-1][1] if samples else None,
                       "over_time": [list(s) for s in samples]}
                for name, samples in self._samples.items()
            }


__all__ = ["TableSampler", "count_items"]
