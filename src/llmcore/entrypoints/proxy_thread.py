"""The proxy served from a background thread with its own event loop (for ``llmcore smoke`` and tests).

    with BackgroundProxy(runtime) as proxy:
        openai.OpenAI(base_url=proxy.base_url, api_key="...", max_retries=0)
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

from llmcore.bootstrap import Runtime
from llmcore.domain.secret import Secret
from llmcore.entrypoints.proxy import serve

START_TIMEOUT_SECONDS = 15.0


class BackgroundProxy:
    """A running proxy on ``127.0.0.1`` and an ephemeral port until ``stop()``."""

    def __init__(
        self, runtime: Runtime, *, host: str = "127.0.0.1", port: int = 0, grace_seconds: float = 2.0,
        secrets: Iterable[Secret | str] | None = None,
    ) -> None:
        self._runtime = runtime
        self._host = host
        self._requested_port = port
        self._grace = grace_seconds
        self._secrets = secrets
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port: int | None = None
        self.drained: bool | None = None  # after stop(): whether the shutdown's drain completed

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:41234``."""
        if self.port is None:
            raise RuntimeError("the proxy is not running; call start() or use it as a context manager")
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as ``base_url``."""
        return f"{self.url}/v1"

    def start(self) -> BackgroundProxy:
        self._thread = threading.Thread(target=self._run, name="llmcore-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError("the proxy did not start in time")
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def stop(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._thread = None
        self.port = None

    def __enter__(self) -> BackgroundProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # handed to start(), which re-raises it in the caller's thread
            self._error = error
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.drained = await serve(self._runtime, self._host, self._requested_port, self._grace, self._on_ready,
                                   stop=self._stop, secrets=self._secrets)

    def _on_ready(self, port: int) -> None:
        self.port = port
        self._ready.set()
