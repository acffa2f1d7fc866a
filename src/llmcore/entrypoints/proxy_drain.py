"""Draining one proxy process on shutdown: in-flight requests get the grace period, then end cleanly.

The same in the single-process server and in every gunicorn worker, inside aiohttp's
``AppRunner.cleanup()``:

1. the listening sites stop, so new connections are refused, and idle keep-alive
   connections close (aiohttp);
2. ``on_shutdown`` (here): wait until every request in flight has finished, at most
   :func:`drain_deadline` seconds;
3. still open then: each request is cancelled with :data:`DRAIN_CANCEL`. A stream that has
   sent its first chunk ends with an SSE error event (code ``server_shutting_down``) and
   ``data: [DONE]`` (``proxy_streaming``); a request with no response yet is answered 503
   ``server_shutting_down`` (the middleware here). Nothing is cut silently;
4. aiohttp's own shutdown, then ``on_cleanup`` (LiteLLM's pooled clients close).

:meth:`Drain.end_early` (a second SIGTERM or SIGINT during the drain, what an operator's second
Ctrl-C means) skips the rest of step 2: the requests still open go through step 3 at once.

The last part of the grace (:func:`drain_deadline`) is kept for steps 3 and 4, so a process is gone
within ``grace_seconds`` of SIGTERM: gunicorn's ``graceful_timeout`` (the same figure) kills a
worker that is not, and Kubernetes' ``terminationGracePeriodSeconds`` is sized on it.

:class:`DrainReport` says whether the drain completed (nothing had to be ended early); the CLI turns
it into the exit code (``EXIT_DRAIN_INCOMPLETE``, docs/deploy.md).
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from attrs import asdict, frozen
from loguru import logger

from llmcore.entrypoints.openai_wire import ErrorKind, error_body

# The cancel message that tells a handler "the grace ran out", as opposed to a client that went away.
DRAIN_CANCEL = "llmcore: the drain grace period ran out"
SHUTTING_DOWN = ErrorKind(status=503, type="service_unavailable_error", code="server_shutting_down")
SHUTTING_DOWN_MESSAGE = ("the llmcore proxy is shutting down and its grace period ran out before this request "
                         "finished; retry the request (another instance or the restarted one will serve it)")
# At most this much of the grace is kept for ending the open requests and closing pooled clients.
CLOSE_SECONDS = 1.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def drain_deadline(grace_seconds: float) -> float:
    """Seconds the requests in flight get: the grace minus 1 s, or minus a tenth of it when it is under
    10 s (10 -> 9, 3 -> 2.7, 1 -> 0.9): the rest is kept for ending what is still open."""
    grace = max(0.0, float(grace_seconds))
    return grace - min(CLOSE_SECONDS, grace / 10)


def is_drain_cut(error: BaseException) -> bool:
    """True for the cancellation :class:`Drain` sends when the grace runs out (not a client disconnect)."""
    return isinstance(error, asyncio.CancelledError) and DRAIN_CANCEL in error.args


def shutting_down_event() -> dict[str, Any]:
    """The SSE error event for a stream ended by the drain (then ``data: [DONE]``)."""
    return error_body(SHUTTING_DOWN_MESSAGE, SHUTTING_DOWN)


def uncancel_current_task() -> None:
    """Take back the drain's cancellation so the handler can still write its ending."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


@frozen(kw_only=True)
class DrainReport:
    """How one process's drain went. ``cut``: requests still open at the deadline, ended early."""

    pid: int
    in_flight: int
    cut: int
    seconds: float

    @property
    def completed(self) -> bool:
        return self.cut == 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> DrainReport:
        data = json.loads(text)
        return cls(pid=int(data["pid"]), in_flight=int(data["in_flight"]), cut=int(data["cut"]),
                   seconds=float(data["seconds"]))


