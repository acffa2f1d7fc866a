"""Issue 10, config half: every LiteLLM route loads; what llmcore cannot serve is unavailable with a reason."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from llmcore.adapters.env_file_secrets import EnvFileSecretSource
from llmcore.adapters.yaml_config import load_file
from llmcore.domain.errors import ConfigError
from llmcore.domain.registry import unavailable_reason
from tests.conftest import make_canary
from tests.unit.config_helpers import write_config


def load(path, env=None):
    return load_file(path, EnvFileSecretSource(env or {}))


def one(tmp_path, params: str, info: str = "", env=None, name: str = "m"):
    text = f"model_list:\n  - model_name: {name}\n    litellm_params: {params}\n"
    if info:
        text += f"    model_info: {info}\n"
    [spec] = load(write_config(tmp_path, text), env).specs
    return spec


@pytest.mark.parametrize(("model", "route", "upstream", "provider"), [
    ("gpt-5-mini", "", "gpt-5-mini", "openai"),
    ("openai/gpt-4o", "openai", "gpt-4o", "openai"),
    ("azure/my-deployment", "azure", "my-deployment", "azure"),
    ("anthropic/claude-sonnet-4-5-20250929", "anthropic", "claude-sonnet-4-5-20250929", "anthropic"),
    ("bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0", "bedrock",
     "us.anthropic.claude-haiku-4-5-20251001-v1:0", "bedrock"),
    ("vertex_ai/gemini-2.5-pro", "vertex_ai", "gemini-2.5-pro", "vertex_ai"),
    ("gemini/gemini-2.5-flash", "gemini", "gemini-2.5-flash", "gemini"),
    ("groq/llama-3.3-70b-versatile", "groq", "llama-3.3-70b-versatile", "groq"),
    ("mistral/mistral-large-latest", "mistral", "mistral-large-latest", "mistral"),
    ("ollama/llama2", "ollama", "llama2", "ollama"),
    ("ollama_chat/llama3.1", "ollama_chat", "llama3.1", "ollama_chat"),
    ("openrouter/x-ai/grok-4", "openrouter", "x-ai/grok-4", "openrouter"),
    ("together_ai/meta-llama/Llama-3-70b", "together_ai", "meta-llama/Llama-3-70b", "together_ai"),
    ("anthropic/*", "anthropic", "*", "anthropic"),
    ("'*'", "", "*", "*"),
])
def test_every_litellm_route_becomes_a_spec_with_its_route_and_provider(tmp_path, model, route, upstream, provider):
    spec = one(tmp_path, f"{{model: {model}}}")
    assert (spec.route, spec.upstream_model, spec.provider) == (route, upstream, provider)
    assert spec.litellm_model == (f"{route}/{upstream}" if route else upstream)
    assert spec.unservable is None


def test_custom_llm_provider_names_the_provider_of_a_bare_name(tmp_path):
    spec = one(tmp_path, "{model: my-finetune, custom_llm_provider: openai}")
    assert (spec.route, spec.upstream_model, spec.provider) == ("openai", "my-finetune", "openai")


@pytest.mark.parametrize(("model", "fragment"), [
    ("made-up-provider/some-model", "names provider 'made-up-provider', which LiteLLM 1.110.2 does not know"),
    ("some-unknown-model", "cannot tell which provider serves the bare model name 'some-unknown-model'"),
    ("azure/", "names provider 'azure' but no model after it"),
])
def test_a_model_litellm_cannot_route_is_unavailable_and_says_what_to_do(tmp_path, model, fragment):
    spec = one(tmp_path, f"{{model: '{model}', api_key: k, api_base: 'http://127.0.0.1:9/v1'}}")
    assert fragment in spec.unservable
    assert unavailable_reason(spec, None) == spec.unservable


@pytest.mark.parametrize(("params", "info", "source"), [
    ("{model: azure/azure-embedding-model}", "{mode: embedding}", "model_info"),
    ("{model: text-embedding-3-small}", "", "LiteLLM model map (text-embedding-3-small)"),
    ("{model: cohere/rerank-english-v3.0}", "", "LiteLLM model map (rerank-english-v3.0)"),
])
def test_a_mode_other_than_chat_is_unavailable_with_where_the_mode_came_from(tmp_path, params, info, source):
    spec = one(tmp_path, params, info)
    assert spec.unservable.startswith("mode ")
    assert f"(from {source})" in spec.unservable
    assert "LiteLLM's own proxy" in spec.unservable


def test_one_unservable_entry_leaves_the_rest_of_the_file_serving(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: embed
            litellm_params: {model: text-embedding-3-small}
          - model_name: grok-code-fast-1
            litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY}
    """)
    embed, grok = load(path, {"GROK_API_KEY": canary}).specs
    assert embed.unservable and unavailable_reason(grok, None) is None


