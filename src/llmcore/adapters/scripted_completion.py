"""ScriptedCompletion: an in-memory completion port driven by a script, for tests and dry runs.

Each call takes the next scripted item: a ChatResponse (returned), a sequence
of StreamChunks (streamed), an exception (raised), or a ``StreamThenFail``
(chunks, then an error mid-stream). With nothing scripted it answers with a
fixed default reply, so a dry run works without any setup.
"""
from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from attrs import field, frozen

from llmcore.domain.chat import ChatRequest, ChatResponse, StreamChunk
from llmcore.domain.errors import UpstreamError
from llmcore.domain.usage import Usage

DEFAULT_USAGE = Usage(prompt_tokens=12, completion_tokens=3, reasoning_tokens=5)


@frozen
class StreamThenFail:
    """A scripted stream that yields ``chunks`` and then raises ``error``."""

    chunks: tuple[StreamChunk, ...] = field(converter=tuple[StreamChunk, ...])
    error: UpstreamError


def default_response(request: ChatRequest) -> ChatResponse:
    return ChatResponse(
        content="scripted reply", reasoning_content="thinking", finish_reason="stop",
        model=request.spec.upstream_model, id="scripted-1", usage=DEFAULT_USAGE,
    )


def default_chunks(request: ChatRequest) -> tuple[StreamChunk, ...]:
    model = request.spec.upstream_model
    return (
        StreamChunk(role="assistant", reasoning_content="thinking", model=model, id="scripted-1"),
        StreamChunk(content="scripted", model=model, id="scripted-1"),
        StreamChunk(content=" reply", model=model, id="scripted-1"),
        StreamChunk(finish_reason="stop", model=model, id="scripted-1"),
        StreamChunk(usage=DEFAULT_USAGE, model=model, id="scripted-1"),
    )


class ScriptedCompletion:
    """Implements CompletionPort and AsyncCompletionPort from a script; records every request."""

    def __init__(self, script: Sequence[Any] = (), chunk_delay: float = 0.0, delay: float = 0.0) -> None:
        """``chunk_delay``: seconds between async chunks; ``delay``: seconds ``acomplete`` and ``astream`` wait
        before they answer (a slow upstream, so a test can cancel a request in flight)."""
        self._lock = threading.Lock()
        self._delay = delay
        self._script: deque[Any] = deque(script)
        self._by_model: dict[str, deque[Any]] = {}
        self._chunk_delay = chunk_delay
        self.requests: list[ChatRequest] = []
        self.closed_streams = 0

    def enqueue(self, *items: Any, model: str | None = None) -> None:
        """Queue items for the next calls (for one model's calls when ``model`` is given)."""
        with self._lock:
            queue = self._script if model is None else self._by_model.setdefault(model, deque())
            queue.extend(items)

    def _next(self, request: ChatRequest) -> Any:
        with self._lock:
            self.requests.append(request)
            own = self._by_model.get(request.spec.alias)
            if own:
                return own.popleft()
            return self._script.popleft() if self._script else None

    def complete(self, request: ChatRequest) -> ChatResponse:
        item = self._next(request)
        if isinstance(item, BaseException):
            raise item
        if item is None:
            return default_response(request)
        if not isinstance(item, ChatResponse):
            raise TypeError(f"scripted item for complete() must be a ChatResponse or an error, got {item!r}")
        return item

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        if self._delay:
            await asyncio.sleep(self._delay)
        return self.complete(request)

    def _plan(self, request: ChatRequest) -> tuple[tuple[StreamChunk, ...], UpstreamError | None]:
        item = self._next(request)
        if isinstance(item, BaseException):
            raise item
        if item is None:
            return default_chunks(request), None
        if isinstance(item, StreamThenFail):
            return item.chunks, item.error
        return tuple(item), None

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        chunks, error = self._plan(request)
        return self._iterate(chunks, error)

    def _iterate(self, chunks: tuple[StreamChunk, ...], error: UpstreamError | None) -> Iterator[StreamChunk]:
        try:
            yield from chunks
            if error is not None:
                raise error
        finally:
            self.closed_streams += 1

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        return self._aiterate(request)

    async def _aiterate(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        if self._delay:
            await asyncio.sleep(self._delay)
        chunks, error = self._plan(request)
        try:
            for chunk in chunks:
                if self._chunk_delay:
                    await asyncio.sleep(self._chunk_delay)
                yield chunk
            if error is not None:
                raise error
        finally:
            self.closed_streams += 1
