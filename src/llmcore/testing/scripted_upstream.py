"""A small scripted OpenAI-compatible upstream on 127.0.0.1, for routing and usage tests.

Where ``FakeXAIServer`` replays xAI's recorded bytes, this one answers
``POST /v1/chat/completions`` with exactly what a test gives it: a
``chat.completion`` body, a list of ``chat.completion.chunk`` events for
streams (OpenAI's wire format: ``data: {...}`` lines, the usage chunk with
empty ``choices``, ``data: [DONE]``), or an error status for every request.
It counts requests and keeps the last four characters of each key it saw,
so a test can tell which deployment served and that each got its own key.

    with ScriptedUpstream(api_key="sk-canary-a") as upstream:
        upstream.fail_with(500)          # every request fails until reset
        ...                               # point a model entry at upstream.base_url
        assert upstream.hits == 3
"""
from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

START_TIMEOUT_SECONDS = 10.0


def completion_body(content: str = "ok", usage: Mapping[str, Any] | None = None, model: str = "gpt-x",
                    reasoning: str | None = None) -> dict[str, Any]:
    """A ``chat.completion`` body as OpenAI sends it."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return {
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": dict(usage or {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}),
    }


def stream_events(content: str = "ok", usage: Mapping[str, Any] | None = None, model: str = "gpt-x",
                  reasoning: Sequence[str] = ()) -> list[dict[str, Any]]:
    """``chat.completion.chunk`` events: reasoning deltas, one content delta, the finish, the usage chunk."""
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 1, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"reasoning_content": part}) for part in reasoning]
    events += [chunk({"content": content}), chunk({}, "stop")]
    events.append({"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 1, "model": model,
                   "choices": [], "usage": dict(usage or {"prompt_tokens": 5, "completion_tokens": 2,
                                                          "total_tokens": 7})})
    return events


class ScriptedUpstream:
    """An OpenAI-compatible chat-completions server on ``127.0.0.1`` (ephemeral port), in a daemon thread."""

    def __init__(self, api_key: str, body: Mapping[str, Any] | None = None,
                 events: Sequence[Mapping[str, Any]] | None = None) -> None:
        self._api_key = api_key
        self._body = dict(body or completion_body())
        self._events = [dict(e) for e in (events or stream_events())]
        self._failure: tuple[int, dict[str, Any]] | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.key_tails: list[str | None] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("ScriptedUpstream is not running; use it as a context manager")
        return f"http://127.0.0.1:{self._port}/v1"

    def fail_with(self, status: int | None, message: str = "scripted failure") -> None:
        """Answer every request with ``status`` and an OpenAI error body from now on; None to stop failing."""
        self._failure = None if status is None else (
            status, {"error": {"message": message, "type": "server_error", "code": str(status)}})

    def reset(self) -> None:
        with self._lock:
            self.hits = 0
            self.key_tails.clear()
        self._failure = None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self._lock:
            self.hits += 1
            self.key_tails.append(token[-4:] if token else None)
        if token != self._api_key:
            return web.json_response({"error": {"message": "Incorrect API key", "code": "invalid_api_key"}},
                                     status=401)
        if self._failure is not None:
            status, error = self._failure
            return web.json_response(error, status=status)
        if not body.get("stream"):
            return web.json_response(self._body)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in self._events:
            if event.get("usage") is not None and not (body.get("stream_options") or {}).get("include_usage"):
                continue
            await response.write(b"data: " + json.dumps(event).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def __enter__(self) -> ScriptedUpstream:
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(ready)), daemon=True,
                                        name="scripted-upstream")
        self._thread.start()
        if not ready.wait(START_TIMEOUT_SECONDS) or self._port is None:
            raise RuntimeError("ScriptedUpstream did not start in time")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join()
        self._thread = self._loop = self._stop = None
        self._port = None

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            self._port = runner.addresses[0][1]
            ready.set()
            await self._stop.wait()
        finally:
            ready.set()
            await runner.cleanup()
