"""LiteLLMCompletion: the completion port over ``litellm.completion`` / ``acompletion`` (the Grok adapter).

One attempt per call (RetryingCompletion owns retries). Every LiteLLM call
runs inside the error-translation boundary (:func:`translating`), and only
LiteLLM's calls do: building the kwargs and converting the answer are
llmcore's own code, and a bug there leaves as an :class:`InternalError`,
which is never retried, so the upstream never answers (and bills) one request
twice because of us (Decision 17). The adapter holds no state: the request
carries its resolved ModelSpec, key and base URL included, and each call
builds fresh kwargs.

Streams are generators: nothing is sent until the first ``next()``, so an
error LiteLLM raises at call time (a 429 on ``stream=True``) surfaces from
the first ``next()``; closing the generator closes LiteLLM's stream wrapper,
which closes the upstream HTTP response.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from llmcore.adapters.answer_checks import MalformedAnswer
from llmcore.adapters.litellm_convert import call_kwargs, to_response
from llmcore.adapters.litellm_errors import mask_chain, translating
from llmcore.adapters.litellm_runtime import close_async_clients, close_sync_clients, litellm_module
from llmcore.adapters.litellm_stream import astream_chunks, stream_chunks
from llmcore.adapters.native_errors import malformed
from llmcore.domain.chat import ChatRequest, ChatResponse, StreamChunk
from llmcore.domain.errors import InternalError, LLMCoreError


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
        """Close every HTTP client LiteLLM cached, async ones while the event loop that used them still runs.

        LiteLLM keeps one client per event loop, process-wide (not per adapter), so call this when the
        loop is about to end (the proxy's cleanup, the end of ``asyncio.run``); otherwise their
        connections are reported unclosed when the garbage collector finds them.
        """
        await close_async_clients()
        close_sync_clients()

    def complete(self, request: ChatRequest) -> ChatResponse:
        kwargs = _kwargs(request, stream=False)
        with translating(request.spec, request.spec.timeout):
            response = litellm_module().completion(**kwargs)
        return _response(response, request)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        kwargs = _kwargs(request, stream=False)
        with translating(request.spec, request.spec.timeout):
            response = await litellm_module().acompletion(**kwargs)
        return _response(response, request)

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        return self._stream(request)

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        return self._astream(request)

    @staticmethod
    def _stream(request: ChatRequest) -> Iterator[StreamChunk]:
        spec = request.spec
        upstream: Any = None
        kwargs = _kwargs(request, stream=True)
        try:
            # Iterating reads the network (LiteLLM's errors); converting chunks is ours, guarded on its own.
            with translating(spec, spec.stream_timeout or spec.timeout):
                upstream = litellm_module().completion(**kwargs)
                yield from stream_chunks(upstream, _chunk_failed(request))
        finally:
            if upstream is not None:
                _close(upstream)

    @staticmethod
    async def _astream(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        spec = request.spec
        upstream: Any = None
        exhausted = False
        kwargs = _kwargs(request, stream=True)
        try:
            with translating(spec, spec.stream_timeout or spec.timeout):
                upstream = await litellm_module().acompletion(**kwargs)
                async for converted in astream_chunks(upstream, _chunk_failed(request)):
                    yield converted
                exhausted = True
        finally:
            # A stream read to its end has released its connection already; closing it again
            # costs ~0.14 ms per stream. Anything else (break, cancel, error) must close it.
            if upstream is not None and not exhausted:
                await _aclose(upstream)


# --- llmcore's own steps around the call: a failure there is our bug, never the upstream's ---------

def _internal(request: ChatRequest, step: str, exc: Exception) -> LLMCoreError:
    if isinstance(exc, MalformedAnswer):  # the answer breaks the wire: the upstream's fault, not our bug
        return malformed(request.spec, exc)
    # The cause stays chained for the host's traceback; its text may quote the answer, so it is masked.
    mask_chain(exc, [request.spec.api_key] if request.spec.api_key is not None else [])
    return InternalError(f"{step} raised {type(exc).__name__}", model=request.spec.alias,
                         request_id=request.request_id)


def _kwargs(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    try:
        return call_kwargs(request, stream=stream)
    except LLMCoreError:
        raise  # a refusal call_kwargs means (no key, no base URL)
    except Exception as exc:
        raise _internal(request, "building the LiteLLM call", exc) from exc


def _response(response: Any, request: ChatRequest) -> ChatResponse:
    try:
        return to_response(response)
    except LLMCoreError:
        raise
    except Exception as exc:
        raise _internal(request, "converting the upstream's answer", exc) from exc


def _chunk_failed(request: ChatRequest) -> Callable[[Exception], Exception]:
    return lambda exc: _internal(request, "converting a stream chunk", exc)


def _close(upstream: Any) -> None:
    # Closing is cleanup: an error here must not replace the error (or the normal end) that got us here.
    with contextlib.suppress(Exception):
        upstream.close()


async def _aclose(upstream: Any) -> None:
    with contextlib.suppress(Exception):
        await upstream.aclose()
