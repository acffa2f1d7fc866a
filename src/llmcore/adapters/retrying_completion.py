"""Retries around any completion port, with tenacity, by each model's retry policy.

Only transient errors are retried; a provider's Retry-After is honoured up to
``retry_after_max``; otherwise the wait grows exponentially with jitter.
Streams are retried only until their first chunk: after that the caller has
seen output, and a retry would duplicate it.

A request the core built carries ``reroute``: after each failed attempt it
gives the request for the next one, on another deployment of the same alias
when there is one (``domain.deployments``). The attempts and waits are still
counted per alias, by the policy of the request as first built.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from llmcore.domain.chat import ChatRequest, ChatResponse, StreamChunk
from llmcore.domain.errors import RateLimitError, UpstreamError
from llmcore.domain.model_spec import RetryPolicy
from llmcore.domain.stream_closing import aclose_stream, close_stream
from llmcore.ports.completion import AsyncCompletionPort, CompletionPort
from llmcore.ports.telemetry import Telemetry

T = TypeVar("T")


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, UpstreamError) and exc.retryable


class RetryAfterOr(wait_base):
    """The provider's Retry-After (capped) when it gave one, else ``fallback``."""

    def __init__(self, fallback: wait_base, cap: float) -> None:
        self._fallback = fallback
        self._cap = cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            return max(0.0, min(exc.retry_after, self._cap))
        return min(self._fallback(state), self._cap)


def wait_for(policy: RetryPolicy) -> wait_base:
    backoff = wait_exponential_jitter(
        multiplier=policy.backoff_base, max=policy.backoff_max, jitter=policy.backoff_base,
    )
    return RetryAfterOr(backoff, policy.retry_after_max)


class RetryingCompletion:
    """Wraps a port (sync, async or both) so each call is retried per ``request.spec.retry``."""

    def __init__(
        self,
        inner: Any,
        telemetry: Telemetry,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._inner = inner
        self._telemetry = telemetry
        self._sleep = sleep
        self._async_sleep = async_sleep

    @property
    def inner(self) -> Any:
        return self._inner

    def _settings(self, request: ChatRequest) -> dict[str, Any]:
        policy = request.spec.retry

        def report(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            if isinstance(exc, UpstreamError):
                self._telemetry.retrying(request.spec, state.attempt_number, wait, exc, request.request_id)

        return dict(
            stop=stop_after_attempt(policy.max_retries + 1),
            wait=wait_for(policy),
            retry=retry_if_exception(_is_transient),
            before_sleep=report,
            reraise=True,
        )

    # The first try runs outside tenacity: most requests succeed at once, and building a retry
    # controller for each costs more than llmcore's whole share of a call. A transient failure
    # hands over to tenacity, which replays that failure as its attempt 1, so counts, waits
    # (Retry-After included) and telemetry are exactly those of a controller that ran throughout.

    def complete(self, request: ChatRequest) -> ChatResponse:
        port: CompletionPort = self._inner
        try:
            return port.complete(request)
        except UpstreamError as first:
            attempts = _Attempts(request, first)
            if not self._should_retry(request, first):
                raise
            retrying = Retrying(sleep=self._sleep, **self._settings(request))
            return retrying(_after(first, attempts.sync(port.complete)), request)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        port: AsyncCompletionPort = self._inner
        try:
            return await port.acomplete(request)
        except UpstreamError as first:
            attempts = _Attempts(request, first)
            if not self._should_retry(request, first):
                raise
            retrying = AsyncRetrying(sleep=self._async_sleep, **self._settings(request))
            return await retrying(_async_after(first, attempts.asynchronous(port.acomplete)), request)

    @staticmethod
    def _should_retry(request: ChatRequest, error: UpstreamError) -> bool:
        return error.retryable and request.spec.retry.max_retries > 0

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        port: CompletionPort = self._inner

        def open_until_first_chunk(request: ChatRequest) -> tuple[Iterator[StreamChunk], StreamChunk | None]:
            upstream = port.stream(request)
            try:
                return upstream, next(upstream)
            except StopIteration:
                return upstream, None
            except BaseException:
                close_stream(upstream)
                raise

        try:
            upstream, first = open_until_first_chunk(request)
        except UpstreamError as error:
            attempts = _Attempts(request, error)
            if not self._should_retry(request, error):
                raise
            retrying = Retrying(sleep=self._sleep, **self._settings(request))
            upstream, first = retrying(_after(error, attempts.sync(open_until_first_chunk)), request)
        return _chain(upstream, first)

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        return self._astream(request)

    async def _astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        port: AsyncCompletionPort = self._inner

        async def open_until_first_chunk(
            request: ChatRequest,
        ) -> tuple[AsyncIterator[StreamChunk], StreamChunk | None]:
            upstream = port.astream(request)
            try:
                return upstream, await upstream.__anext__()
            except StopAsyncIteration:
                return upstream, None
            except BaseException:
                await aclose_stream(upstream)
                raise

        try:
            upstream, first = await open_until_first_chunk(request)
        except UpstreamError as error:
            attempts = _Attempts(request, error)
            if not self._should_retry(request, error):
                raise
            retrying = AsyncRetrying(sleep=self._async_sleep, **self._settings(request))
            upstream, first = await retrying(
                _async_after(error, attempts.asynchronous(open_until_first_chunk)), request)
        try:
            if first is not None:
                yield first
                async for chunk in upstream:
                    yield chunk
        finally:
            await aclose_stream(upstream)


class _Attempts:
    """The request each attempt sends: the first as built, each later one as ``reroute`` says after a failure.

    Every failure goes through ``reroute`` (it also counts the failure against the deployment's
    cooldown), the last one included, so a permanent error still counts where LiteLLM counts it.
    """

    def __init__(self, request: ChatRequest, first: UpstreamError) -> None:
        self.current = request
        self._failed(first)

    def _failed(self, error: UpstreamError) -> None:
        if self.current.reroute is not None:
            self.current = self.current.reroute(self.current, error)

    def sync(self, call: Callable[[ChatRequest], T]) -> Callable[[ChatRequest], T]:
        def attempt(_: ChatRequest) -> T:
            try:
                return call(self.current)
            except UpstreamError as error:
                self._failed(error)
                raise
        return attempt

    def asynchronous(self, call: Callable[[ChatRequest], Awaitable[T]]) -> Callable[[ChatRequest], Awaitable[T]]:
        async def attempt(_: ChatRequest) -> T:
            try:
                return await call(self.current)
            except UpstreamError as error:
                self._failed(error)
                raise
        return attempt


def _after(first: UpstreamError, call: Callable[[ChatRequest], T]) -> Callable[[ChatRequest], T]:
    """``call``, except that its first invocation raises ``first`` (the failure already met)."""
    pending = [first]

    def attempt(request: ChatRequest) -> T:
        if pending:
            raise pending.pop()
        return call(request)
    return attempt


def _async_after(
    first: UpstreamError, call: Callable[[ChatRequest], Awaitable[T]]
) -> Callable[[ChatRequest], Awaitable[T]]:
    pending = [first]

    async def attempt(request: ChatRequest) -> T:
        if pending:
            raise pending.pop()
        return await call(request)
    return attempt


def _chain(upstream: Iterator[StreamChunk], first: StreamChunk | None) -> Iterator[StreamChunk]:
    try:
        if first is not None:
            yield first
            yield from upstream
    finally:
        close_stream(upstream)
