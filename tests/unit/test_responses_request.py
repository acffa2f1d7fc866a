"""Reading a Responses API body as a chat-completions request: pure functions, no server."""
from __future__ import annotations

import json
from typing import Any

import pytest

from llmcore.entrypoints.openai_wire import MalformedRequestError
from llmcore.entrypoints.responses_input import input_messages
from llmcore.entrypoints.responses_request import parse_responses_body

FUNCTION = {"type": "function", "name": "weather", "description": "Weather", "strict": True,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}


def parse(**fields: Any) -> Any:
    return parse_responses_body(json.dumps({"model": "m", "input": "hi", **fields}).encode())


def test_a_string_input_and_instructions_become_system_and_user_messages() -> None:
    body = parse(instructions="Be brief.")
    assert body.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert (body.model, body.stream, body.params) == ("m", False, {})


def test_items_translate_to_chat_messages_with_calls_grouped_on_one_assistant_turn() -> None:
    items = [
        {"role": "developer", "content": "rules"},
        {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "look "}, {"type": "input_image", "image_url": "data:x", "detail": "low"}]},
        {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "hm"}]},
        {"type": "message", "role": "assistant",
         "content": [{"type": "output_text", "text": "Let me check."}, {"type": "refusal", "refusal": ""}]},
        {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": "{\"city\":\"Oslo\"}"},
        {"type": "function_call", "call_id": "c2", "name": "weather", "arguments": "{}", "namespace": "geo"},
        {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "rain"}]},
        {"type": "function_call", "call_id": "c3", "name": "weather", "arguments": "{}"},
    ]
    assert input_messages(items) == [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": [{"type": "text", "text": "look "},
                                     {"type": "image_url", "image_url": {"url": "data:x", "detail": "low"}}]},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}},
            {"id": "c2", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "c2", "content": "rain"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c3", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
    ]


@pytest.mark.parametrize("items, where", [
    (42, "input"),
    ([], "input"),
    ([{"type": "reasoning", "id": "rs", "summary": []}], "input"),
    (["hi"], "input[0]"),
    ([{"type": "computer_call", "id": "x"}], "input[0]"),
    ([{"type": "item_reference", "id": "x"}], "input[0]"),
    ([{"role": "tool", "content": "x"}], "input[0].role"),
    ([{"role": "user", "content": 3}], "input[0].content"),
    ([{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}], "input[0].content[0]"),
    ([{"type": "function_call", "name": "f"}], "input[0]"),
    ([{"type": "function_call", "name": "f", "call_id": "c", "arguments": {}}], "input[0].arguments"),
    ([{"type": "function_call_output", "output": "x"}], "input[0]"),
    ([{"type": "function_call_output", "call_id": "c", "output": 3}], "input[0].output"),
])
def test_unreadable_input_names_the_item(items: Any, where: str) -> None:
    with pytest.raises(MalformedRequestError) as caught:
        input_messages(items)
    assert caught.value.param == where


def test_unknown_item_types_are_named_in_the_error() -> None:
    with pytest.raises(MalformedRequestError, match="'computer_call'"):
        input_messages([{"type": "computer_call"}])


def test_params_map_to_chat_completions() -> None:
    body = parse(max_output_tokens=50, temperature=0.2, top_p=0.9, user="u1", reasoning={"effort": "high"},
                 tools=[FUNCTION], tool_choice={"type": "function", "name": "weather"}, parallel_tool_calls=False,
                 text={"format": {"type": "json_object"}}, metadata={"a": "b"}, store=True, stream=True)
    assert body.params == {
        "max_tokens": 50, "temperature": 0.2, "top_p": 0.9, "user": "u1", "reasoning_effort": "high",
        "tools": [{"type": "function", "function": {"name": "weather", "description": "Weather", "strict": True,
                                                    "parameters": FUNCTION["parameters"]}}],
        "tool_choice": {"type": "function", "function": {"name": "weather"}}, "parallel_tool_calls": False,
        "response_format": {"type": "json_object"},
    }
    assert body.stream and body.ignored_fields == () and body.echo["metadata"] == {"a": "b"}
    assert body.echo["tools"] == [{"type": "function", "name": "weather", "description": "Weather",
                                   "parameters": FUNCTION["parameters"], "strict": True}]


