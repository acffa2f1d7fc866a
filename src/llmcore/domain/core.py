"""Core: the public face of the library that services, the CLI and the proxy call."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from attrs import field, frozen

from llmcore.domain.chat import ChatResponse, Message
from llmcore.domain.chat_completion import ChatCompletion
from llmcore.domain.ranges import positive
from llmcore.domain.registry import ModelRegistry, ModelStatus
from llmcore.domain.secret import Secret
from llmcore.domain.stream_completion import StreamCompletion
from llmcore.domain.stream_session import AsyncStreamSession, StreamSession
from llmcore.ports.resources import PooledResources

Messages = Sequence[Mapping[str, Any] | Message]

# The core decides these itself; a caller's value is ignored (streaming is
# chosen by calling stream(), and usage is always requested upstream).
CORE_OWNED_PARAMS = frozenset({"stream", "stream_options", "model", "messages"})
# Keyword arguments of complete()/stream() beside the params: a request field of the same name
# would collide with them, so the shells refuse it rather than pass it on.
CORE_KEYWORDS = frozenset({"request_id", "raise_on_incomplete"})


@frozen(kw_only=True)
class CoreSettings:
    """Settings of the whole deployment (not of one model)."""

    source: str = "built-in catalog"
    master_key: Secret | None = None
    master_key_problem: str | None = None
    environment: str | None = None
    health_checks: bool = False
    health_check_interval: float = field(default=300.0, validator=positive)  # seconds
    max_request_size_mb: float = field(default=1.0, validator=positive)
    log_content: bool = False


class Core:
    """What ``llmcore.load()`` returns. Holds no per-request state; safe to share between threads and tasks.

    Lifecycle (Decision 20): ``close()``, ``await aclose()``, ``with llmcore.load() as core:`` and
    ``async with llmcore.load() as core:`` release the pooled HTTP clients the completion adapter
    opened (LiteLLM keeps them per event loop, process-wide). After async use, close it with
    ``aclose()`` / ``async with`` inside the loop that used it, before the loop ends; ``close()``
    releases the sync clients only. A closed Core still serves: the next call opens new clients.
    """

    def __init__(
        self, registry: ModelRegistry, completion: ChatCompletion, settings: CoreSettings,
        resources: PooledResources | None = None,
    ) -> None:
        self._registry = registry
        self._completion = completion
        self._streams = StreamCompletion(completion)
        self._settings = settings
        self._resources = resources

    def close(self) -> None:
        """Release the sync pooled clients (idempotent; never raises)."""
        if self._resources is not None:
            self._resources.close()

    async def aclose(self) -> None:
        """Release every pooled client, async ones included; await it in the loop that used them."""
        if self._resources is not None:
            await self._resources.aclose()

    def __enter__(self) -> Core:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Core:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def registry(self) -> ModelRegistry:
        return self._registry

    @property
    def settings(self) -> CoreSettings:
        return self._settings

    def models(self) -> list[ModelStatus]:
        """Every configured model with its availability and, when unavailable, the reason."""
        return self._registry.statuses()

    def complete(
        self, model: str, messages: Messages, *, request_id: str | None = None, **params: Any
    ) -> ChatResponse:
        """One completion. Raises an LLMCoreError subclass on any failure."""
        return self._completion.complete(model, messages, _own(params), request_id)

    async def acomplete(
        self, model: str, messages: Messages, *, request_id: str | None = None, **params: Any
    ) -> ChatResponse:
        """The async twin of complete()."""
        return await self._completion.acomplete(model, messages, _own(params), request_id)

    def stream(
        self, model: str, messages: Messages, *, request_id: str | None = None,
        raise_on_incomplete: bool = False, **params: Any,
    ) -> StreamSession:
        """A streamed completion. Model and param errors raise here; upstream errors on iteration."""
        return self._streams.stream(model, messages, _own(params), request_id, raise_on_incomplete)

    def astream(
        self, model: str, messages: Messages, *, request_id: str | None = None,
        raise_on_incomplete: bool = False, **params: Any,
    ) -> AsyncStreamSession:
        """The async twin of stream(): ``async with core.astream(...) as s: async for chunk in s``."""
        return self._streams.astream(model, messages, _own(params), request_id, raise_on_incomplete)


def _own(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in CORE_OWNED_PARAMS}
