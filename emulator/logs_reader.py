"""Reads Lambda log lines back from CloudWatch Logs, as `aws logs tail` does: FilterLogEvents over
``/aws/lambda/*`` (or one function's group) from a start time, each call returning only lines not seen before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from emulator.backends.log_shipper import LogLine, log_group

PREFIX = "/aws/lambda/"


class LogsReader:
    def __init__(self, client: Any, function: str | None = None, *, start_ms: int = 0) -> None:
        self._client = client
        self._function = function
        self._start_ms = start_ms
        self._seen: set[str] = set()

    def _groups(self) -> list[str]:
        if self._function is not None:
            return [log_group(self._function)]
        groups: list[str] = []
        for page in self._client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=PREFIX):
            groups.extend(str(g["logGroupName"]) for g in page["logGroups"])
        return groups

    def read(self) -> list[LogLine]:
        """Lines added since the last call, in time order."""
        lines: list[tuple[int, int, LogLine]] = []
        newest = self._start_ms
        for group in self._groups():
            for order, event in enumerate(self._events(group)):
                if event["eventId"] in self._seen:
                    continue
                self._seen.add(event["eventId"])
                newest = max(newest, int(event["timestamp"]))
                line = LogLine(group[len(PREFIX):], str(event.get("logStreamName", "")), int(event["timestamp"]),
                               str(event["message"]).rstrip("\n"))
                lines.append((line.timestamp_ms, order, line))
        # Next time ask from the newest line on (lines of that same millisecond may still arrive).
        self._start_ms = newest
        return [line for _, _, line in sorted(lines, key=lambda t: (t[0], t[2].stream, t[1]))]

    def _events(self, group: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": self._start_ms}
        try:
            while True:
                page = self._client.filter_log_events(**kwargs)
                yield from page["events"]
                token = page.get("nextToken")
                if not token or not page["events"]:
                    return
                kwargs["nextToken"] = token
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":  # no invocation yet: nothing to show
                raise
