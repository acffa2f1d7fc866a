"""Error classification per provider: the real provider's name, and its own auth and quota wording."""
from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from llmcore.adapters.litellm_errors import Translation, translate
from llmcore.adapters.litellm_runtime import litellm_module
from llmcore.domain.errors import InvalidRequestError, QuotaExceededError, RateLimitError, UpstreamAuthError
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret
from llmcore.testing.fake_anthropic_faults import CREDIT_BALANCE_TOO_LOW


@pytest.fixture(scope="module")
def ll() -> Any:
    return litellm_module().exceptions


def translation(provider: str, route: str) -> Translation:
    spec = ModelSpec(alias="m", upstream_model="m-1", provider=provider, route=route,
                     credentials=Credentials(api_key=Secret("plain" + secrets.token_hex(12)), base_url_required=False))
    return Translation(spec)


def answer(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, text=text, headers={"content-type": "application/json"},
                          request=httpx.Request("POST", "http://127.0.0.1:9/v1/messages"))


def anthropic_body(kind: str, message: str) -> str:
    return f'{{"type":"error","error":{{"type":"{kind}","message":"{message}"}}}}'


def test_anthropic_spent_credits_are_a_quota_error_though_anthropic_answers_400(ll: Any) -> None:
    exc = ll.BadRequestError("AnthropicException", "claude", "anthropic",
                             response=answer(400, anthropic_body("invalid_request_error", CREDIT_BALANCE_TOO_LOW)))
    error = translate(exc, translation("anthropic", "anthropic"))
    assert type(error) is QuotaExceededError and not error.retryable
    assert str(error).startswith("Anthropic refused the request: no credits left")


def test_an_ordinary_anthropic_400_stays_an_invalid_request(ll: Any) -> None:
    body = anthropic_body("invalid_request_error", "max_tokens: Field required")
    exc = ll.BadRequestError("AnthropicException", "claude", "anthropic", response=answer(400, body))
    error = translate(exc, translation("anthropic", "anthropic"))
    assert type(error) is InvalidRequestError and str(error).startswith("Anthropic rejected the request")


@pytest.mark.parametrize(("provider", "display"), [
    ("anthropic", "Anthropic"), ("azure", "Azure OpenAI"), ("bedrock", "AWS Bedrock"), ("groq", "Groq"),
    ("openai", "OpenAI"), ("xai", "xAI"), ("openai_compatible", "OpenAI-compatible provider"),
])
def test_errors_name_the_real_provider(ll: Any, provider: str, display: str) -> None:
    exc = ll.AuthenticationError("no", provider, "m-1", response=answer(401, '{"error":"no"}'))
    assert str(translate(exc, translation(provider, provider))).startswith(f"{display} refused the credentials")


def test_azure_quota_wording_is_a_quota_error_and_a_plain_429_a_rate_limit(ll: Any) -> None:
    quota = ll.RateLimitError("429", "azure", "m-1", response=answer(429, '{"error":{"code":"insufficient_quota"}}'))
    limit = ll.RateLimitError("429", "azure", "m-1", response=answer(429, '{"error":{"code":"429"}}'))
    assert type(translate(quota, translation("azure", "azure"))) is QuotaExceededError
    assert type(translate(limit, translation("azure", "azure"))) is RateLimitError


def test_an_unknown_provider_name_falls_back_to_the_generic_profile(ll: Any) -> None:
    exc = ll.AuthenticationError("no", "x", "m-1", response=answer(401, "{}"))
    error = translate(exc, translation("nosuchprovider", "openai"))
    assert type(error) is UpstreamAuthError and "OpenAI-compatible provider" in str(error)