def test_credential_params_are_secrets_under_the_api_key_reference_rules(tmp_path):
    secret_key = make_canary("aws-canary")
    key_file = tmp_path / "token"
    key_file.write_text("session-token-value\n")
    spec = one(tmp_path, "{model: bedrock/amazon.titan-text-premier-v1:0, "
                         "aws_access_key_id: os.environ/AWS_ID, aws_secret_access_key: os.environ/AWS_SECRET, "
                         f"aws_session_token: 'file:{key_file}', aws_region_name: eu-west-1}}",
               env={"AWS_ID": "AKIDEXAMPLE", "AWS_SECRET": secret_key})
    assert set(spec.secret_params) == {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
    assert spec.secret_params["aws_secret_access_key"].reveal() == secret_key
    assert spec.secret_params["aws_session_token"].reveal() == "session-token-value"
    assert secret_key not in repr(spec) and secret_key not in str(spec.secret_params)
    assert spec.provider_params == {"aws_region_name": "eu-west-1"}
    assert spec.sources["aws_secret_access_key"] == "entry (os.environ/AWS_SECRET)"
    assert spec.sources["aws_session_token"] == f"entry (file:{key_file})"
    assert spec.unservable is None


def test_an_unresolvable_credential_param_makes_only_that_model_unavailable(tmp_path):
    spec = one(tmp_path, "{model: bedrock/amazon.titan-text-premier-v1:0, aws_secret_access_key: os.environ/NOPE}")
    assert "litellm_params.aws_secret_access_key refers to os.environ/NOPE, but NOPE is not set" in spec.unservable


def test_a_literal_credential_param_is_used_masked_and_warned_about(tmp_path):
    secret = make_canary("vertex-canary")
    path = write_config(tmp_path, f"""
        model_list:
          - model_name: gem
            litellm_params:
              model: vertex_ai/gemini-2.5-pro
              vertex_project: my-project
              vertex_location: os.environ/VERTEX_LOCATION
              vertex_credentials: {{"type": "service_account", "private_key": "{secret}"}}
    """)
    config = load(path, {"VERTEX_LOCATION": "europe-west4"})
    [spec] = config.specs
    assert json.loads(spec.secret_params["vertex_credentials"].reveal())["private_key"] == secret
    assert spec.provider_params == {"vertex_project": "my-project", "vertex_location": "europe-west4"}
    assert any("vertex_credentials holds a literal credential" in w for w in config.warnings)
    assert spec.sources["vertex_credentials"] == "entry (literal)"
    assert spec.secret_params["vertex_credentials"] in config.secrets()
    assert not any(secret in w for w in config.warnings)


def test_a_credential_param_of_the_wrong_type_is_a_file_error(tmp_path):
    path = write_config(tmp_path, "model_list:\n  - model_name: m\n    litellm_params: "
                                  "{model: azure/x, azure_ad_token: 12345}\n")
    with pytest.raises(ConfigError, match=r"model_list\[0\] \(m\)\.litellm_params\.azure_ad_token: expected a string"):
        load(path)


def test_an_unresolvable_provider_param_reference_makes_the_model_unavailable(tmp_path):
    spec = one(tmp_path, "{model: azure/x, api_version: os.environ/AZURE_API_VERSION}")
    assert "AZURE_API_VERSION is not set" in spec.unservable


def test_a_repeated_model_name_is_one_deployment_per_entry(tmp_path):
    path = write_config(tmp_path, """
        model_list:
          - model_name: gpt
            litellm_params: {model: azure/gpt-eu, api_base: "https://eu.example.com", weight: 3, order: 1}
            model_info: {id: eu-1}
          - model_name: gpt
            litellm_params: {model: azure/gpt-us, api_base: "https://us.example.com", rpm: 600}
            tpm: 90000
          - model_name: gpt
            litellm_params: {model: azure/gpt-us, api_base: "https://us.example.com"}
    """)
    first, second, third = load(path).specs
    assert [s.alias for s in (first, second, third)] == ["gpt", "gpt", "gpt"]
    assert (first.deployment.id, first.deployment.weight, first.deployment.order) == ("eu-1", 3, 1)
    assert (second.deployment.rpm, second.deployment.tpm) == (600, 90000)
    assert second.deployment.id.startswith("gpt-") and third.deployment.id == second.deployment.id + "-2"
    again = load(path).specs  # derived ids are stable from one load to the next
    assert [s.deployment.id for s in again] == [s.deployment.id for s in (first, second, third)]


ROUTED = """
model_list:
  - model_name: primary
    litellm_params: {model: openai/gpt-4o, timeout: 12, num_retries: 5}
  - model_name: backup
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929}
  - model_name: "anthropic/*"
    litellm_params: {model: "anthropic/*"}
"""


def test_routing_settings_come_from_litellm_and_router_settings(tmp_path):
    path = write_config(tmp_path, ROUTED + """
litellm_settings:
  fallbacks: [{primary: [backup]}]
  context_window_fallbacks: [{primary: [anthropic/claude-opus-4-1]}]
  num_retries: 4
  request_timeout: 30
router_settings:
  content_policy_fallbacks: [{backup: [primary]}]
  allowed_fails: 2
  cooldown_time: 45
  routing_strategy: latency-based-routing
  num_retries: 1
""")
    config = load(path)
    routing = config.routing
    assert dict(routing.fallbacks) == {"primary": ("backup",)}
    assert dict(routing.context_window_fallbacks) == {"primary": ("anthropic/claude-opus-4-1",)}
    assert dict(routing.content_policy_fallbacks) == {"backup": ("primary",)}
    assert (routing.allowed_fails, routing.cooldown_time, routing.routing_strategy) == (2, 45, "latency-based-routing")
    primary, backup, _ = config.specs
    assert (primary.retry.max_retries, primary.timeout) == (5, 12)  # the entry wins
    assert (backup.retry.max_retries, backup.timeout) == (1, 30)  # router_settings beats litellm_settings
    assert backup.sources["max_retries"] == "router_settings.num_retries"
    assert backup.sources["timeout"] == "litellm_settings.request_timeout"


def test_litellm_settings_num_retries_and_request_timeout_apply_to_every_entry(tmp_path):
    path = write_config(tmp_path, ROUTED + "litellm_settings: {num_retries: 0, request_timeout: 7.5}\n")
    primary, backup, _ = load(path).specs
    assert (backup.retry.max_retries, backup.timeout) == (0, 7.5)
    assert (primary.retry.max_retries, primary.timeout) == (5, 12)


def test_router_settings_timeout_is_every_entrys_default(tmp_path):
    path = write_config(tmp_path, ROUTED + "router_settings: {timeout: 9}\n")
    assert load(path).specs[1].timeout == 9


@pytest.mark.parametrize(("settings", "fragment"), [
    ("litellm_settings: {fallbacks: [{primary: [nowhere]}]}",
     "litellm_settings.fallbacks[0]: 'nowhere' is not a model_name in this file"),
    ("router_settings: {fallbacks: [{ghost: [backup]}]}", "router_settings.fallbacks[0]: 'ghost' is not a model_name"),
    ("router_settings: {fallbacks: {primary: backup}}", "router_settings.fallbacks"),
    ("litellm_settings: {num_retries: -1}", "litellm_settings.num_retries: must be 0 or more"),
    ("router_settings: {timeout: 0}", "router_settings.timeout: must be a positive number"),
])
def test_bad_routing_settings_are_file_errors_naming_the_field(tmp_path, settings, fragment):
    with pytest.raises(ConfigError) as caught:
        load(write_config(tmp_path, ROUTED + settings + "\n"))
    assert fragment in str(caught.value)


def test_unknown_router_and_litellm_settings_warn_as_litellm_does(tmp_path):
    # LiteLLM's proxy logs and ignores a router_settings key that is not a Router argument, and sets any
    # litellm_settings key on its module: a file it loads must load here too, with the nearest real key named.
    path = write_config(tmp_path, ROUTED + "router_settings: {enable_pre_call_check: true}\n"
                                           "litellm_settings: {telemetry: false}\n")
    joined = "\n".join(load(path).warnings)
    assert "router_settings.enable_pre_call_check is read by neither llmcore nor LiteLLM 1.110.2" in joined
    assert "did you mean 'enable_pre_call_checks'?" in joined
    assert "litellm_settings.telemetry is read by neither" in joined


def test_an_unknown_key_elsewhere_is_still_an_error_naming_the_nearest_key(tmp_path):
    path = write_config(tmp_path, "model_list:\n  - model_name: m\n    litellm_params: {model: openai/x, api_bse: y}\n")
    with pytest.raises(ConfigError, match="unknown key 'api_bse'; did you mean 'api_base'"):
        load(path)


def test_environment_variables_resolve_the_files_references_without_touching_os_environ(tmp_path, canary):
    path = write_config(tmp_path, """
        environment_variables:
          PARTNER_URL: "http://127.0.0.1:8/v1"
          PARTNER_KEY: os.environ/REAL_PARTNER_KEY
          OVERRIDDEN: from-file
          EMPTY:
        model_list:
          - model_name: partner
            litellm_params: {model: openai/partner, api_key: os.environ/PARTNER_KEY, api_base: os.environ/PARTNER_URL,
                              organization: os.environ/OVERRIDDEN}
    """)
    [spec] = load(path, {"REAL_PARTNER_KEY": canary, "OVERRIDDEN": "from-process"}).specs
    assert spec.api_key.reveal() == canary
    assert spec.base_url == "http://127.0.0.1:8/v1"
    assert spec.provider_params["organization"] == "from-process"  # a variable the process sets wins
    assert "PARTNER_URL" not in os.environ


def test_environment_variables_must_be_a_mapping_of_text(tmp_path):
    with pytest.raises(ConfigError, match="environment_variables: expected a mapping"):
        load(write_config(tmp_path, "environment_variables: [A]\nmodel_list: []\n"))
    with pytest.raises(ConfigError, match="environment_variables.A: expected NAME: text"):
        load(write_config(tmp_path, "environment_variables: {A: [1]}\nmodel_list: []\n"))


def test_loading_a_file_of_every_kind_never_imports_litellm(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(ROUTED + "  - model_name: e\n    litellm_params: {model: text-embedding-3-small}\n")
    code = ("import sys, llmcore\n"
            f"core = llmcore.load({str(path)!r}, env={{}})\n"
            "assert len(core.models()) == 4, core.models()\n"
            "assert 'litellm' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
