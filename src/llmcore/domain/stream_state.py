"""StreamState: what one stream has produced so far, shared by the sync and the async session.

Both sessions (``domain.stream_session``) feed the same state, so they cannot
drift apart; the stream fallbacks (``domain.stream_fallbacks``) move it to the
alias that serves.
"""
from __future__ import annotations

from typing import Any

from llmcore.domain.chat import ParamAdjustment, StreamChunk
from llmcore.domain.errors import UpstreamError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.stream_choices import ChoiceParts
from llmcore.domain.usage import Usage

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
            self.usage = chunk.usage.under(self.spec.usage_convention).priced(self.spec.prices, chunk.cost_in_usd_ticks)
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
