"""The options of ``llmcore proxy``, read by the CLI without importing the server (aiohttp, gunicorn).

Exit codes of ``llmcore proxy`` beyond the CLI's 0 / 1 / 2 (docs/deploy.md, "Exit codes"):
``EXIT_DRAIN_INCOMPLETE`` (5) when the shutdown's grace ran out with requests still open (they
were ended with a ``server_shutting_down`` error, not cut) or a worker exited without draining
(killed at gunicorn's ``graceful_timeout``, crashed); gunicorn's own 3 (a worker failed to boot)
and 4 (the application failed to load) with ``--workers`` above 1.
"""
from __future__ import annotations

import os

from attrs import field, frozen, validators

EXIT_DRAIN_INCOMPLETE = 5
DEFAULT_GRACE_SECONDS = 10.0  # the proxy's drain grace since its first version (entrypoints/proxy.py)
# Each worker is an event loop serving many requests at once, so one per CPU already uses every CPU
# (docs/performance.md: a worker costs the same CPU per request as the single process); past that a
# worker adds ~150 MiB and no throughput. The headroom lets an operator oversubscribe on purpose;
# the cap stops a typo (--workers 1000) from forking until the machine runs out of memory.
MAX_WORKERS_PER_CPU = 4


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the OS has one (Linux: a container's
    cpuset), else ``os.cpu_count()``. A CFS quota (``resources.limits.cpu``) is not an affinity; size
    ``--workers`` to the limit yourself there (docs/deploy.md)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


def parse_workers(value: str | int) -> int:
    """``--workers``: a whole number from 1 to :func:`max_workers`, or ``auto`` (:func:`available_cpus`);
    ValueError else."""
    text = str(value).strip().lower()
    if text == "auto":
        return available_cpus()
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"{value!r} is neither a whole number of workers nor 'auto'") from None
    return check_worker_count(count)


def max_workers() -> int:
    """The most workers ``llmcore proxy`` starts: :data:`MAX_WORKERS_PER_CPU` per :func:`available_cpus`."""
    return MAX_WORKERS_PER_CPU * available_cpus()


def check_worker_count(count: int) -> int:
    """``count`` when it is from 1 to :func:`max_workers`; ValueError saying the limit and why else."""
    if count < 1:
        raise ValueError(f"{count} workers cannot serve; use 1 or more, or 'auto'")
    limit = max_workers()
    if count > limit:
        raise ValueError(
            f"{count} workers is more than the {limit} llmcore starts on the {available_cpus()} CPU(s) this "
            f"process may use ({MAX_WORKERS_PER_CPU} per CPU): each worker serves many requests at once, so "
            "past one per CPU more workers add memory (~150 MiB each), not throughput; use 'auto' (one per "
            "CPU) or a smaller number, and more replicas for more capacity")
    return count


def _workers_in_range(instance: object, attribute: object, value: int) -> None:
    check_worker_count(value)


@frozen(kw_only=True)
class ProxyOptions:
    """How to serve: where, with how many worker processes, and how a shutdown drains.

    ``grace_seconds``: the longest a shutdown takes; in-flight requests get it minus 1 s, or minus a
    tenth of it under 10 s (``proxy_drain.drain_deadline``); with workers it is also gunicorn's
    ``graceful_timeout``.
    ``preload``: import LiteLLM once in the gunicorn master before forking (workers share it);
    False only to measure what it saves. ``access_log``: one log line per request with the pid
    of the process that served it.
    """

    host: str = "127.0.0.1"
    port: int = field(default=4000, validator=[validators.ge(0), validators.le(65535)])
    workers: int = field(default=1, validator=_workers_in_range)
    grace_seconds: float = field(default=DEFAULT_GRACE_SECONDS, converter=float, validator=validators.ge(0))
    preload: bool = True
    access_log: bool = False
