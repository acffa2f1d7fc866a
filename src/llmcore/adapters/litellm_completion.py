"""LiteLLMCompletion: the completion port over ``litellm.completion`` / ``acompletion`` (the Grok adapter).

One attempt per call (RetryingCompletion owns retries), every LiteLLM call
inside the error-translation boundary, so only UpstreamError subclasses
leave. The adapter holds no state: the request carries its resolved
ModelSpec, key and base URL included, and each call builds fresh kwargs.

Streams are generators: nothing is sent until the first ``next()``, so an
error LiteLLM raises at call time (a 429 on ``stream=True``) surfaces from
the first ``next()``; closing the generator closes LiteLLM's stream wrapper,
which closes the upstream HTTP response.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

from llmcore.adapters.litellm_convert import call_kwargs, to_response
from llmcore.adapters.litellm_errors import translating
from llmcore.adapters.litellm_runtime import close_sync_clients, is_loaded, litellm_module
from llmcore.adapters.litellm_stream import astream_chunks, stream_chunks
from llmcore.domain.chat import ChatRequest, ChatResponse, StreamChunk


# Never contacted (mock_response answers), but a base URL keeps LiteLLM from reaching for OPENAI_BASE_URL.
WARM_UP_BASE = "http://127.0.0.1:9/v1"


class LiteLLMCompletion:
    """Implements CompletionPort and AsyncCompletionPort for OpenAI-compatible providers through LiteLLM."""

    def warm_up(self) -> None:
        """Import LiteLLM now (~3 s) rather than inside the first request, e.g. before a server takes traffic.

        Then one call and one stream that LiteLLM answers itself (``mock_response``: nothing is
        sent anywhere) build what LiteLLM otherwise builds lazily in the first real request
        (measured: that request took 315 ms instead of 19 ms).
        """
        litellm = litellm_module()
        warm_up_call = dict(
            model="openai/llmcore-warm-up", messages=[{"role": "user", "content": "warm-up"}],
            mock_response="ok", api_key="llmcore-warm-up", api_base=WARM_UP_BASE, max_retries=0,
        )
        # A warm-up that fails only means a slower first request; it must never stop a start-up.
        with contextlib.suppress(Exception):
            litellm.completion(**warm_up_call)
            for _ in litellm.completion(**warm_up_call, stream=True):
                pass

    def close(self) -> None:
        """Close the sync HTTP clients LiteLLM cached (process-wide) and forget them; a later call opens anew."""
        close_sync_clients()

    async def aclose(self) -> None:
        """Close LiteLLM's cached async HTTP clients, while the event loop that used them still runs.

        LiteLLM keeps one client per event loop, process-wide (not per adapter), so call this when the
        loop is about to end (the proxy's cleanup, the end of ``asyncio.run``); otherwise their
        connections are reported unclosed when the garbage collector finds them.
        """
        if is_loaded():
            await litellm_module().close_litellm_async_clients()

    def complete(self, request: ChatRequest) -> ChatResponse:
        with translating(request.spec, request.spec.timeout):
            response = litellm_module().completion(**call_kwargs(request, stream=False))
            return to_response(response)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        with translating(request.spec, request.spec.timeout):
            response = await litellm_module().acompletion(**call_kwargs(request, stream=False))
            return to_response(response)

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        return self._stream(request)

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        return self._astream(request)

    @staticmethod
    def _stream(request: ChatRequest) -> Iterator[StreamChunk]:
        spec = request.spec
        upstream: Any = None
        try:
            with translating(spec, spec.stream_timeout or spec.timeout):
                upstream = litellm_module().completion(**call_kwargs(request, stream=True))
                yield from stream_chunks(upstream)
        finally:
            if upstream is not None:
                _close(upstream)

    @staticmethod
    async def _astream(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        spec = request.spec
        upstream: Any = None
        exhausted = False
        try:
            with translating(spec, spec.stream_timeout or spec.timeout):
                upstream = await litellm_module().acompletion(**call_kwargs(request, stream=True))
                async for converted in astream_chunks(upstream):
                    yield converted
                exhausted = True
        finally:
            # A stream read to its end has released its connection already; closing it again
            # costs ~0.14 ms per stream. Anything else (break, cancel, error) must close it.
            if upstream is not None and not exhausted:
                await _aclose(upstream)


def _close(upstream: Any) -> None:
    # Closing is cleanup: an error here must not replace the error (or the normal end) that got us here.
    with contextlib.suppress(Exception):
        upstream.close()


async def _aclose(upstream: Any) -> None:
    with contextlib.suppress(Exception):
        await upstream.aclose()
