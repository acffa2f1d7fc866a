"""The SSE half of ``POST /v1/chat/completions``: one Core stream session rendered as OpenAI chunks.

The first chunk is pulled *before* the response is prepared, so a stream that
fails before it (unknown upstream error, rate limit, no events at all) is an
ordinary JSON error with the status from the error table. After it, the status
line is gone: a stream that ends incomplete gets an SSE error event, then
``data: [DONE]``; so does a stream still open when a shutdown's grace runs out
(``proxy_drain``). The session is always closed on the way out, so a client that
disconnects closes the upstream stream too.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web
from loguru import logger

from llmcore.adapters.json_codec import dumps
from llmcore.domain.chat import StreamChunk
from llmcore.domain.errors import StreamIncompleteError
from llmcore.domain.secret import Secret
from llmcore.domain.stream_session import AsyncStreamSession
from llmcore.entrypoints.openai_wire import (
    completion_chunk, completion_id, error_kind, stream_error_event, usage_chunk, wire_error,
)
from llmcore.entrypoints.proxy_drain import is_drain_cut, shutting_down_event, uncancel_current_task

# One encoder, built once: json.dumps(..., separators=...) would build a new one per chunk.
encode_json: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":")).encode
DONE_EVENT = b"data: [DONE]\n\n"
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_event(document: dict[str, Any]) -> bytes:
    """One ``data:`` event; the JSON by orjson (``adapters.json_codec``), the CPU of one event at every chunk."""
    return b"data: " + dumps(document) + b"\n\n"


class OverheadTimer:
    """Time in the proxy minus the time awaiting the Core's upstream call (for a stream: its first chunk)."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.upstream = 0.0

    def overhead(self) -> float:
        return max(0.0, time.perf_counter() - self.started - self.upstream)


async def first_chunk(session: AsyncStreamSession, timer: OverheadTimer) -> StreamChunk | None:
    """The first visible chunk, or None when the stream ended without one. Upstream errors propagate."""
    waiting = time.perf_counter()
    try:
        return await session.__anext__()
    except StopAsyncIteration:
        if session.complete:
            return None
        reason = session.incomplete_reason or "no_events"
        warning = session.warnings[-1] if session.warnings else "the upstream stream ended before any content"
        raise StreamIncompleteError(warning, reason=reason, provider=session.spec.provider,
                                    model=session.spec.upstream_model) from None
    finally:
        timer.upstream += time.perf_counter() - waiting


async def stream_response(
    request: web.Request,
    session: AsyncStreamSession,
    first: StreamChunk | None,
    *,
    alias: str,
    request_id: str,
    include_usage: bool,
    headers: dict[str, str],
    secrets: Iterable[Secret | str],
) -> web.StreamResponse:
    """Write the stream as SSE. The caller pulled ``first`` and closes the session afterwards."""
    response = web.StreamResponse(headers={**SSE_HEADERS, **headers})
    stream_id = completion_id(first.id if first is not None else "", request_id)
    created = int(time.time())
    write = response.write
    # Events of chunks the adapter read together (StreamChunk.more_in_hand) are written together: each
    # write is a send on the socket, which cost the native proxy more CPU than anything of its own.
    # A chunk without the hint (every LiteLLM chunk) is written at once, with whatever was held.
    held: list[bytes] = []
    try:
        await response.prepare(request)
        try:
            if first is not None:
                held.append(sse_event(completion_chunk(first, alias, stream_id, created)))
                if not first.more_in_hand:
                    await write(b"".join(held))
                    held.clear()
            async for chunk in session:
                held.append(sse_event(completion_chunk(chunk, alias, stream_id, created)))
                if not chunk.more_in_hand:
                    await write(held[0] if len(held) == 1 else b"".join(held))
                    held.clear()
        except ConnectionError:
            raise
        except asyncio.CancelledError as exc:
            if not is_drain_cut(exc):
                raise  # the client went away: nobody to write to
            # The shutdown's grace ran out (proxy_drain): end the stream visibly, not by a cut connection.
            uncancel_current_task()
            held.append(sse_event(shutting_down_event()))
        except Exception as exc:  # after the first chunk every failure becomes an error event
            held.append(sse_event(_failure_event(exc, secrets)))
        else:
            ending = _ending(session, alias, stream_id, created, include_usage)
            if ending is not None:
                held.append(sse_event(ending))
        held.append(DONE_EVENT)
        # The last events go out with the chunked body's terminator, in one write.
        await response.write_eof(b"".join(held))
    except ConnectionError:
        # The client went away; the caller's aclose() closes the upstream stream.
        logger.bind(event="client_disconnected", model=alias).info(
            "client disconnected mid-stream; closing the upstream stream")
    return response


def _ending(
    session: AsyncStreamSession, alias: str, stream_id: str, created: int, include_usage: bool
) -> dict[str, Any] | None:
    """The event before [DONE]: an error for an incomplete stream, else the usage chunk when asked for."""
    if not session.complete:
        message = session.warnings[-1] if session.warnings else "the upstream stream ended early"
        return stream_error_event(message)
    if include_usage and session.usage is not None:
        return usage_chunk(session.usage, alias, stream_id, created)
    return None


def _failure_event(exc: Exception, secrets: Iterable[Secret | str]) -> dict[str, Any]:
    rendered = wire_error(exc, secrets)
    if error_kind(exc).status == 500:
        logger.opt(exception=exc).bind(event="proxy_error", status=500).error("stream failed after its first chunk")
    return stream_error_event(rendered.body["error"]["message"], error_kind(exc))
