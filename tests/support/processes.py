"""Child processes and listening sockets of a process, on Linux and macOS alike (psutil; macOS has no /proc)."""

from __future__ import annotations

import psutil

LOOPBACK = {"127.0.0.1", "::1"}


def children(pid: int, *, recursive: bool = False, unreaped: bool = False) -> set[int]:
    """The children (every descendant with ``recursive``) of ``pid`` that run; with ``unreaped`` also those that
    exited and wait to be reaped (zombies), which a parent that forgets to wait leaves behind."""
    try:
        found = psutil.Process(pid).children(recursive=recursive)
    except psutil.NoSuchProcess:
        return set()
    return {child.pid for child in found if unreaped or _alive(child)}


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited and waiting to be reaped, does not)."""
    try:
        return _alive(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return False


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket of ``pid`` in LISTEN state."""
    try:
        sockets = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return set()
    return {(s.laddr.ip, s.laddr.port) for s in sockets if s.status == psutil.CONN_LISTEN}