class Drain:
    """The requests in flight of one aiohttp application and its drain on shutdown.

    ``install(app)`` adds the middleware that tracks requests and the ``on_shutdown`` step;
    ``report`` is set once the drain ran (None: no shutdown yet). ``on_finished`` receives the
    report (a gunicorn worker writes it where its master reads it).
    """

    def __init__(self, grace_seconds: float, pid: int,
                 on_finished: Callable[[DrainReport], None] | None = None) -> None:
        self.deadline = drain_deadline(grace_seconds)
        self.close_seconds = max(0.0, float(grace_seconds)) - self.deadline
        self._pid = pid
        self._on_finished = on_finished
        self._tasks: set[asyncio.Task[Any]] = set()
        self._end_early = asyncio.Event()
        self.report: DrainReport | None = None

    @property
    def completed(self) -> bool:
        """False only when the grace ran out with requests still open."""
        return self.report is None or self.report.completed

    def end_early(self) -> None:
        """Stop waiting for the requests in flight: each still open ends at once with its
        ``server_shutting_down`` ending, and the drain counts as incomplete. Safe to call before the
        drain started (it then ends at once) and more than once; only from the application's loop."""
        if not self._end_early.is_set():
            self._end_early.set()
            logger.bind(event="proxy_drain_ended_early", in_flight=self._open_count()).warning(
                "a second shutdown signal: the drain ends now; the requests still open end with a "
                "server_shutting_down error")

    def _open_count(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    async def _wait_in_flight(self) -> None:
        # Until every request finished, the deadline passed, or end_early() was called.
        loop = asyncio.get_running_loop()
        until = loop.time() + self.deadline
        early = asyncio.ensure_future(self._end_early.wait())
        try:
            while not self._end_early.is_set():
                pending = {task for task in self._tasks if not task.done()}
                left = until - loop.time()
                if not pending or left <= 0:
                    return
                await asyncio.wait(pending | {early}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        finally:
            early.cancel()

    def install(self, app: web.Application) -> Drain:
        app.middlewares.append(self.middleware)
        app.on_shutdown.append(self.on_shutdown)
        return self

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - aiohttp always runs a handler in a task
            return await handler(request)
        self._tasks.add(task)
        try:
            return await handler(request)
        except asyncio.CancelledError as error:
            # Headers already sent (a stream that did not end itself): nothing valid can follow; let it close.
            if not is_drain_cut(error) or request.writer.output_size > 0:
                raise
            uncancel_current_task()
            body = error_body(SHUTTING_DOWN_MESSAGE, SHUTTING_DOWN)
            return web.json_response(body, status=SHUTTING_DOWN.status,
                                     headers={"Connection": "close", "Retry-After": "1"})
        finally:
            self._tasks.discard(task)

    async def on_shutdown(self, app: web.Application) -> None:
        started = time.monotonic()
        in_flight = len(self._tasks)
        if in_flight:
            logger.bind(event="proxy_draining", in_flight=in_flight).info(
                f"draining {in_flight} request(s) in flight; they get {self.deadline:g} s")
            await self._wait_in_flight()
        open_now = [task for task in self._tasks if not task.done()]
        for task in open_now:
            task.cancel(DRAIN_CANCEL)
        if open_now:
            # Each ends itself (error event and [DONE], or a 503) in well under the time kept for it.
            await asyncio.wait(open_now, timeout=max(self.close_seconds, 0.1))
            why, advice = (("a second shutdown signal ended the drain early", "") if self._end_early.is_set()
                           else ("the grace ran out", "; raise --grace-seconds if requests need longer"))
            logger.bind(event="proxy_drain_incomplete", cut=len(open_now)).warning(
                f"{why}: {len(open_now)} request(s) still open were ended with a server_shutting_down error{advice}")
        self.report = DrainReport(pid=self._pid, in_flight=in_flight, cut=len(open_now),
                                  seconds=round(time.monotonic() - started, 3))
        if self._on_finished is not None:
            self._on_finished(self.report)