def test_namespaces_flatten_hosted_tools_drop_and_a_second_namesake_is_dropped() -> None:
    tools = [{"type": "web_search_preview"}, {"type": "custom", "name": "apply_patch"},
             {"type": "namespace", "name": "geo", "description": "d",
              "tools": [{"type": "function", "name": "where"}, {"type": "custom", "name": "raw"}, "junk"]},
             {"type": "function", "name": "where"}]
    body = parse(tools=tools, tool_choice="required")
    assert [t["function"]["name"] for t in body.params["tools"]] == ["where"]
    assert body.params["tools"][0]["function"]["parameters"] == {"type": "object", "properties": {}}
    assert body.namespaces == {"where": "geo"} and body.params["tool_choice"] == "required"
    assert body.dropped_tools == ("web_search_preview (web_search_preview)", "apply_patch (custom)",
                                  "geo.raw (custom)", "geo.2 (invalid)", "where (a second tool of that name)")


def test_allowed_tools_narrow_the_tools_and_a_hosted_tool_choice_is_dropped() -> None:
    two = [FUNCTION, {**FUNCTION, "name": "clock"}]
    allowed = parse(tools=two, tool_choice={"type": "allowed_tools", "mode": "required",
                                            "tools": [{"type": "function", "name": "clock"}]})
    assert [t["function"]["name"] for t in allowed.params["tools"]] == ["clock"]
    assert allowed.params["tool_choice"] == "required"
    hosted = parse(tools=[FUNCTION, {"type": "web_search"}], tool_choice={"type": "web_search"})
    assert "tool_choice" not in hosted.params and hosted.dropped_tools[-1].startswith("tool_choice (web_search")
    assert "tool_choice" not in parse(tool_choice="auto").params  # no tools, no choice


def test_json_schema_format_and_unknown_fields() -> None:
    body = parse(text={"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"},
                                  "description": "d", "strict": True}, "verbosity": "low"}, surprise=1)
    assert body.params["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "object"}, "description": "d", "strict": True}}
    assert body.ignored_fields == ("surprise",)
    assert "response_format" not in parse(text={"format": {"type": "text"}}).params
    assert "response_format" not in parse(text={}).params
    assert parse(reasoning={"summary": "auto"}).params == {}


@pytest.mark.parametrize("fields, param", [
    ({"previous_response_id": "resp_1"}, "previous_response_id"),
    ({"prompt": {"id": "p"}}, "prompt"),
    ({"background": True}, "background"),
    ({"model": ""}, "model"),
    ({"stream": 1}, "stream"),
    ({"instructions": ["x"]}, "instructions"),
    ({"max_output_tokens": 0}, "max_output_tokens"),
    ({"max_output_tokens": True}, "max_output_tokens"),
    ({"tools": {"type": "function"}}, "tools"),
    ({"tools": [{"type": "function"}]}, "tools[0]"),
    ({"tools": [{"type": "function", "name": "f", "parameters": []}]}, "tools[0].parameters"),
    ({"tools": [{"type": "namespace", "name": "n"}]}, "tools[0]"),
    ({"tools": [FUNCTION], "tool_choice": "sometimes"}, "tool_choice"),
    ({"reasoning": "high"}, "reasoning"),
    ({"reasoning": {"effort": 1}}, "reasoning.effort"),
    ({"text": "json"}, "text"),
    ({"text": {"format": "json"}}, "text"),
    ({"text": {"format": {"type": "json_schema", "name": "x"}}}, "text.format"),
])
def test_bad_fields_are_refused_naming_the_field(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(MalformedRequestError) as caught:
        parse(**fields)
    assert caught.value.param == param


def test_previous_response_id_says_llmcore_keeps_no_state() -> None:
    with pytest.raises(MalformedRequestError, match="no conversation state.*send the whole conversation"):
        parse(previous_response_id="resp_1")
