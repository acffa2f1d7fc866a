"""The config file: LiteLLM proxy schema, catalog defaults, and errors that name file, entry and field."""
import datetime as dt

import pytest

from llmcore.adapters.env_file_secrets import EnvFileSecretSource
from llmcore.adapters.yaml_config import load_file
from llmcore.domain.errors import ConfigError
from tests.unit.config_helpers import registry_from, write_config


def load(path, env=None):
    return load_file(path, EnvFileSecretSource(env or {}))


def problems_of(path):
    with pytest.raises(ConfigError) as info:
        load(path)
    return info.value


def test_catalog_fills_defaults_and_the_entry_overrides_one_field(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: grok-code-fast-1
            litellm_params:
              model: openai/grok-code-fast-1
              api_key: os.environ/GROK_API_KEY
              timeout: 42
    """)
    spec = registry_from(path, {"GROK_API_KEY": canary}).resolve("grok-code-fast-1")
    assert spec.timeout == 42
    assert spec.litellm_model == "openai/grok-code-fast-1"
    assert spec.prices.input_per_token == pytest.approx(1.25e-6)
    assert spec.prices.output_per_token == pytest.approx(2.5e-6)
    assert spec.lifecycle.deprecation_date == dt.date(2026, 5, 15)
    assert spec.lifecycle.served_by == "grok-4.3"
    assert spec.lifecycle.successor == "grok-build-0.1"
    assert set(spec.param_rules.drop) == {"presence_penalty", "frequency_penalty", "stop", "reasoning_effort",
                                          "reasoning"}
    assert spec.param_rules.strip_name_from_non_user
    assert spec.capabilities.reasoning and spec.capabilities.tools
    assert spec.sources["defaults"] == "built-in catalog (grok-code-fast-1)"


def test_catalog_defaults_follow_the_upstream_model_under_another_alias(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: coder
            litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY}
    """)
    spec = registry_from(path, {"GROK_API_KEY": canary}).resolve("coder")
    assert spec.provider == "xai"
    assert spec.base_url == "https://api.x.ai/v1"
    assert "stop" in spec.param_rules.drop


def test_with_a_file_exactly_the_files_models_are_served(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: local
            litellm_params: {model: openai/qwen, api_base: "http://127.0.0.1:1/v1", api_key: os.environ/K}
    """)
    reg = registry_from(path, {"K": canary, "GROK_API_KEY": canary})
    assert reg.aliases() == ("local",)


def test_model_info_overrides_capabilities_rules_retry_prices_and_lifecycle(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: grok-code-fast-1
            litellm_params:
              model: openai/grok-code-fast-1
              api_key: os.environ/GROK_API_KEY
              max_retries: 5
              additional_drop_params: [logit_bias]
              drop_params: false
            model_info:
              input_cost_per_token: 0.000001
              output_cost_per_token: 0.000002
              cache_read_input_token_cost: 0.0000002
              supports_function_calling: false
              capabilities: {response_format: false}
              param_rules: {rename: {max_completion_tokens: max_tokens}}
              retry: {backoff_base: 0.1, backoff_max: 2, retry_after_max: 5}
              lifecycle: {deprecation_date: "2027-01-01", successor: grok-next, served_by: grok-5}
        litellm_settings:
          drop_params: true
    """)
    spec = registry_from(path, {"GROK_API_KEY": canary}).resolve("grok-code-fast-1")
    assert spec.retry.max_retries == 5
    assert (spec.retry.backoff_base, spec.retry.backoff_max, spec.retry.retry_after_max) == (0.1, 2, 5)
    assert "logit_bias" in spec.param_rules.drop and "stop" in spec.param_rules.drop
    assert spec.param_rules.drop_params is False
    assert spec.sources["drop_params"] == "entry"
    assert spec.param_rules.rename == {"max_completion_tokens": "max_tokens"}
    assert not spec.capabilities.tools and not spec.capabilities.response_format
    assert spec.prices.cached_input_per_token == pytest.approx(2e-7)
    assert spec.lifecycle.deprecation_date == dt.date(2027, 1, 1)
    assert spec.lifecycle.served_by == "grok-5"


