"""A guard against reaching real AWS by accident, from handler code or from the harness.

An audit hook (PEP 578) sees every name lookup and connect in the process and refuses AWS's public hosts, so
a handler that hard-codes ``endpoint_url="https://s3.amazonaws.com"`` or a library that ignores
AWS_ENDPOINT_URL fails loudly instead of talking to a real account. Only the AWS backend turns it off, in the
harness; in a worker process (handler code) ``lock`` makes it permanent: ``allow_real_aws(True)`` from a
handler raises, and the worker's hook has no off switch.

Host names are compared as the resolver will see them: Python encodes a ``str`` host with the IDNA codec
before looking it up, which maps look-alikes such as ``s3。amazonaws。com`` (ideographic full stops) or
full-width letters onto ``s3.amazonaws.com``; the guard applies the same encoding first.

``seal_host_environ`` keeps the host's AWS variables out of ``/proc/<harness pid>/environ``, which any process of
the same user (a handler, or something it spawns) can read: that file shows the environment the process was
started with, whatever ``os.environ`` says later.

What this protects against, and what not: see "Threat model" in the README. In short, it stops accidents and
the obvious ways out (a hard-coded endpoint, the guard's own switch, the parent's environment file); it is not a
sandbox against handler code written to escape (raw syscalls through ctypes, reading the harness's memory as
root), which runs as the same user on the same machine.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from typing import Any

AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".aws.amazon.com", ".api.aws", ".aws")
_state = {"installed": False, "armed": True, "locked": False}


class RealAwsRefused(PermissionError):
    pass


def normalise_host(host: object) -> str | None:
    """The ASCII name a resolver would be asked for, lower-cased without the root dot (None: not a name)."""
    if isinstance(host, bytes | bytearray):
        host = bytes(host).decode(errors="ignore")
    if not isinstance(host, str):
        return None
    try:
        # socket.getaddrinfo encodes str hosts with this codec (nameprep: NFKC, case folding, and the
        # U+3002/U+FF0E/U+FF61 full stops as label separators).
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        name = host
    return name.lower().rstrip(".")


def is_real_aws_host(host: object) -> bool:
    name = normalise_host(host)
    if name is None:
        return False
    return name in ("amazonaws.com", "aws.amazon.com") or name.endswith(AWS_SUFFIXES)


def _refusal(host: object) -> RealAwsRefused:
    return RealAwsRefused(
        f"pipemu refused a connection to {host}: real AWS is only reachable with the AWS backend "
        "(--backend aws). Use the AWS_ENDPOINT_URL pipemu sets instead of a hard-coded AWS endpoint."
    )


def _host_of(event: str, args: tuple[Any, ...]) -> object:
    if event == "socket.getaddrinfo" and args:
        return args[0]
    if event == "socket.connect" and len(args) > 1 and isinstance(args[1], tuple) and args[1]:
        return args[1][0]
    return None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _state["armed"]:
        return
    host = _host_of(event, args)
    if host is not None and is_real_aws_host(host):
        raise _refusal(host)


def _locked_hook(
    check: Callable[[object], bool] = is_real_aws_host, host_of: Callable[[str, tuple[Any, ...]], object] = _host_of
) -> Callable[[str, tuple[Any, ...]], None]:
    """A hook that reads no module state: rebinding ``guard._state`` or ``guard.is_real_aws_host`` from handler
    code does not change what it refuses."""

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in ("socket.getaddrinfo", "socket.connect"):
            host = host_of(event, args)
            if host is not None and check(host):
                raise _refusal(host)

    return hook


def install() -> None:
    """Arm the guard in this process (idempotent)."""
    if not _state["installed"]:
        sys.addaudithook(_hook)
        _state["installed"] = True
    _state["armed"] = True


def lock() -> None:
    """Arm the guard for good (worker processes): a second hook with no switch, and ``allow_real_aws`` refuses."""
    install()
    if not _state["locked"]:
        sys.addaudithook(_locked_hook())
        _state["locked"] = True


def allow_real_aws(allowed: bool) -> None:
    if allowed and _state["locked"]:
        raise RealAwsRefused("the real-AWS guard cannot be turned off in a handler's process")
    _state["armed"] = not allowed


SEALED_PREFIXES = ("AWS_",)


def seal_host_environ() -> list[str]:
    """Blank the host's ``AWS_*`` variables in this process's start-up environment block (what
    ``/proc/self/environ`` shows to other processes of the user), keeping their values in ``os.environ`` and
    in the C environment (each is set again first, so libc points at a fresh copy, not at the block).
    Returns the names blanked. Linux only; elsewhere (or if the block cannot be found) it does nothing."""
    try:
        with open("/proc/self/environ", "rb") as f:
            block = f.read()
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        env_start, env_end = int(fields[47]), int(fields[48])  # proc(5) fields 50 and 51; [0] is field 3
    except (OSError, IndexError, ValueError):
        return []
    if env_end - env_start != len(block):
        return []
    sealed = []
    offset = 0
    for entry in block.split(b"\0"):
        name = entry.partition(b"=")[0].decode(errors="replace")
        if entry and name.startswith(SEALED_PREFIXES):
            value = os.environ.get(name)
            if value is not None:
                os.environ[name] = value  # putenv: libc now holds its own copy
            ctypes.memset(env_start + offset, 0, len(entry))
            sealed.append(name)
        offset += len(entry) + 1
    return sealed
