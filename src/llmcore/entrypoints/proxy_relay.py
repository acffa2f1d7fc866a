"""The relay loop of the translated stream APIs (Messages, Responses): chunks in, each API's events out.

Both APIs end a stream the same four ways, each in its own event shape, which the caller gives as
callbacks: the model finished (``events.finish``), the session ended incomplete (``incomplete``,
with the session's last warning), the shutdown's grace ran out (``shutting_down``, proxy_drain), or
the session raised after the first event (``failed``). A client that went away (ConnectionError, or a
cancellation that is not the drain's) propagates: there is nobody to write to.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from llmcore.domain.chat import StreamChunk
from llmcore.domain.stream_session import AsyncStreamSession
from llmcore.domain.usage import Usage
from llmcore.entrypoints.proxy_drain import is_drain_cut, uncancel_current_task


class StreamEvents(Protocol):
    """What an API's event writer offers the relay (anthropic_stream.MessageEvents, responses_stream.ResponseEvents)."""

    def feed(self, chunk: StreamChunk) -> bytes: ...

    def finish(self, usage: Usage | None, finish_reason: str | None) -> bytes: ...


async def relay_events(
    reply: web.StreamResponse, session: AsyncStreamSession, events: StreamEvents, *,
    failed: Callable[[Exception], bytes], incomplete: Callable[[str], bytes], shutting_down: Callable[[], bytes],
) -> None:
    """Write each chunk's events, then the stream's ending (see the module docstring)."""
    try:
        async for chunk in session:
            out = events.feed(chunk)
            if out:
                await reply.write(out)
    except ConnectionError:
        raise
    except asyncio.CancelledError as exc:
        if not is_drain_cut(exc):
            raise
        uncancel_current_task()
        await reply.write(shutting_down())
        return
    except Exception as exc:  # after the first event every failure becomes the API's failure event
        await reply.write(failed(exc))
        return
    if not session.complete:
        warning = session.warnings[-1] if session.warnings else "the upstream stream ended early"
        await reply.write(incomplete(f"{warning}; retry the request"))
        return
    await reply.write(events.finish(session.usage, session.finish_reason))
