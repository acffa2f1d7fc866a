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


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the OS has one (Linux: a container's
    cpuset), else ``os.cpu_count()``. A CFS quota (``resources.limits.cpu``) is not an affinity; size
    ``--workers`` to the limit yourself there (docs/deploy.md)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


def parse_workers(value: str | int) -> int:
    """``--workers``: a whole number of at least 1, or ``auto`` (:func:`available_cpus`); ValueError else."""
    text = str(value).strip().lower()
    if text == "auto":
        return available_cpus()
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"{value!r} is neither a whole number of workers nor 'auto'") from None
    if count < 1:
        raise ValueError(f"{count} workers cannot serve; use 1 or more, or 'auto'")
    return count


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
    workers: int = field(default=1, validator=validators.ge(1))
    grace_seconds: float = field(default=DEFAULT_GRACE_SECONDS, converter=float, validator=validators.ge(0))
    preload: bool = True
    access_log: bool = False
