"""Tool-call ``arguments`` an upstream sent as a JSON object: JSON text everywhere, never a crash or a repr."""
from __future__ import annotations

import json
from typing import Any

import pytest

from llmcore.domain.chat import ChatResponse, StreamChunk, arguments_text, with_arguments_text
from llmcore.domain.stream_choices import ChoiceParts
from llmcore.entrypoints.anthropic_wire import tool_input
from llmcore.entrypoints.responses_request import parse_responses_body
from llmcore.entrypoints.responses_wire import response

ECHO = parse_responses_body(b'{"model": "m", "input": "hi", "tools": [{"type": "function", "name": "f"}]}').echo


@pytest.mark.parametrize(("sent", "text"), [
    ({"a": 1}, '{"a": 1}'), ([1, "x"], '[1, "x"]'), (None, ""), ("{\"a\":1}", "{\"a\":1}"), (5, "5"),
])
def test_arguments_are_text_as_litellm_writes_them(sent: Any, text: str) -> None:
    assert arguments_text(sent) == text


def test_a_call_keeps_its_fields_and_only_object_arguments_change() -> None:
    call = {"index": 0, "id": "c", "function": {"name": "f", "arguments": {"a": 1}}}
    assert with_arguments_text(call) == {"index": 0, "id": "c", "function": {"name": "f", "arguments": '{"a": 1}'}}
    assert call["function"]["arguments"] == {"a": 1}  # the caller's value is not changed
    continuation = {"index": 0, "function": {"arguments": "x"}}
    assert with_arguments_text(continuation) == continuation
    assert with_arguments_text({"index": 0}) == {"index": 0}


def test_a_stream_assembles_object_arguments_as_json_text_instead_of_raising() -> None:
    parts = ChoiceParts(0)
    parts.feed(StreamChunk(tool_calls=({"index": 0, "id": "c", "type": "function",
                                        "function": {"name": "f", "arguments": {"a": 1}}},)))
    parts.feed(StreamChunk(finish_reason="tool_calls"))
    assert [call["function"]["arguments"] for call in parts.tool_calls] == ['{"a": 1}']
    assert json.loads(parts.tool_calls[0]["function"]["arguments"]) == {"a": 1}


def test_the_responses_api_never_writes_a_python_repr_of_the_arguments() -> None:
    answer = ChatResponse(content=None, finish_reason="tool_calls", id="abc", tool_calls=(
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}},))
    item = response(answer, "m", "req1", ECHO, {})["output"][0]
    assert item["arguments"] == '{"a": 1}'


def test_the_messages_api_reads_object_arguments_as_its_input() -> None:
    assert tool_input('{"a": 1}') == tool_input({"a": 1}) == {"a": 1}
