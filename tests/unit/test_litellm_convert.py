"""The pure conversions of the Grok adapter: kwargs for one LiteLLM call, and LiteLLM's answers back.

Answers are plain namespaces shaped like LiteLLM's objects: the converters read by attribute,
so they need no LiteLLM here (the integration tests feed them the real thing).
"""
from __future__ import annotations

import secrets
from types import MappingProxyType, SimpleNamespace as NS
from typing import Any

import pytest

from llmcore.adapters.answer_checks import MalformedAnswer
from llmcore.adapters.litellm_convert import call_kwargs, stream_usage, to_chunk, to_response, to_usage
from llmcore.domain.chat import ChatRequest, Message
from llmcore.domain.errors import UpstreamAuthError
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Prices

BASE_URL = "http://127.0.0.1:9/v1"


def spec(**overrides: Any) -> ModelSpec:
    values: dict[str, Any] = dict(
        alias="grok", upstream_model="grok-code-fast-1", provider="xai",
        credentials=Credentials(api_key=Secret("xai-canary-" + secrets.token_hex(10)), base_url=BASE_URL),
        timeout=30.0, extra_headers={"x-team": "core"},
        prices=Prices(input_per_token=1.25e-6, output_per_token=2.5e-6),
    )
    values.update(overrides)
    return ModelSpec(**values)


def request(model: ModelSpec | None = None, request_id: str | None = None, **params: Any) -> ChatRequest:
    return ChatRequest(spec=model or spec(), messages=[Message(role="user", content="hi")], params=params,
                       request_id=request_id)


def xai_usage(**overrides: Any) -> NS:
    values = dict(prompt_tokens=213, completion_tokens=2, total_tokens=215,
                  completion_tokens_details=NS(reasoning_tokens=198), prompt_tokens_details=NS(cached_tokens=192))
    values.update(overrides)
    return NS(**values)


# --- kwargs ------------------------------------------------------------------------------------

def test_every_call_names_key_base_timeout_and_no_sdk_retries() -> None:
    model = spec()

    kwargs = call_kwargs(request(model, temperature=0.2), stream=False)

    assert kwargs["model"] == "openai/grok-code-fast-1"
    assert kwargs["api_key"] == model.api_key.reveal()
    assert kwargs["api_base"] == BASE_URL
    assert (kwargs["timeout"], kwargs["max_retries"], kwargs["temperature"]) == (30.0, 0, 0.2)
    assert kwargs["messages"] == [{"role": "user", "content": "hi"}]
    assert "stream" not in kwargs


def test_streams_ask_for_usage_and_use_the_stream_timeout() -> None:
    kwargs = call_kwargs(request(spec(stream_timeout=5.0)), stream=True)

    assert (kwargs["stream"], kwargs["stream_options"], kwargs["timeout"]) == (True, {"include_usage": True}, 5.0)
    assert call_kwargs(request(), stream=True)["timeout"] == 30.0  # falls back to the timeout


def test_headers_are_a_fresh_dict_per_call_with_the_request_id() -> None:
    model = spec()
    first = call_kwargs(request(model, request_id="req-1"), stream=False)
    first["extra_headers"]["x-mutated"] = "by LiteLLM"

    second = call_kwargs(request(model), stream=False)

    assert first["extra_headers"]["x-request-id"] == "req-1"
    assert second["extra_headers"] == {"x-team": "core"}
    assert dict(model.extra_headers) == {"x-team": "core"}


def test_params_are_plain_copies_and_never_override_what_llmcore_owns() -> None:
    tools = ({"type": "function", "function": MappingProxyType({"name": "weather"})},)

    kwargs = call_kwargs(request(tools=tools, api_base="http://elsewhere", max_retries=5), stream=False)

    assert kwargs["tools"] == [{"type": "function", "function": {"name": "weather"}}]
    assert (kwargs["api_base"], kwargs["max_retries"]) == (BASE_URL, 0)


def test_known_prices_are_passed_and_unknown_ones_are_not() -> None:
    priced = call_kwargs(request(), stream=False)
    unpriced = call_kwargs(request(spec(prices=Prices())), stream=False)

    assert (priced["input_cost_per_token"], priced["output_cost_per_token"]) == (1.25e-6, 2.5e-6)
    assert "input_cost_per_token" not in unpriced


def test_a_spec_without_a_key_is_refused_before_litellm_could_fall_back_to_openai_api_key() -> None:
    with pytest.raises(UpstreamAuthError):
        call_kwargs(request(spec(credentials=Credentials(base_url=BASE_URL))), stream=False)


# --- Answers -----------------------------------------------------------------------------------

