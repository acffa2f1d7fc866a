"""OtelTracedCompletion: one OpenTelemetry CLIENT span per upstream attempt, and W3C trace context sent upstream.

It wraps the completion adapter *inside* the retry policy (bootstrap wires
``RetryingCompletion(OtelTracedCompletion(adapter))``), so every attempt is a
span of its own and a retried request shows its attempts as siblings under the
caller's span (the proxy's SERVER span, or a host's span). The GenAI conventions
(``otel_semconv``) also describe one span covering all retries; llmcore makes the
attempts visible instead, because a retry is exactly what an operator looks for.

Each span is named ``chat <upstream model>`` and carries ``gen_ai.*`` request
attributes at its start, the response's id, model, finish reasons and token usage
at its end, or ``error.type`` (the error's class name) and an ERROR status whose
description is that class name only: an upstream's error text may quote the
prompt, so it never goes into a span. Streams are spans from the first read to
the stream's end, with ``gen_ai.response.time_to_first_chunk`` and a
``llmcore.stream.end`` event saying how it ended:
``complete``, ``incomplete`` (no finish reason, or nothing at all),
``closed`` (the caller stopped reading) or ``upstream_error``.

The span's context goes upstream as ``traceparent`` (and ``tracestate``) by the
W3C Trace Context propagator, added to the model's ``extra_headers`` for this
attempt only; baggage is never sent to a provider. A span that is not sampled
still propagates (flags ``00``), as the W3C specification asks.

Tracing never fails a request: an error inside it is swallowed and the attempt
goes out untraced. With no tracer provider configured (``otel_tracer``) every
call goes straight to the wrapped adapter.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from attrs import evolve

from llmcore.adapters.otel_semconv import (
    ERROR_TYPE,
    HTTP_STATUS,
    OUTCOME,
    RESPONSE_FINISH_REASONS,
    RESPONSE_ID,
    RESPONSE_MODEL,
    RESPONSE_TIME_TO_FIRST_CHUNK,
    request_attributes,
    span_name,
    usage_attributes,
)
from llmcore.adapters.otel_tracer import HostTracer
from llmcore.adapters.request_api import current_api
from llmcore.domain.chat import ChatRequest, ChatResponse, StreamChunk
from llmcore.domain.errors import UpstreamError
from llmcore.domain.outcomes import outcome_of
from llmcore.domain.stream_closing import aclose_stream, close_stream
from llmcore.domain.usage import Usage
from llmcore.ports.completion import DuplexCompletionPort

STREAM_END = "llmcore.stream.end"


class OtelTracedCompletion:
    """Implements CompletionPort and AsyncCompletionPort around ``inner``, tracing each call as one attempt."""

    def __init__(self, inner: DuplexCompletionPort, tracer: HostTracer | None = None) -> None:
        self._inner = inner
        self._tracer = tracer or HostTracer()

    @property
    def inner(self) -> DuplexCompletionPort:
        return self._inner

    def complete(self, request: ChatRequest) -> ChatResponse:
        attempt = _Attempt.start(self._tracer.get(), request, stream=False)
        if attempt is None:
            return self._inner.complete(request)
        try:
            response = self._inner.complete(attempt.request)
        except BaseException as exc:
            attempt.failed(exc)
            raise
        attempt.answered(response)
        return response

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        attempt = _Attempt.start(self._tracer.get(), request, stream=False)
        if attempt is None:
            return await self._inner.acomplete(request)
        try:
            response = await self._inner.acomplete(attempt.request)
        except BaseException as exc:
            attempt.failed(exc)
            raise
        attempt.answered(response)
        return response

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        tracer = self._tracer.get()
        if tracer is None:
            return self._inner.stream(request)
        return self._traced_stream(tracer, request, _current_context())

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        tracer = self._tracer.get()
        if tracer is None:
            return self._inner.astream(request)
        return self._traced_astream(tracer, request, _current_context())

    def _traced_stream(self, tracer: Any, request: ChatRequest, parent: Any) -> Iterator[StreamChunk]:
        attempt = _Attempt.start(tracer, request, stream=True, parent=parent)
        if attempt is None:
            yield from self._inner.stream(request)  # a generator closes what it delegates to
            return
        upstream: Iterator[StreamChunk] | None = None
        try:
            upstream = self._inner.stream(attempt.request)
            for chunk in upstream:
                attempt.saw(chunk)
                yield chunk
        except BaseException as exc:
            attempt.stream_stopped(exc)
            raise
        else:
            attempt.stream_exhausted()
        finally:
            close_stream(upstream)

    async def _traced_astream(self, tracer: Any, request: ChatRequest, parent: Any) -> AsyncIterator[StreamChunk]:
        attempt = _Attempt.start(tracer, request, stream=True, parent=parent)
        upstream: AsyncIterator[StreamChunk] | None = None
        try:
            upstream = self._inner.astream(request if attempt is None else attempt.request)
            async for chunk in upstream:
                if attempt is not None:
                    attempt.saw(chunk)
                yield chunk
        except BaseException as exc:
            if attempt is not None:
                attempt.stream_stopped(exc)
            raise
        else:
            if attempt is not None:
                attempt.stream_exhausted()
        finally:
            # ``async for`` leaves the upstream open when the caller stops early; the connection must close.
            await aclose_stream(upstream)


def _current_context() -> Any:
    # Taken when the stream is asked for (the caller's task and span); the generator runs later.
    from opentelemetry import context

    return context.get_current()


class _Attempt:
    """One attempt's span: started with the request's attributes, ended once with its result."""

    def __init__(self, span: Any, request: ChatRequest) -> None:
        self.span = span
        self.request = request
        self._spec = request.spec
        self._ids: tuple[str, str] = ("", "")  # the stream's response id and model, from the first chunk with them
        self._finish: dict[int, str] = {}
        self._usage: Usage | None = None
        self._answered = False
        self._started = time.perf_counter()
        self._first_chunk: float | None = None

    @classmethod
    def start(cls, tracer: Any, request: ChatRequest, *, stream: bool, parent: Any = None) -> _Attempt | None:
        """The started span and the request to send with its trace context; None without a tracer (or on a bug)."""
        if tracer is None:
            return None
        try:
            from opentelemetry import trace
            from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

            span = tracer.start_span(
                span_name(request), context=parent, kind=trace.SpanKind.CLIENT,
                attributes=request_attributes(request, stream=stream, api=current_api.get()),
            )
            headers: dict[str, str] = {}
            TraceContextTextMapPropagator().inject(headers, context=trace.set_span_in_context(span))
            return cls(span, _with_headers(request, headers))
        except Exception:  # noqa: BLE001 - tracing must never stop a request; it goes out untraced
            return None

    def answered(self, response: ChatResponse) -> None:
        with _never_raising():
            attributes = usage_attributes(response.usage.under(self._spec.usage_convention))
            reasons = [c.finish_reason for c in response.choices if c.finish_reason]
            if reasons:
                attributes[RESPONSE_FINISH_REASONS] = reasons
            for name, value in ((RESPONSE_ID, response.id), (RESPONSE_MODEL, response.model)):
                if value:
                    attributes[name] = value
            self.span.set_attributes(attributes)
        self._end()

    def failed(self, exc: BaseException) -> None:
        with _never_raising():
            from opentelemetry.trace import Status, StatusCode

            error_type = outcome_of(exc)
            self.span.set_attribute(ERROR_TYPE, error_type)
            if isinstance(exc, UpstreamError) and exc.status_code is not None:
                self.span.set_attribute(HTTP_STATUS, exc.status_code)
            # The class name only: the exception's text may quote the upstream's answer or the prompt.
            self.span.set_status(Status(StatusCode.ERROR, error_type))
        self._end()

    def saw(self, chunk: StreamChunk) -> None:
        if self._first_chunk is None:
            self._first_chunk = time.perf_counter() - self._started
        if (chunk.id and not self._ids[0]) or (chunk.model and not self._ids[1]):
            self._ids = (self._ids[0] or chunk.id, self._ids[1] or chunk.model)
        if chunk.finish_reason:
            self._finish[chunk.index] = chunk.finish_reason
        if chunk.usage is not None:
            self._usage = chunk.usage
        if chunk.role or chunk.has_output:
            self._answered = True

    def stream_exhausted(self) -> None:
        # LiteLLM invents a "stop" for a stream with no event at all: only a real answer makes it complete.
        complete = bool(self._finish) and self._answered
        self._stream_ended("complete" if complete else "incomplete")
        self._end()

    def stream_stopped(self, exc: BaseException) -> None:
        if isinstance(exc, GeneratorExit):
            self._stream_ended("closed")
            self._end()
            return
        self._stream_ended("upstream_error" if isinstance(exc, UpstreamError) else outcome_of(exc))
        self.failed(exc)

    def _stream_ended(self, outcome: str) -> None:
        with _never_raising():
            attributes = usage_attributes(None if self._usage is None
                                          else self._usage.under(self._spec.usage_convention))
            if self._finish:
                attributes[RESPONSE_FINISH_REASONS] = [self._finish[i] for i in sorted(self._finish)]
            if self._first_chunk is not None:
                attributes[RESPONSE_TIME_TO_FIRST_CHUNK] = self._first_chunk
            for name, value in zip((RESPONSE_ID, RESPONSE_MODEL), self._ids, strict=True):
                if value:
                    attributes[name] = value
            self.span.set_attributes(attributes)
            self.span.add_event(STREAM_END, {OUTCOME: outcome})

    def _end(self) -> None:
        with _never_raising():
            self.span.end()


@contextlib.contextmanager
def _never_raising() -> Iterator[None]:
    # A span's bookkeeping must not turn an answer into an error (the Telemetry port's rule, for traces).
    try:
        yield
    except Exception:  # noqa: BLE001
        pass


def _with_headers(request: ChatRequest, headers: dict[str, str]) -> ChatRequest:
    """``request`` with ``headers`` added to its model's ``extra_headers``, for this attempt only."""
    if not headers:
        return request
    spec = request.spec
    return evolve(request, spec=evolve(spec, extra_headers={**spec.extra_headers, **headers}))
