"""What llmcore knows about the locked LiteLLM without importing it: providers, config keys, the model map.

Two sources, both read as data and cached, so reading a config never imports
LiteLLM (~3 s):

- ``data/litellm_config.json``, generated at lock time from the installed LiteLLM
  by ``scripts/generate_litellm_data.py`` (it lists where each set comes from);
  ``tests/unit/test_litellm_data.py`` fails when it no longer matches LiteLLM.
- LiteLLM's own bundled ``model_prices_and_context_window_backup.json`` (the
  model map: mode, context window, prices, ``supports_*`` flags per model),
  located with ``importlib.util.find_spec`` (which does not run the package)
  and loaded only when a config entry needs a default from it.
"""
from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).parent / "data" / "litellm_config.json"
MODEL_MAP_NAME = "model_prices_and_context_window_backup.json"

# The places of a LiteLLM proxy config whose keys the generated data lists.
PLACES = ("", "model_list[]", "litellm_params", "model_info", "litellm_settings", "router_settings",
          "general_settings")


@functools.cache
def _data() -> Mapping[str, Any]:
    data: Mapping[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def litellm_version() -> str:
    """The LiteLLM version the data was generated from (the locked one)."""
    return str(_data()["litellm_version"])


@functools.cache
def providers() -> frozenset[str]:
    """LiteLLM's provider names (its ``LlmProviders`` enum): what ``model: <provider>/...`` routes on."""
    return frozenset(_data()["providers"])


@functools.cache
def accepted_keys(place: str) -> frozenset[str]:
    """Every key LiteLLM's proxy accepts in ``place`` (one of PLACES; ``""`` is the top level)."""
    return frozenset(_data()["keys"][place])


@functools.cache
def credential_params() -> frozenset[str]:
    """``litellm_params`` that carry credentials (besides ``api_key``): each becomes a Secret."""
    return frozenset(_data()["credential_params"])


@functools.cache
def provider_params() -> frozenset[str]:
    """Non-secret provider connection params (``api_version``, ``aws_region_name``, ...), passed as written."""
    return frozenset(_data()["provider_params"])


def model_map_path() -> Path | None:
    """Where the locked LiteLLM keeps its bundled model map, found without importing LiteLLM."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_MAP_NAME
    return path if path.is_file() else None


@functools.cache
def model_map() -> Mapping[str, Mapping[str, Any]]:
    """LiteLLM's bundled model map (model key -> its data), or empty when LiteLLM is not installed."""
    path = model_map_path()
    if path is None:
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {key: value for key, value in raw.items() if isinstance(value, dict)}


def model_map_entry(candidates: tuple[str, ...]) -> tuple[str, Mapping[str, Any]] | None:
    """The first of ``candidates`` (model map keys, most specific first) that the map has, with its data."""
    found = model_map()
    for key in candidates:
        if key and key in found:
            return key, found[key]
    return None
