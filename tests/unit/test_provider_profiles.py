"""Provider profiles by evidence, and the profiles built from the locked LiteLLM's data."""
from __future__ import annotations

import sys
import subprocess

import pytest

from llmcore.adapters.provider_data import litellm_profile, litellm_provider_names, litellm_version
from llmcore.adapters.provider_profiles import OPENAI_COMPATIBLE, XAI, known_provider_names, profile_for


@pytest.mark.parametrize(("model", "base_url", "explicit", "known_xai", "expected"), [
    ("xai/grok-build-0.1", None, None, False, "xai"),
    ("openai/grok-4.3", "https://api.x.ai/v1", None, False, "xai"),
    ("openai/my-grok", "https://eu.api.x.ai/v1", None, False, "xai"),
    ("openai/grok-code-fast-1", None, None, True, "xai"),
    ("openai/gpt-x", "http://127.0.0.1:9/v1", None, False, "openai_compatible"),
    ("openai/gpt-4o", None, None, False, "openai"),
    ("gpt-5-mini", None, None, False, "openai"),
    ("anthropic/claude-sonnet-4-5", None, None, False, "anthropic"),
    ("azure/my-deployment", "https://x.openai.azure.com", None, False, "azure"),
    ("bedrock/anthropic.claude-3", None, None, False, "bedrock"),
    ("vertex_ai/gemini-2.5-pro", None, None, False, "vertex_ai"),
    # model_info.provider wins over every other piece of evidence
    ("xai/grok-4.3", "https://api.x.ai/v1", "openai_compatible", True, "openai_compatible"),
    ("openai/claude", "http://127.0.0.1:9", "anthropic", False, "anthropic"),
])
def test_profile_for_picks_the_provider_by_evidence(model, base_url, explicit, known_xai, expected):
    profile = profile_for(model, base_url=base_url, explicit=explicit, known_xai=known_xai)
    assert profile is not None and profile.name == expected


def test_profile_for_an_unknown_provider_is_none():
    assert profile_for("nosuchprovider/x", base_url=None, explicit=None) is None
    assert profile_for("openai/x", base_url=None, explicit="nosuchprovider") is None


def test_a_malformed_base_url_is_not_evidence_of_xai():
    assert profile_for("openai/x", base_url="http://[::1", explicit=None) is OPENAI_COMPATIBLE


def test_xai_keeps_its_own_profile_and_openai_route():
    assert XAI.route == "openai" and XAI.usage_convention == "reasoning_apart" and XAI.own_credentials


@pytest.mark.parametrize(("name", "display", "key_envs", "key_required", "base_required", "ambient"), [
    ("anthropic", "Anthropic", ("ANTHROPIC_API_KEY",), True, False, None),
    ("azure", "Azure OpenAI", ("AZURE_OPENAI_API_KEY", "AZURE_API_KEY"), True, True, None),
    ("openai", "OpenAI", ("OPENAI_API_KEY",), True, False, None),
    ("bedrock", "AWS Bedrock", (), False, False, "AWS credential chain (LiteLLM/boto3)"),
    ("ollama", "Ollama", ("OLLAMA_API_KEY",), False, False, None),
])
def test_litellm_profiles_carry_litellms_own_env_names(name, display, key_envs, key_required, base_required,
                                                       ambient):
    profile = litellm_profile(name)
    assert profile is not None
    assert profile.display_name == display
    assert profile.param_envs.get("api_key", ()) == key_envs
    assert profile.key_required is key_required
    assert profile.base_url_required is base_required
    assert profile.ambient_auth == ambient
    assert profile.route == name
    assert profile.usage_convention == "reasoning_in_completion"
    assert not profile.own_credentials


def test_vertex_is_reached_through_google_adc_and_reads_its_project_env():
    profile = litellm_profile("vertex_ai")
    assert profile is not None and "Application Default Credentials" in (profile.ambient_auth or "")
    assert profile.param_envs["vertex_project"] == ("VERTEXAI_PROJECT",)
    assert not profile.key_required


def test_azure_reads_its_api_version_and_ad_token_from_the_env_litellm_reads():
    profile = litellm_profile("azure")
    assert profile is not None
    assert profile.param_envs["api_version"] == ("AZURE_API_VERSION",)
    assert profile.param_envs["azure_ad_token"] == ("AZURE_AD_TOKEN",)


def test_provider_names_come_from_the_data_file():
    names = litellm_provider_names()
    assert {"openai", "anthropic", "azure", "bedrock", "vertex_ai", "gemini", "groq", "mistral", "ollama",
            "ollama_chat", "openrouter", "together_ai", "xai"} <= names
    assert known_provider_names() >= names | {"openai_compatible"}
    assert litellm_version() == "1.110.2"
    assert litellm_profile("nosuchprovider") is None


def test_reading_the_provider_data_does_not_import_litellm():
    code = ("import sys; from llmcore.adapters.provider_profiles import profile_for; "
            "assert profile_for('anthropic/x', base_url=None, explicit=None).display_name == 'Anthropic'; "
            "assert 'litellm' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
