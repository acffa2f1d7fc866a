"""Which provider serves a config entry, as LiteLLM would route it, and which provider profile applies.

``parse_route`` splits ``litellm_params.model`` the way LiteLLM does, against the locked LiteLLM's own
provider list (generated data, no import); ``choose_profile`` picks the profile by evidence
(``model_info.provider`` wins; xAI for ``xai/``, an ``api.x.ai`` base URL or a catalog model).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from attrs import frozen

from llmcore.adapters import config_schema as schema
from llmcore.adapters.catalog import CatalogEntry
from llmcore.adapters.litellm_data import litellm_version, model_map, providers
from llmcore.adapters.model_defaults import CATALOG_SOURCE
from llmcore.adapters.provider_profiles import OPENAI_COMPATIBLE, XAI, ProviderProfile, profile_named

XAI_HOST = "api.x.ai"
WILDCARD_PROVIDER = "*"


@frozen(kw_only=True)
class Route:
    """How LiteLLM will be called: ``route/upstream`` (``route`` empty for a bare name) and the provider."""

    route: str
    upstream: str
    provider: str
    problem: str | None = None


def parse_route(model: str, explicit: str | None) -> Route:
    """Split ``litellm_params.model`` the way LiteLLM does, naming LiteLLM's provider.

    The profile is chosen apart, by evidence (:func:`choose_profile`).
    """
    known = providers()
    if explicit:
        problem = None if explicit in known else _unknown_provider(explicit, "litellm_params.custom_llm_provider")
        return Route(route=explicit, upstream=model.removeprefix(f"{explicit}/"), provider=explicit, problem=problem)
    prefix, slash, rest = model.partition("/")
    if slash and prefix in known:
        problem = None if rest else (f"litellm_params.model {model!r} names provider {prefix!r} but no model "
                                     f"after it; write {prefix}/<model>")
        return Route(route=prefix, upstream=rest, provider=prefix, problem=problem)
    if slash:
        return Route(route=prefix, upstream=rest, provider=prefix,
                     problem=_unknown_provider(prefix, f"the prefix of {model!r}"))
    if model == "*":
        return Route(route="", upstream=model, provider=WILDCARD_PROVIDER)
    data = model_map().get(model, {})
    provider = data.get("litellm_provider")
    if isinstance(provider, str):
        return Route(route="", upstream=model, provider=provider)
    return Route(route="", upstream=model, provider="unknown", problem=(
        f"LiteLLM {litellm_version()} cannot tell which provider serves the bare model name {model!r}; "
        f"write it with its provider prefix (e.g. openai/{model} with api_base for an OpenAI-compatible "
        "endpoint) or set litellm_params.custom_llm_provider"))


def _unknown_provider(name: str, what: str) -> str:
    return (f"{what} names provider {name!r}, which LiteLLM {litellm_version()} does not know; use a LiteLLM "
            "provider prefix (e.g. openai/<model> with api_base for an OpenAI-compatible endpoint)")


def choose_profile(
    info: schema.ModelInfo, route: Route, base_url: str | None, catalog: CatalogEntry | None,
) -> tuple[ProviderProfile | None, str]:
    """The profile and why: ``model_info.provider`` wins; then xAI by evidence; an ``openai/`` entry with
    its own ``api_base`` is the generic OpenAI-compatible endpoint; else the profile of the LiteLLM
    provider the route names (``anthropic/...`` -> Anthropic, a bare OpenAI name -> OpenAI)."""
    if info.provider is not None:
        return profile_named(info.provider), "model_info.provider"
    host = urlsplit(base_url).hostname if base_url else None
    if route.route == "xai":
        return XAI, "route xai/"
    if host is not None and (host == XAI_HOST or host.endswith("." + XAI_HOST)):
        return XAI, f"base URL on {XAI_HOST}"
    # Only where llmcore would call xAI itself: azure_ai/grok-code-fast-1 is Azure's model, not xAI's.
    if catalog is not None and route.route in ("", "openai"):
        return XAI, f"{CATALOG_SOURCE} knows {catalog.upstream_model}"
    if route.route == "openai" and base_url is not None:
        return OPENAI_COMPATIBLE, "openai/ with its own api_base"
    own = profile_named(route.provider) if route.provider != WILDCARD_PROVIDER else None
    if own is not None:
        return own, f"LiteLLM provider {route.provider}"
    return OPENAI_COMPATIBLE, "default"
