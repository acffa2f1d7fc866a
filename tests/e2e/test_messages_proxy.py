"""``POST /v1/messages`` on the running proxy, driven by the official ``anthropic`` SDK.

Two upstreams behind it: the fake xAI server (grok-code-fast-1, replaying
recorded traffic: reasoning becomes thinking blocks, the recorded tool call
a tool_use block) and a chat-only OpenAI-compatible fake (``FakeOpenAIServer``,
with scripted tool-call bodies). Real LiteLLM, real HTTP on 127.0.0.1.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from loguru import logger

from llmcore.adapters.scripted_completion import ScriptedCompletion, StreamThenFail
from llmcore.bootstrap import build_runtime
from llmcore.domain.chat import StreamChunk
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing.fake_openai import FakeOpenAIServer
from llmcore.testing.fake_xai import FakeXAIServer, Fault
from tests.e2e.test_proxy import GROK_ENTRY, scripted_runtime, write_config

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

GROK = "grok-code-fast-1"
HELLO = [{"role": "user", "content": "Say hi in Portuguese."}]
WEATHER = [{"name": "weather", "description": "Get weather information for a location",
            "input_schema": {"type": "object", "properties": {"location": {"type": "string"}},
                             "required": ["location"]}}]
GENERIC_ENTRY = """\
  - model_name: gpt-x
    litellm_params:
      model: openai/gpt-x
      api_key: os.environ/OPENAI_COMPAT_KEY
      api_base: os.environ/OPENAI_COMPAT_BASE
      max_retries: 0
    model_info:
      provider: openai_compatible
