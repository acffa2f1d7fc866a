"""Requests, responses and stream chunks: the values that cross the completion port."""
from __future__ import annotations

import json
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
    def from_dict(cls, data: Mapping[str, Any] | Message, index: int = 0) -> Message:
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
    messages: tuple[Message, ...] = field(converter=tuple[Message, ...], validator=v.min_len(1))
    params: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)
    request_id: str | None = None
    # How a retry moves to another deployment of the alias: given this request and the error its attempt
    # met, the request for the next attempt (domain.deployments); None for a request outside the core.
    reroute: Callable[[ChatRequest, Exception], ChatRequest] | None = field(
        default=None, eq=False, repr=False)

    def messages_as_dicts(self) -> list[dict[str, Any]]:
        return [m.to_dict() for m in self.messages]


@frozen(kw_only=True)
class Choice:
    """One of a completion's choices (OpenAI's ``choices[]``), as the upstream sent it.

    ``index`` is the upstream's; a request with ``n`` = 2 has choices 0 and 1.
    ``tool_calls`` are whole calls in OpenAI's shape (``id``, ``type``,
    ``function.name``, ``function.arguments``). ``logprobs`` is OpenAI's
    ``choices[].logprobs`` object (``content`` and ``refusal``: lists of
    ``{token, logprob, bytes, top_logprobs}``), or None when not asked for.
    """

    index: int = 0
    content: str | None = None
    reasoning_content: str | None = None
    refusal: str | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = field(default=(), converter=tuple[Mapping[str, Any], ...])
    finish_reason: str | None = None
    logprobs: Mapping[str, Any] | None = None


@frozen(kw_only=True)
class ChatResponse:
    """A finished completion. ``model`` is the id the upstream says served it.

    ``content``, ``reasoning_content``, ``tool_calls`` and ``finish_reason``
    are choice 0's; ``choices`` holds every choice the upstream returned (one
    per ``n``). Built without ``choices``, it holds choice 0 made of those
    fields. ``system_fingerprint`` and ``service_tier`` are the upstream's,
    None when it sent none.
    """

    content: str | None
    reasoning_content: str | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = field(default=(), converter=tuple[Mapping[str, Any], ...])
    finish_reason: str | None = None
    model: str = ""
    id: str = ""
    usage: Usage = field(factory=Usage)
    cost_in_usd_ticks: int | None = None
    adjustments: tuple[ParamAdjustment, ...] = field(default=(), converter=tuple[ParamAdjustment, ...])
    warnings: tuple[str, ...] = field(default=(), converter=tuple[str, ...])
    request_id: str | None = None
    # The configured alias that served: the requested one, or a fallback (RoutingSettings.fallbacks).
    served_alias: str = ""
    choices: tuple[Choice, ...] = field(default=(), converter=tuple[Choice, ...])
    system_fingerprint: str | None = None
    service_tier: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.choices:
            only = Choice(content=self.content, reasoning_content=self.reasoning_content,
                          tool_calls=self.tool_calls, finish_reason=self.finish_reason)
            object.__setattr__(self, "choices", (only,))

    @property
    def refusal(self) -> str | None:
        """Choice 0's refusal text, if the model refused."""
        return self.choices[0].refusal

    @property
    def logprobs(self) -> Mapping[str, Any] | None:
        """Choice 0's logprobs (OpenAI's ``choices[0].logprobs``), when the request asked for them."""
        return self.choices[0].logprobs


@frozen(kw_only=True)
class StreamChunk:
    """One normalised stream delta of choice ``index``. The final usage chunk carries ``usage`` and nothing else.

    ``tool_calls`` are the tool-call deltas exactly as the upstream sent them
    (each with its own ``index``; a continuation carries only ``index`` and
    ``function.arguments``). ``logprobs`` is the choice's logprobs object of
    this delta, as sent. ``cost_in_usd_ticks`` is the upstream's exact cost on the usage chunk
    (xAI: 1e10 ticks = 1 USD), when the adapter can see it (the native adapter; LiteLLM drops it).

    ``more_in_hand`` is a transport hint, not part of the value (left out of equality, hashing and
    repr): the adapter read this chunk together with a later one that has output or a finish reason,
    and yields that one without waiting for the network. A writer relaying the stream (the proxy) may
    hold this chunk back and write both in one go; a chunk without the hint is to be written at once.
    """

    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = field(default=(), converter=tuple[Mapping[str, Any], ...])
    finish_reason: str | None = None
    role: str | None = None
    model: str = ""
    id: str = ""
    usage: Usage | None = None
    index: int = 0
    refusal: str | None = None
    logprobs: Mapping[str, Any] | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    cost_in_usd_ticks: int | None = None
    more_in_hand: bool = field(default=False, eq=False, repr=False)

    @property
    def has_output(self) -> bool:
        """Anything of the answer itself: content, reasoning, refusal, tool calls or logprobs (a role alone is not)."""
        return bool(self.content or self.reasoning_content or self.refusal or self.tool_calls or self.logprobs)

    @property
    def is_finish_only(self) -> bool:
        """Only a finish reason: the last delta of a stream, or one LiteLLM made up."""
        return self.finish_reason is not None and not (self.role or self.has_output or self.usage)

    @property
    def is_usage_only(self) -> bool:
        """The final usage chunk: usage and nothing a client renders as a delta."""
        return self.usage is not None and self.finish_reason is None and not self.has_output

    @property
    def is_empty(self) -> bool:
        """No output, finish reason or usage: nothing a caller needs to see."""
        return not self.has_output and self.finish_reason is None and self.usage is None


def arguments_text(arguments: Any) -> str:
    """A tool call's ``function.arguments`` as the text the OpenAI wire promises ("" for none).

    Some upstreams send the arguments as a JSON object instead of a string of JSON; LiteLLM's
    ``Function`` turns such an object into ``json.dumps(arguments)`` (litellm/types/utils.py, 1.110.2),
    and so does llmcore, on both adapters, so a client never sees an object or a Python repr.
    """
    if arguments is None:
        return ""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def with_arguments_text(call: Mapping[str, Any]) -> dict[str, Any]:
    """A tool call (or a tool-call delta) as a plain dict whose ``function.arguments``, if sent, is text."""
    plain = dict(call)
    function = plain.get("function")
    if isinstance(function, Mapping) and "arguments" in function and not isinstance(function["arguments"], str):
        plain["function"] = {**function, "arguments": arguments_text(function["arguments"])}
    return plain
