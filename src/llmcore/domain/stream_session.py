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
from llmcore.domain.stream_state import INCOMPLETE_MESSAGES, StreamState
from llmcore.domain.usage import Usage
from llmcore.ports.telemetry import Telemetry

__all__ = ["INCOMPLETE_MESSAGES", "AsyncStreamSession", "StreamSession", "StreamState"]


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
