"""Agent loops through the running proxy: the OpenAI Agents SDK (its Responses model and its chat-completions
model), and a hand-written multi-turn chat-completions tool loop with two tools and parallel calls.

The Agents SDK runs with tracing disabled (``set_tracing_disabled(True)``, and ``RunConfig(tracing_disabled=True)``
for the run), so it contacts nothing but the proxy. Upstreams: the fake xAI server (its recorded ``weather``
call for Florence and the answer after the tool's result) and the chat-only fake with scripted tool calls.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from agents import (
    Agent, Model, OpenAIChatCompletionsModel, OpenAIResponsesModel, RunConfig, Runner, function_tool,
    set_tracing_disabled,
)

from llmcore.testing.fake_xai import Fault
from tests.e2e.responses_deployment import GROK, WEATHER_TOOL, Deployment, deployment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

ASK = "What is the weather in Florence?"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from deployment(tmp_path_factory.mktemp("agents"))


@pytest.fixture
def d(running: Deployment) -> Iterator[Deployment]:
    running.clear()
    yield running


# --- the OpenAI Agents SDK ------------------------------------------------------------------------------

async def _run_agent(d: Deployment, kind: str, agent_tools: list[Any], streamed: bool) -> Any:
    # One event loop for the run and the client's pool, closed inside it (Runner.run_sync would leave the pool
    # to a loop that is gone).
    async with openai.AsyncOpenAI(base_url=d.proxy.base_url, api_key=d.master, max_retries=0,
                                  http_client=openai.DefaultAsyncHttpxClient(trust_env=False, timeout=30)) as client:
        model: Model = OpenAIResponsesModel(model=GROK, openai_client=client) if kind == "responses" else \
            OpenAIChatCompletionsModel(model=GROK, openai_client=client)
        agent = Agent(name="forecaster", instructions="Answer with the weather tool.", tools=agent_tools, model=model)
        if not streamed:
            return await Runner.run(agent, ASK, run_config=RunConfig(tracing_disabled=True))
        result = Runner.run_streamed(agent, ASK, run_config=RunConfig(tracing_disabled=True))
        async for _ in result.stream_events():
            pass
        return result


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "run_streamed"])
@pytest.mark.parametrize("kind, route", [("responses", "responses"), ("chat", "chat_completions")])
def test_an_agents_sdk_agent_with_one_function_tool_runs_to_completion(
    d: Deployment, kind: str, route: str, streamed: bool,
) -> None:
    set_tracing_disabled(True)
    asked: list[str] = []

    @function_tool
    def weather(location: str) -> str:
        """Get weather information for a location."""
        asked.append(location)
        return "Sunny, 24 C"

    result = asyncio.run(_run_agent(d, kind, [weather], streamed))
    assert asked == ["Florence,Italy"]
    assert isinstance(result.final_output, str) and result.final_output
    sent = [r.body for r in d.xai.requests]
    assert [r.path for r in d.xai.requests] == ["/v1/chat/completions"] * 2
    assert [m["role"] for m in sent[1]["messages"]] == ["system", "user", "assistant", "tool"]
    assert sent[1]["messages"][-1]["content"] == "Sunny, 24 C"
    assert f'api="{route}",model="grok-code-fast-1",outcome="ok",stream="{str(streamed).lower()}"' in d.metrics()


# --- a chat-completions tool loop: two tools, parallel calls, tool results -----------------------------

TIME_TOOL = {"type": "function", "function": {
    "name": "local_time", "description": "The local time in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
CHAT_WEATHER = {"type": "function", "function": {k: WEATHER_TOOL[k] for k in ("name", "description", "parameters")}}


def _completion(message: dict[str, Any], finish: str) -> str:
    return json.dumps({"id": "chatcmpl-loop", "object": "chat.completion", "created": 1, "model": "gpt-x",
                       "choices": [{"index": 0, "message": {"role": "assistant", "refusal": None, **message},
                                    "logprobs": None, "finish_reason": finish}],
                       "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}})


def _call(call_id: str, name: str, arguments: dict[str, str]) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


TOOLS_RUN = {"weather": lambda args: f"Sunny in {args['location']}",
             "local_time": lambda args: f"10:00 in {args['city']}"}


def test_a_multi_turn_chat_completions_tool_loop_with_two_tools_and_parallel_calls(d: Deployment) -> None:
    d.chat_only.script(
        Fault.status(200, _completion({"content": None, "tool_calls": [
            _call("call_w", "weather", {"location": "Oslo"}), _call("call_t", "local_time", {"city": "Oslo"})]},
            "tool_calls")),
        Fault.status(200, _completion({"content": None, "tool_calls": [
            _call("call_w2", "weather", {"location": "Rome"})]}, "tool_calls")),
        Fault.status(200, _completion({"content": "Oslo: sunny, 10:00. Rome: sunny."}, "stop")),
    )
    messages: list[Any] = [{"role": "user", "content": "Weather and time in Oslo, then weather in Rome?"}]
    with openai.OpenAI(base_url=d.proxy.base_url, api_key=d.master, max_retries=0,
                       http_client=openai.DefaultHttpxClient(trust_env=False, timeout=30)) as client:
        for _ in range(5):
            answer = client.chat.completions.create(model="gpt-x", messages=messages, tools=[CHAT_WEATHER, TIME_TOOL],
                                                    parallel_tool_calls=True)
            message = answer.choices[0].message
            if not message.tool_calls:
                break
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                assert call.type == "function"
                result = TOOLS_RUN[call.function.name](json.loads(call.function.arguments))
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    assert answer.choices[0].message.content == "Oslo: sunny, 10:00. Rome: sunny."
    sent = [r.body["messages"] for r in d.chat_only.requests]
    assert [[m["role"] for m in turn] for turn in sent] == [
        ["user"], ["user", "assistant", "tool", "tool"], ["user", "assistant", "tool", "tool", "assistant", "tool"]]
    assert [m.get("tool_call_id") for m in sent[2] if m["role"] == "tool"] == ["call_w", "call_t", "call_w2"]
    assert sent[2][3]["content"] == "10:00 in Oslo"
    assert d.chat_only.requests[0].body["parallel_tool_calls"] is True
