"""Profiles for the providers the locked LiteLLM knows, built from ``data/provider_env.json``.

The data file is generated from LiteLLM at lock time (``provider_env_gen``); this module reads
it as JSON, so neither ``import llmcore`` nor ``config check`` imports LiteLLM. What LiteLLM's
data cannot say is kept here, each with its source: display names, the ambient credential
mechanisms LiteLLM falls back to (read in ``litellm/llms/bedrock/base_aws_llm.py`` and
``litellm/llms/vertex_ai/vertex_llm_base.py`` of 1.110.2), error markers where the provider's
wording is known, and default base URLs LiteLLM sets in code rather than data.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmcore.adapters.provider_profiles import ProviderProfile

DATA_FILE = Path(__file__).parent / "data" / "provider_env.json"

DISPLAY_NAMES: Mapping[str, str] = {
    "openai": "OpenAI", "anthropic": "Anthropic", "azure": "Azure OpenAI", "azure_ai": "Azure AI Foundry",
    "bedrock": "AWS Bedrock", "sagemaker": "AWS SageMaker", "sagemaker_chat": "AWS SageMaker",
    "vertex_ai": "Google Vertex AI", "vertex_ai_beta": "Google Vertex AI", "gemini": "Google Gemini",
    "groq": "Groq", "mistral": "Mistral AI", "ollama": "Ollama", "ollama_chat": "Ollama",
    "openrouter": "OpenRouter", "together_ai": "Together AI", "deepseek": "DeepSeek", "cohere": "Cohere",
    "cohere_chat": "Cohere", "fireworks_ai": "Fireworks AI", "perplexity": "Perplexity",
    "cerebras": "Cerebras", "deepinfra": "DeepInfra", "hosted_vllm": "vLLM", "databricks": "Databricks",
    "watsonx": "IBM watsonx", "huggingface": "Hugging Face", "nvidia_nim": "NVIDIA NIM",
}

_AWS_CHAIN = "AWS credential chain (LiteLLM/boto3)"
_GOOGLE_ADC = "Google Application Default Credentials (LiteLLM/google-auth, GOOGLE_APPLICATION_CREDENTIALS)"
# Providers LiteLLM authenticates without an api_key: boto3's chain (env, profile, instance role) for
# AWS; google-auth's ADC for Vertex. llmcore cannot pass these as params, so it leaves them to LiteLLM.
AMBIENT_AUTH: Mapping[str, str] = {
    "bedrock": _AWS_CHAIN, "sagemaker": _AWS_CHAIN, "sagemaker_chat": _AWS_CHAIN, "sagemaker_nova": _AWS_CHAIN,
    "vertex_ai": _GOOGLE_ADC, "vertex_ai_beta": _GOOGLE_ADC,
}

# Base URLs LiteLLM sets in code, not in get_llm_provider (main.py: ollama's localhost default).
CODE_DEFAULT_BASE: Mapping[str, str] = {
    "ollama": "http://localhost:11434", "ollama_chat": "http://localhost:11434",
}

_OPENAI_AUTH = ("incorrect api key", "invalid api key", "invalid_api_key")
_OPENAI_QUOTA = ("insufficient_quota", "exceeded your current quota")
# Lower-cased fragments of each provider's documented error text.
MARKERS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "openai": (_OPENAI_AUTH, _OPENAI_QUOTA),
    "azure": (_OPENAI_AUTH + ("access denied due to invalid subscription key",), _OPENAI_QUOTA),
    # Anthropic: 401 authentication_error "invalid x-api-key"; 400 "credit balance is too low".
    "anthropic": (("invalid x-api-key", "authentication_error"), ("credit balance is too low",)),
    "gemini": (("api key not valid", "api_key_invalid"), ()),
}


@functools.lru_cache(maxsize=1)
def _data() -> Mapping[str, Any]:
    providers: Mapping[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))["providers"]
    return providers


def litellm_provider_names() -> frozenset[str]:
    """The providers the locked LiteLLM knows (``litellm.provider_list``)."""
    return frozenset(_data())


def litellm_version() -> str:
    """The LiteLLM version the data file was generated from."""
    return str(json.loads(DATA_FILE.read_text(encoding="utf-8"))["litellm_version"])


@functools.lru_cache(maxsize=None)
def litellm_profile(name: str) -> ProviderProfile | None:
    """The profile of LiteLLM provider ``name``, or None when the locked LiteLLM does not know it."""
    facts = _data().get(name)
    if facts is None:
        return None
    envs: dict[str, tuple[str, ...]] = {param: tuple(names) for param, names in facts["env"].items()}
    required = set(facts["required_env"])
    default_base = facts["default_api_base"] or CODE_DEFAULT_BASE.get(name)
    ambient = AMBIENT_AUTH.get(name)
    auth, quota = MARKERS.get(name, (_OPENAI_AUTH, _OPENAI_QUOTA) if facts["openai_compatible"] else ((), ()))
    return ProviderProfile(
        name=name,
        display_name=DISPLAY_NAMES.get(name, name),
        default_base_url=default_base,
        auth_markers=auth,
        quota_markers=quota,
        route=name,
        param_envs=envs,
        ambient_auth=ambient,
        # LiteLLM's validate_environment names the variables the provider cannot do without.
        key_required=ambient is None and bool(required & set(envs.get("api_key", ()))),
        base_url_required=default_base is None and bool(required & set(envs.get("api_base", ()))),
        openai_compatible=bool(facts["openai_compatible"]),
    )
