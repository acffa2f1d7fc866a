"""Provider profiles: what differs between providers, as data.

Two profiles are llmcore's own: xAI (Grok, served as ``openai/<model>`` with an explicit base
URL, its own env names, drop rules and error markers) and the generic OpenAI-compatible
endpoint. Every other provider LiteLLM knows gets a profile built from the locked LiteLLM's
own data (``provider_data``): its env vars, default base URL, whether LiteLLM reaches it
through an ambient mechanism (the AWS chain, Google ADC). :func:`profile_for` picks one by
evidence: ``model_info.provider``, then the route, the base URL host and the catalog.
"""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from attrs import field, frozen

from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import Capabilities, ParamRules
from llmcore.domain.usage import UsageConvention

GLOBAL_KEY_ENV = "LLMCORE_API_KEY"
GLOBAL_BASE_URL_ENV = "LLMCORE_BASE_URL"
XAI_HOST = "api.x.ai"
# LiteLLM routes whose upstream speaks the OpenAI chat wire through the OpenAI SDK, which sends
# ``extra_body`` as part of the JSON body: request fields LiteLLM would not send go there. A bare
# model name (no route) is LiteLLM's OpenAI provider.
OPENAI_WIRE_ROUTES = frozenset({"openai", "xai"})


@frozen(kw_only=True)
class ProviderProfile:
    """Env names, default base URL, capabilities, param rules and error markers of one provider.

    ``auth_markers`` and ``quota_markers`` are lower-cased fragments of the
    provider's error text that turn an ambiguous status (xAI's 400 for a wrong
    key, its 429 for spent credits) into the right error class.

    ``key_env`` / ``base_url_env`` are llmcore's own env names (xAI: ``GROK_*``),
    read before the global ``LLMCORE_*`` ones. ``param_envs`` are the env vars
    LiteLLM would read for the provider's params (``api_key``, ``api_base``,
    ``api_version``, ``vertex_project``, ...), in LiteLLM's order; llmcore reads
    them from the ``env`` given to ``llmcore.load`` and passes the values
    explicitly. ``ambient_auth`` names the mechanism LiteLLM falls back to when
    no key is given (the AWS credential chain, Google ADC); such a provider is
    available without a key. ``key_required`` / ``base_url_required`` say whether
    a model is unavailable without one. ``openai_compatible`` is LiteLLM's own
    classification; ``route`` is the LiteLLM route llmcore calls the provider on.
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
    route: str = "openai"
    param_envs: Mapping[str, tuple[str, ...]] = field(factory=dict, converter=frozen_mapping)
    ambient_auth: str | None = None
    key_required: bool = True
    base_url_required: bool = True
    openai_compatible: bool = True
    uses_global_env: bool = False

    @property
    def own_credentials(self) -> bool:
        """True for llmcore's own profiles (xAI, generic): GROK_*/LLMCORE_* env, base URL always explicit."""
        return self.uses_global_env


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
    uses_global_env=True,
)

OPENAI_COMPATIBLE = ProviderProfile(
    name="openai_compatible",
    display_name="OpenAI-compatible provider",
    auth_markers=("incorrect api key", "invalid api key", "invalid_api_key"),
    quota_markers=("insufficient_quota", "exceeded your current quota"),
    uses_global_env=True,
)

PROFILES: Mapping[str, ProviderProfile] = frozen_mapping({p.name: p for p in (XAI, OPENAI_COMPATIBLE)})


def profile_named(name: str) -> ProviderProfile | None:
    """llmcore's own profile, or the profile of a provider the locked LiteLLM knows, by name."""
    own = PROFILES.get(name)
    if own is not None:
        return own
    from llmcore.adapters.provider_data import litellm_profile

    return litellm_profile(name)


def known_provider_names() -> frozenset[str]:
    """Every name ``model_info.provider`` may take: llmcore's own profiles and LiteLLM's providers."""
    from llmcore.adapters.provider_data import litellm_provider_names

    return frozenset(PROFILES) | litellm_provider_names()


def profile_for(
    litellm_model: str, *, base_url: str | None, explicit: str | None, known_xai: bool = False,
) -> ProviderProfile | None:
    """The profile for a config entry, by evidence; None when nothing names a provider LiteLLM knows.

    ``explicit`` (``model_info.provider``) wins. Otherwise the xAI profile goes to ``xai/`` models,
    entries whose base URL is on ``api.x.ai`` and upstream models the catalog knows as xAI's
    (``known_xai``, from the caller's catalog lookup). An ``openai/`` entry with an ``api_base``
    elsewhere is the generic OpenAI-compatible endpoint, as before; every other route gets the
    profile of the LiteLLM provider it names (``anthropic/...`` -> Anthropic, a bare name or an
    ``openai/`` entry without a base URL -> OpenAI).
    """
    if explicit is not None:
        return profile_named(explicit)
    route, slash, _ = litellm_model.partition("/")
    if not slash:
        route = ""
    if route == "xai" or known_xai or _on_xai(base_url):
        return XAI
    if route == "openai" and base_url is not None:
        return OPENAI_COMPATIBLE
    return profile_named(route or "openai")


def _on_xai(base_url: str | None) -> bool:
    if not base_url:
        return False
    try:
        host = urlsplit(base_url).hostname or ""
    except ValueError:
        return False
    return host == XAI_HOST or host.endswith("." + XAI_HOST)