def test_global_drop_params_applies_when_the_entry_is_silent(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: grok-code-fast-1
            litellm_params: {model: openai/grok-code-fast-1, num_retries: 1}
        litellm_settings: {drop_params: "false"}
    """)
    spec = registry_from(path, {"GROK_API_KEY": canary}).resolve("grok-code-fast-1")
    assert spec.param_rules.drop_params is False
    assert spec.sources["drop_params"] == "litellm_settings"
    assert spec.retry.max_retries == 1


def test_drop_params_defaults_to_true(canary):
    spec = registry_from(None, {"GROK_API_KEY": canary}).resolve("grok-code-fast-1")
    assert spec.param_rules.drop_params is True
    assert spec.sources["drop_params"] == "default"


def test_every_problem_names_the_file_the_entry_and_the_field(tmp_path):
    path = write_config(tmp_path, """
        model_list:
          - model_name: grok-code-fast-1
            litellm_params:
              model: openai/grok-code-fast-1
              timout: 5
              max_retries: "three"
            model_info:
              retry: {backoff_base: fast}
          - model_name: second
            litellm_params: {model: openai/x, drop_params: maybe}
    """)
    error = problems_of(path)
    text = str(error)
    assert text.startswith(str(path))
    assert "model_list[0] (grok-code-fast-1).litellm_params: unknown key 'timout'; did you mean 'timeout'?" in text
    assert "model_list[0] (grok-code-fast-1).litellm_params.max_retries: expected int" in text
    assert "model_list[0] (grok-code-fast-1).model_info.retry.backoff_base: expected float" in text
    assert "model_list[1] (second).litellm_params.drop_params: expected true or false" in text
    assert len(error.problems) == 4


@pytest.mark.parametrize(("body", "fragment"), [
    ("model_list: {}", "model_list: expected a list"),
    ("litellm_settings: {}", "model_list: required"),
    ("model_list:\n  - litellm_params: {model: openai/x}", "model_list[0]: model_name is required"),
    ("model_list:\n  - model_name: a", "model_list[0] (a): litellm_params is required"),
    ("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n    model_info: {provider: xia}",
     "unknown provider 'xia'; did you mean 'xai'?"),
    ("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, timeout: -1}",
     "timeout: must be a positive number"),
    ("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, max_retries: 1, num_retries: 1}",
     "set max_retries or num_retries, not both"),
    ("model_list: []\nmodel_lsit: []", "unknown key 'model_lsit'; did you mean 'model_list'?"),
    ("model_list: []\ngeneral_settings: {max_request_size_mb: 0}", "max_request_size_mb: must be a positive"),
    ("model_list: []\ngeneral_settings: []", "general_settings: expected a mapping"),
    ("model_list:\n  - model_name: a\n    litellm_params: [1]", "litellm_params: expected a mapping"),
    ("model_list:\n  - just-a-string", "model_list[0]: expected a mapping"),
    ("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n    model_info:\n"
     "      lifecycle: {deprecation_date: soon}", "lifecycle.deprecation_date"),
])
def test_bad_files_raise_config_errors_that_say_what_is_wrong(tmp_path, body, fragment):
    assert fragment in str(problems_of(write_config(tmp_path, body)))


@pytest.mark.parametrize(("text", "fragment"), [
    ("model_list: [\n", "not valid YAML at line"),
    ("- a\n- b\n", "expected a mapping with model_list at the top, got list"),
])
def test_unparseable_files_are_config_errors(tmp_path, text, fragment):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert fragment in str(problems_of(path))


def test_missing_and_unreadable_files_are_config_errors(tmp_path):
    assert "does not exist" in str(problems_of(tmp_path / "absent.yaml"))
    assert "cannot be read" in str(problems_of(tmp_path))


def test_empty_file_says_model_list_is_required(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("")
    assert "model_list: required" in str(problems_of(path))


def test_litellm_only_keys_are_accepted_with_a_warning(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: grok-code-fast-1
            litellm_params: {model: openai/grok-code-fast-1, rpm: 480, tpm: 2000000, max_parallel_requests: 4}
            model_info: {mode: chat, id: grok-1, base_model: grok-code-fast-1}
        router_settings: {routing_strategy: simple-shuffle}
        litellm_settings: {drop_params: true, set_verbose: false}
        general_settings: {master_key: os.environ/LLMCORE_MASTER_KEY, database_url: "x"}
    """)
    config = load(path, {"LLMCORE_MASTER_KEY": canary})
    joined = "\n".join(config.warnings)
    # rpm and tpm are honoured now (the deployment's weights, issue 10); max_parallel_requests is not.
    assert "model_list[0] (grok-code-fast-1).litellm_params.max_parallel_requests is a LiteLLM proxy setting" in joined
    assert "rpm" not in joined and "tpm" not in joined
    assert config.specs[0].deployment.rpm == 480 and config.specs[0].deployment.tpm == 2_000_000
    assert config.routing.routing_strategy == "simple-shuffle"
    assert "general_settings.database_url" in joined
    assert config.master_key.reveal() == canary


