"""Reading a LiteLLM stream the way the upstream sent it: every legal SSE form, and chunks as sent.

Two problems sit beneath LiteLLM's ``openai/`` route (and every route that
streams through the OpenAI SDK), and both are fixed here, per stream, on
that stream's own objects; nothing global is patched:

- **SSE control lines.** openai 3.57's ``SSEDecoder`` (``openai/_streaming.py``)
  dispatches an event with empty data for a block holding only ``retry:``, and
  for every blank line once an ``id:`` was seen (a ``: ping`` comment between
  events is enough); the SDK then fails to JSON-parse the empty string and
  LiteLLM reports a broken stream (openai/openai-python#2722, open; FACTS.md,
  end). The SSE standard says a block with no data dispatches nothing
  (html.spec.whatwg.org, "dispatch the event", step 2). :func:`spec_sse_decoder`
  does that, and :func:`tap` gives it to the one SDK stream LiteLLM is about to
  read (``Stream._decoder``, read when the stream's first event is pulled).
- **Fields the upstream never sent.** LiteLLM rebuilds each chunk as its own
  pydantic objects, which pad tool-call deltas with ``"name": null`` and
  ``"type": "function"`` and fold every choice's finish reason into one. The
  SDK's chunk objects remember which fields arrived (``to_dict()`` excludes
  unset fields), so :class:`RawChunkTap` keeps the SDK chunks LiteLLM pulls,
  and :func:`stream_chunks` turns *those* into StreamChunks. LiteLLM still
  drives the stream: its error mapping and its judgement of a stream that ends
  without a finish reason (``MidStreamFallbackError``) stay as they are.

A route whose stream is not an OpenAI SDK stream (``anthropic/``, ``bedrock/``,
...) is read from LiteLLM's own chunks, as before.
"""
from __future__ import annotations

import functools
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from attrs import evolve

from llmcore.adapters.litellm_convert import stream_usage, to_chunk, wire_chunks
from llmcore.domain.chat import StreamChunk
from llmcore.domain.errors import LLMCoreError

_T = TypeVar("_T")


@functools.cache
def spec_sse_decoder() -> type:
    """The SDK's ``SSEDecoder``, except that a block with no data dispatches nothing, as the SSE standard says.

    ``retry:``, ``event:`` and comment-only blocks only reset the block's
    state; ``id:`` is remembered across events, as before. Built on first use:
    importing the OpenAI SDK costs ~0.4 s, which commands that call no model
    must not pay.
    """
    from openai._streaming import SSEDecoder, ServerSentEvent

    class SpecSSEDecoder(SSEDecoder):
        def decode(self, line: str) -> ServerSentEvent | None:
            if not line and self._data in ([], [""]):
                self._event = None
                self._data = []
                self._retry = None
                return None
            return super().decode(line)

    return SpecSSEDecoder


class RawChunkTap:
    """Stands in for the SDK stream inside LiteLLM's wrapper and keeps each chunk LiteLLM pulls from it."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.pulled: deque[Any] = deque()

    def drain(self) -> list[Any]:
        """The SDK chunks pulled since the last drain, oldest first."""
        pulled = list(self.pulled)
        self.pulled.clear()
        return pulled

    def __getattr__(self, name: str) -> Any:  # response, _decoder, ...: what LiteLLM may read
        return getattr(self._stream, name)


class SyncRawChunkTap(RawChunkTap):
    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        chunk = next(self._stream)
        self.pulled.append(chunk)
        return chunk

    def close(self) -> None:
        self._stream.close()


class AsyncRawChunkTap(RawChunkTap):
    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        chunk = await self._stream.__anext__()
        self.pulled.append(chunk)
        return chunk

    async def aclose(self) -> None:
        await self._stream.close()


def tap(wrapper: Any) -> RawChunkTap | None:
    """Give the SDK stream inside LiteLLM's ``CustomStreamWrapper`` a spec decoder and a tap; None if it has none."""
    from openai import AsyncStream, Stream
    from openai._streaming import SSEDecoder

    stream = getattr(wrapper, "completion_stream", None)
    if isinstance(stream, Stream):
        chosen: RawChunkTap = SyncRawChunkTap(stream)
    elif isinstance(stream, AsyncStream):
        chosen = AsyncRawChunkTap(stream)
    else:
        return None
    if isinstance(getattr(stream, "_decoder", None), SSEDecoder):
        stream._decoder = spec_sse_decoder()()
    wrapper.completion_stream = chosen
    return chosen


def _from_tap(raw_tap: RawChunkTap) -> list[StreamChunk]:
    return [chunk for raw in raw_tap.drain() for chunk in wire_chunks(raw.to_dict())]


# What the adapter turns a failure of llmcore's own conversion code into (an InternalError: never retried).
ConversionFailed = Callable[[Exception], Exception]


def _guarded(convert: Callable[[], _T], failed: ConversionFailed) -> _T:
    # Only reading the network is LiteLLM's; turning what it read into StreamChunks is ours, and a bug
    # there must not look like a broken connection (which would be retried and billed again).
    try:
        return convert()
    except LLMCoreError:
        raise
    except Exception as exc:
        raise failed(exc) from exc


def stream_chunks(wrapper: Any, failed: ConversionFailed) -> Iterator[StreamChunk]:
    """The StreamChunks of a sync LiteLLM stream, as the upstream sent them when it can tell.

    LiteLLM's own errors (reading the network) propagate as they are, for the caller's boundary to
    translate; an exception from llmcore's conversion becomes ``failed(exc)``.
    """
    raw_tap = _guarded(lambda: tap(wrapper), failed)
    served = ""
    chunks = iter(wrapper)
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            break
        except Exception:
            # What LiteLLM pulled before it gave up was sent all the same.
            if raw_tap is not None:
                yield from _guarded(lambda: _from_tap(raw_tap), failed)
            raise
        if raw_tap is None:
            converted = _guarded(lambda: _with_upstream_usage(to_chunk(chunk, served), wrapper, chunk), failed)
            served = converted.model
            yield converted
        else:
            yield from _guarded(lambda: _from_tap(raw_tap), failed)
    if raw_tap is not None:
        yield from _guarded(lambda: _from_tap(raw_tap), failed)


async def astream_chunks(wrapper: Any, failed: ConversionFailed) -> AsyncIterator[StreamChunk]:
    """The async twin of :func:`stream_chunks`."""
    raw_tap = _guarded(lambda: tap(wrapper), failed)
    served = ""
    chunks = wrapper.__aiter__()
    while True:
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            break
        except Exception:
            if raw_tap is not None:
                for converted in _guarded(lambda: _from_tap(raw_tap), failed):
                    yield converted
            raise
        if raw_tap is None:
            converted = _guarded(lambda: _with_upstream_usage(to_chunk(chunk, served), wrapper, chunk), failed)
            served = converted.model
            yield converted
        else:
            for converted in _guarded(lambda: _from_tap(raw_tap), failed):
                yield converted
    if raw_tap is not None:
        for converted in _guarded(lambda: _from_tap(raw_tap), failed):
            yield converted


def _with_upstream_usage(converted: StreamChunk, wrapper: Any, chunk: Any) -> StreamChunk:
    # Without the tap, LiteLLM's final usage is its own rebuild (total without xAI's reasoning, reasoning
    # estimated from text); the upstream's own figures are kept in its stream wrapper (stream_usage).
    if converted.usage is None:
        return converted
    return evolve(converted, usage=stream_usage(wrapper, getattr(chunk, "usage", None)))
