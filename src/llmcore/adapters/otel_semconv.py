"""The span vocabulary llmcore's traces use: OpenTelemetry's GenAI and HTTP names, and llmcore's own.

Attribute names and the ``gen_ai.provider.name`` values follow the GenAI client
spans of the OpenTelemetry semantic conventions 1.41 (``docs/gen-ai/gen-ai-spans.md``,
status *Development*; the names are those of ``opentelemetry-semantic-conventions``
0.66b2, schema 1.44, which marks them as moved to the
``open-telemetry/semantic-conventions-genai`` repository, unchanged). llmcore
emits the latest experimental names only (``gen_ai.provider.name``, not the
pre-1.37 ``gen_ai.system``): it never emitted the old ones, so it has nothing to
keep stable for (the conventions' transition plan concerns instrumentations that
did). HTTP names are those of the stable HTTP conventions (``http.request.method``,
``url.path``, ``http.route``, ``http.response.status_code``).

Pure data and small functions of llmcore's own values: importing this module
never imports opentelemetry.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from llmcore.domain.chat import ChatRequest
from llmcore.domain.usage import Usage

SEMCONV_VERSION = "1.41.0"
INSTRUMENTATION_NAME = "llmcore"

# GenAI (semantic conventions 1.41, gen-ai-spans.md "Inference").
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_TOP_P = "gen_ai.request.top_p"
REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
REQUEST_STREAM = "gen_ai.request.stream"
RESPONSE_ID = "gen_ai.response.id"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"  # seconds, from the request to the first chunk
USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
ERROR_TYPE = "error.type"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"

CHAT = "chat"  # gen_ai.operation.name of every call llmcore makes (chat completions)

# HTTP (stable HTTP semantic conventions), for the proxy's SERVER span.
HTTP_METHOD = "http.request.method"
HTTP_ROUTE = "http.route"
HTTP_STATUS = "http.response.status_code"
URL_PATH = "url.path"

# llmcore's own, under its own namespace as the conventions ask of custom attributes.
REQUEST_ID = "llmcore.request_id"
ALIAS = "llmcore.alias"
DEPLOYMENT_ID = "llmcore.deployment_id"
API = "llmcore.api"
OUTCOME = "llmcore.outcome"
STREAM = "llmcore.stream"

# llmcore's provider profiles and LiteLLM's provider names -> the conventions' well-known values.
# A provider missing here is reported under llmcore's own name for it (the conventions allow
# a custom value when no well-known one applies).
_PROVIDER_NAMES: Mapping[str, str] = {
    "xai": "x_ai",
    "openai": "openai",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai",
    "vertex_ai_beta": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "watsonx": "ibm.watsonx.ai",
    "perplexity": "perplexity",
    "deepseek": "deepseek",
    "groq": "groq",
    "mistral": "mistral_ai",
}


def provider_name(provider: str) -> str:
    """``gen_ai.provider.name`` for llmcore's provider name (``xai`` -> ``x_ai``, ``azure`` -> ``azure.ai.openai``)."""
    return _PROVIDER_NAMES.get(provider, provider)


def span_name(request: ChatRequest) -> str:
    """``{gen_ai.operation.name} {gen_ai.request.model}``, e.g. ``chat grok-code-fast-1``."""
    return f"{CHAT} {request.spec.upstream_model}"


def request_attributes(request: ChatRequest, *, stream: bool, api: str) -> dict[str, Any]:
    """The attributes of one attempt known before it is sent: model, provider, sampling params, llmcore's ids.

    Never the messages, never a credential: the base URL gives only its host and port.
    """
    spec = request.spec
    attributes: dict[str, Any] = {
        OPERATION_NAME: CHAT,
        PROVIDER_NAME: provider_name(spec.provider),
        REQUEST_MODEL: spec.upstream_model,
        REQUEST_STREAM: stream,
        ALIAS: spec.alias,
        API: api,
    }
    if request.request_id:
        attributes[REQUEST_ID] = request.request_id
    if spec.deployment.id:
        attributes[DEPLOYMENT_ID] = spec.deployment.id
    params = request.params
    max_tokens = params.get("max_tokens", params.get("max_completion_tokens"))
    for name, value in ((REQUEST_MAX_TOKENS, max_tokens), (REQUEST_CHOICE_COUNT, params.get("n"))):
        if isinstance(value, int) and not isinstance(value, bool):
            attributes[name] = value
    for name, key in ((REQUEST_TEMPERATURE, "temperature"), (REQUEST_TOP_P, "top_p")):
        value = params.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes[name] = float(value)
    attributes.update(server_attributes(spec.base_url))
    return attributes


def server_attributes(base_url: str | None) -> dict[str, Any]:
    """``server.address`` and ``server.port`` of the upstream: never its path, query or userinfo."""
    if not base_url:
        return {}
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return {}
    if not host:
        return {}
    default = 443 if parts.scheme == "https" else 80
    return {SERVER_ADDRESS: host, SERVER_PORT: port or default}


def usage_attributes(usage: Usage | None) -> dict[str, Any]:
    """Token counts by the conventions: output includes reasoning (what the output price applies to)."""
    if usage is None:
        return {}
    attributes: dict[str, Any] = {
        USAGE_INPUT_TOKENS: usage.prompt_tokens,
        USAGE_OUTPUT_TOKENS: usage.output_tokens,
    }
    if usage.reasoning_tokens:
        attributes[USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoning_tokens
    if usage.cached_tokens:
        attributes[USAGE_CACHE_READ_INPUT_TOKENS] = usage.cached_tokens
    return attributes
