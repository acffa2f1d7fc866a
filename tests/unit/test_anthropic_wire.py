"""The Anthropic Messages translation, checked against the ``anthropic`` SDK's own types.

Requests: a Claude Code-shaped body becomes exactly these chat messages and
params. Answers: every message, stream event and error the proxy renders
validates as the SDK's model, and the SDK's own stream accumulator rebuilds
the message from the events.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from llmcore.domain.chat import ChatResponse, InvalidMessageError, StreamChunk
from llmcore.domain.errors import (
    InvalidRequestError, ModelUnavailableError, ParamNotSupportedError, QuotaExceededError, RateLimitError,
    StreamIncompleteError, UnknownModelError, UpstreamAuthError, UpstreamError, UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from llmcore.domain.usage import Usage
from llmcore.entrypoints.anthropic_request import parse_messages_body
from llmcore.entrypoints.anthropic_stream import MessageEvents
from llmcore.entrypoints.anthropic_wire import anthropic_error, message, stop_reason, tool_input, usage_dict
from llmcore.entrypoints.openai_wire import MalformedRequestError, MasterKeyError

EVENT = TypeAdapter(RawMessageStreamEvent)


def parse(body: dict[str, Any], **kwargs: Any) -> Any:
    return parse_messages_body(json.dumps(body).encode(), **kwargs)


def base(**fields: Any) -> dict[str, Any]:
    return {"model": "grok-code-fast-1", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], **fields}


# --- requests -----------------------------------------------------------------------------------------

def test_a_claude_code_conversation_becomes_chat_messages_in_order() -> None:
    body = base(
        system=[{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Be terse."}],
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "weather?", "cache_control": {"type": "ephemeral"}}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "use the tool", "signature": "sig"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "sunny"}]},
                {"type": "text", "text": "and tomorrow?"}]},
        ])
    parsed = parse(body)
    assert parsed.messages == [
        {"role": "system", "content": "You are Claude Code.\n\nBe terse."},
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Oslo"}'}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
        {"role": "user", "content": "and tomorrow?"},
    ]


def test_params_map_to_chat_completions_names() -> None:
    parsed = parse(base(temperature=0.2, top_p=0.9, top_k=5, stop_sequences=["END"], metadata={"user_id": "u1"},
                        stream=True))
    assert parsed.params == {"max_tokens": 100, "temperature": 0.2, "top_p": 0.9, "top_k": 5, "stop": ["END"],
                             "user": "u1"}
    assert parsed.stream is True


def test_tools_lose_anthropic_only_keys_and_server_tools_are_reported() -> None:
    tools = [{"name": "weather", "description": "w", "input_schema": {"type": "object"}, "defer_loading": True,
              "cache_control": {"type": "ephemeral"}},
             {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]
    parsed = parse(base(tools=tools, tool_choice={"type": "any", "disable_parallel_tool_use": True}))
    assert parsed.params["tools"] == [{"type": "function", "function": {
        "name": "weather", "parameters": {"type": "object"}, "description": "w"}}]
    assert (parsed.params["tool_choice"], parsed.params["parallel_tool_calls"]) == ("required", False)
    assert parsed.dropped_tools == ("web_search (web_search_20250305)",)


@pytest.mark.parametrize(("choice", "mapped"), [
    ({"type": "auto"}, "auto"), ({"type": "none"}, "none"),
    ({"type": "tool", "name": "weather"}, {"type": "function", "function": {"name": "weather"}}),
])
def test_tool_choice(choice: dict[str, Any], mapped: Any) -> None:
    tools = [{"name": "weather", "input_schema": {"type": "object"}}]
    assert parse(base(tools=tools, tool_choice=choice)).params["tool_choice"] == mapped


@pytest.mark.parametrize(("thinking", "output_config", "effort"), [
    ({"type": "enabled", "budget_tokens": 1024}, None, "low"),
    ({"type": "enabled", "budget_tokens": 2048}, None, "medium"),
    ({"type": "enabled", "budget_tokens": 16000}, None, "high"),
    ({"type": "adaptive"}, {"effort": "max"}, "high"),
    ({"type": "adaptive"}, {"effort": "low"}, "low"),
    ({"type": "adaptive"}, None, None),
    ({"type": "disabled"}, {"effort": "high"}, None),
])
def test_thinking_becomes_a_reasoning_effort_for_the_param_policy(
    thinking: dict[str, Any], output_config: dict[str, Any] | None, effort: str | None,
) -> None:
    fields: dict[str, Any] = {"thinking": thinking}
    if output_config is not None:
        fields["output_config"] = output_config
    assert parse(base(**fields)).params.get("reasoning_effort") == effort


def test_images_and_failed_tool_results() -> None:
    parsed = parse(base(messages=[{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "content": "no such file", "is_error": True},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {"type": "text", "text": "see?"}]}]))
    assert parsed.messages == [
        {"role": "tool", "tool_call_id": "t1", "content": "Error: no such file"},
        {"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            {"type": "text", "text": "see?"}]},
    ]


def test_claude_code_extras_are_accepted_and_unknown_fields_reported() -> None:
    parsed = parse(base(context_management={"edits": []}, output_config={"effort": "high"}, container="c",
                        surprise=1))
    assert parsed.ignored_fields == ("surprise",)
    assert "context_management" not in parsed.params and "output_config" not in parsed.params


def test_count_tokens_bodies_need_no_max_tokens() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "thinking": {"type": "enabled", "budget_tokens": 2048}}
    parsed = parse(body, count_only=True)
    assert parsed.params == {} and parsed.messages == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(("fields", "needle"), [
    ({"model": ""}, "'model'"),
    ({"messages": []}, "'messages'"),
    ({"max_tokens": None}, "'max_tokens'"),
    ({"max_tokens": True}, "'max_tokens'"),
    ({"stream": "yes"}, "'stream'"),
    ({"system": 3}, "'system'"),
    ({"messages": [{"role": "system", "content": "x"}]}, "messages[0]"),
    ({"messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": [{"type": "document"}]}]}, "'document'"),
    ({"messages": [{"role": "assistant", "content": [{"type": "image"}]}]}, "'image'"),
    ({"messages": [{"role": "assistant", "content": [{"type": "tool_use", "input": {}}]}]}, "'id' and 'name'"),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result"}]}]}, "'tool_use_id'"),
    ({"messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]}, "base64 or url"),
    ({"tools": {"name": "x"}}, "'tools'"),
    ({"tools": [{"name": "x"}]}, "tools[0]"),
    ({"tools": [{"name": "x", "input_schema": {}}], "tool_choice": {"type": "maybe"}}, "'tool_choice'"),
    ({"thinking": {"type": "enabled"}}, "budget_tokens"),
    ({"thinking": {"type": "sometimes"}}, "thinking.type"),
])
def test_malformed_requests_name_the_field(fields: dict[str, Any], needle: str) -> None:
    with pytest.raises(MalformedRequestError) as caught:
        parse(base(**fields))
    assert needle in str(caught.value)


# --- answers ------------------------------------------------------------------------------------------

def test_a_message_validates_as_the_sdks_message() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Oslo"}'}}
    response = ChatResponse(content="Looking.", reasoning_content="think", tool_calls=[call],
                            finish_reason="tool_calls", id="abc",
                            usage=Usage(prompt_tokens=100, completion_tokens=20, reasoning_tokens=30,
                                        cached_tokens=64))
    parsed = Message.model_validate(message(response, "grok-code-fast-1", "req1"))
    assert [b.type for b in parsed.content] == ["thinking", "text", "tool_use"]
    assert parsed.content[2].input == {"city": "Oslo"}  # type: ignore[union-attr]
    assert (parsed.id, parsed.stop_reason) == ("msg_abc", "tool_use")
    assert (parsed.usage.input_tokens, parsed.usage.cache_read_input_tokens, parsed.usage.output_tokens) == (36, 64, 50)


@pytest.mark.parametrize(("finish", "stop"), [
    ("stop", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use"), ("content_filter", "refusal"),
    (None, "end_turn"), ("something_new", "end_turn"),
])
def test_stop_reasons(finish: str | None, stop: str) -> None:
    assert stop_reason(finish) == stop


def test_tool_input_keeps_arguments_that_are_not_a_json_object() -> None:
    assert tool_input('{"a": 1}') == {"a": 1}
    assert tool_input("[1, 2]") == {"arguments": "[1, 2]"}
    assert tool_input("{broken") == {"arguments": "{broken"}
    assert tool_input({"a": 1}) == {"a": 1}
    assert usage_dict(None) == {"input_tokens": 0, "output_tokens": 0}


def sse_documents(raw: bytes) -> list[dict[str, Any]]:
    documents = []
    for block in raw.decode().split("\n\n"):
        if not block:
            continue
        name, data = block.split("\n")
        document = json.loads(data[len("data: "):])
        assert name == f"event: {document['type']}"
        documents.append(document)
    return documents


def test_stream_events_validate_and_the_sdk_accumulates_the_message() -> None:
    events = MessageEvents("grok-code-fast-1", "msg_1")
    chunks = [
        StreamChunk(role="assistant", reasoning_content="Let me "),
        StreamChunk(reasoning_content="think."),
        StreamChunk(content="Two calls."),
        StreamChunk(tool_calls=[{"index": 0, "id": "call_a", "type": "function",
                                 "function": {"name": "weather", "arguments": ""}}]),
        StreamChunk(tool_calls=[{"index": 1, "id": "call_b", "type": "function",
                                 "function": {"name": "time", "arguments": '{"tz":'}}]),
        StreamChunk(tool_calls=[{"index": 0, "function": {"arguments": '{"city":"Oslo"}'}}]),
        StreamChunk(tool_calls=[{"index": 1, "function": {"arguments": '"CET"}'}}]),
        StreamChunk(index=1, content="another choice, not rendered"),
        StreamChunk(finish_reason="tool_calls"),
    ]
    raw = events.start() + b"".join(events.feed(c) for c in chunks) + events.finish(
        Usage(prompt_tokens=10, completion_tokens=5, reasoning_tokens=2), None)
    documents = sse_documents(raw)
    assert [d["type"] for d in documents[:2]] == ["message_start", "ping"]
    snapshot = None
    json_bufs: dict[int, bytes] = {}
    for document in documents:
        if document["type"] == "ping":
            continue
        snapshot = accumulate_event(event=EVENT.validate_python(document), current_snapshot=snapshot,
                                    json_bufs=json_bufs)
    assert snapshot is not None
    assert [b.type for b in snapshot.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert snapshot.content[0].thinking == "Let me think."  # type: ignore[union-attr]
    assert [b.input for b in snapshot.content[2:]] == [{"city": "Oslo"}, {"tz": "CET"}]  # type: ignore[union-attr]
    assert (snapshot.stop_reason, snapshot.usage.input_tokens, snapshot.usage.output_tokens) == ("tool_use", 10, 7)
    stops = [d["index"] for d in documents if d["type"] == "content_block_stop"]
    assert stops == [0, 1, 2, 3]


def test_text_after_thinking_after_text_opens_new_blocks() -> None:
    events = MessageEvents("m", "msg_1")
    raw = b"".join(events.feed(c) for c in [StreamChunk(content="a"), StreamChunk(reasoning_content="b"),
                                            StreamChunk(content="c")])
    starts = [d["content_block"]["type"] for d in sse_documents(raw) if d["type"] == "content_block_start"]
    assert starts == ["text", "thinking", "text"]
    assert events.feed(StreamChunk(usage=Usage(prompt_tokens=1))) == b""


def test_the_error_event_is_anthropics_error_document() -> None:
    [document] = sse_documents(MessageEvents.error("the upstream broke", "overloaded_error"))
    assert document == {"type": "error", "error": {"type": "overloaded_error", "message": "the upstream broke"}}


# --- errors -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("exc", "status", "kind"), [
    (MalformedRequestError("bad"), 400, "invalid_request_error"),
    (ParamNotSupportedError("m", "stop", "no"), 400, "invalid_request_error"),
    (InvalidMessageError("bad"), 400, "invalid_request_error"),
    (MasterKeyError("no"), 401, "authentication_error"),
    (UnknownModelError("claude", ["grok"]), 404, "not_found_error"),
    (ModelUnavailableError("m", "GROK_API_KEY is not set"), 503, "api_error"),
    (QuotaExceededError("spent", status_code=429), 402, "billing_error"),
    (RateLimitError("slow", status_code=429), 429, "rate_limit_error"),
    (UpstreamAuthError("key", status_code=401), 502, "api_error"),
    (InvalidRequestError("too long", status_code=400), 400, "invalid_request_error"),
    (UpstreamTimeoutError("slow"), 504, "timeout_error"),
    (StreamIncompleteError("cut", reason="connection_lost"), 502, "api_error"),
    (UpstreamUnavailableError("down", status_code=503), 529, "overloaded_error"),
    (UpstreamError("odd", status_code=418), 502, "api_error"),
    (RuntimeError("bug with xai-secret-1234567890"), 500, "api_error"),
])
def test_errors_map_to_anthropics_statuses_and_types(exc: BaseException, status: int, kind: str) -> None:
    rendered = anthropic_error(exc)
    assert (rendered.status, rendered.body["type"], rendered.body["error"]["type"]) == (status, "error", kind)
    assert "xai-secret" not in rendered.body["error"]["message"]


def test_a_rate_limit_passes_retry_after_on_rounded_up() -> None:
    rendered = anthropic_error(RateLimitError("slow", status_code=429, retry_after=1.2))
    assert rendered.headers == {"retry-after": "2"}
    assert anthropic_error(QuotaExceededError("spent", status_code=429)).headers == {}
