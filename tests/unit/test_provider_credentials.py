"""Each provider gets only its own credentials (Decision 12), from the env given to llmcore.load."""
from __future__ import annotations

from tests.conftest import make_canary
from tests.unit.config_helpers import registry_from, write_config

ANTHROPIC = """
model_list:
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
{extra}
"""


def anthropic_config(tmp_path, extra=""):
    return write_config(tmp_path, ANTHROPIC.format(extra="\n".join("      " + line for line in extra.splitlines())))


def test_anthropic_key_comes_from_anthropic_api_key_and_says_so(tmp_path, canary):
    reg = registry_from(anthropic_config(tmp_path), {"ANTHROPIC_API_KEY": canary})
    spec, status = reg.spec("claude"), reg.status("claude")
    assert spec.api_key.reveal() == canary
    assert spec.litellm_model == "anthropic/claude-sonnet-4-5" and spec.provider == "anthropic"
    assert status.available
    assert status.sources["api_key"] == "env ANTHROPIC_API_KEY"
    # No base URL: LiteLLM's own Anthropic endpoint, and the source says so.
    assert spec.base_url is None and status.sources["api_base"] == "LiteLLM's own default for Anthropic"


def test_anthropic_never_reads_another_providers_or_llmcores_variables(tmp_path):
    env = {"OPENAI_API_KEY": make_canary("sk"), "GROK_API_KEY": make_canary(), "LLMCORE_API_KEY": make_canary(),
           "LLMCORE_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    status = registry_from(anthropic_config(tmp_path), env).status("claude")
    assert not status.available
    assert status.reason == "no API key: set ANTHROPIC_API_KEY, or add api_key to the model entry"


def test_the_entry_key_wins_over_anthropic_api_key(tmp_path, canary):
    reg = registry_from(anthropic_config(tmp_path, "api_key: os.environ/TEAM_CLAUDE_KEY"),
                        {"TEAM_CLAUDE_KEY": canary, "ANTHROPIC_API_KEY": make_canary("sk-ant")})
    assert reg.spec("claude").api_key.reveal() == canary
    assert reg.status("claude").sources["api_key"] == "entry (os.environ/TEAM_CLAUDE_KEY)"


def test_anthropic_base_url_env_is_read_in_litellms_order(tmp_path, canary):
    env = {"ANTHROPIC_API_KEY": canary, "ANTHROPIC_API_BASE": "http://127.0.0.1:7", "ANTHROPIC_BASE_URL": "http://x"}
    reg = registry_from(anthropic_config(tmp_path), env)
    assert reg.spec("claude").base_url == "http://127.0.0.1:7"
    assert reg.status("claude").sources["api_base"] == "env ANTHROPIC_API_BASE"


def test_a_malformed_provider_key_is_judged_like_grok_keys(tmp_path, canary):
    status = registry_from(anthropic_config(tmp_path), {"ANTHROPIC_API_KEY": canary + "\n"}).status("claude")
    assert not status.available and "from env ANTHROPIC_API_KEY contains whitespace" in status.reason


AZURE = """
model_list:
  - model_name: azure-mini
    litellm_params:
      model: azure/gpt-4o-mini
{extra}
"""


def azure_config(tmp_path, extra=""):
    return write_config(tmp_path, AZURE.format(extra="\n".join("      " + line for line in extra.splitlines())))


def test_azure_reads_its_key_base_and_api_version_and_passes_them_as_params(tmp_path, canary):
    env = {"AZURE_API_KEY": canary, "AZURE_API_BASE": "https://res.openai.azure.com",
           "AZURE_API_VERSION": "2024-10-21"}
    reg = registry_from(azure_config(tmp_path), env)
    spec, status = reg.spec("azure-mini"), reg.status("azure-mini")
    assert status.available
    assert spec.api_key.reveal() == canary and spec.base_url == "https://res.openai.azure.com"
    assert spec.provider_params == {"api_version": "2024-10-21"}
    assert status.sources["api_version"] == "env AZURE_API_VERSION"


def test_azure_openai_api_key_comes_before_azure_api_key_as_in_litellm(tmp_path, canary):
    env = {"AZURE_OPENAI_API_KEY": canary, "AZURE_API_KEY": make_canary(), "AZURE_API_BASE": "https://r.example"}
    assert registry_from(azure_config(tmp_path), env).spec("azure-mini").api_key.reveal() == canary


def test_azure_without_a_base_url_is_unavailable_naming_the_variable(tmp_path, canary):
    status = registry_from(azure_config(tmp_path), {"AZURE_API_KEY": canary}).status("azure-mini")
    assert not status.available
    assert status.reason == "no base URL: set AZURE_API_BASE, or add api_base to the model entry"


def test_azure_without_any_credential_names_the_keys_and_the_ad_token(tmp_path):
    status = registry_from(azure_config(tmp_path), {"AZURE_API_BASE": "https://r.example"}).status("azure-mini")
    assert status.reason == ("no API key: set AZURE_OPENAI_API_KEY or AZURE_API_KEY, or add api_key to the model "
                             "entry (or AZURE_AD_TOKEN, or azure_ad_token on the entry)")


def test_azure_ad_token_stands_in_for_the_key_and_stays_a_secret(tmp_path, canary):
    env = {"AZURE_AD_TOKEN": canary, "AZURE_API_BASE": "https://r.example"}
    reg = registry_from(azure_config(tmp_path), env)
    spec, status = reg.spec("azure-mini"), reg.status("azure-mini")
    assert status.available and spec.api_key is None
    assert spec.secret_params["azure_ad_token"].reveal() == canary
    assert canary not in repr(spec) and canary not in repr(status)
    assert status.sources["api_key"] == "azure_ad_token (env AZURE_AD_TOKEN)"


def test_an_entry_api_version_is_not_overridden_by_the_env(tmp_path, canary):
    from llmcore.adapters.credentials import resolve_provider
    from llmcore.adapters.env_file_secrets import EnvFileSecretSource
    from llmcore.adapters.provider_data import litellm_profile

    resolved = resolve_provider(
        profile=litellm_profile("azure"), entry_key=None, entry_base_url="https://r.example", key_env=None,
        base_url_env=None, secrets=EnvFileSecretSource({"AZURE_API_KEY": canary, "AZURE_API_VERSION": "old"}),
        entry_params={"api_version": "2025-01-01"},
    )
    assert "api_version" not in resolved.provider_params
    assert resolved.credentials.base_url_source == "entry (literal)"


def test_bedrock_without_a_key_uses_the_aws_chain_and_is_available(tmp_path):
    path = write_config(tmp_path, """
        model_list:
          - model_name: claude-bedrock
            litellm_params:
              model: bedrock/anthropic.claude-3-5-sonnet
    """)
    reg = registry_from(path, {})
    status = reg.status("claude-bedrock")
    assert status.available
    assert status.sources["api_key"] == "AWS credential chain (LiteLLM/boto3)"
    assert reg.spec("claude-bedrock").route == "bedrock"


def test_a_local_ollama_needs_no_key_and_has_litellms_default_base(tmp_path):
    path = write_config(tmp_path, """
        model_list:
          - model_name: llama
            litellm_params:
              model: ollama_chat/llama3.1
    """)
    reg = registry_from(path, {})
    assert reg.status("llama").available
    assert reg.spec("llama").base_url == "http://localhost:11434"
    assert reg.status("llama").sources["api_base"] == "default (LiteLLM)"
    assert reg.status("llama").sources["api_key"].startswith("none (Ollama takes no key")


def test_xai_route_gets_the_xai_profile_and_grok_env(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: build
            litellm_params:
              model: xai/grok-build-0.1
    """)
    reg = registry_from(path, {"GROK_API_KEY": canary, "XAI_API_KEY": make_canary(), "OPENAI_API_KEY": make_canary()})
    spec = reg.spec("build")
    assert spec.provider == "xai" and spec.litellm_model == "openai/grok-build-0.1"
    assert spec.api_key.reveal() == canary and spec.base_url == "https://api.x.ai/v1"
    assert spec.usage_convention == "reasoning_apart"


def test_an_openai_entry_on_api_x_ai_gets_the_xai_profile(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: g43
            litellm_params:
              model: openai/grok-4.3
              api_base: https://api.x.ai/v1
    """)
    spec = registry_from(path, {"GROK_API_KEY": canary}).spec("g43")
    assert spec.provider == "xai" and spec.param_rules.drop


def test_an_unknown_explicit_provider_names_the_nearest(tmp_path):
    import pytest

    from llmcore.domain.errors import ConfigError

    path = write_config(tmp_path, """
        model_list:
          - model_name: c
            litellm_params: {model: anthropic/claude}
            model_info: {provider: anthropc}
    """)
    with pytest.raises(ConfigError) as caught:
        registry_from(path, {})
    assert "unknown provider 'anthropc'; did you mean 'anthropic'?" in str(caught.value)
