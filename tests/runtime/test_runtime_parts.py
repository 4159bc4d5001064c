"""Unit tests of the runtime's parts that need no worker process: pool bookkeeping, frames, AWS text."""

from __future__ import annotations

import pytest

from emulator.errors import HarnessError
from emulator.runtime import awsformat, protocol
from emulator.runtime.pool import WorkerPool
from emulator.runtime.spec import FunctionSpec


class FakeWorker:
    def __init__(self, generation: str) -> None:
        self.generation = generation
        self.is_alive = True
        self.killed = False
        self.closed = False

    def alive(self) -> bool:
        return self.is_alive and not self.closed

    def kill(self) -> None:
        self.killed = True

    def close(self) -> None:
        self.closed = True


class Spawner:
    def __init__(self) -> None:
        self.spawned: list[FakeWorker] = []

    def __call__(self, generation: str) -> FakeWorker:
        worker = FakeWorker(generation)
        self.spawned.append(worker)
        return worker


def test_pool_reuses_a_released_worker() -> None:
    pool: WorkerPool[FakeWorker] = WorkerPool("fn", 2)
    spawn = Spawner()

    first, fresh1 = pool.acquire("g1", lambda: spawn("g1"))
    pool.release(first, reusable=True)
    second, fresh2 = pool.acquire("g1", lambda: spawn("g1"))

    assert second is first
    assert (fresh1, fresh2) == (True, False)


def test_pool_spawns_a_second_worker_while_the_first_is_busy() -> None:
    pool: WorkerPool[FakeWorker] = WorkerPool("fn", 2)
    spawn = Spawner()

    a, _ = pool.acquire("g1", lambda: spawn("g1"))
    b, fresh = pool.acquire("g1", lambda: spawn("g1"))

    assert a is not b and fresh
    assert len(spawn.spawned) == 2


def test_pool_closes_idle_workers_of_an_old_generation() -> None:
    pool: WorkerPool[FakeWorker] = WorkerPool("fn", 2)
    spawn = Spawner()
    old, _ = pool.acquire("g1", lambda: spawn("g1"))
    pool.release(old, reusable=True)

    new, fresh = pool.acquire("g2", lambda: spawn("g2"))

    assert fresh and new.generation == "g2"
    assert old.closed


def test_pool_closes_a_busy_old_generation_worker_when_it_comes_back() -> None:
    pool: WorkerPool[FakeWorker] = WorkerPool("fn", 2)
    spawn = Spawner()
    old, _ = pool.acquire("g1", lambda: spawn("g1"))
    new, _ = pool.acquire("g2", lambda: spawn("g2"))

    pool.release(old, reusable=True)

    assert old.closed and not new.closed


def test_pool_skips_and_closes_an_idle_worker_that_died() -> None:
    pool: WorkerPool[FakeWorker] = WorkerPool("fn", 1)
    spawn = Spawner()
    dead, _ = pool.acquire("g1", lambda: spawn("g1"))
    pool.release(dead, reusable=True)
    dead.is_alive = False

    worker, fresh = pool.acquire("g1", lambda: spawn("g1"))

    assert fresh and worker is not dead and dead.closed


def test_pool_does_not_keep_a_worker_released_as_not_reusable() -> None:
    pool: WorkerPool[FakeWorker] = WorkerPool("fn", 1)
    spawn = Spawner()
    worker, _ = pool.acquire("g1", lambda: spawn("g1"))

    pool.release(worker, reusable=False)

    assert worker.closed
    assert pool.acquire("g1", lambda: spawn("g1"))[1] is True


def test_pool_frees_the_slot_when_spawning_fails() -> None:
    pool: WorkerPool[FakeWorker] = WorkerPool("fn", 1)

    def broken() -> FakeWorker:
        raise OSError("no more processes")

    with pytest.raises(OSError):
        pool.acquire("g1", broken)
    worker, fresh = pool.acquire("g1", lambda: FakeWorker("g1"))  # would block forever if the slot leaked

    assert fresh and worker.generation == "g1"


def test_closed_pool_kills_busy_closes_idle_and_refuses_work() -> None:
    pool: WorkerPool[FakeWorker] = WorkerPool("fn", 2)
    spawn = Spawner()
    idle, _ = pool.acquire("g1", lambda: spawn("g1"))
    busy, _ = pool.acquire("g1", lambda: spawn("g1"))
    pool.release(idle, reusable=True)

    pool.close()

    assert idle.closed and busy.killed and not busy.closed
    pool.release(busy, reusable=True)
    assert busy.closed
    with pytest.raises(HarnessError, match="closed"):
        pool.acquire("g1", lambda: spawn("g1"))


def test_frames_round_trip_and_wait_for_their_last_byte() -> None:
    result = protocol.encode(protocol.RESULT, {"ok": True}, b'{"x": 1}')
    data = result + protocol.encode(protocol.LOG, None, b"hi")
    reader = protocol.FrameReader()

    reader.feed(data[:7])
    assert reader.next() is None
    reader.feed(data[7:])

    assert reader.next() == protocol.Frame(protocol.RESULT, {"ok": True}, b'{"x": 1}')
    assert reader.next() == protocol.Frame(protocol.LOG, {}, b"hi")
    assert reader.next() is None


def test_exit_reasons_use_the_lambda_service_wording() -> None:
    assert awsformat.exit_reason(-9) == "signal: killed"
    assert awsformat.exit_reason(-11) == "signal: segmentation fault"
    assert awsformat.exit_reason(1) == "exit status 1"
    assert awsformat.exit_message("r", 0) == "RequestId: r Error: Runtime exited without providing a reason"


def test_timeout_text_has_two_decimals() -> None:
    assert awsformat.timeout_message(3) == "Task timed out after 3.00 seconds"
    assert awsformat.timeout_message(0.5) == "Task timed out after 0.50 seconds"


def test_generation_changes_with_code_or_configuration_but_not_timeout() -> None:
    base = FunctionSpec(name="f", arn="arn", handler="a.h", code_zip=b"", code_sha256="s1")

    def gen(**changes: object) -> str:
        fields = {**base.__dict__, **changes}
        return FunctionSpec(**fields).generation()

    assert gen() == base.generation()
    assert gen(timeout_s=60) == base.generation()
    assert gen(code_sha256="s2") != base.generation()
    assert gen(environment={"A": "1"}) != base.generation()
    assert gen(memory_mb=1024) != base.generation()