def test_response_keeps_reasoning_tool_calls_usage_and_ticks() -> None:
    # pydantic's signature: llmcore passes warnings=False
    call = NS(model_dump=lambda warnings=True: {"id": "call_1", "type": "function", "index": None,
                                                "function": {"name": "weather", "arguments": "{}"}})
    message = NS(content="", reasoning_content="thinking", tool_calls=[call])
    response = NS(id="r-1", model="grok-4.3", choices=[NS(message=message, finish_reason="tool_calls")],
                  usage=xai_usage(completion_tokens_details=NS(reasoning_tokens=256), cost_in_usd_ticks=3950400))

    converted = to_response(response)

    weather = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    assert converted.tool_calls == (weather,)
    assert (converted.reasoning_content, converted.finish_reason, converted.model) == (
        "thinking", "tool_calls", "grok-4.3")
    assert (converted.usage.reasoning_tokens, converted.usage.cached_tokens, converted.cost_in_usd_ticks) == (
        256, 192, 3950400)


def test_stream_usage_is_the_upstreams_own_chunk_not_litellms_rebuilt_one() -> None:
    upstream_chunk = NS(usage=xai_usage(total_tokens=413))  # what xAI sent: 213 + 2 + 198
    rebuilt = xai_usage(total_tokens=215)  # LiteLLM's final chunk: prompt + completion
    wrapper = NS(chunks=[NS(usage=None), upstream_chunk, NS(usage=None)])

    usage = stream_usage(wrapper, rebuilt)

    assert (usage.total_tokens, usage.reasoning_tokens) == (413, 198)


def test_stream_usage_without_the_upstream_chunk_keeps_no_invented_figures() -> None:
    # LiteLLM estimated 5 reasoning tokens from the text and recomputed the total: neither is the upstream's.
    rebuilt = NS(prompt_tokens=65, completion_tokens=251, total_tokens=316,
                 completion_tokens_details=NS(reasoning_tokens=5), prompt_tokens_details=None)

    usage = stream_usage(NS(), rebuilt)

    assert (usage.reasoning_tokens, usage.reported_total) == (0, None)
    assert usage.under("reasoning_in_completion").total_tokens == 316


def test_non_stream_usage_keeps_the_upstreams_total() -> None:
    raw = NS(prompt_tokens=100, completion_tokens=300, total_tokens=400,
             completion_tokens_details=NS(reasoning_tokens=200), prompt_tokens_details=None)

    usage = to_usage(raw).under("reasoning_in_completion")

    assert (usage.completion_tokens, usage.reasoning_tokens, usage.total_tokens) == (300, 200, 400)
    assert (usage.output_tokens, usage.text_tokens) == (300, 100)


@pytest.mark.parametrize("raw", [None, xai_usage(prompt_tokens=0, completion_tokens=0, total_tokens=0,
                                                 completion_tokens_details=None, prompt_tokens_details=None)],
                         ids=["none", "all-zeros"])
def test_invented_usage_does_not_count(raw: Any) -> None:
    assert to_usage(raw) is None


def test_stream_chunk_reads_the_serving_model_litellm_hides() -> None:
    hidden = {"provider_response_model": "grok-4.3"}
    delta = NS(content="Olá", reasoning_content=None, tool_calls=None, role=None)
    chunk = NS(id="c", model="grok-code-fast-1", choices=[NS(delta=delta, finish_reason=None)], usage=None,
               _hidden_params=hidden)
    usage_chunk = NS(id="c", model="grok-code-fast-1", choices=[], usage=xai_usage(), _hidden_params={})

    first = to_chunk(chunk)
    last = to_chunk(usage_chunk, served=first.model)

    assert (first.content, first.model, last.model) == ("Olá", "grok-4.3", "grok-4.3")


def test_litellms_chunk_for_a_stream_without_events_looks_like_nothing() -> None:
    invented = NS(id="chatcmpl-x", model="grok-code-fast-1", usage=None,
                  choices=[NS(delta=NS(content=None, reasoning_content=None, tool_calls=None, role=None),
                              finish_reason="stop")])

    chunk = to_chunk(invented)

    assert (chunk.role, chunk.content, chunk.usage, chunk.finish_reason) == (None, None, None, "stop")


@pytest.mark.parametrize(("raw", "field"), [
    ({"prompt_tokens": "many", "completion_tokens": 1}, "usage.prompt_tokens is a string"),
    ({"prompt_tokens": -5, "completion_tokens": 1}, "usage.prompt_tokens is -5"),
    ({"prompt_tokens": 1, "completion_tokens": 1e20}, r"usage.completion_tokens is 1e\+20"),
    ({"prompt_tokens": 1, "completion_tokens": 2.5}, r"usage.completion_tokens is 2\.5"),
    ({"prompt_tokens": True, "completion_tokens": 1}, "usage.prompt_tokens is a boolean"),
    ({"prompt_tokens": 1, "prompt_tokens_details": {"cached_tokens": "x"}}, "cached_tokens is a string"),
])
def test_a_token_count_that_is_no_non_negative_integer_is_refused_not_coerced(raw: Any, field: str) -> None:
    with pytest.raises(MalformedAnswer, match=field):
        to_usage(raw)


def test_an_answer_without_choices_is_refused() -> None:
    with pytest.raises(MalformedAnswer, match="choices is empty"):
        to_response(NS(choices=[], usage=None, id="x", model="m"))
