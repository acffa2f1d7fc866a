"""What the kernel says about the processes under test: CPU time, RSS, process trees and CPU affinity.

Everything is read from ``/proc`` (Linux only): ``utime + stime`` from ``/proc/<pid>/stat`` and
``VmRSS`` from ``/proc/<pid>/status``, summed over a process and its descendants.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")
# Read at import, before any benchmark pins itself: the CPUs this run may spread its processes over.
ALL_CPUS = frozenset(os.sched_getaffinity(0))


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    return raw[raw.rindex(")") + 2:].split()


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (a scan of /proc: works without CONFIG_PROC_CHILDREN)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its living descendants (bounded by the number of processes on the machine)."""
    pids, frontier = [], [pid]
    seen: set[int] = set()
    while frontier and len(seen) < 10_000:
        current = frontier.pop()
        if current in seen or _stat_fields(current) is None:
            continue
        seen.add(current)
        pids.append(current)
        frontier.extend(children(current))
    return pids


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds consumed so far by ``pids`` (each summed over all its threads)."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs of the machine have spent busy since boot (``/proc/stat``, every process)."""
    fields = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def rss_bytes(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = (PROC / str(pid) / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
                break
    return total


def tree_cpu(pid: int) -> float:
    return cpu_seconds(tree(pid))


def tree_rss(pid: int) -> int:
    return rss_bytes(tree(pid))


def pin(pid: int, cpus: set[int] | None) -> None:
    """Pin every thread of ``pid`` and of its descendants to ``cpus`` (``taskset -a``); no-op when None."""
    if cpus is None:
        return
    for process in tree(pid):
        try:
            tids = [int(t.name) for t in (PROC / str(process) / "task").iterdir()]
        except OSError:
            continue
        for tid in tids:
            try:
                os.sched_setaffinity(tid, cpus)
            except OSError:
                pass  # the thread ended meanwhile


def unpin_self() -> None:
    """For a child process (``preexec_fn``): back to every CPU, so it can pin its own processes."""
    os.sched_setaffinity(0, ALL_CPUS)


class Cores:
    """Which CPU the load generator gets and which the server under test gets (None: no pinning)."""

    def __init__(self) -> None:
        available = sorted(ALL_CPUS)
        if len(available) >= 2:
            self.loadgen: set[int] | None = {available[0]}
            self.server: set[int] | None = {available[1]}
        else:
            self.loadgen = self.server = None

    @property
    def pinned(self) -> bool:
        return self.loadgen is not None

    def describe(self) -> str:
        if not self.pinned:
            return "not pinned (fewer than 2 CPUs available)"
        return f"load generator on CPU {min(self.loadgen or ())}, server under test on CPU {min(self.server or ())}"
