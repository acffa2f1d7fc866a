"""Provider profiles: what differs between OpenAI-compatible providers, as data.

The next OpenAI-compatible provider is a new profile here, not a new adapter.
"""
from __future__ import annotations

from collections.abc import Mapping

from attrs import field, frozen

from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import Capabilities, ParamRules, UsageConvention

GLOBAL_KEY_ENV = "LLMCORE_API_KEY"
GLOBAL_BASE_URL_ENV = "LLMCORE_BASE_URL"


@frozen(kw_only=True)
class ProviderProfile:
    """Env names, default base URL, capabilities, param rules and error markers of one provider.

    ``auth_markers`` and ``quota_markers`` are lower-cased fragments of the
    provider's error text that turn an ambiguous status (xAI's 400 for a wrong
    key, its 429 for spent credits) into the right error class.
    """

    name: str
    display_name: str
    key_env: str | None = None
    base_url_env: str | None = None
    default_base_url: str | None = None
    capabilities: Capabilities = field(factory=Capabilities)
    param_rules: ParamRules = field(factory=ParamRules)
    auth_markers: tuple[str, ...] = ()
    quota_markers: tuple[str, ...] = ()
    extra_headers: Mapping[str, str] = field(factory=dict, converter=frozen_mapping)
    usage_convention: UsageConvention = "reasoning_in_completion"


_XAI_REJECTS = "xAI answers HTTP 400 to it for reasoning models"

XAI = ProviderProfile(
    name="xai",
    display_name="xAI",
    key_env="GROK_API_KEY",
    base_url_env="GROK_BASE_URL",
    default_base_url="https://api.x.ai/v1",
    capabilities=Capabilities(
        streaming=True, reasoning=True, tools=True, tool_choice=True, response_format=True, vision=False,
        max_input_tokens=256_000,
    ),
    param_rules=ParamRules(
        drop=("presence_penalty", "frequency_penalty", "stop", "reasoning_effort", "reasoning"),
        strip_name_from_non_user=True,
        reasons={
            "presence_penalty": _XAI_REJECTS + " (even when 0)",
            "frequency_penalty": _XAI_REJECTS,
            "stop": _XAI_REJECTS,
            "reasoning_effort": "xAI answers HTTP 400 to it for grok-code-fast-1",
            "reasoning": "xAI answers HTTP 400 to it for grok-code-fast-1",
        },
    ),
    auth_markers=("incorrect api key", "invalid api key", "no api key", "api key not valid"),
    quota_markers=("used all available credits", "spending limit", "doesn't have any credits"),
    # docs.x.ai: completion_tokens leaves reasoning out; total = prompt + completion + reasoning.
    usage_convention="reasoning_apart",
)

OPENAI_COMPATIBLE = ProviderProfile(
    name="openai_compatible",
    display_name="OpenAI-compatible provider",
    auth_markers=("incorrect api key", "invalid api key", "invalid_api_key"),
    quota_markers=("insufficient_quota", "exceeded your current quota"),
)

PROFILES: Mapping[str, ProviderProfile] = frozen_mapping({p.name: p for p in (XAI, OPENAI_COMPATIBLE)})


def profile_named(name: str) -> ProviderProfile | None:
    return PROFILES.get(name)
