"""Figure 1: boot + deploy of the clickstream pipeline, and the emulator alone ready.

Each side runs in a fresh interpreter (``python -m bench.boot pipemu|moto``) so neither inherits the other's
imports or caches. Imports are timed apart: a pytest session or a ``pipemu`` command pays them once.
Baseline: a bare ``ThreadedMotoServer`` and the same resources created through boto3 (pipemu's deployer on
stock moto, without pipemu's seams, runtime or worker warm-up).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from bench.figures import Figure


def _pipemu() -> dict[str, float]:
    t0 = time.perf_counter()
    from bench.common import CLICKSTREAM
    from bench.wiring import wire
    from emulator.backends.embedded import EmbeddedBackend
    from emulator.deploy import Deployer
    from emulator.spec.pipeline import load_pipeline

    t_import = time.perf_counter()
    spec = load_pipeline(CLICKSTREAM)
    backend = EmbeddedBackend()
    t1 = time.perf_counter()
    try:
        backend.start()
        wire(backend)
        t_ready = time.perf_counter()
        deployment = Deployer(backend.client).deploy(spec)
        t_resources = time.perf_counter()
        backend.warm(deployment.concurrency(spec))
        assert backend.esm is not None
        backend.esm.wait_synced()
        t_deployed = time.perf_counter()
    finally:
        backend.stop()
        from emulator.backends.moto_seams import kinesis_store

        kinesis_store.uninstall()
    return {"import": t_import - t0, "ready": t_ready - t1, "boot_deploy": t_deployed - t1,
            "warm": t_deployed - t_resources}


def _moto() -> dict[str, float]:
    t0 = time.perf_counter()
    import logging

    from moto.server import ThreadedMotoServer

    from bench.common import CLICKSTREAM
    from emulator.backends.base import make_client
    from emulator.backends.embedded import free_port
    from emulator.deploy import Deployer
    from emulator.spec.pipeline import load_pipeline

    t_import = time.perf_counter()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    spec = load_pipeline(CLICKSTREAM)
    port = free_port()
    t1 = time.perf_counter()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        t_ready = time.perf_counter()
        url = f"http://127.0.0.1:{port}"
        Deployer(lambda service: make_client(service, endpoint_url=url, region="us-east-1")).deploy(spec)
        t_deployed = time.perf_counter()
    finally:
        server.stop()
    return {"import": t_import - t0, "ready": t_ready - t1, "boot_deploy": t_deployed - t1}


def _fresh(side: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.boot", side], capture_output=True, text=True, timeout=300, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench.boot {side} failed:\n{out.stderr[-2000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool) -> list[Figure]:
    rounds = 1 if quick else 3
    pipemu = [_fresh("pipemu") for _ in range(rounds)]
    moto = [_fresh("moto") for _ in range(rounds)]

    def best(runs: list[dict[str, float]], key: str) -> float:
        return min(r[key] for r in runs)  # the least disturbed of the rounds on a shared machine

    return [
        Figure("boot_deploy_s", best(pipemu, "boot_deploy"), "s", 0.5, best(moto, "boot_deploy"),
               note="baseline: bare moto server + same resources via boto3"),
        Figure("emulator_ready_s", best(pipemu, "ready"), "s", 0.2, best(moto, "ready"),
               note="baseline: bare ThreadedMotoServer.start()"),
        Figure("handler_warm_s", best(pipemu, "warm"), "s", None, None,
               note="part of boot_deploy_s: worker processes start and import the handlers (boto3 included)"),
        Figure("import_s", best(pipemu, "import"), "s", None, best(moto, "import"),
               note="once per process; baseline: import moto.server + boto3 + pipemu's deployer"),
    ]


def main(argv: list[str]) -> None:
    result: Any = _pipemu() if argv[0] == "pipemu" else _moto()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
