"""The completion ports: how the core asks a provider for an answer."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Protocol, runtime_checkable

from llmcore.domain.chat import ChatRequest, ChatResponse, StreamChunk


@runtime_checkable
class CompletionPort(Protocol):
    """Turns a ChatRequest into a ChatResponse, or a stream of chunks.

    Makes exactly one attempt (retries are the retry policy's business) and
    raises only UpstreamError subclasses. ``stream`` returns an iterator
    whose ``close()`` closes the upstream connection; a stream that ends
    early raises UpstreamError from ``next()``.
    """

    def complete(self, request: ChatRequest) -> ChatResponse: ...

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]: ...


@runtime_checkable
class AsyncCompletionPort(Protocol):
    """The async twin of CompletionPort, with the same contract."""

    async def acomplete(self, request: ChatRequest) -> ChatResponse: ...

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]: ...


@runtime_checkable
class DuplexCompletionPort(CompletionPort, AsyncCompletionPort, Protocol):
    """Both ports in one adapter (LiteLLMCompletion, ScriptedCompletion, RetryingCompletion).

    The composition root wires one completion adapter as the sync and the async
    port of a Core, so what it accepts must be both.
    """