def test_literal_key_in_the_file_is_warned_about(tmp_path, canary):
    path = write_config(tmp_path, f"""
        model_list:
          - model_name: grok-code-fast-1
            litellm_params: {{model: openai/grok-code-fast-1, api_key: {canary}}}
    """)
    config = load(path)
    assert any("literal key" in w for w in config.warnings)
    assert all(canary not in w for w in config.warnings)


def test_unset_master_key_reference_is_reported_not_raised(tmp_path):
    path = write_config(tmp_path, "model_list: []\ngeneral_settings: {master_key: os.environ/MK}")
    config = load(path)
    assert config.master_key is None
    assert "MK is not set" in config.master_key_problem


def test_proxy_settings_come_from_general_settings(tmp_path):
    path = write_config(tmp_path, """
        model_list: []
        general_settings: {background_health_checks: true, health_check_interval: 30, max_request_size_mb: 2}
    """)
    config = load(path)
    assert (config.health_checks, config.health_check_interval, config.max_request_size_mb) == (True, 30, 2)


def test_the_shipped_example_config_loads(canary):
    from pathlib import Path

    example = Path(__file__).parents[2] / "llmcore.example.yaml"
    config = load(example, {"GROK_API_KEY": canary, "LLMCORE_MASTER_KEY": canary})
    assert [s.alias for s in config.specs][0] == "grok-code-fast-1"


def test_a_wrong_value_in_a_secret_field_is_described_by_type_not_shown(tmp_path):
    path = write_config(tmp_path, """
        model_list:
          - model_name: a
            litellm_params: {model: openai/x, api_key: [partner-secret-value]}
        general_settings: {master_key: 12345678}
    """)
    text = str(problems_of(path))
    assert "partner-secret-value" not in text and "12345678" not in text
    assert "litellm_params.api_key: expected str, got list (value not shown)" in text
    assert "general_settings.master_key: expected str, got int (value not shown)" in text


def test_metadata_is_a_visible_drop_where_litellm_would_keep_it_and_sent_on_openai_wire_routes(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: claude
            litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: os.environ/ANTHROPIC_API_KEY}
          - model_name: gpt
            litellm_params: {model: gpt-4o, api_key: os.environ/OPENAI_API_KEY}
          - model_name: grok-code-fast-1
            litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY}
    """)
    registry = registry_from(path, {"ANTHROPIC_API_KEY": canary, "OPENAI_API_KEY": canary, "GROK_API_KEY": canary})
    claude = registry.resolve("claude").param_rules
    assert "metadata" in claude.drop and "LiteLLM's anthropic/ route keeps it" in claude.reasons["metadata"]
    assert "metadata" not in registry.resolve("gpt").param_rules.drop
    assert "metadata" not in registry.resolve("grok-code-fast-1").param_rules.drop


def test_userinfo_in_a_base_url_is_warned_about_without_showing_it(tmp_path, canary):
    # httpx sends the URL's user:password as Basic auth, replacing the Bearer key: requests fail with
    # "Incorrect API key" although the key is right (found by the certify canary test).
    path = write_config(tmp_path, """
        model_list:
          - model_name: grok-code-fast-1
            litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY,
                             api_base: "http://gw:pw-hidden-77@127.0.0.1:9/v1"}
          - model_name: plain
            litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY,
                             api_base: "http://127.0.0.1:9/v1"}
    """)
    warnings = [w for w in load(path, {"GROK_API_KEY": canary}).warnings if "Basic auth" in w]
    assert len(warnings) == 1 and "grok-code-fast-1" in warnings[0]
    assert "pw-hidden-77" not in warnings[0] and canary not in warnings[0]
