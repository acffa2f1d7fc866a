"""The native adapter's pooled HTTP clients: one aiohttp session per event loop, one httpx client for sync calls.

Why two clients: aiohttp is the proxy's own server stack and the fastest Python async client we
have (measured in docs/performance.md), but it has no sync API; running it on a private loop
thread for sync callers would add a thread hop to every call. httpx's sync ``Client`` (locked
already as LiteLLM's own client) pools connections and is thread-safe. Both are created on
first use, so building the adapter opens nothing, and both are released by the Core's lifecycle
(Decision 20): ``close()`` the sync client, ``aclose()`` the async session of the running loop.

A session belongs to the loop it was made in (aiohttp's connector is bound to it), so sessions
are kept per loop; a session whose loop has ended is dropped (its sockets went with the loop).
"""
from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # both are imported on first use: `import llmcore` stays light
    import aiohttp
    import httpx

# Connections kept per host. The proxy serves many concurrent requests over one session; aiohttp's
# default (100 per session) would queue the 101st stream behind the others.
POOL_LIMIT = 1000
KEEPALIVE_SECONDS = 30.0


class HttpClients:
    """Lazily opened clients; ``close``/``aclose`` release them, and the next call opens new ones."""

    def __init__(self) -> None:
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
            weakref.WeakKeyDictionary())
        self._sync: httpx.Client | None = None
        self._lock = threading.Lock()

    def session(self) -> aiohttp.ClientSession:
        """The running loop's session, opened on first use."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=POOL_LIMIT, keepalive_timeout=KEEPALIVE_SECONDS)
            # No session-wide timeout: each request sets its own (the model's), per read like the OpenAI SDK.
            session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=None), auto_decompress=True,
                trust_env=False, skip_auto_headers=("User-Agent",),
            )
            self._sessions[loop] = session
        return session

    def sync_client(self) -> httpx.Client:
        """The process's sync client for this adapter, opened on first use (thread-safe)."""
        client = self._sync
        if client is None or client.is_closed:
            with self._lock:
                client = self._sync
                if client is None or client.is_closed:
                    import httpx

                    # trust_env=False: no proxy, netrc or certificate settings from the environment
                    # reach a call whose key and base URL are explicit.
                    client = httpx.Client(
                        trust_env=False, timeout=None,
                        limits=httpx.Limits(max_connections=POOL_LIMIT, max_keepalive_connections=100,
                                            keepalive_expiry=KEEPALIVE_SECONDS),
                    )
                    self._sync = client
        return client

    def close(self) -> None:
        """Close the sync client (idempotent, never raises); async sessions need their loop: see aclose."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    async def aclose(self) -> None:
        """Close the running loop's session and the sync client; forget sessions of loops that have ended."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        session = self._sessions.pop(loop, None) if loop is not None else None
        for other in [key for key in list(self._sessions) if key.is_closed()]:
            self._sessions.pop(other, None)
        if session is not None:
            with contextlib.suppress(Exception):
                await session.close()
        self.close()
