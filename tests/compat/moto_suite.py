"""Run a sample of moto's own server-mode tests against stock moto's server and against `pipemu up`, and
report every test that passes on stock moto but not on `up` (exit 1 if there is one).

    python tests/compat/moto_suite.py [--scratch DIR] [--only stepfunctions|kinesis]

moto's tests are not part of this repository: the script downloads moto's source distribution (which ships
them) with pip into a scratch directory outside the repository. moto's server-mode tests reset the server
through ``POST /moto-api/reset`` before every test; the Step Functions interpreter tests talk to
``localhost:5000`` whatever the endpoint, so both servers run on port 5000, one after the other (tests run
serially: a second worker would reset the server under the first one's test). `up` runs with a Kinesis ->
Lambda mapping deployed (the clickstream fixture), so the Kinesis tests also exercise resets under a live
mapping. moto's Kinesis tests import freezegun (in pipemu's test extras).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "fixtures" / "clickstream" / "pipeline.yaml"
MOTO_VERSION = "5.2.5"
PORT = 5000
SAMPLES = {
    "stepfunctions": ["tests/test_stepfunctions"],
    "kinesis": ["tests/test_kinesis/test_kinesis.py", "tests/test_kinesis/test_kinesis_boto3.py",
                "tests/test_kinesis/test_kinesis_stream_consumers.py", "tests/test_kinesis/test_kinesis_encryption.py",
                "tests/test_kinesis/test_kinesis_stream_limits.py"],
}


def moto_source(scratch: Path) -> Path:
    """moto's unpacked sdist (downloaded once into ``scratch``)."""
    tree = scratch / f"moto-{MOTO_VERSION}"
    if not (tree / "tests").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "download", f"moto=={MOTO_VERSION}", "--no-binary", ":all:",
                        "--no-deps", "-q", "-d", str(scratch)], check=True)
        with tarfile.open(scratch / f"moto-{MOTO_VERSION}.tar.gz") as archive:
            archive.extractall(scratch, filter="data")
    return tree


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=5) as response:
            return int(response.status) == 200
    except OSError:
        return False


@contextmanager
def server(kind: str, workdir: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{PORT}"
    if _answers(url):
        raise SystemExit(f"something already answers on port {PORT}: stop it first")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    argv = ([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(PORT)] if kind == "stock" else
            [sys.executable, "-m", "emulator.cli", "up", str(PIPELINE), "--port", str(PORT), "--quiet"])
    log = (workdir / f"{kind}-server.log").open("w")
    proc = subprocess.Popen(argv, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while not _answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the {kind} server did not start; see {log.name}")
            time.sleep(0.2)  # polling for the server to answer
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def run_sample(tree: Path, url: str, paths: list[str], junit: Path) -> dict[str, str]:
    env = {**os.environ, "TEST_SERVER_MODE": "true", "TEST_SERVER_MODE_ENDPOINT": url}
    env.pop("PYTHONPATH", None)  # moto's tests import the installed moto, not pipemu
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                    "-o", "addopts=", f"--junitxml={junit}", *paths], cwd=tree, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3600)
    outcomes: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        tags = {child.tag for child in case}
        outcomes[name] = ("failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags
                          else "passed")
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / "pipemu-moto-suite")
    parser.add_argument("--only", choices=sorted(SAMPLES))
    args = parser.parse_args()
    args.scratch.mkdir(parents=True, exist_ok=True)
    tree = moto_source(args.scratch)
    regressions = 0
    for sample, paths in SAMPLES.items():
        if args.only and sample != args.only:
            continue
        results = {}
        for kind in ("stock", "up"):
            with tempfile.TemporaryDirectory() as workdir, server(kind, Path(workdir)) as url:
                results[kind] = run_sample(tree, url, paths, args.scratch / f"{sample}-{kind}.xml")
        stock, up = results["stock"], results["up"]
        count = {k: {o: sum(v == o for v in r.values()) for o in ("passed", "failed", "skipped")}
                 for k, r in results.items()}
        print(f"{sample}: stock moto {count['stock']}, pipemu up {count['up']}")
        worse = sorted(t for t, o in stock.items() if o == "passed" and up.get(t) != "passed")
        better = sorted(t for t, o in up.items() if o == "passed" and stock.get(t) != "passed")
        for test in worse:
            print(f"  REGRESSION (passes on stock moto, {up.get(test, 'missing')} on up): {test}")
        for test in better:
            print(f"  passes on up only: {test}")
        regressions += len(worse)
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
