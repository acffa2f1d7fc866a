"""The Responses API wire format: the response object and the event stream, checked against OpenAI's spec."""
from __future__ import annotations

import json
from typing import Any

from llmcore.domain.chat import ChatResponse, StreamChunk
from llmcore.domain.errors import RateLimitError, UpstreamUnavailableError
from llmcore.domain.usage import Usage
from llmcore.entrypoints.responses_request import parse_responses_body
from llmcore.entrypoints.responses_stream import ResponseEvents
from llmcore.entrypoints.responses_wire import failure, response, usage_dict
from tests.schema_oracle import validate

ECHO = parse_responses_body(b'{"model": "m", "input": "hi", "tools": [{"type": "function", "name": "f"}]}').echo


def events_of(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for block in raw.decode().strip().split("\n\n"):
        name, data = block.split("\n")
        document = json.loads(data[len("data: "):])
        assert name == f"event: {document['type']}"
        validate(document, "ResponseStreamEvent")
        out.append(document)
    return out


def test_a_tool_call_answer_has_function_call_items_and_no_empty_message() -> None:
    calls = [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
             {"type": "function", "function": {"name": "g"}}]
    answer = ChatResponse(content=None, finish_reason="tool_calls", id="abc", usage=Usage(prompt_tokens=4),
                          tool_calls=calls)
    document = response(answer, "m", "req1", ECHO, {"g": "ns"})
    validate(document, "Response")
    assert [(i["type"], i["id"], i["call_id"], i.get("namespace")) for i in document["output"]] == [
        ("function_call", "fc_abc_0", "call_1", None), ("function_call", "fc_abc_1", "call_fc_abc_1", "ns")]
    assert document["id"] == "resp_abc" and document["status"] == "completed"


def test_an_empty_answer_is_one_empty_message() -> None:
    document = response(ChatResponse(content=None, finish_reason="content_filter"), "m", "req1", ECHO, {})
    validate(document, "Response")
    assert document["id"] == "resp_req1" and document["output"][0]["content"][0]["text"] == ""
    assert (document["status"], document["incomplete_details"]) == ("incomplete", {"reason": "content_filter"})


def test_usage_counts_reasoning_inside_output_and_carries_the_cost() -> None:
    usage = Usage(prompt_tokens=10, completion_tokens=5, reasoning_tokens=7, cached_tokens=4, cost_usd=0.5)
    assert usage_dict(usage) == {
        "input_tokens": 10, "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
        "output_tokens": usage.output_tokens, "output_tokens_details": {"reasoning_tokens": 7},
        "total_tokens": usage.total_tokens, "cost_usd": 0.5}


def test_failure_codes_are_the_specs() -> None:
    assert failure(RateLimitError("slow down"), "m")["code"] == "rate_limit_exceeded"
    assert failure(UpstreamUnavailableError("down"), "m") == {"code": "server_error", "message": "m"}


def test_the_event_stream_interleaves_items_and_closes_every_one() -> None:
    events = ResponseEvents("m", "resp_x", ECHO, {"f": "ns"}, 1)
    raw = events.start()
    for chunk in (
        StreamChunk(role="assistant", reasoning_content="think"),
        StreamChunk(content="Hel"), StreamChunk(content="lo"),
        StreamChunk(tool_calls=[{"index": 0, "id": "c0", "function": {"name": "f", "arguments": ""}}]),
        StreamChunk(tool_calls=[{"index": 1, "id": "c1", "function": {"name": "g", "arguments": "{\"a\""}}]),
        StreamChunk(tool_calls=[{"index": 0, "function": {"arguments": "{}"}}]),
        StreamChunk(reasoning_content="more"),
        StreamChunk(tool_calls=[{"index": 1, "function": {"arguments": ":1}"}}]),
        StreamChunk(index=1, content="another choice"),
        StreamChunk(finish_reason="tool_calls"),
    ):
        raw += events.feed(chunk)
    raw += events.finish(Usage(prompt_tokens=3, completion_tokens=2), None)
    documents = events_of(raw)
    assert [d["sequence_number"] for d in documents] == list(range(len(documents)))
    final = documents[-1]["response"]
    assert documents[-1]["type"] == "response.completed" and final["usage"]["total_tokens"] == 5
    assert [(i["type"], i["status"]) for i in final["output"]] == [
        ("reasoning", "completed"), ("message", "completed"), ("function_call", "completed"),
        ("function_call", "completed"), ("reasoning", "completed")]
    assert final["output"][1]["content"][0]["text"] == "Hello"
    assert [(i["arguments"], i.get("namespace")) for i in final["output"][2:4]] == [("{}", "ns"), ('{"a":1}', None)]
    added = [d["output_index"] for d in documents if d["type"] == "response.output_item.added"]
    done = [d["output_index"] for d in documents if d["type"] == "response.output_item.done"]
    assert added == [0, 1, 2, 3, 4] and sorted(done) == added and "another choice" not in raw.decode()


def test_a_failed_stream_marks_open_items_incomplete() -> None:
    events = ResponseEvents("m", "resp_x", ECHO, {}, 1)
    raw = events.start() + events.feed(StreamChunk(content="par")) + events.fail("server_error", "cut")
    failed = events_of(raw)[-1]
    assert failed["type"] == "response.failed" and failed["response"]["status"] == "failed"
    assert failed["response"]["output"][0]["status"] == "incomplete"
    assert failed["response"]["error"] == {"code": "server_error", "message": "cut"}
    assert "usage" not in failed["response"]
