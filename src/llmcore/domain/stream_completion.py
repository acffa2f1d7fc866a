"""StreamCompletion: the stream use case, sync and async, beside ChatCompletion's non-stream one.

It runs the same steps as ``ChatCompletion.complete``, from the same parts:
the alias resolved and its param policy applied (``ChatCompletion.prepare``),
the port checked, fallbacks tried before the first chunk
(``domain.stream_fallbacks``), the served-by check and one ``request_finished``
per client request whatever ends it (``domain.stream_session``,
``domain.outcomes``). ``Core.stream`` / ``Core.astream`` only delegate here.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmcore.domain.chat import Message
from llmcore.domain.chat_completion import ChatCompletion, PreparedRequest
from llmcore.domain.stream_fallbacks import StreamFallbacks
from llmcore.domain.stream_session import AsyncStreamSession, StreamSession
from llmcore.domain.stream_state import StreamState

Messages = Sequence[Mapping[str, Any] | Message]


class StreamCompletion:
    """Opens stream sessions. Model and param errors raise from ``stream()``; upstream errors on iteration."""

    def __init__(self, completion: ChatCompletion) -> None:
        self._completion = completion

    def stream(
        self, alias: str, messages: Messages, params: Mapping[str, Any], request_id: str | None = None,
        raise_on_incomplete: bool = False,
    ) -> StreamSession:
        """A sync session for ``alias``; nothing is sent until it is iterated."""
        prepared = self._completion.prepare(alias, messages, params, request_id)
        self._completion.stream_port()
        state = self._state_for(prepared)
        return StreamSession(
            StreamFallbacks(self._completion, prepared, state, messages, params).sync, state,
            **self._session_settings(prepared, raise_on_incomplete),
        )

    def astream(
        self, alias: str, messages: Messages, params: Mapping[str, Any], request_id: str | None = None,
        raise_on_incomplete: bool = False,
    ) -> AsyncStreamSession:
        """The async twin of ``stream()``."""
        prepared = self._completion.prepare(alias, messages, params, request_id)
        self._completion.async_stream_port()
        state = self._state_for(prepared)
        return AsyncStreamSession(
            StreamFallbacks(self._completion, prepared, state, messages, params).asynchronous, state,
            **self._session_settings(prepared, raise_on_incomplete),
        )

    def _state_for(self, prepared: PreparedRequest) -> StreamState:
        request = prepared.request
        logged = request.messages_as_dicts() if self._completion.log_content else None
        return StreamState(prepared.spec, prepared.adjustments, request.request_id, logged)

    def _session_settings(self, prepared: PreparedRequest, raise_on_incomplete: bool) -> dict[str, Any]:
        return dict(telemetry=self._completion.telemetry, clock=self._completion.clock, started=prepared.started,
                    raise_on_incomplete=raise_on_incomplete)
