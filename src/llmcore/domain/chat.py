"""Requests, responses and stream chunks: the values that cross the completion port."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from attrs import field, frozen, validators as v

from llmcore.domain.errors import LLMCoreError
from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.usage import Usage

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class InvalidMessageError(LLMCoreError, ValueError):
    """A message the API cannot take (no role, unknown role, not a mapping)."""


@frozen(kw_only=True)
class Message:
    """One chat message; fields beyond role, content and name (tool_calls, tool_call_id, ...) ride in ``extra``."""

    role: str
    content: Any = None
    name: str | None = None
    extra: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], index: int = 0) -> Message:
        """A message from its OpenAI dict form, with an error that names the message when it is wrong."""
        if isinstance(data, Message):
            return data
        if not isinstance(data, Mapping):
            raise InvalidMessageError(f"messages[{index}] must be an object with 'role' and 'content'")
        role = data.get("role")
        if role not in ROLES:
            raise InvalidMessageError(
                f"messages[{index}].role must be one of {', '.join(sorted(ROLES))}, got {role!r}"
            )
        extra = {k: val for k, val in data.items() if k not in ("role", "content", "name")}
        return cls(role=role, content=data.get("content"), name=data.get("name"), extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI dict form, as sent upstream."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name is not None:
            out["name"] = self.name
        out.update(self.extra)
        return out


Action = Literal["dropped", "renamed", "transformed"]


@frozen(kw_only=True)
class ParamAdjustment:
    """One change the param policy made to a request, and why."""

    param: str
    action: Action
    reason: str
    new_name: str | None = None


@frozen(kw_only=True)
class ChatRequest:
    """A request as sent to a completion port.

    The resolved spec travels with it, so adapters hold no per-model state.
    """

    spec: ModelSpec
    messages: tuple[Message, ...] = field(converter=tuple, validator=v.min_len(1))
    params: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)
    request_id: str | None = None
    # How a retry moves to another deployment of the alias: given this request and the error its attempt
    # met, the request for the next attempt (domain.deployments); None for a request outside the core.
    reroute: Callable[[ChatRequest, Exception], ChatRequest] | None = field(
        default=None, eq=False, repr=False)

    def messages_as_dicts(self) -> list[dict[str, Any]]:
        return [m.to_dict() for m in self.messages]


@frozen(kw_only=True)
class ChatResponse:
    """A finished completion. ``model`` is the id the upstream says served it."""

    content: str | None
    reasoning_content: str | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = field(default=(), converter=tuple)
    finish_reason: str | None = None
    model: str = ""
    id: str = ""
    usage: Usage = field(factory=Usage)
    cost_in_usd_ticks: int | None = None
    adjustments: tuple[ParamAdjustment, ...] = field(default=(), converter=tuple)
    warnings: tuple[str, ...] = field(default=(), converter=tuple)
    request_id: str | None = None
    # The configured alias that served: the requested one, or a fallback (RoutingSettings.fallbacks).
    served_alias: str = ""


@frozen(kw_only=True)
class StreamChunk:
    """One normalised stream delta. The final usage chunk carries ``usage`` and nothing else."""

    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = field(default=(), converter=tuple)
    finish_reason: str | None = None
    role: str | None = None
    model: str = ""
    id: str = ""
    usage: Usage | None = None

    @property
    def is_finish_only(self) -> bool:
        """Only a finish reason: the last delta of a stream, or one LiteLLM made up."""
        return self.finish_reason is not None and not (
            self.role or self.content or self.reasoning_content or self.tool_calls or self.usage)

    @property
    def is_empty(self) -> bool:
        """No content, reasoning, tool call, finish reason or usage: nothing a caller needs to see."""
        return (
            not self.content
            and not self.reasoning_content
            and not self.tool_calls
            and self.finish_reason is None
            and self.usage is None
        )
