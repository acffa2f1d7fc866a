"""Streams that fall back to another alias, only before their first chunk (Decision 13).

Once a chunk has reached the caller, a fallback would splice two answers
together; so the alias's fallbacks are tried only while the stream has
produced nothing. The session's state then takes the serving alias's spec
(its prices and usage convention price the stream) and a warning.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from llmcore.domain.chat import Message, StreamChunk
from llmcore.domain.chat_completion import ChatCompletion, PreparedRequest, falls_back
from llmcore.domain.errors import UpstreamError
from llmcore.domain.stream_closing import aclose_stream, close_stream
from llmcore.domain.stream_state import StreamState

Messages = Sequence[Mapping[str, Any] | Message]


class StreamFallbacks:
    """Opens the stream of ``prepared`` and, while nothing has been yielded, its alias's fallbacks in turn."""

    def __init__(
        self, completion: ChatCompletion, prepared: PreparedRequest, state: StreamState,
        messages: Messages, params: Mapping[str, Any],
    ) -> None:
        self._completion = completion
        self._prepared = prepared
        self._state = state
        self._messages = messages
        self._params = params
        self._alias = prepared.spec.alias

    def _candidates(self) -> Iterator[tuple[PreparedRequest, bool]]:
        """(prepared request, whether it is the last name in the chain), prepared only when reached."""
        names = self._completion.chain(self._alias)
        yield self._prepared, len(names) == 1
        for index, name in enumerate(names[1:], start=2):
            prepared = self._completion.prepare_in_chain(
                name, self._alias, self._messages, self._params, self._state.request_id)
            if prepared is not None:
                yield prepared, index == len(names)

    def _give_up_or_go_on(self, prepared: PreparedRequest, error: UpstreamError, last: bool) -> None:
        if last or not falls_back(error):
            raise error
        # This alias is done; its failure is reported here, the session reports only the final one (and
        # not this one again when no fallback left can serve and it ends the request).
        self._completion.telemetry.upstream_failed(prepared.spec, error, prepared.request.request_id)
        self._state.failure_reported = error

    def _served(self, prepared: PreparedRequest, failure: UpstreamError | None) -> None:
        if prepared is self._prepared or failure is None:
            return
        state = self._state
        state.spec = prepared.spec
        state.adjustments = prepared.adjustments
        warning = self._completion.fallback_used(self._alias, prepared.spec.alias, failure, state.request_id)
        state.warnings.append(warning)

    def sync(self) -> Iterator[StreamChunk]:
        port = self._completion.stream_port()
        failure: UpstreamError | None = None
        for prepared, last in self._candidates():
            upstream: Iterator[StreamChunk] | None = None
            try:
                upstream = port.stream(prepared.request)
                first = next(upstream)
            except StopIteration:
                first = None
            except UpstreamError as error:
                close_stream(upstream)
                self._give_up_or_go_on(prepared, error, last)
                failure = error
                continue
            self._served(prepared, failure)
            assert upstream is not None
            try:
                if first is not None:
                    yield first
                    yield from upstream
            finally:
                close_stream(upstream)
            return
        if failure is not None:
            raise failure  # every fallback left was unservable

    async def asynchronous(self) -> AsyncIterator[StreamChunk]:
        port = self._completion.async_stream_port()
        failure: UpstreamError | None = None
        for prepared, last in self._candidates():
            upstream = port.astream(prepared.request)
            try:
                first: StreamChunk | None = await upstream.__anext__()
            except StopAsyncIteration:
                first = None
            except UpstreamError as error:
                await aclose_stream(upstream)
                self._give_up_or_go_on(prepared, error, last)
                failure = error
                continue
            self._served(prepared, failure)
            try:
                if first is not None:
                    yield first
                    async for chunk in upstream:
                        yield chunk
            finally:
                await aclose_stream(upstream)
            return
        if failure is not None:
            raise failure  # every fallback left was unservable
