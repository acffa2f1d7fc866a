"""The catalog as data, matched by upstream model (Decision 15); other models' defaults from LiteLLM's model map."""
from __future__ import annotations

import datetime as dt

import pytest

from llmcore.adapters.catalog import catalog
from llmcore.adapters.env_file_secrets import EnvFileSecretSource
from llmcore.adapters.yaml_config import load_catalog, load_file
from tests.unit.config_helpers import write_config


def spec_of(tmp_path, params: str, info: str = "", env=None):
    text = f"model_list:\n  - model_name: grok-code-fast-1\n    litellm_params: {params}\n"
    if info:
        text += f"    model_info: {info}\n"
    [spec] = load_file(write_config(tmp_path, text), EnvFileSecretSource(env or {})).specs
    return spec


def test_the_catalog_knows_the_three_xai_models_with_facts_figures():
    known = catalog()
    assert set(known) == {"grok-code-fast-1", "grok-4.3", "grok-build-0.1"}
    fast, g43, build = known["grok-code-fast-1"], known["grok-4.3"], known["grok-build-0.1"]
    assert (fast.prices.input_per_token, fast.prices.output_per_token) == pytest.approx((1.25e-6, 2.5e-6))
    assert fast.lifecycle.deprecation_date == dt.date(2026, 5, 15) and fast.lifecycle.served_by == "grok-4.3"
    assert fast.lifecycle.successor == "grok-build-0.1"
    assert (g43.prices.input_per_token, g43.prices.output_per_token) == pytest.approx((1.25e-6, 2.5e-6))
    assert "reasoning_effort" not in g43.drop  # xAI accepts reasoning_effort only for grok-4.3
    assert (build.prices.input_per_token, build.prices.output_per_token,
            build.prices.cached_input_per_token) == pytest.approx((1e-6, 2e-6, 2e-7))
    assert build.capabilities.vision and build.capabilities.max_input_tokens == 256_000
    assert all({"presence_penalty", "frequency_penalty", "stop"} <= set(e.drop) for e in known.values())


def test_without_a_file_grok_code_fast_1_is_served():
    assert [s.alias for s in load_catalog(EnvFileSecretSource({})).specs] == ["grok-code-fast-1"]


def test_a_reused_alias_gets_the_data_of_the_upstream_model_it_points_at(tmp_path):
    spec = spec_of(tmp_path, "{model: openai/grok-build-0.1}")
    assert spec.alias == "grok-code-fast-1" and spec.upstream_model == "grok-build-0.1"
    assert spec.prices.input_per_token == pytest.approx(1e-6)
    assert spec.prices.cached_input_per_token == pytest.approx(2e-7)
    assert spec.lifecycle.deprecation_date is None and spec.lifecycle.served_by is None
    assert spec.sources["defaults"] == "built-in catalog (grok-build-0.1)"


def test_an_xai_route_gets_the_xai_profile_and_is_called_through_openai(tmp_path, canary):
    spec = spec_of(tmp_path, "{model: xai/grok-build-0.1}", env={"GROK_API_KEY": canary})
    assert (spec.provider, spec.route, spec.litellm_model) == ("xai", "openai", "openai/grok-build-0.1")
    assert spec.usage_convention == "reasoning_apart"
    assert spec.base_url == "https://api.x.ai/v1" and spec.api_key.reveal() == canary
    assert spec.prices.input_per_token == pytest.approx(1e-6)
    assert "presence_penalty" in spec.param_rules.drop and spec.param_rules.strip_name_from_non_user
    assert spec.sources["profile"] == "xAI (route xai/)"


def test_an_xai_model_the_catalog_does_not_know_takes_litellms_map_under_the_xai_profile(tmp_path):
    spec = spec_of(tmp_path, "{model: xai/grok-4.3-latest}")
    assert spec.provider == "xai" and spec.sources["defaults"] == "LiteLLM model map (xai/grok-4.3-latest)"
    assert "stop" in spec.param_rules.drop


def test_a_base_url_on_api_x_ai_gets_the_xai_profile(tmp_path):
    spec = spec_of(tmp_path, "{model: openai/grok-future, api_base: 'https://api.x.ai/v1'}")
    assert spec.provider == "xai" and spec.sources["profile"] == "xAI (base URL on api.x.ai)"


