"""NativeOpenAICompletion: the completion ports over plain HTTP for OpenAI-compatible upstreams (Decision 18).

The fast path beside LiteLLM (issue 16): an upstream that speaks the OpenAI chat-completions wire
(xAI, vLLM, any ``openai/`` endpoint with an ``api_base``) is called directly, one HTTP request per
attempt, with the same contract as ``LiteLLMCompletion``: one attempt per call (RetryingCompletion
owns retries), only UpstreamError subclasses leave, a bug in llmcore's own conversion is an
InternalError (never retried), and a stream is a generator that sends nothing before the first
``next()`` and closes its HTTP response when closed. Async calls go over aiohttp, sync calls over
httpx (``native_http``); SSE is read by ``native_sse``; errors are classified by ``native_errors``.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from llmcore.adapters.answer_checks import MalformedAnswer
from llmcore.adapters.json_codec import loads
from llmcore.adapters.native_convert import HeaderHook, WireRequest, to_response, wire_request
from llmcore.adapters.native_errors import (
    malformed,
    status_error,
    stream_broke,
    timed_out,
    unreachable,
    unreadable,
)
from llmcore.adapters.native_http import HttpClients
from llmcore.adapters.native_stream import StreamReader
from llmcore.domain.chat import ChatRequest, ChatResponse, StreamChunk
from llmcore.domain.errors import InternalError, LLMCoreError
from llmcore.domain.redaction import redact

if TYPE_CHECKING:
    import aiohttp


class NativeOpenAICompletion:
    """Implements CompletionPort, AsyncCompletionPort and PooledResources over aiohttp (async) and httpx (sync).

    ``extra_headers`` is the per-request header hook (e.g. W3C ``traceparent`` from a tracing
    adapter): called once per upstream request, its headers are sent after the model's own.
    """

    def __init__(self, *, extra_headers: HeaderHook | None = None) -> None:
        self._clients = HttpClients()
        self._extra_headers = extra_headers

    def warm_up(self) -> None:
        """Nothing heavy to load: the HTTP clients open on the first call."""

    def close(self) -> None:
        """Close the sync HTTP client; the next call opens a new one."""
        self._clients.close()

    async def aclose(self) -> None:
        """Close the running event loop's HTTP session and the sync client."""
        await self._clients.aclose()

    # --- non-streamed -------------------------------------------------------------------------

    def complete(self, request: ChatRequest) -> ChatResponse:
        import httpx

        wire = self._wire(request, stream=False)
        spec = request.spec
        try:
            response = self._clients.sync_client().post(
                wire.url, content=wire.body, headers=wire.headers, timeout=wire.timeout)
        except httpx.TimeoutException as exc:
            raise timed_out(spec, wire.timeout, exc) from exc
        except httpx.HTTPError as exc:
            raise unreachable(spec, exc) from exc
        return self._answer(request, response.status_code, response.content, response.headers)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        import aiohttp

        wire = self._wire(request, stream=False)
        spec = request.spec
        try:
            async with self._clients.session().post(
                    wire.url, data=wire.body, headers=wire.headers, timeout=_client_timeout(wire)) as response:
                body = await response.read()
                status, headers = response.status, response.headers
        except asyncio.TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too: checked first
            raise timed_out(spec, wire.timeout, exc) from exc
        except aiohttp.ClientError as exc:
            raise unreachable(spec, exc) from exc
        return self._answer(request, status, body, headers)

    def _answer(self, request: ChatRequest, status: int, body: bytes, headers: Any) -> ChatResponse:
        spec = request.spec
        if status >= 400:
            raise status_error(spec, status, body.decode("utf-8", "replace"), _lower(headers))
        try:
            document = loads(body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise unreadable(spec, status, body.decode("utf-8", "replace"))
        try:
            return to_response(document)
        except LLMCoreError:
            raise
        except Exception as exc:
            raise _internal(request, "converting the upstream's answer", exc) from exc

    # --- streamed -----------------------------------------------------------------------------

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        return self._stream(request)

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        return self._astream(request)

    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        import httpx

        wire = self._wire(request, stream=True)
        spec = request.spec
        client = self._clients.sync_client()
        try:
            response = client.send(
                client.build_request("POST", wire.url, content=wire.body, headers=wire.headers, timeout=wire.timeout),
                stream=True)
        except httpx.TimeoutException as exc:
            raise timed_out(spec, wire.timeout, exc) from exc
        except httpx.HTTPError as exc:
            raise unreachable(spec, exc) from exc
        try:
            if response.status_code >= 400:
                raise status_error(spec, response.status_code, _read_sync(response), _lower(response.headers))
            reader = StreamReader(spec, lambda exc: _internal(request, "converting a stream chunk", exc))
            body = response.iter_bytes()
            while True:
                try:
                    raw = next(body)
                except StopIteration:
                    break
                except httpx.TimeoutException as exc:
                    raise timed_out(spec, wire.timeout, exc) from exc
                except httpx.HTTPError as exc:
                    raise stream_broke(spec, exc) from exc
                yield from reader.feed(raw)
            reader.end()
        finally:
            response.close()

    async def _astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        import aiohttp

        wire = self._wire(request, stream=True)
        spec = request.spec
        try:
            response = await self._clients.session().post(
                wire.url, data=wire.body, headers=wire.headers, timeout=_client_timeout(wire))
        except asyncio.TimeoutError as exc:
            raise timed_out(spec, wire.timeout, exc) from exc
        except aiohttp.ClientError as exc:
            raise unreachable(spec, exc) from exc
        exhausted = False
        try:
            if response.status >= 400:
                raise status_error(spec, response.status, await _read_async(response), _lower(response.headers))
            reader = StreamReader(spec, lambda exc: _internal(request, "converting a stream chunk", exc))
            content = response.content
            while True:
                try:
                    raw = await content.readany()
                except asyncio.TimeoutError as exc:
                    raise timed_out(spec, wire.timeout, exc) from exc
                except aiohttp.ClientError as exc:
                    raise stream_broke(spec, exc) from exc
                if not raw:
                    break
                for chunk in reader.feed(raw):
                    yield chunk
            exhausted = True
            reader.end()
        finally:
            # A body read to its end goes back to the pool; anything else (break, cancel, error) is closed,
            # which the upstream sees as the client going away.
            if exhausted:
                response.release()
            else:
                response.close()

    def _wire(self, request: ChatRequest, *, stream: bool) -> WireRequest:
        try:
            return wire_request(request, stream=stream, extra_headers=self._extra_headers)
        except LLMCoreError:
            raise  # a refusal wire_request means (no key, no base URL)
        except Exception as exc:
            raise _internal(request, "building the upstream request", exc) from exc


def _client_timeout(wire: WireRequest) -> aiohttp.ClientTimeout:
    import aiohttp

    # Per connect and per read, like the OpenAI SDK's httpx timeout: a long stream is fine while bytes flow.
    return aiohttp.ClientTimeout(total=None, sock_connect=wire.timeout, sock_read=wire.timeout)


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _read_sync(response: Any) -> str:
    try:
        return bytes(response.read()).decode("utf-8", "replace")
    except Exception as exc:  # the error body itself broke off: the status still says what happened
        return f"(error body unreadable: {type(exc).__name__})"


async def _read_async(response: Any) -> str:
    try:
        return bytes(await response.read()).decode("utf-8", "replace")
    except Exception as exc:
        return f"(error body unreadable: {type(exc).__name__})"


def _internal(request: ChatRequest, step: str, exc: Exception) -> LLMCoreError:
    if isinstance(exc, MalformedAnswer):  # the answer breaks the wire: the upstream's fault, not our bug
        return malformed(request.spec, exc)
    # The cause stays chained for the host's traceback; its text may quote the answer, so it is masked.
    secrets = [request.spec.api_key] if request.spec.api_key is not None else []
    exc.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in exc.args)
    return InternalError(f"{step} raised {type(exc).__name__}", model=request.spec.alias,
                         request_id=request.request_id)
