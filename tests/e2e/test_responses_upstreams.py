"""``POST /v1/responses`` through a chat-only OpenAI-compatible upstream, and through a scripted Core for the
endings a real upstream rarely shows (the token limit, a crash after the first event, no events, no master key).

The chat-only fake (``FakeOpenAIServer``) serves ``/v1/chat/completions`` and nothing else: a Responses request
that reached any other path would get a 404 there and fail here.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmcore.adapters.scripted_completion import ScriptedCompletion, StreamThenFail
from llmcore.domain.chat import ChatResponse, StreamChunk
from llmcore.domain.usage import Usage
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing.fake_xai import Fault
from tests.e2e.responses_deployment import GROK, WEATHER_TOOL, Deployment, deployment, sse_events
from tests.e2e.test_proxy import scripted_runtime
from tests.schema_oracle import validate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from deployment(tmp_path_factory.mktemp("chat-only"))


@pytest.fixture
def d(running: Deployment) -> Iterator[Deployment]:
    running.clear()
    yield running
    assert {r.path for r in running.chat_only.requests} <= {"/v1/chat/completions"}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    document = {"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 1, "model": "gpt-x",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(document)}\n\n"


# Two parallel calls whose argument fragments interleave (FIELD-REPORTS F4).
PARALLEL_CALLS = "".join([
    _chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                                                 "function": {"name": "weather", "arguments": ""}}]}),
    _chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                            "function": {"name": "weather", "arguments": ""}}]}),
    _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"location\":\"Oslo\"}"}}]}),
    _chunk({"tool_calls": [{"index": 1, "function": {"arguments": "{\"location\":"}}]}),
    _chunk({"tool_calls": [{"index": 1, "function": {"arguments": "\"Rome\"}"}}]}),
    _chunk({}, "tool_calls"),
    "data: [DONE]\n\n",
])


def test_chat_only_upstream_serves_create_and_stream(d: Deployment) -> None:
    with d.client() as client:
        created = client.responses.create(model="gpt-x", input="hi")
        with client.responses.stream(model="gpt-x", input="hi") as stream:
            streamed = stream.get_final_response()
    assert (created.output_text, streamed.output_text) == ("answer", "answer")
    assert created.usage is not None and (created.usage.input_tokens, created.usage.output_tokens) == (9, 2)
    assert [r.path for r in d.chat_only.requests] == ["/v1/chat/completions"] * 2


def test_chat_only_upstream_parallel_function_calls_round_trip(d: Deployment) -> None:
    d.chat_only.script(Fault.status(200, PARALLEL_CALLS, "text/event-stream"))
    ask = "Weather in Oslo and Rome?"
    with d.client() as client:
        with client.responses.stream(model="gpt-x", input=ask, tools=[WEATHER_TOOL]) as stream:
            first = stream.get_final_response()
        calls = [(item.call_id, item.arguments) for item in first.output if item.type == "function_call"]
        assert calls == [("call_a", '{"location":"Oslo"}'), ("call_b", '{"location":"Rome"}')]
        outputs = [{"type": "function_call_output", "call_id": call_id, "output": "sunny"} for call_id, _ in calls]
        turns: list[Any] = [{"role": "user", "content": ask},
                            *[item.model_dump(exclude_none=True) for item in first.output], *outputs]
        second = client.responses.create(model="gpt-x", input=turns, tools=[WEATHER_TOOL])
    assert second.output_text == "answer"
    sent = d.chat_only.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    arguments = [c["function"]["arguments"] for c in sent[1]["tool_calls"]]
    assert arguments == ['{"location":"Oslo"}', '{"location":"Rome"}']


def test_chat_only_upstream_failure_is_openai_shaped(d: Deployment) -> None:
    d.chat_only.script(Fault.status(500, json.dumps({"error": {"message": "boom", "type": "server_error"}})))
    reply = d.post({"model": "gpt-x", "input": "hi"})
    assert reply.status_code == 502 and reply.json()["error"]["type"] == "upstream_error"
    validate(reply.json(), "ErrorResponse")


# --- a scripted Core -------------------------------------------------------------------------------------

def _post(proxy: BackgroundProxy, body: dict[str, Any]) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=30) as http:
        return http.post(f"{proxy.url}/v1/responses", json=body)


def test_the_token_limit_makes_an_incomplete_response(tmp_path: Path) -> None:
    usage = Usage(prompt_tokens=5, completion_tokens=3)
    scripted = ScriptedCompletion([
        ChatResponse(content="Ola", finish_reason="length", usage=usage),
        [StreamChunk(role="assistant", content="Ola"), StreamChunk(finish_reason="length"),
         StreamChunk(usage=usage)],
    ])
    with BackgroundProxy(scripted_runtime(tmp_path, completion=scripted)) as proxy:
        whole = _post(proxy, {"model": GROK, "input": "hi", "max_output_tokens": 3})
        streamed = _post(proxy, {"model": GROK, "input": "hi", "max_output_tokens": 3, "stream": True})
    validate(whole.json(), "Response")
    assert whole.json()["status"] == "incomplete"
    assert whole.json()["incomplete_details"] == {"reason": "max_output_tokens"}
    events = sse_events(streamed.text)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert events[-1]["response"]["usage"]["output_tokens"] == 3
    assert scripted.requests[0].params["max_tokens"] == 3


def test_a_crash_after_the_first_event_is_response_failed_that_hides_its_text(tmp_path: Path) -> None:
    crash = StreamThenFail([StreamChunk(role="assistant", content="par")], RuntimeError("internal /secret/path"))
    scripted = ScriptedCompletion([crash])
    with BackgroundProxy(scripted_runtime(tmp_path, completion=scripted)) as proxy:
        reply = _post(proxy, {"model": GROK, "input": "hi", "stream": True})
    events = sse_events(reply.text)
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"] == {
        "code": "server_error", "message": "internal error in the llmcore proxy; see its log for details"}
    assert [item["status"] for item in events[-1]["response"]["output"]] == ["incomplete"]
    assert '"delta":"par"' in reply.text and "/secret/path" not in reply.text
    assert scripted.closed_streams == 1


def test_a_stream_with_no_events_is_a_json_502(tmp_path: Path) -> None:
    scripted = ScriptedCompletion([()])
    with BackgroundProxy(scripted_runtime(tmp_path, completion=scripted)) as proxy:
        reply = _post(proxy, {"model": GROK, "input": "hi", "stream": True})
    assert reply.status_code == 502 and reply.headers["content-type"] == "application/json"
    assert reply.json()["error"]["code"] == "stream_incomplete"


def test_without_a_master_key_no_key_is_needed(tmp_path: Path) -> None:
    with BackgroundProxy(scripted_runtime(tmp_path)) as proxy:
        reply = _post(proxy, {"model": GROK, "input": [{"role": "developer", "content": "Be brief."},
                                                       {"type": "message", "role": "user", "content": [
                                                           {"type": "input_text", "text": "hi"}]}]})
    assert reply.status_code == 200 and reply.json()["object"] == "response"
