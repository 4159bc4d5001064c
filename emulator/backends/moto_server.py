"""A moto server in a subprocess, bound to 127.0.0.1 on a free port: the endpoint for the endpoint backend's
tests and for ``--backend moto-server``.

    with MotoServerProcess() as server:
        backend = EndpointBackend(server.url)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from emulator.backends.base import DEFAULT_REGION
from emulator.backends.endpoint import EndpointBackend
from emulator.errors import HarnessError, WaitTimeout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MotoServerProcess:
    def __init__(self, *, port: int | None = None, ready_timeout_s: float = 30.0) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.url = f"http://{self.host}:{self.port}"
        self._ready_timeout_s = ready_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.mkstemp(prefix="pipemu-moto-server-", suffix=".log")[1])

    def __enter__(self) -> MotoServerProcess:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> MotoServerProcess:
        env = {**os.environ, "MOTO_PORT": str(self.port)}
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._ready_timeout_s
        last = "no answer yet"
        delay = 0.02
        while time.monotonic() < deadline:
            process = self._process
            if process is not None and process.poll() is not None:
                raise HarnessError(
                    f"the moto server exited with code {process.returncode} before it answered; "
                    f"its output:\n{self.output()[-2000:]}",
                    hint="is moto[server] installed (pip install 'moto[server]')?",
                )
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/config", timeout=2) as response:
                    if 200 <= response.status < 300:  # moto answers 201
                        return
                    last = f"HTTP {response.status}"
            except (urllib.error.URLError, OSError) as exc:
                last = repr(exc)
            time.sleep(delay)  # waiting for a process to bind its port: nothing to wait on but the clock
            delay = min(delay * 2, 0.5)
        raise WaitTimeout(
            f"the moto server on {self.url} to answer", timeout_s=self._ready_timeout_s, last_seen=last,
            hint=f"see its output in {self._log}",
        )

    def output(self) -> str:
        try:
            return self._log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self._log.unlink(missing_ok=True)


class MotoServerBackend(EndpointBackend):
    """``--backend moto-server``: an endpoint backend on a moto server subprocess it starts and stops itself."""

    name = "moto-server"

    def __init__(self, *, time_scale: float = 1.0, region: str = DEFAULT_REGION) -> None:
        super().__init__("http://127.0.0.1:0", drive_locally=True, time_scale=time_scale, region=region)
        self.server: MotoServerProcess | None = None

    def start(self) -> MotoServerBackend:
        self.server = MotoServerProcess().start()
        self.endpoint_url = self.server.url
        super().start()
        return self

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            server, self.server = self.server, None
            if server is not None:
                server.stop()
