"""call_kwargs for every provider: LiteLLM's model string, the provider's own params, secrets revealed only here."""
from __future__ import annotations

from typing import Any

import pytest

from llmcore.adapters.litellm_convert import call_kwargs
from llmcore.domain.chat import ChatRequest, Message
from llmcore.domain.errors import InvalidRequestError, UpstreamAuthError
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret
from tests.conftest import make_canary


def request(spec: ModelSpec, **params: Any) -> ChatRequest:
    return ChatRequest(spec=spec, messages=[Message(role="user", content="hi")], params=params)


def bedrock(secret: str) -> ModelSpec:
    return ModelSpec(
        alias="claude-bedrock", upstream_model="anthropic.claude-3-5-sonnet", provider="bedrock", route="bedrock",
        credentials=Credentials(api_key_source="AWS credential chain (LiteLLM/boto3)", key_required=False,
                                base_url_required=False),
        provider_params={"aws_region_name": "eu-west-1", "aws_access_key_id": "AKIAEXAMPLE"},
        secret_params={"aws_secret_access_key": Secret(secret)},
    )


def test_bedrock_gets_its_route_region_and_revealed_secret_and_no_key_or_base():
    secret = make_canary("aws")
    kwargs = call_kwargs(request(bedrock(secret)), stream=False)
    assert kwargs["model"] == "bedrock/anthropic.claude-3-5-sonnet"
    assert kwargs["aws_region_name"] == "eu-west-1" and kwargs["aws_access_key_id"] == "AKIAEXAMPLE"
    assert kwargs["aws_secret_access_key"] == secret
    assert "api_key" not in kwargs and "api_base" not in kwargs
    assert kwargs["max_retries"] == 0 and kwargs["timeout"] == 600.0


def test_a_request_param_never_overrides_provider_or_secret_params():
    secret = make_canary("aws")
    kwargs = call_kwargs(request(bedrock(secret), aws_region_name="us-east-1", aws_secret_access_key="x",
                                 max_retries=5, temperature=0.2), stream=True)
    assert kwargs["aws_region_name"] == "eu-west-1" and kwargs["aws_secret_access_key"] == secret
    assert kwargs["max_retries"] == 0 and kwargs["temperature"] == 0.2
    assert kwargs["stream"] is True and kwargs["stream_options"] == {"include_usage": True}


def test_each_call_gets_fresh_containers_for_nested_provider_params():
    import attrs

    spec = attrs.evolve(bedrock(make_canary("aws")), provider_params={"extra_body": {"guardrailConfig": {"id": "g1"}}})
    first = call_kwargs(request(spec), stream=False)
    first["extra_body"]["guardrailConfig"]["id"] = "changed"
    assert call_kwargs(request(spec), stream=False)["extra_body"] == {"guardrailConfig": {"id": "g1"}}


def test_azure_sends_key_base_and_api_version_explicitly():
    key = make_canary("az")
    spec = ModelSpec(alias="azure-mini", upstream_model="gpt-4o-mini", provider="azure", route="azure",
                     credentials=Credentials(api_key=Secret(key), base_url="https://r.openai.azure.com"),
                     provider_params={"api_version": "2024-10-21"})
    kwargs = call_kwargs(request(spec, api_version="1999-01-01"), stream=False)
    assert (kwargs["model"], kwargs["api_key"], kwargs["api_base"], kwargs["api_version"]) == (
        "azure/gpt-4o-mini", key, "https://r.openai.azure.com", "2024-10-21")


def test_anthropic_without_a_base_url_leaves_litellms_default_but_still_needs_its_key():
    spec = ModelSpec(alias="claude", upstream_model="claude-sonnet-4-5", provider="anthropic", route="anthropic",
                     credentials=Credentials(key_hint="set ANTHROPIC_API_KEY", base_url_required=False))
    with pytest.raises(UpstreamAuthError) as caught:
        call_kwargs(request(spec), stream=False)
    assert "set ANTHROPIC_API_KEY" in str(caught.value)
    key = make_canary("sk-ant")
    with_key = ModelSpec(alias="claude", upstream_model="claude-sonnet-4-5", provider="anthropic",
                         route="anthropic", credentials=Credentials(api_key=Secret(key), base_url_required=False))
    kwargs = call_kwargs(request(with_key), stream=False)
    assert kwargs["api_key"] == key and "api_base" not in kwargs


def test_a_provider_that_needs_a_base_url_is_refused_without_one():
    spec = ModelSpec(alias="azure-mini", upstream_model="gpt-4o-mini", provider="azure", route="azure",
                     credentials=Credentials(api_key=Secret(make_canary("az"))))
    with pytest.raises(InvalidRequestError):
        call_kwargs(request(spec), stream=False)


def test_a_bare_model_name_is_sent_without_a_route():
    spec = ModelSpec(alias="mini", upstream_model="gpt-5-mini", provider="openai", route="",
                     credentials=Credentials(api_key=Secret(make_canary("sk")), base_url_required=False))
    assert call_kwargs(request(spec), stream=False)["model"] == "gpt-5-mini"


def openai_wire(route: str, provider: str, **provider_params: Any) -> ModelSpec:
    return ModelSpec(alias="m", upstream_model="gpt-4o", provider=provider, route=route,
                     credentials=Credentials(api_key=Secret(make_canary("sk")), base_url="http://127.0.0.1:9/v1"),
                     provider_params=provider_params)


@pytest.mark.parametrize(("route", "provider"),
                         [("openai", "xai"), ("openai", "openai_compatible"), ("xai", "xai"), ("", "openai")])
def test_user_and_metadata_travel_in_the_body_on_every_openai_wire_route(route: str, provider: str):
    kwargs = call_kwargs(request(openai_wire(route, provider), user="u1", metadata={"k": "v"}, seed=3), stream=False)
    assert "user" not in kwargs and "metadata" not in kwargs  # LiteLLM would drop or keep them for itself
    assert kwargs["extra_body"] == {"user": "u1", "metadata": {"k": "v"}} and kwargs["seed"] == 3


def test_an_operators_extra_body_keeps_its_values_beside_the_moved_fields():
    spec = openai_wire("openai", "openai_compatible", extra_body={"user": "operator", "top_k": 5})
    kwargs = call_kwargs(request(spec, user="client", metadata={"k": "v"}), stream=True)
    assert kwargs["extra_body"] == {"user": "operator", "top_k": 5, "metadata": {"k": "v"}}
    assert spec.provider_params["extra_body"] == {"user": "operator", "top_k": 5}


def test_other_routes_leave_user_to_litellm_and_get_no_extra_body():
    kwargs = call_kwargs(request(bedrock(make_canary("aws")), user="u1"), stream=False)
    assert kwargs["user"] == "u1" and "extra_body" not in kwargs
