"""StreamSession: a stream that always ends cleanly, sync and async.

Both sessions feed the same :class:`StreamState`, so they cannot drift
apart. A stream that breaks, ends without a finish reason, or sends no event
at all ends with ``complete == False`` and a warning, not a stack trace;
errors before the first chunk propagate (the retry policy already had its go).
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

from llmcore.domain.chat import Choice, ParamAdjustment, StreamChunk
from llmcore.domain.chat_completion import served_by_warning
from llmcore.domain.errors import StreamIncompleteError, UpstreamError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.outcomes import ABANDONED, CANCELLED, INCOMPLETE, OK, outcome_of
from llmcore.domain.stream_choices import ChoiceParts
from llmcore.domain.usage import Usage
from llmcore.ports.telemetry import Telemetry

INCOMPLETE_MESSAGES = {
    "connection_lost": "the upstream connection broke before the stream finished",
    "no_finish_reason": "the upstream stream ended without a finish reason",
    "no_events": "the upstream stream sent no events",
}


class StreamState:
    """What a stream has produced so far, choice by choice; judges completeness at the end."""

    def __init__(
        self, spec: ModelSpec, adjustments: tuple[ParamAdjustment, ...], request_id: str | None,
        logged_messages: list[dict[str, Any]] | None = None,
    ) -> None:
        self.spec = spec
        self.logged_messages = logged_messages  # set only when content logging is on
        self.adjustments = adjustments
        self.request_id = request_id
        self.choices: dict[int, ChoiceParts] = {0: ChoiceParts(0)}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.model = ""
        self.id = ""
        self.system_fingerprint: str | None = None
        self.service_tier: str | None = None
        self.warnings: list[str] = []
        self.complete = False
        self.started = False
        self.finished = False
        self.incomplete_reason: str | None = None
        self.served_by_checked = False
        # The error a fallback already reported through upstream_failed (domain.stream_fallbacks).
        self.failure_reported: UpstreamError | None = None
        self._saw_anything = False
        self._seen_choices: set[int] = set()

    @property
    def content_parts(self) -> list[str]:
        """Choice 0's content deltas."""
        return self.choices[0].content_parts

    @property
    def reasoning_parts(self) -> list[str]:
        """Choice 0's reasoning deltas."""
        return self.choices[0].reasoning_parts

    def feed(self, chunk: StreamChunk) -> StreamChunk | None:
        """Record ``chunk``; return it if the caller should see it."""
        if chunk.is_finish_only and not self._saw_anything:
            # LiteLLM invents a finish chunk for a stream with no events; until something real
            # arrives it is held back, so such a stream ends with nothing yielded and the caller
            # (the proxy) can still answer with an ordinary error instead of a started stream.
            self.finish_reason = chunk.finish_reason
            return None
        self.started = True
        self.model = chunk.model or self.model
        self.id = chunk.id or self.id
        self.system_fingerprint = chunk.system_fingerprint or self.system_fingerprint
        self.service_tier = chunk.service_tier or self.service_tier
        if chunk.role or chunk.has_output or chunk.usage:
            self._saw_anything = True
        if chunk.usage is not None:
            self.usage = chunk.usage.under(self.spec.usage_convention).priced(self.spec.prices)
        if chunk.is_usage_only:
            return None  # the usage chunk: collected, not a delta
        if not chunk.is_empty or chunk.role:
            self._seen_choices.add(chunk.index)
        parts = self.choices.get(chunk.index) or self.choices.setdefault(chunk.index, ChoiceParts(chunk.index))
        parts.feed(chunk)
        if chunk.finish_reason and (chunk.index == 0 or self.finish_reason is None):
            self.finish_reason = chunk.finish_reason
        return None if chunk.is_empty else chunk

    def end(self, error: UpstreamError | None = None) -> str | None:
        """Judge the finished stream; returns the incomplete reason, if any."""
        self.finished = True
        if error is not None:
            reason = getattr(error, "reason", None) or "connection_lost"
        elif not self._saw_anything:
            reason = "no_events"
        elif self.finish_reason is None or any(
                self.choices[index].finish_reason is None for index in self._seen_choices):
            reason = "no_finish_reason"
        else:
            self.complete = True
            return None
        self.incomplete_reason = reason
        self.warnings.append(f"stream incomplete: {INCOMPLETE_MESSAGES.get(reason, reason)}")
        return reason


