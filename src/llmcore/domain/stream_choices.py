"""What one choice of a stream has produced so far: text, reasoning, refusal, logprobs, tool calls.

Tool calls are assembled the way OpenAI documents streamed calls: deltas with
the same ``index`` build one call, the first carrying ``id``, ``type`` and
``function.name``, every one a piece of ``function.arguments``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcore.domain.chat import Choice, StreamChunk, arguments_text


class ChoiceParts:
    """What one choice of a stream has produced so far (choice ``index`` of a request with ``n`` > 1)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.content_parts: list[str] = []
        self.reasoning_parts: list[str] = []
        self.refusal_parts: list[str] = []
        self.finish_reason: str | None = None
        self.logprobs: dict[str, list[Any]] = {}
        self._calls: dict[int, dict[str, Any]] = {}

    def feed(self, chunk: StreamChunk) -> None:
        if chunk.content:
            self.content_parts.append(chunk.content)
        if chunk.reasoning_content:
            self.reasoning_parts.append(chunk.reasoning_content)
        if chunk.refusal:
            self.refusal_parts.append(chunk.refusal)
        if chunk.finish_reason:
            self.finish_reason = chunk.finish_reason
        for key in ("content", "refusal"):
            tokens = (chunk.logprobs or {}).get(key)
            if isinstance(tokens, (list, tuple)):
                self.logprobs.setdefault(key, []).extend(tokens)
        for position, delta in enumerate(chunk.tool_calls):
            self._add_call_delta(position, delta)

    def _add_call_delta(self, position: int, delta: Mapping[str, Any]) -> None:
        """OpenAI's streaming rule: deltas with the same ``index`` build one call; ``arguments`` concatenate."""
        index = delta.get("index")
        call = self._calls.setdefault(index if isinstance(index, int) else position,
                                      {"id": None, "type": "function", "function": {"name": None, "arguments": ""}})
        for key in ("id", "type"):
            if delta.get(key):
                call[key] = delta[key]
        function = delta.get("function") or {}
        if function.get("name"):
            call["function"]["name"] = function["name"]
        if function.get("arguments"):
            # An upstream may send the arguments as a JSON object: kept as its JSON text, never a TypeError.
            call["function"]["arguments"] += arguments_text(function["arguments"])

    @property
    def tool_calls(self) -> tuple[dict[str, Any], ...]:
        """Whole calls, by index: ``{"id", "type", "function": {"name", "arguments"}}``."""
        return tuple({**call, "function": dict(call["function"])} for _, call in sorted(self._calls.items()))

    def choice(self) -> Choice:
        return Choice(
            index=self.index, content="".join(self.content_parts) or None,
            reasoning_content="".join(self.reasoning_parts) or None, refusal="".join(self.refusal_parts) or None,
            tool_calls=self.tool_calls, finish_reason=self.finish_reason,
            logprobs={"content": self.logprobs.get("content"), "refusal": self.logprobs.get("refusal")}
            if self.logprobs else None,
        )
