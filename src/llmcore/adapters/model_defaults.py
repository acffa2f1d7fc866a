"""Where a configured model's defaults come from: the catalog, LiteLLM's model map, or its provider profile.

Decision 15: the built-in catalog applies to a model whose *upstream* model it
knows; any other model takes capabilities, context window, prices, mode and
lifecycle from the model map bundled in the locked LiteLLM (read as data,
never by importing LiteLLM); what neither knows comes from the provider
profile. ``model_info`` overrides all of these later (yaml_config). Each
result names its source, which ``config check`` and ``models show`` print.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from attrs import evolve, field, frozen

from llmcore.adapters.catalog import CatalogEntry
from llmcore.adapters.litellm_data import model_map_entry
from llmcore.adapters.provider_profiles import ProviderProfile
from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import Capabilities, Lifecycle
from llmcore.domain.usage import Prices

CATALOG_SOURCE = "built-in catalog"

# The model map's capability flags, by the Capabilities field each one sets.
_MAP_FLAGS = {
    "reasoning": "supports_reasoning",
    "tools": "supports_function_calling",
    "tool_choice": "supports_tool_choice",
    "response_format": "supports_response_schema",
    "vision": "supports_vision",
}


@frozen(kw_only=True)
class Defaults:
    """A model's defaults before ``model_info``; ``source`` names where they came from."""

    capabilities: Capabilities
    drop: Mapping[str, str] = field(factory=dict, converter=frozen_mapping)
    prices: Prices = field(factory=Prices)
    lifecycle: Lifecycle = field(factory=Lifecycle)
    mode: str | None = None
    timeout: float | None = None
    source: str


def map_candidates(route: str, upstream: str, provider: str, base_model: str | None) -> tuple[str, ...]:
    """Model map keys to try, most specific first: ``model_info.base_model`` (LiteLLM prices Azure
    deployments by it), the LiteLLM model string, then the name under its provider's prefix."""
    names = [base_model or "", f"{route}/{upstream}" if route else upstream, f"{provider}/{upstream}"]
    if route:
        names.append(upstream)
    return tuple(dict.fromkeys(n for n in names if n))


def defaults_for(
    *, profile: ProviderProfile, catalog: CatalogEntry | None, route: str, upstream: str, provider: str,
    base_model: str | None,
) -> Defaults:
    """The catalog's data when it knows the upstream model, else the model map's over the profile's."""
    if catalog is not None:
        return Defaults(
            capabilities=catalog.capabilities, drop=catalog.drop, prices=catalog.prices,
            lifecycle=catalog.lifecycle, mode="chat", timeout=catalog.timeout,
            source=f"{CATALOG_SOURCE} ({catalog.upstream_model})",
        )
    drop = {p: profile.param_rules.reasons.get(p, "") for p in profile.param_rules.drop}
    profile_defaults = Defaults(capabilities=profile.capabilities, drop=drop, source=f"{profile.display_name} profile")
    if "*" in upstream:  # a wildcard route: the model is known only per request
        return profile_defaults
    found = model_map_entry(map_candidates(route, upstream, provider, base_model))
    if found is None:
        return profile_defaults
    key, data = found
    if key == upstream and not _same_provider(data.get("litellm_provider"), provider):
        return profile_defaults  # another provider's model of the same name
    return evolve(
        profile_defaults,
        capabilities=_capabilities(profile.capabilities, data),
        prices=Prices(
            input_per_token=_number(data.get("input_cost_per_token")),
            output_per_token=_number(data.get("output_cost_per_token")),
            cached_input_per_token=_number(data.get("cache_read_input_token_cost")),
        ),
        lifecycle=Lifecycle(
            deprecation_date=_date(data.get("deprecation_date")), successor=_text(data.get("successor_model")),
        ),
        mode=_text(data.get("mode")),
        source=f"LiteLLM model map ({key})",
    )


def _same_provider(listed: Any, provider: str) -> bool:
    """Whether the map's ``litellm_provider`` is this provider: the map files Vertex AI models under
    ``vertex_ai-<family>`` and Bedrock's Converse models under ``bedrock_converse``."""
    if listed is None or listed == provider:
        return True
    return isinstance(listed, str) and (listed.startswith(f"{provider}-") or listed == f"{provider}_converse")


def _capabilities(base: Capabilities, data: Mapping[str, Any]) -> Capabilities:
    flags = {name: data[key] for name, key in _MAP_FLAGS.items() if isinstance(data.get(key), bool)}
    limits = {name: data[name] for name in ("max_input_tokens", "max_output_tokens")
              if isinstance(data.get(name), int) and not isinstance(data.get(name), bool)}
    return evolve(base, **flags, **limits)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