"""


class Deployment:
    def __init__(self, xai: FakeXAIServer, chat_only: FakeOpenAIServer, proxy: BackgroundProxy, master: str,
                 keys: tuple[str, str]) -> None:
        self.xai, self.chat_only, self.proxy, self.master, self.keys = xai, chat_only, proxy, master, keys
        self.base_url = proxy.url

    def client(self, **kwargs: Any) -> anthropic.Anthropic:
        options: dict[str, Any] = {"api_key": self.master, **kwargs}
        return anthropic.Anthropic(base_url=self.base_url, max_retries=0,
                                   http_client=anthropic.DefaultHttpxClient(trust_env=False, timeout=30), **options)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    grok_key, other_key = "xai-msg-" + secrets.token_hex(12), "sk-msg-" + secrets.token_hex(12)
    master = "sk-master-" + secrets.token_hex(12)
    config = write_config(tmp_path_factory.mktemp("messages") / "llmcore.yaml", GROK_ENTRY + GENERIC_ENTRY,
                          "  master_key: os.environ/LLMCORE_MASTER_KEY\n")
    with FakeXAIServer(api_key=grok_key) as xai, FakeOpenAIServer(api_key=other_key) as chat_only:
        env = {"GROK_API_KEY": grok_key, "GROK_BASE_URL": xai.base_url, "OPENAI_COMPAT_KEY": other_key,
               "OPENAI_COMPAT_BASE": chat_only.base_url, "LLMCORE_MASTER_KEY": master}
        with BackgroundProxy(build_runtime(config, env)) as proxy:
            yield Deployment(xai, chat_only, proxy, master, (grok_key, other_key))


@pytest.fixture
def d(deployment: Deployment) -> Iterator[Deployment]:
    deployment.xai.clear()
    deployment.chat_only.clear()
    yield deployment


# --- grok-code-fast-1 through the fake xAI server -------------------------------------------------------

def test_create_answers_a_message_with_thinking_text_usage_and_the_alias(d: Deployment) -> None:
    with d.client() as client:
        raw = client.messages.with_raw_response.create(model=GROK, max_tokens=256, messages=HELLO)
    message = raw.parse()
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[1].text and message.content[0].thinking
    assert (message.model, message.role, message.stop_reason) == (GROK, "assistant", "end_turn")
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message.usage.cache_read_input_tokens is not None
    assert raw.headers["request-id"] == raw.headers["x-request-id"]
    assert raw.headers["x-llmcore-served-alias"] == GROK


def test_stream_sends_anthropics_event_sequence_and_the_sdk_assembles_it(d: Deployment) -> None:
    with d.client() as client, client.messages.stream(model=GROK, max_tokens=256, messages=HELLO) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert {"content_block_start", "content_block_delta", "content_block_stop", "message_delta"} <= set(kinds)
    assert [block.type for block in final.content] == ["thinking", "text"]
    assert final.content[1].text and final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0  # from message_delta, not the zeros


def test_raw_stream_has_ping_and_event_lines(d: Deployment) -> None:
    with httpx.Client(trust_env=False, timeout=30) as http:
        reply = http.post(d.base_url + "/v1/messages?beta=true", headers={
            "Authorization": f"Bearer {d.master}", "anthropic-version": "2023-06-01",
            "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14"},
            json={"model": GROK, "max_tokens": 64, "messages": HELLO, "stream": True})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
    events = [line[len("event: "):] for line in reply.text.splitlines() if line.startswith("event: ")]
    assert events[:2] == ["message_start", "ping"] and events[-2:] == ["message_delta", "message_stop"]


def test_a_tool_use_round_trip_with_a_tool_result_turn(d: Deployment) -> None:
    ask = [{"role": "user", "content": "What is the weather in Florence?"}]
    with d.client() as client:
        with client.messages.stream(model=GROK, max_tokens=256, messages=ask, tools=WEATHER) as stream:
            first = stream.get_final_message()
        [call] = [block for block in first.content if block.type == "tool_use"]
        assert (call.name, call.input, first.stop_reason) == ("weather", {"location": "Florence,Italy"}, "tool_use")
        turns = [*ask, {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                               "content": "Sunny, 24 C"}]}]
        second = client.messages.create(model=GROK, max_tokens=256, messages=turns, tools=WEATHER)
    assert second.stop_reason == "end_turn" and any(b.type == "text" and b.text for b in second.content)
    sent = d.xai.requests[-1].body["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == call.id
    assert sent[-1] == {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 24 C"}


def test_claude_code_fields_are_accepted_and_reach_no_upstream(d: Deployment) -> None:
    body = {"model": GROK, "max_tokens": 64, "metadata": {"user_id": "user_abc"},
            "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi",
                                                       "cache_control": {"type": "ephemeral"}}]}],
            "tools": [{**WEATHER[0], "defer_loading": True, "cache_control": {"type": "ephemeral"}}],
            "thinking": {"type": "adaptive"}, "output_config": {"effort": "high"},
            "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}}
    with httpx.Client(trust_env=False, timeout=30) as http:
        reply = http.post(d.base_url + "/v1/messages?beta=true", json=body, headers={"x-api-key": d.master})
    assert reply.status_code == 200, reply.text
    sent = d.xai.requests[-1].body
    assert "context_management" not in sent and "reasoning_effort" not in sent  # dropped by grok's policy
    # metadata.user_id becomes the Core's `user` param (unit-tested); LiteLLM's openai/ route does not send it.
    assert sent["messages"][0] == {"role": "system", "content": "You are Claude Code."}
    assert "cache_control" not in json.dumps(sent) and "defer_loading" not in json.dumps(sent)


def test_the_reasoning_param_drop_is_logged_and_counted_under_the_messages_api(d: Deployment) -> None:
    lines: list[str] = []
    sink = logger.add(lines.append, level="INFO", format="{extra[event]} {message}", filter="llmcore")
    logger.enable("llmcore")
    try:
        with d.client() as client:
            client.messages.create(model=GROK, max_tokens=64, messages=HELLO,
                                   thinking={"type": "enabled", "budget_tokens": 4096})
    finally:
        logger.remove(sink)
        logger.disable("llmcore")
    assert any(line.startswith("param_dropped") and "reasoning_effort" in line for line in lines)
    with httpx.Client(trust_env=False, timeout=30) as http:
        metrics = http.get(d.base_url + "/metrics", headers={"Authorization": f"Bearer {d.master}"}).text
    assert 'llmcore_requests_total{api="messages",model="grok-code-fast-1",outcome="ok",stream="false"}' in metrics
    assert 'param="reasoning_effort"' in metrics


def test_server_tools_and_unknown_fields_are_dropped_logged_and_counted(d: Deployment) -> None:
    body = {"model": GROK, "max_tokens": 64, "messages": HELLO, "surprise": {"a": 1},
            "tools": [*WEATHER, {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]}
    with httpx.Client(trust_env=False, timeout=30) as http:
        reply = http.post(d.base_url + "/v1/messages", json=body, headers={"x-api-key": d.master})
        metrics = http.get(d.base_url + "/metrics", headers={"x-api-key": d.master})
    assert reply.status_code == 200, reply.text
    assert [t["function"]["name"] for t in d.xai.requests[-1].body["tools"]] == ["weather"]
    assert "surprise" not in d.xai.requests[-1].body
    assert metrics.status_code == 401  # /metrics takes the master key as a Bearer token only
    with httpx.Client(trust_env=False, timeout=30) as http:
        text = http.get(d.base_url + "/metrics", headers={"Authorization": f"Bearer {d.master}"}).text
    # Bounded labels (finding 5): the tool's type without its date, one bucket for unknown fields.
    assert 'param="tools[web_search]"' in text and 'param="unknown_field"' in text and "surprise" not in text


def test_count_tokens_for_an_unknown_model_is_404(d: Deployment) -> None:
    with d.client() as client, pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="claude-unconfigured-9", messages=HELLO)


def test_count_tokens_answers_a_local_count(d: Deployment) -> None:
    with d.client() as client:
        short = client.messages.count_tokens(model=GROK, messages=HELLO)
        longer = client.messages.count_tokens(model=GROK, messages=HELLO, tools=WEATHER, system="Be brief.")
    assert 0 < short.input_tokens < longer.input_tokens
    assert d.xai.requests == []  # counted here, never upstream


# --- errors, as the SDK's classes -----------------------------------------------------------------------

@pytest.mark.parametrize("key_header", ["x-api-key", "authorization"])
def test_a_wrong_key_is_401_authentication_error(d: Deployment, key_header: str) -> None:
    client = d.client(api_key="sk-wrong") if key_header == "x-api-key" else \
        d.client(api_key=None, auth_token="sk-wrong")
    with client, pytest.raises(anthropic.AuthenticationError) as caught:
        client.messages.create(model=GROK, max_tokens=16, messages=HELLO)
    assert caught.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]


def test_bearer_master_key_is_accepted_like_claude_codes_auth_token(d: Deployment) -> None:
    with d.client(api_key=None, auth_token=d.master) as client:
        assert client.messages.create(model=GROK, max_tokens=16, messages=HELLO).content


def test_an_unknown_model_is_404_not_found_error(d: Deployment) -> None:
    with d.client() as client, pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(model="claude-unconfigured-9", max_tokens=16, messages=HELLO)
    assert "claude-unconfigured-9" in caught.value.message


def test_a_rate_limit_is_429_with_retry_after(d: Deployment) -> None:
    d.xai.script(Fault.rate_limit(retry_after=2.2))
    with d.client() as client, pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(model=GROK, max_tokens=16, messages=HELLO)
    assert caught.value.response.headers["retry-after"] == "3"


def test_an_unavailable_upstream_is_529_overloaded(d: Deployment) -> None:
    d.xai.script(Fault.unavailable())
    with d.client() as client, pytest.raises(anthropic.OverloadedError) as caught:
        client.messages.create(model=GROK, max_tokens=16, messages=HELLO, stream=True)
    assert caught.value.status_code == 529 and caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore


def test_a_bad_request_is_400_naming_the_field(d: Deployment) -> None:
    with d.client() as client, pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model=GROK, max_tokens=16, messages=[{"role": "system", "content": "x"}])
    assert "messages[0]" in caught.value.message


def test_a_stream_cut_after_its_first_event_ends_with_an_error_event(d: Deployment) -> None:
    d.xai.script(Fault.cut_mid_stream(after_events=3))
    with d.client() as client, pytest.raises(anthropic.APIStatusError) as caught:
        with client.messages.stream(model=GROK, max_tokens=64, messages=HELLO) as stream:
            for _ in stream:
                pass
    assert caught.value.body["error"]["type"] in ("api_error", "overloaded_error")  # type: ignore[index]
    assert d.keys[0] not in str(caught.value.body) and d.master not in str(caught.value.body)


# --- a chat-only OpenAI-compatible upstream ------------------------------------------------------------

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
        created = client.messages.create(model="gpt-x", max_tokens=16, messages=HELLO)
        with client.messages.stream(model="gpt-x", max_tokens=16, messages=HELLO) as stream:
            streamed = stream.get_final_message()
    assert [(b.type, getattr(b, "text", None)) for b in created.content] == [("text", "answer")]
    assert [(b.type, getattr(b, "text", None)) for b in streamed.content] == [("text", "answer")]
    assert (created.usage.input_tokens, created.usage.output_tokens) == (9, 2)
    assert [r.path for r in d.chat_only.requests] == ["/v1/chat/completions"] * 2


def test_chat_only_upstream_parallel_tool_calls_round_trip(d: Deployment) -> None:
    d.chat_only.script(Fault.status(200, PARALLEL_CALLS, "text/event-stream"))
    ask = [{"role": "user", "content": "Weather in Oslo and Rome?"}]
    with d.client() as client:
        with client.messages.stream(model="gpt-x", max_tokens=64, messages=ask, tools=WEATHER) as stream:
            first = stream.get_final_message()
        calls = [(b.id, b.input) for b in first.content if b.type == "tool_use"]
        assert calls == [("call_a", {"location": "Oslo"}), ("call_b", {"location": "Rome"})]
        assert first.stop_reason == "tool_use"
        results = [{"type": "tool_result", "tool_use_id": call_id, "content": "sunny"} for call_id, _ in calls]
        turns = [*ask, {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                 {"role": "user", "content": results}]
        second = client.messages.create(model="gpt-x", max_tokens=64, messages=turns, tools=WEATHER)
    assert second.content[0].type == "text"
    sent = d.chat_only.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    arguments = [c["function"]["arguments"] for c in sent[1]["tool_calls"]]
    assert arguments == ['{"location":"Oslo"}', '{"location":"Rome"}']


def test_chat_only_upstream_failure_is_anthropic_shaped(d: Deployment) -> None:
    d.chat_only.script(Fault.status(500, json.dumps({"error": {"message": "boom", "type": "server_error"}})))
    with d.client() as client, pytest.raises(anthropic.OverloadedError):
        client.messages.create(model="gpt-x", max_tokens=16, messages=HELLO)


def test_unknown_route_under_messages_is_404(d: Deployment) -> None:
    with httpx.Client(trust_env=False, timeout=30) as http:
        reply = http.post(d.base_url + "/v1/messages/batches", json={}, headers={"x-api-key": d.master})
    assert reply.status_code == 404


# --- scripted: no master key, a crash after the first event, a stream with no events ------------------

def test_without_a_master_key_no_key_is_needed(tmp_path: Path) -> None:
    scripted = ScriptedCompletion()
    with BackgroundProxy(scripted_runtime(tmp_path, completion=scripted)) as proxy, \
            httpx.Client(trust_env=False, timeout=30) as http:
        reply = http.post(f"{proxy.url}/v1/messages", json={"model": GROK, "max_tokens": 8, "messages": HELLO})
    assert reply.status_code == 200 and reply.json()["type"] == "message"


def test_a_crash_after_the_first_event_is_an_error_event_that_hides_its_text(tmp_path: Path) -> None:
    crash = StreamThenFail([StreamChunk(role="assistant", content="par")], RuntimeError("internal /secret/path"))
    scripted = ScriptedCompletion([crash])
    body = {"model": GROK, "max_tokens": 8, "messages": HELLO, "stream": True}
    with BackgroundProxy(scripted_runtime(tmp_path, completion=scripted)) as proxy, \
            httpx.Client(trust_env=False, timeout=30) as http:
        reply = http.post(f"{proxy.url}/v1/messages", json=body)
    lines = [line for line in reply.text.splitlines() if line]
    assert [line for line in lines if line.startswith("event: ")][-1] == "event: error"
    error = json.loads(lines[-1][len("data: "):])
    assert error == {"type": "error", "error": {
        "type": "api_error", "message": "internal error in the llmcore proxy; see its log for details"}}
    assert '"text":"par"' in reply.text and "/secret/path" not in reply.text
    assert scripted.closed_streams == 1


def test_a_stream_with_no_events_is_a_json_502(tmp_path: Path) -> None:
    scripted = ScriptedCompletion([()])
    body = {"model": GROK, "max_tokens": 8, "messages": HELLO, "stream": True}
    with BackgroundProxy(scripted_runtime(tmp_path, completion=scripted)) as proxy, \
            httpx.Client(trust_env=False, timeout=30) as http:
        reply = http.post(f"{proxy.url}/v1/messages", json=body)
    assert reply.status_code == 502 and reply.headers["content-type"] == "application/json"
    assert reply.json()["error"]["type"] == "api_error" and "no events" in reply.json()["error"]["message"]
