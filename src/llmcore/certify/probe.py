"""How a check talks to the model: through ``Core`` (the path real traffic takes), timed and counted."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attrs import define, field, frozen

from llmcore.domain.chat import ChatResponse
from llmcore.domain.core import Core
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.stream_session import StreamSession
from llmcore.domain.usage import Usage
from llmcore.certify.results import Tokens

EXCERPT_CHARS = 160
MAX_TOKENS = 512  # room for a reasoning model's thinking and a one-line answer; the budget's bound per request


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """``text`` on one line, cut at ``limit`` characters (evidence, not a transcript)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def usage_document(usage: Usage | None) -> dict[str, Any] | None:
    """A usage as the report shows it: the upstream's figures, its total, the cost and where the cost came from."""
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.reasoning_tokens, "cached_tokens": usage.cached_tokens,
        "total_tokens": usage.total_tokens, "cost_usd": usage.cost_usd, "cost_source": usage.cost_source,
    }


@frozen(kw_only=True)
class Served:
    """Which model an answer says served it, with what the upstream billed for it (for check 7)."""

    check: str
    model: str
    usage: Usage | None
    cost_in_usd_ticks: int | None = None


@define
class CheckContext:
    """What every check reads: the Core, the alias and its spec, and the answers seen so far."""

    core: Core
    alias: str
    spec: ModelSpec
    missing_alias: str  # an alias of this Core whose upstream model does not exist (check 6)
    missing_model: str
    served: list[Served] = field(factory=list)

    @property
    def max_tokens(self) -> int:
        limit = self.spec.capabilities.max_output_tokens
        return min(MAX_TOKENS, limit) if limit else MAX_TOKENS


@define
class StreamOutcome:
    session: StreamSession
    chunks: int


@define
class Probe:
    """Sends one check's requests and adds up what they took: requests, time, tokens, cost."""

    core: Core
    clock: Callable[[], float] = time.perf_counter
    requests: int = 0
    seconds: float = 0.0
    ttfb_seconds: float | None = None
    tokens: Tokens = Tokens()
    cost_usd: float = 0.0
    cost_sources: list[str] = field(factory=list)

    def complete(self, alias: str, messages: Sequence[Mapping[str, Any]], **params: Any) -> ChatResponse:
        """``core.complete``, timed; raises what it raises (an LLMCoreError)."""
        started = self.clock()
        self.requests += 1
        try:
            response = self.core.complete(alias, messages, **params)
        finally:
            self.seconds += self.clock() - started
        self._count(response.usage)
        return response

    def stream(self, alias: str, messages: Sequence[Mapping[str, Any]], **params: Any) -> StreamOutcome:
        """``core.stream`` read to its end; the time to the first chunk with output is the TTFB."""
        started = self.clock()
        self.requests += 1
        chunks = 0
        try:
            with self.core.stream(alias, messages, **params) as session:
                for chunk in session:
                    chunks += 1
                    if self.ttfb_seconds is None and chunk.has_output:
                        self.ttfb_seconds = self.clock() - started
        finally:
            self.seconds += self.clock() - started
        if session.usage is not None:
            self._count(session.usage)
        return StreamOutcome(session=session, chunks=chunks)

    def _count(self, usage: Usage) -> None:
        self.tokens = self.tokens.plus(usage)
        if usage.cost_usd is not None:
            self.cost_usd += usage.cost_usd
        self.cost_sources.append(usage.cost_source)