class _SessionBase:
    def __init__(
        self,
        state: StreamState,
        telemetry: Telemetry,
        clock: Callable[[], float],
        started: float,
        raise_on_incomplete: bool,
    ) -> None:
        self._state = state
        self._telemetry = telemetry
        self._clock = clock
        self._started = started
        self._raise_on_incomplete = raise_on_incomplete
        self._reported = False

    # What callers read after (or during) iteration.
    @property
    def text(self) -> str:
        return "".join(self._state.content_parts)

    @property
    def reasoning_text(self) -> str:
        return "".join(self._state.reasoning_parts)

    @property
    def usage(self) -> Usage | None:
        return self._state.usage

    @property
    def finish_reason(self) -> str | None:
        return self._state.finish_reason

    @property
    def complete(self) -> bool:
        return self._state.complete

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._state.warnings)

    @property
    def adjustments(self) -> tuple[ParamAdjustment, ...]:
        return self._state.adjustments

    @property
    def model(self) -> str:
        return self._state.model

    @property
    def tool_calls(self) -> tuple[dict[str, Any], ...]:
        """Choice 0's tool calls, whole: assembled by ``index`` from the streamed deltas (id, type, name, arguments)."""
        return self._state.choices[0].tool_calls

    @property
    def refusal(self) -> str | None:
        """Choice 0's refusal text, if the model refused."""
        return self._state.choices[0].choice().refusal

    @property
    def logprobs(self) -> Mapping[str, Any] | None:
        """Choice 0's logprobs so far (``{"content": [...], "refusal": [...]}``), when the request asked for them."""
        return self._state.choices[0].choice().logprobs

    @property
    def choices(self) -> tuple[Choice, ...]:
        """Every choice so far (one per ``n``), by index, each with its text, tool calls, logprobs and finish reason."""
        return tuple(parts.choice() for _, parts in sorted(self._state.choices.items()))

    @property
    def system_fingerprint(self) -> str | None:
        return self._state.system_fingerprint

    @property
    def service_tier(self) -> str | None:
        return self._state.service_tier

    @property
    def spec(self) -> ModelSpec:
        return self._state.spec

    @property
    def request_id(self) -> str | None:
        return self._state.request_id

    @property
    def incomplete_reason(self) -> str | None:
        return self._state.incomplete_reason

    def _feed(self, chunk: StreamChunk) -> StreamChunk | None:
        visible = self._state.feed(chunk)
        state = self._state
        if state.model and not state.served_by_checked:
            # Once per stream, as complete() does once per answer (xAI serves retired models with grok-4.3).
            state.served_by_checked = True
            mismatch = served_by_warning(state.spec, state.model)
            if mismatch:
                state.warnings.append(mismatch)
                self._telemetry.model_mismatch(state.spec, state.model, state.request_id)
        return visible

    def _on_error(self, error: UpstreamError) -> None:
        """Before the first chunk an error propagates; after it, the stream ends incomplete."""
        if not self._state.started:
            self._state.finished = True
            if error is not self._state.failure_reported:
                self._telemetry.upstream_failed(self._state.spec, error, self._state.request_id)
            self._report(outcome=outcome_of(error))
            raise error
        self._conclude(error)

    def _conclude(self, error: UpstreamError | None = None) -> None:
        state = self._state
        reason = state.end(error)
        if reason is not None:
            detail = str(error) if error is not None else INCOMPLETE_MESSAGES[reason]
            self._telemetry.stream_incomplete(state.spec, reason, detail, state.request_id)
        self._report(outcome=OK if reason is None else INCOMPLETE)
        if state.logged_messages is not None:
            self._telemetry.content_exchanged(
                state.spec, state.logged_messages, "".join(state.content_parts), "".join(state.reasoning_parts),
                state.request_id,
            )
        if reason is not None and self._raise_on_incomplete:
            raise StreamIncompleteError(
                INCOMPLETE_MESSAGES[reason], reason=reason, provider=state.spec.provider,
                model=state.spec.upstream_model,
            )

    def _report(self, outcome: str) -> None:
        if self._reported:
            return
        self._reported = True
        state = self._state
        self._telemetry.request_finished(
            state.spec, outcome=outcome, seconds=self._clock() - self._started, usage=state.usage,
            stream=True, request_id=state.request_id,
        )

    def _closed_early(self) -> None:
        if not self._state.finished:
            self._state.finished = True
            self._state.warnings.append("stream closed by the caller before it finished")
            self._report(outcome=CANCELLED)

    def _stopped_by(self, error: BaseException) -> None:
        """Something other than an UpstreamError left the upstream iterator: a cancelled task, or a bug in an
        adapter or in llmcore. It propagates; the request is over and counted once, under its outcome."""
        if not self._state.finished:
            self._state.finished = True
            self._report(outcome=outcome_of(error))

    def __del__(self) -> None:
        # A session the caller stopped reading and never closed: the garbage collector is the last one to
        # see it, so the request is counted here (its upstream generator is collected and closed with it).
        try:
            if not self._state.finished:
                self._state.finished = True
                self._report(outcome=ABANDONED)
        except Exception:  # noqa: BLE001 - a finaliser must not raise (at interpreter exit modules are gone)
            pass


