"""One upstream SSE stream, read event by event into StreamChunks, with the end judged as LiteLLM judges it.

Shared by the sync and async paths of the native adapter, which only move bytes. A stream that
ends (``[DONE]`` or EOF) after events of which none carried a finish reason raises
``StreamIncompleteError(no_finish_reason)``, as LiteLLM does (its ``MidStreamFallbackError``);
a stream with no event at all simply ends, and the stream session reports ``no_events``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmcore.adapters.json_codec import loads
from llmcore.adapters.native_convert import shows_output, to_chunks
from llmcore.adapters.native_errors import stream_broke, stream_error_event, unreadable_event
from llmcore.adapters.native_sse import SSEDecoder
from llmcore.domain.chat import StreamChunk
from llmcore.domain.errors import LLMCoreError
from llmcore.domain.model_spec import ModelSpec

DONE = "[DONE]"

# What the adapter turns a failure of llmcore's own conversion code into (an InternalError: never retried).
ConversionFailed = Callable[[Exception], Exception]


class StreamReader:
    """Feed it the body's bytes; it returns the StreamChunks they complete. Call ``end()`` at EOF."""

    def __init__(self, spec: ModelSpec, failed: ConversionFailed) -> None:
        self._spec = spec
        self._failed = failed
        self._decoder = SSEDecoder()
        self._done = False
        self._events = 0
        self._finished = False

    def feed(self, raw: bytes) -> list[StreamChunk]:
        """The chunks ``raw`` completes; raises StreamIncompleteError for an unreadable event, or the
        classified error of an ``{"error": ...}`` event.

        Every chunk read before the last event that surely shows output carries ``more_in_hand``, so
        the proxy can write the chunks of one network read together instead of one write each.
        """
        documents: list[dict[str, Any]] = []
        for event in self._decoder.feed(raw):
            if self._done:
                continue  # read on to the end of the body, so the connection goes back to the pool
            if event.data == DONE:
                self._done = True
                continue
            try:
                document = loads(event.data)
            except ValueError as exc:
                raise unreadable_event(self._spec, event.data) from exc
            if not isinstance(document, dict):
                raise unreadable_event(self._spec, event.data)
            if "error" in document and not document.get("choices"):
                raise stream_error_event(self._spec, document, event.data)
            documents.append(document)
        last_shown = next((position for position in range(len(documents) - 1, -1, -1)
                           if shows_output(documents[position])), -1)
        out: list[StreamChunk] = []
        for position, document in enumerate(documents):
            self._events += 1
            out.extend(self._convert(document, position < last_shown))
        return out

    def _convert(self, document: dict[str, Any], more_in_hand: bool) -> list[StreamChunk]:
        try:
            chunks = to_chunks(document, more_in_hand=more_in_hand)
        except LLMCoreError:
            raise
        except Exception as exc:
            raise self._failed(exc) from exc
        if not self._finished:
            self._finished = any(chunk.finish_reason for chunk in chunks)
        return chunks

    def end(self) -> None:
        """The body ended cleanly: raise StreamIncompleteError if events came but no finish reason did."""
        if self._events and not self._finished:
            raise stream_broke(self._spec, None, no_finish=True)
