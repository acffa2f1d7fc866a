"""Fits a request's params to what the model takes, and says what it changed.

A param the model does not take is dropped (``drop_params`` on, the default)
or refused with :class:`ParamNotSupportedError` (``drop_params`` off); it is
never passed through silently, because xAI answers 400 to each of them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import evolve, frozen

from llmcore.domain.chat import Message, ParamAdjustment
from llmcore.domain.errors import ParamNotSupportedError
from llmcore.domain.model_spec import ModelSpec

# The OpenAI chat-completions params a caller may set. ``model``, ``messages``,
# ``stream`` and ``stream_options`` are the core's own business.
OPENAI_CHAT_PARAMS = frozenset({
    "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls",
    "prediction", "presence_penalty", "prompt_cache_key", "reasoning", "reasoning_effort",
    "response_format", "safety_identifier", "seed", "service_tier", "stop", "store", "temperature",
    "tool_choice", "tools", "top_logprobs", "top_p", "user", "web_search_options",
})

# Params that only make sense while a capability flag allows them.
_CAPABILITY_PARAMS = {
    "tools": "tools",
    "functions": "tools",
    "function_call": "tools",
    "parallel_tool_calls": "tools",
    "tool_choice": "tool_choice",
    "response_format": "response_format",
}

DEFAULT_DROP_REASON = "the upstream rejects it with HTTP 400"


@frozen(kw_only=True)
class PolicyResult:
    """What to send, and every adjustment made on the way."""

    params: Mapping[str, Any]
    messages: tuple[Message, ...]
    adjustments: tuple[ParamAdjustment, ...]


class ParamPolicy:
    """Applies a model's capabilities and param rules to one request. Stateless; safe to share."""

    def apply(self, spec: ModelSpec, params: Mapping[str, Any], messages: Sequence[Message]) -> PolicyResult:
        """The params and messages to send for ``spec``; raises ParamNotSupportedError when dropping is off."""
        kept: dict[str, Any] = {}
        adjustments: list[ParamAdjustment] = []
        rules = spec.param_rules
        for name, value in params.items():
            if value is None:
                continue  # an explicit null means "not set"; nothing to tell anyone
            reason = self._unsupported_reason(spec, name)
            if reason is not None:
                if not rules.drop_params:
                    raise ParamNotSupportedError(spec.alias, name, reason)
                adjustments.append(ParamAdjustment(param=name, action="dropped", reason=reason))
                continue
            new_name = rules.rename.get(name)
            if new_name:
                adjustments.append(ParamAdjustment(
                    param=name, action="renamed", new_name=new_name,
                    reason=f"{spec.upstream_model} takes {new_name!r} instead",
                ))
                name = new_name
            kept[name] = value
        fitted = tuple(self._fit_message(spec, m, i, adjustments) for i, m in enumerate(messages))
        return PolicyResult(params=kept, messages=fitted, adjustments=tuple(adjustments))

    @staticmethod
    def _unsupported_reason(spec: ModelSpec, name: str) -> str | None:
        if name in spec.param_rules.drop:
            return spec.param_rules.reasons.get(name, DEFAULT_DROP_REASON)
        if name not in OPENAI_CHAT_PARAMS and name not in spec.param_rules.rename:
            return "not an OpenAI chat-completions parameter"
        capability = _CAPABILITY_PARAMS.get(name)
        if capability and not getattr(spec.capabilities, capability):
            return f"the model's capabilities say {capability} is not supported"
        return None

    @staticmethod
    def _fit_message(
        spec: ModelSpec, message: Message, index: int, adjustments: list[ParamAdjustment]
    ) -> Message:
        if message.name is None or message.role == "user" or not spec.param_rules.strip_name_from_non_user:
            return message
        adjustments.append(ParamAdjustment(
            param=f"messages[{index}].name", action="transformed",
            reason=f"only user messages may carry a name; removed from the {message.role} message",
        ))
        return evolve(message, name=None)