class StreamSession(_SessionBase):
    """A sync stream: iterate it for chunks; use it as a context manager to close the upstream on exit."""

    def __init__(self, open_stream: Callable[[], Iterator[StreamChunk]], state: StreamState, **kwargs: Any) -> None:
        super().__init__(state, **kwargs)
        self._open = open_stream
        self._upstream: Iterator[StreamChunk] | None = None

    def __iter__(self) -> Iterator[StreamChunk]:
        return self

    def __next__(self) -> StreamChunk:
        try:
            return self._next()
        except BaseException as error:  # once finished (StopIteration included) this reports nothing more
            self._stopped_by(error)
            raise

    def _next(self) -> StreamChunk:
        while not self._state.finished:
            try:
                if self._upstream is None:
                    self._upstream = self._open()
                chunk = next(self._upstream)
            except StopIteration:
                self._conclude()
                break
            except UpstreamError as error:
                self._on_error(error)
                break
            visible = self._feed(chunk)
            if visible is not None:
                return visible
        raise StopIteration

    def close(self) -> None:
        """Stop reading and close the upstream stream."""
        upstream, self._upstream = self._upstream, None
        if upstream is not None and hasattr(upstream, "close"):
            upstream.close()
        self._closed_early()

    def __enter__(self) -> StreamSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncStreamSession(_SessionBase):
    """The async twin of StreamSession: ``async for`` and ``async with``."""

    def __init__(
        self, open_stream: Callable[[], AsyncIterator[StreamChunk]], state: StreamState, **kwargs: Any
    ) -> None:
        super().__init__(state, **kwargs)
        self._open = open_stream
        self._upstream: AsyncIterator[StreamChunk] | None = None

    def __aiter__(self) -> AsyncIterator[StreamChunk]:
        return self

    async def __anext__(self) -> StreamChunk:
        try:
            return await self._anext()
        except BaseException as error:  # asyncio.CancelledError included; a finished stream reports nothing more
            self._stopped_by(error)
            raise

    async def _anext(self) -> StreamChunk:
        while not self._state.finished:
            try:
                if self._upstream is None:
                    self._upstream = self._open()
                chunk = await self._upstream.__anext__()
            except StopAsyncIteration:
                self._conclude()
                break
            except UpstreamError as error:
                self._on_error(error)
                break
            visible = self._feed(chunk)
            if visible is not None:
                return visible
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop reading and close the upstream stream."""
        upstream, self._upstream = self._upstream, None
        if upstream is not None and hasattr(upstream, "aclose"):
            await upstream.aclose()
        self._closed_early()

    async def __aenter__(self) -> AsyncStreamSession:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
