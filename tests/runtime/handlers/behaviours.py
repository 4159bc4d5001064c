"""One handler per behaviour the runtime must reproduce; each returns the worker pid where that helps."""

import logging
import os
import signal
import sys
import time
from pathlib import Path

logger = logging.getLogger("behaviours")
print("init output from behaviours")


def pid(event, context):
    return {"pid": os.getpid(), "event": event}


def echo(event, context):
    return event


def returns_none(event, context):
    return None


def sleep(event, context):
    print("going to sleep")
    time.sleep(event.get("seconds", 30))
    return {"pid": os.getpid()}


def fail(event, context):
    raise ValueError(f"bad input: {event.get('n')}")


def unserialisable(event, context):
    return {"a": {1, 2}}


def exit_hard(event, context):
    print("about to exit")
    os._exit(event.get("status", 3))


def kill_self(event, context):
    if event.get("kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    if event.get("exit") is not None:
        os._exit(event["exit"])
    return {"pid": os.getpid()}


def sys_exit(event, context):
    sys.exit(2)


def logs(event, context):
    print("printed line")
    sys.stdout.write("stdout write\n")
    sys.stderr.write("stderr write\n")
    logging.warning("root warning %s", 42)
    logging.info("root info is below the default WARNING level")
    logger.error("named logger error")
    os.write(1, b"raw fd write\n")
    return "ok"


def rendezvous(event, context):
    """Waits until ``count`` invocations have checked in under ``dir``: only concurrent invocations finish."""
    here = Path(event["dir"])
    (here / f"{os.getpid()}-{context.aws_request_id}").touch()
    while len(list(here.iterdir())) < event["count"]:
        time.sleep(0.01)
    return {"pid": os.getpid()}


def allocate(event, context):
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return {"capped": False}  # never allocate for real when no cap is in place
    block = bytearray(soft + 256 * 1024 * 1024)
    return {"capped": True, "len": len(block)}


def rlimit(event, context):
    import resource

    return {"as": resource.getrlimit(resource.RLIMIT_AS)[0]}


def non_ascii(event, context):
    return {"text": "héllo ✓"}


def block_on_fifo(event, context):
    """Opens a FIFO for reading: blocks until the test opens the write end, then until it closes it."""
    with open(event["fifo"]) as fifo:
        return {"read": fifo.read()}