def test_model_info_provider_wins_over_the_evidence(tmp_path):
    spec = spec_of(tmp_path, "{model: openai/grok-code-fast-1, api_base: 'http://127.0.0.1:9/v1'}",
                   "{provider: openai_compatible}")
    assert spec.provider == "openai_compatible" and spec.param_rules.drop == ()
    assert spec.sources["profile"] == "OpenAI-compatible provider (model_info.provider)"


def test_another_providers_grok_is_not_taken_for_xais(tmp_path):
    spec = spec_of(tmp_path, "{model: azure_ai/grok-code-fast-1}")
    assert spec.provider == "azure_ai" and spec.route == "azure_ai"
    assert spec.sources["defaults"] == "LiteLLM model map (azure_ai/grok-code-fast-1)"


def test_other_models_take_capabilities_prices_and_mode_from_litellms_model_map(tmp_path):
    spec = spec_of(tmp_path, "{model: anthropic/claude-sonnet-4-5-20250929}")
    assert spec.sources["defaults"] == "LiteLLM model map (claude-sonnet-4-5-20250929)"  # the map's own key
    assert spec.sources["mode"] == spec.sources["defaults"]
    assert spec.prices.input_per_token == pytest.approx(3e-6) and spec.prices.output_per_token == pytest.approx(15e-6)
    assert spec.prices.cached_input_per_token is not None
    assert spec.capabilities.tools and spec.capabilities.vision and spec.capabilities.max_input_tokens >= 200_000


def test_base_model_names_the_model_map_entry_of_an_azure_deployment(tmp_path):
    spec = spec_of(tmp_path, "{model: azure/my-gpt4o-deployment}", "{base_model: azure/gpt-4o}")
    assert spec.sources["defaults"] == "LiteLLM model map (azure/gpt-4o)"
    assert spec.prices.input_per_token is not None


def test_model_info_overrides_every_default_and_says_so(tmp_path):
    spec = spec_of(tmp_path, "{model: anthropic/claude-sonnet-4-5-20250929}",
                   "{input_cost_per_token: 0.000001, output_cost_per_token: 0.000002, supports_vision: false, "
                   "max_input_tokens: 1000, mode: chat}")
    assert (spec.prices.input_per_token, spec.prices.output_per_token) == (1e-6, 2e-6)
    assert not spec.capabilities.vision and spec.capabilities.max_input_tokens == 1000
    assert spec.sources["prices"] == "model_info" and spec.sources["mode"] == "model_info"


def test_a_model_neither_knows_keeps_the_profile_defaults(tmp_path):
    spec = spec_of(tmp_path, "{model: openai/in-house-model, api_base: 'http://127.0.0.1:9/v1'}")
    assert spec.sources["defaults"] == "OpenAI-compatible provider profile"
    assert spec.prices.input_per_token is None


def test_a_wildcard_takes_no_model_map_defaults(tmp_path):
    spec = spec_of(tmp_path, "{model: 'anthropic/*'}")
    assert spec.sources["defaults"] == "Anthropic profile" and spec.unservable is None


def test_a_model_of_another_provider_is_not_priced_as_its_namesake(tmp_path):
    # The map's bare gpt-4o is OpenAI's; a local ollama model of the same name is not billed at OpenAI's prices.
    spec = spec_of(tmp_path, "{model: ollama/gpt-4o}")
    assert spec.sources["defaults"] == "Ollama profile"
    assert spec.prices.input_per_token is None


@pytest.mark.parametrize("model", ["grok-build-0.1", "grok-code-fast-1"])
def test_a_bare_catalog_name_is_xais(tmp_path, model):
    spec = spec_of(tmp_path, f"{{model: {model}}}")
    assert (spec.provider, spec.litellm_model, spec.unservable) == ("xai", f"openai/{model}", None)
    assert spec.sources["defaults"] == f"built-in catalog ({model})"


@pytest.mark.parametrize(("model", "key"), [
    ("vertex_ai/gemini-2.5-pro", "gemini-2.5-pro"),  # filed under vertex_ai-language-models
    ("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
])
def test_the_map_s_provider_families_count_as_their_provider(tmp_path, model, key):
    spec = spec_of(tmp_path, f"{{model: '{model}'}}")
    assert spec.sources["defaults"] == f"LiteLLM model map ({key})"
