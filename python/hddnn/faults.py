"""Faults injected into a running system from the launcher, on schedule: a rank killed.

The schedule's clock starts once every rank has set up (touched <out>.rank<i>.ready), so
a fault never lands in MPI start-up, however slow the hosts. Ranks are found among the
processes on this machine (the launcher's own host, or hosts emulated here).
"""
import os
import signal
import subprocess
import threading
import time
from typing import Callable, Iterable, List, Optional, Tuple

from .errors import ConfigError


def parse_kill(text: str) -> Tuple[int, float]:
    """'RANK@SECONDS' -> (rank, seconds); ConfigError naming the syntax otherwise."""
    rank, sep, seconds = text.partition("@")
    try:
        if not sep or not rank.isdigit() or float(seconds) < 0:
            raise ValueError
        return int(rank), float(seconds)
    except ValueError:
        raise ConfigError(f"kill: expected RANK@SECONDS, got '{text}'") from None


def descendants(pid: int) -> List[int]:
    """Every process on this machine descended from `pid`."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILLs a process started here and everything it started on this machine."""
    for pid in [proc.pid, *descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _environment(pid: int) -> dict:
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)


def world_rank_of(pid: int) -> Optional[int]:
    """The MPI rank (in its job) of a process mpirun started, else None."""
    try:
        env = _environment(pid)
        return int(env[b"OMPI_COMM_WORLD_RANK"]) if b"OMPI_COMM_WORLD_RANK" in env else None
    except (OSError, ValueError, IndexError):
        return None


def rank_pids(*roots: int) -> dict:
    """PID of each rank started by these mpiruns on this machine (on its own host, or on
    hosts emulated here: hddnn.emulated_hosts): their descendants, identified by the
    OMPI_COMM_WORLD_RANK in their environment."""
    pids = {}
    for root in roots:
        for pid in descendants(root):
            rank = world_rank_of(pid)
            if rank is not None:
                pids[rank] = pid
    return pids


def kill_rank(pids: Callable[[], dict], rank: int) -> dict:
    """SIGKILLs one rank (`pids` maps run ranks to their processes); what was done, for
    the results' "kills"."""
    pid = pids().get(rank)
    if pid is None:
        return {"rank": rank, "at_s": None, "error": "rank not found"}
    unix_ms = time.time() * 1000  # just before the signal: detection times measured from it err long
    os.kill(pid, signal.SIGKILL)
    return {"rank": rank, "pid": pid, "unix_ms": unix_ms}


class Schedule:
    """Runs `events` ((seconds, action) pairs; an action returns a dict describing what it
    did) at their time, counted from the moment every one of `ready_files` exists. Each
    record gets "at_s", the seconds actually elapsed. Gives up at `limit` seconds."""

    def __init__(self, events: Iterable[Tuple[float, Callable[[], dict]]], ready_files: List[str], limit: float):
        self.events = sorted(events, key=lambda event: event[0])
        self.ready_files, self.done = ready_files, []
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(limit,), daemon=True)
        if self.events:
            self.thread.start()

    def _run(self, limit: float) -> None:
        deadline = time.time() + limit
        while not all(os.path.exists(path) for path in self.ready_files):
            if self.cancelled.wait(0.02) or time.time() > deadline:
                return
        start = time.time()
        for at, action in self.events:
            if self.cancelled.wait(max(0.0, start + at - time.time())):
                return
            record = action()
            record.setdefault("at_s", round(time.time() - start, 3))
            self.done.append(record)

    def cancel(self) -> None:
        self.cancelled.set()
        if self.thread.is_alive():
            self.thread.join()
