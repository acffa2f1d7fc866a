"""Usage by the provider's convention, through the library and real LiteLLM (F2 in FIELD-REPORTS.md).

A generic OpenAI-convention model at a scripted upstream on 127.0.0.1: the figures the upstream
sent come back, reasoning is billed once, and a reasoning count LiteLLM estimates from the text of
a stream is never added to the total.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import llmcore
from llmcore.adapters.yaml_config import LoadedConfig
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Prices
from llmcore.testing.scripted_upstream import ScriptedUpstream, completion_body, stream_events

pytestmark = pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated")

HI = [{"role": "user", "content": "hi"}]
PRICES = Prices(input_per_token=1e-6, output_per_token=4e-6)


@pytest.fixture(scope="module")
def generic() -> Iterator[tuple[llmcore.Core, ScriptedUpstream]]:
    key = "sk-canary-" + secrets.token_hex(10)
    body = completion_body("done", {"prompt_tokens": 100, "completion_tokens": 300, "total_tokens": 400,
                                    "completion_tokens_details": {"reasoning_tokens": 200}}, reasoning="hmm")
    events = stream_events("done", {"prompt_tokens": 65, "completion_tokens": 251, "total_tokens": 316},
                           reasoning=["Let me think", " about the question", " at some length."])
    with ScriptedUpstream(key, body, events) as upstream:
        spec = ModelSpec(alias="gpt-x", upstream_model="gpt-x", prices=PRICES, timeout=30.0,
                         credentials=Credentials(api_key=Secret(key), base_url=upstream.base_url))
        yield llmcore.load(env={}, config=LoadedConfig(source="test", specs=(spec,))), upstream


def test_openai_convention_keeps_reasoning_inside_completion(generic: tuple[llmcore.Core, Any]) -> None:
    usage = generic[0].complete("gpt-x", HI).usage

    assert (usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens, usage.total_tokens) == (
        100, 300, 200, 400)
    assert usage.cost_usd == pytest.approx(100 * 1e-6 + 300 * 4e-6)  # was 60 % higher: reasoning billed twice


def test_stream_total_is_the_upstreams_without_litellms_reasoning_estimate(
        generic: tuple[llmcore.Core, Any], run_async: Callable[..., Any]) -> None:
    core = generic[0]
    with core.stream("gpt-x", HI) as session:
        assert "".join(c.content or "" for c in session) == "done"

    async def astream() -> Any:
        async with core.astream("gpt-x", HI) as s:
            _ = [c async for c in s]
        return s.usage

    for usage in (session.usage, run_async(astream)):
        assert usage is not None
        assert (usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens, usage.total_tokens) == (
            65, 251, 0, 316)
        assert usage.cost_usd == pytest.approx(65 * 1e-6 + 251 * 4e-6)
