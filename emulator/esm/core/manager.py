"""Keeps one poller running per enabled event source mapping, as the Lambda API lists them.

The mapping configuration lives in the backend (moto stores it, so get/list work as on AWS); this manager
reads it through the Lambda API and reconciles: start new mappings, restart updated ones from their
checkpoints, stop disabled or deleted ones. On the embedded backend the API seam calls ``notify`` inside
the create/update/delete call; elsewhere a periodic resync finds changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from emulator.clock import Clock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.destinations import FailureSink
from emulator.esm.core.invoker import Invoker
from emulator.esm.core.sources import SOURCE_KINDS, Poller, PollerContext
from emulator.esm.core.stats import MappingObserver, MappingStats, NullObserver
from emulator.esm.streams.kinesis_source import STREAM_GONE_RESULT, StreamGone

log = logging.getLogger(__name__)

Reader = Callable[[str], Any]
"""A backend's reader of one kind of source, by ARN (a ``ShardSource`` for a stream, a ``QueueSource`` for a
queue)."""


class EsmManager:
    """Polls the mappings of every kind registered in ``core.sources.SOURCE_KINDS``, reading each source with the
    kind's boto3 reader over ``clients(service)``, or with the backend's own reader for that kind in
    ``readers``; other mappings are left alone."""

    def __init__(
        self,
        *,
        lambda_client: Any,
        clients: Callable[[str], Any] | None = None,
        readers: Mapping[str, Reader] | None = None,
        invoker: Invoker,
        sink: FailureSink,
        clock: Clock,
        region: str,
        observer: MappingObserver | None = None,
        resync_interval_s: float = 1.0,
        idle_poll_s: float = 0.02,
        processing_result: Callable[[str, str], None] | None = None,
    ) -> None:
        self._lambda = lambda_client
        self._clients = clients
        self._readers = dict(readers or {})
        self._invoker = invoker
        self._sink = sink
        self._clock = clock
        self._region = region
        self._observer: MappingObserver = observer or NullObserver()
        self._resync_interval_s = resync_interval_s
        self._idle_poll_s = idle_poll_s
        self._processing_result = processing_result  # (uuid, LastProcessingResult), shown by get/list
        self._pollers: dict[str, Poller] = {}
        self._checkpoints: dict[str, dict[str, str]] = {}
        self._pinned: dict[str, dict[str, str]] = {}
        self._stats: dict[str, MappingStats] = {}
        self._labels: dict[str, str] = {}  # uuid -> "stream/clicks -> enrich", for reports
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._generation = 0
        self._synced_generation = 0
        self._sync_cond = threading.Condition()
        self.errors: list[BaseException] = []

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pipemu-esm-manager", daemon=True)
        self._thread.start()

    def halt(self) -> None:
        """Ask the manager and every poller to stop, without waiting (the backend then closes the runtime, which
        ends invocations in flight, so that ``stop`` finds the threads ending)."""
        self._stop.set()
        self._dirty.set()
        for poller in list(self._pollers.values()):  # not under the lock, which a sync in progress holds
            poller.halt()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop the manager and every poller, waiting at most ``timeout_s`` in all for their threads."""
        until = time.monotonic() + timeout_s
        self.halt()
        if self._thread is not None:
            self._thread.join(max(0.0, min(10.0, until - time.monotonic())))
        if not self._lock.acquire(timeout=max(0.0, until - time.monotonic())):
            return  # a sync still holds it: its pollers were halted above and end as daemon threads
        try:
            for poller in self._pollers.values():
                poller.stop(max(0.0, min(5.0, until - time.monotonic())))
            self._pollers.clear()
        finally:
            self._lock.release()

    def reset(self, backend_reset: Callable[[], None] | None = None) -> None:
        """Forget every mapping; ``backend_reset`` (which deletes them in the backend) runs while no sync
        can start, so no poller is made for a mapping that is about to vanish."""
        with self._lock:
            for poller in self._pollers.values():
                poller.stop()
            self._pollers.clear()
            if backend_reset is not None:
                backend_reset()
            self._dirty.clear()
            self._checkpoints.clear()
            self._pinned.clear()
            self._stats.clear()
            self._labels.clear()
            self.errors.clear()

    # -- change notification ---------------------------------------------------------------------------
    def notify(self, uuid: str, action: str, configuration: dict[str, Any] | None = None) -> None:
        """A mapping changed. Called inside the API call, so for a new LATEST mapping we pin each shard's
        position now: records put after CreateEventSourceMapping returns are read, earlier ones are not."""
        if action == "create" and configuration is not None:
            try:
                config = MappingConfig.from_api(configuration)
            except ValueError:
                config = None
            kind = SOURCE_KINDS.get(config.kind) if config is not None else None
            reader = self._reader(config.kind) if config is not None else None
            if config is not None and kind is not None and kind.ordered and reader is not None \
                    and config.starting_position == "LATEST":
                source = reader(config.event_source_arn)
                self._pinned[uuid] = {s: source.open(s, position="LATEST") for s in source.shard_ids()}
        with self._sync_cond:
            self._generation += 1
        self._dirty.set()

    def wait_synced(self, timeout: float = 10.0) -> bool:
        """Block until every change notified so far has been applied."""
        with self._sync_cond:
            target = self._generation
            return self._sync_cond.wait_for(lambda: self._synced_generation >= target, timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait(self._resync_interval_s)
            self._dirty.clear()
            if self._stop.is_set():
                return
            with self._sync_cond:
                generation = self._generation
            try:
                self.sync()
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.exception("event source mapping sync failed")
                self.errors.append(exc)
            with self._sync_cond:
                self._synced_generation = max(self._synced_generation, generation)
                self._sync_cond.notify_all()

    # -- reconcile -------------------------------------------------------------------------------------
    def _list(self) -> list[dict[str, Any]]:
        mappings: list[dict[str, Any]] = []
        paginator = self._lambda.get_paginator("list_event_source_mappings")
        for page in paginator.paginate():
            mappings.extend(page["EventSourceMappings"])
        return mappings

    def sync(self) -> None:
        with self._lock:
            listed = {}
            for raw in self._list():
                try:
                    parsed = MappingConfig.from_api(raw)
                except ValueError:
                    continue
                if parsed.kind in SOURCE_KINDS:  # other kinds are the backend's own business
                    listed[raw["UUID"]] = parsed
            for uuid in list(self._pollers):
                config = listed.get(uuid)
                if self._pollers[uuid].source_gone:  # made again from its starting position once the stream is back
                    self._pollers.pop(uuid).stop()
                    self._checkpoints.pop(uuid, None)
                    self._report(uuid, STREAM_GONE_RESULT)
                elif config is None or not config.enabled or self._pollers[uuid].config != config:
                    self._checkpoints[uuid] = self._pollers.pop(uuid).stop()
            for uuid in set(self._checkpoints) - set(listed):
                self._checkpoints.pop(uuid, None)
            for uuid in set(self._pinned) - set(listed):
                self._pinned.pop(uuid, None)
            for uuid, config in listed.items():
                if config.enabled and uuid not in self._pollers:
                    try:
                        poller = self._make(config)
                    except StreamGone:
                        self._report(uuid, STREAM_GONE_RESULT)
                        continue
                    except Exception as exc:  # e.g. its function was deleted: AWS shows a PROBLEM state
                        log.warning("event source mapping %s cannot start: %s", uuid, exc)
                        continue
                    if poller is not None:
                        poller.start()
                        self._pollers[uuid] = poller

    def _report(self, uuid: str, result: str) -> None:
        if self._processing_result is not None:
            self._processing_result(uuid, result)

    def _reader(self, kind_name: str) -> Reader | None:
        own = self._readers.get(kind_name)
        kind, clients = SOURCE_KINDS.get(kind_name), self._clients
        if own is not None or kind is None or kind.reader is None or clients is None:
            return own
        build = kind.reader
        return lambda arn: build(clients, arn)

    def _make(self, config: MappingConfig) -> Poller | None:
        kind, reader = SOURCE_KINDS.get(config.kind), self._reader(config.kind)
        self._labels[config.uuid] = config.label
        if kind is None or reader is None:
            log.warning("no poller for %s mappings: %s", config.kind, config.uuid)
            return None
        context = PollerContext(
            reader=reader(config.event_source_arn),
            invoker=self._invoker,
            sink=self._sink,
            clock=self._clock,
            region=self._region,
            observer=self._observer,
            stats=self._stats.setdefault(config.uuid, MappingStats()),
            idle_poll_s=self._idle_poll_s,
            checkpoints=self._checkpoints.get(config.uuid),
            start_iterators=self._pinned.get(config.uuid),
            on_processing_result=self._processing_result,
        )
        return kind.make_poller(config, context)

    # -- status ----------------------------------------------------------------------------------------
    def wake(self) -> None:
        # No lock: a put (which calls this) must not wait behind a sync; a poller missed here is woken by its
        # own short idle timeout.
        for poller in list(self._pollers.values()):
            poller.wake()

    def idle_since(self, since: float) -> bool:
        """Every mapping has read past everything put before ``since`` (monotonic) and has no work left."""
        with self._lock:
            return not self._dirty.is_set() and all(p.idle_since(since) for p in self._pollers.values())

    def set_observer(self, observer: MappingObserver | None) -> None:
        """Observer for pollers started from now on (a run sets it before it deploys)."""
        self._observer = observer or NullObserver()

    def poller_errors(self) -> list[BaseException]:
        with self._lock:
            return self.errors + [e for p in self._pollers.values() for e in p.errors]

    def stats(self) -> dict[str, MappingStats]:
        return dict(self._stats)

    def labels(self) -> dict[str, str]:
        """UUID -> ``stream/clicks -> enrich`` for every mapping that ran since the last reset."""
        return dict(self._labels)

    def running(self) -> set[str]:
        """UUIDs of the mappings whose poller runs now."""
        with self._lock:
            return set(self._pollers)
