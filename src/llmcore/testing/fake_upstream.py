"""What the fake provider servers share: a loopback aiohttp server in a daemon thread, and a record of requests.

Each fake (``fake_anthropic``, ``fake_azure``) speaks its provider's own wire format; this
module runs it and records what it saw. A credential is never kept whole: the record holds the
last four characters of each credential-bearing header (``authorization``, ``x-api-key``,
``api-key``), enough to tell canary keys apart, and nothing a leaked log could replay.
"""
from __future__ import annotations

import asyncio
import re
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

import attrs
from aiohttp import web

START_TIMEOUT_SECONDS = 10.0
SHUTDOWN_GRACE_SECONDS = 0.5
# Header names that can carry a credential; the fakes keep only their values' last four characters.
CREDENTIAL_HEADER = re.compile(r"key|token|secret|auth|cookie|password", re.IGNORECASE)


@attrs.frozen
class UpstreamRequest:
    """One request a fake provider saw: path, query, body, header names and credential tails."""

    method: str
    path: str
    query: dict[str, str] = attrs.field(eq=False, hash=False)
    body: dict[str, Any] = attrs.field(eq=False, hash=False)
    header_names: tuple[str, ...]
    credential_tails: dict[str, str] = attrs.field(eq=False, hash=False)

    @property
    def stream(self) -> bool:
        return self.body.get("stream") is True


@attrs.frozen
class ErrorReply:
    """A scripted error answer: status, JSON body and extra headers, sent once."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = attrs.field(factory=dict)


def record_of(request: web.Request, body: dict[str, Any]) -> UpstreamRequest:
    tails = {name.lower(): _tail(value) for name, value in request.headers.items() if CREDENTIAL_HEADER.search(name)}
    return UpstreamRequest(
        method=request.method, path=request.path, query=dict(request.query), body=body,
        header_names=tuple(sorted(name.lower() for name in request.headers)), credential_tails=tails,
    )


def _tail(value: str) -> str:
    token = value.split()[-1] if value.split() else ""
    return token[-4:]


async def json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class FakeUpstream:
    """Base of the fake provider servers: ``127.0.0.1``, an ephemeral port, a background thread.

    Subclasses implement :meth:`routes`; :attr:`requests` lists what was seen, :meth:`script`
    queues error answers for the next requests.
    """

    name = "fake-upstream"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._requests: list[UpstreamRequest] = []
        self._errors: deque[Any] = deque()
        self._disconnected = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._start_error: BaseException | None = None
        self.port: int | None = None

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:41234``."""
        if self.port is None:
            raise RuntimeError(f"{type(self).__name__} is not running; use it as a context manager")
        return f"http://{self._host}:{self.port}"

    @property
    def requests(self) -> list[UpstreamRequest]:
        with self._lock:
            return list(self._requests)

    def script(self, *errors: Any) -> None:
        """Answer the next requests with these scripted items (``ErrorReply``, or what a subclass takes), in order."""
        with self._lock:
            self._errors.extend(errors)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._errors.clear()
            self._disconnected.clear()

    def mark_disconnected(self) -> None:
        """A streaming client went away before its stream finished."""
        self._disconnected.set()

    def wait_for_disconnect(self, timeout: float = 2.0) -> bool:
        """True once some streaming client went away before its stream finished."""
        return self._disconnected.wait(timeout)

    def record(self, record: UpstreamRequest) -> Any:
        """Keep ``record``; the scripted item to answer it with, if one is queued."""
        with self._lock:
            self._requests.append(record)
            return self._errors.popleft() if self._errors else None

    def start(self) -> FakeUpstream:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT_SECONDS) or self._start_error is not None:
            self._thread.join(1)
            raise RuntimeError(f"{type(self).__name__} did not start") from self._start_error
        return self

    def stop(self) -> None:
        thread, loop, stop_requested = self._thread, self._loop, self._stop_requested
        if thread is None:
            return
        if loop is not None and stop_requested is not None and thread.is_alive():
            loop.call_soon_threadsafe(stop_requested.set)
        thread.join()
        self._thread = self._loop = self._stop_requested = None
        self.port = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as error:  # handed to start(), which raises in the caller's thread
            self._start_error = error
        finally:
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        app = web.Application()
        app.add_routes(self.routes())
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._requested_port)
            await site.start()
            self.port = runner.addresses[0][1]
            ready.set()
            await self._stop_requested.wait()
        finally:
            await runner.cleanup()


async def send_sse(request: web.Request, events: Sequence[tuple[str | None, str]]) -> web.StreamResponse:
    """Write ``(event name, data)`` pairs as one SSE stream; a None name writes a bare ``data:`` block."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    for event, data in events:
        block = (f"event: {event}\n" if event else "") + f"data: {data}\n\n"
        await response.write(block.encode("utf-8"))
    await response.write_eof()
    return response
