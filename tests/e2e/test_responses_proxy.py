"""``POST /v1/responses`` on the running proxy, driven by the official ``openai`` SDK and checked against OpenAI's
published schemas (every response object and every stream event through the schema oracle).

Upstreams (``responses_deployment``): the fake xAI server for grok-code-fast-1 (recorded traffic: reasoning, a
``weather`` tool call, the answer after its result) and a chat-only OpenAI-compatible fake for ``gpt-x``. Neither
serves ``/v1/responses``; every test that reaches an upstream checks that only ``/v1/chat/completions`` was called.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from loguru import logger
from openai.types.responses import (
    ResponseCompletedEvent, ResponseCreatedEvent, ResponseOutputItemAddedEvent,
    ResponseReasoningTextDeltaEvent, ResponseTextDeltaEvent,
)

from llmcore.testing.fake_xai import Fault
from tests.e2e.responses_deployment import GROK, WEATHER_TOOL, Deployment, deployment, sse_events
from tests.schema_oracle import validate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

ASK = "What is the weather in Florence?"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from deployment(tmp_path_factory.mktemp("responses"))


@pytest.fixture
def d(running: Deployment) -> Iterator[Deployment]:
    running.clear()
    yield running
    assert {r.path for r in running.xai.requests + running.chat_only.requests} <= {"/v1/chat/completions"}


# --- grok-code-fast-1 through the fake xAI server -------------------------------------------------------

def test_create_answers_a_response_with_reasoning_text_usage_and_the_alias(d: Deployment) -> None:
    with d.client() as client:
        raw = client.responses.with_raw_response.create(model=GROK, input="Say hi in Portuguese.",
                                                        instructions="Be brief.", metadata={"team": "a"})
    answer = raw.parse()
    validate(json.loads(raw.content), "Response")
    assert [item.type for item in answer.output] == ["reasoning", "message"]
    assert answer.output_text and answer.output[0].content and answer.output[0].content[0].text
    assert (answer.status, answer.model, answer.instructions, answer.metadata) == ("completed", GROK, "Be brief.",
                                                                                   {"team": "a"})
    assert answer.id.startswith("resp_") and raw.headers["x-llmcore-served-alias"] == GROK
    assert answer.usage is not None and answer.usage.output_tokens_details.reasoning_tokens > 0
    assert answer.usage.total_tokens == 471 and answer.usage.input_tokens_details.cached_tokens == 192
    assert d.xai.requests[-1].body["messages"][0] == {"role": "system", "content": "Be brief."}


def test_stream_through_the_sdk_yields_typed_events_and_a_final_response(d: Deployment) -> None:
    with d.client() as client, client.responses.stream(model=GROK, input="Say hi in Portuguese.") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert isinstance(events[0], ResponseCreatedEvent) and isinstance(events[-1], ResponseCompletedEvent)
    assert any(isinstance(e, ResponseReasoningTextDeltaEvent) for e in events)
    assert "".join(e.delta for e in events if isinstance(e, ResponseTextDeltaEvent)) == final.output_text
    assert final.output_text and final.status == "completed"
    assert final.usage and final.usage.total_tokens == 413  # the recorded stream's usage
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_create_with_stream_true_yields_the_same_typed_events(d: Deployment) -> None:
    with d.client() as client:
        events = list(client.responses.create(model=GROK, input="Say hi in Portuguese.", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert kinds[-1] == "response.completed" and "response.output_text.done" in kinds


def test_every_stream_event_is_valid_against_the_spec(d: Deployment) -> None:
    reply = d.post({"model": GROK, "input": ASK, "tools": [WEATHER_TOOL], "stream": True})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
    events = sse_events(reply.text)  # each one validated as a ResponseStreamEvent
    kinds = [e["type"] for e in events]
    assert kinds[-3:] == ["response.function_call_arguments.done", "response.output_item.done",
                          "response.completed"]
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert [(e["name"], e["arguments"]) for e in done] == [("weather", '{"location":"Florence,Italy"}')]
    validate(events[-1]["response"], "Response")


def test_a_function_call_round_trip(d: Deployment) -> None:
    with d.client() as client:
        with client.responses.stream(model=GROK, input=ASK, tools=[WEATHER_TOOL]) as stream:
            added = [e for e in stream if isinstance(e, ResponseOutputItemAddedEvent)]
            first = stream.get_final_response()
        [call] = [item for item in first.output if item.type == "function_call"]
        assert (call.name, call.arguments, call.status) == ("weather", '{"location":"Florence,Italy"}', "completed")
        assert any(e.item.type == "function_call" for e in added)
        given_back = [item.model_dump(exclude_none=True) for item in first.output]
        turns: list[Any] = [{"role": "user", "content": ASK}, *given_back,
                            {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 24 C"}]
        second = client.responses.create(model=GROK, input=turns, tools=[WEATHER_TOOL])
    assert second.output_text and second.output[-1].type == "message"
    sent = d.xai.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]  # the reasoning item was dropped
    assert sent[1]["tool_calls"][0]["id"] == call.call_id
    assert sent[2] == {"role": "tool", "tool_call_id": call.call_id, "content": "Sunny, 24 C"}


def test_reasoning_is_dropped_for_grok_with_the_log_line_and_the_counter(d: Deployment) -> None:
    lines: list[str] = []
    sink = logger.add(lines.append, level="INFO", format="{extra[event]} {message}", filter="llmcore")
    logger.enable("llmcore")
    try:
        with d.client() as client:
            answer = client.responses.create(model=GROK, input="hi", reasoning={"effort": "high"})
    finally:
        logger.remove(sink)
        logger.disable("llmcore")
    assert answer.reasoning is not None and answer.reasoning.effort == "high"  # echoed as asked
    assert "reasoning_effort" not in d.xai.requests[-1].body and "reasoning" not in d.xai.requests[-1].body
    assert any(line.startswith("param_dropped") and "reasoning_effort" in line for line in lines)
    metrics = d.metrics()
    assert 'llmcore_requests_total{api="responses",model="grok-code-fast-1",outcome="ok",stream="false"}' in metrics
    assert 'param="reasoning_effort"' in metrics


def test_hosted_tools_are_dropped_and_counted_and_namespaces_flattened(d: Deployment) -> None:
    tools = [{"type": "web_search"}, {"type": "file_search", "vector_store_ids": ["vs_1"]},
             {"type": "namespace", "name": "geo", "description": "Geography tools", "tools": [WEATHER_TOOL]},
             {"type": "mcp", "server_label": "deepwiki", "server_url": "https://example.invalid/mcp"}]
    reply = d.post({"model": GROK, "input": ASK, "tools": tools, "tool_choice": "auto", "store": False})
    assert reply.status_code == 200, reply.text
    validate(reply.json(), "Response")
    assert [t["function"]["name"] for t in d.xai.requests[-1].body["tools"]] == ["weather"]
    [call] = [item for item in reply.json()["output"] if item["type"] == "function_call"]
    assert (call["name"], call["namespace"]) == ("weather", "geo")  # the namespace comes back to the client
    metrics = d.metrics()
    for dropped in ("web_search", "file_search", "mcp"):  # the tool's type: a bounded label (finding 5)
        assert f'param="tools[{dropped}]"' in metrics
    assert "deepwiki" not in metrics


def test_text_format_json_schema_becomes_response_format(d: Deployment) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    with d.client() as client:
        client.responses.create(model=GROK, input="A city?", text={"format": {
            "type": "json_schema", "name": "city", "schema": schema, "strict": True}}, max_output_tokens=100)
    sent = d.xai.requests[-1].body
    assert sent["response_format"] == {"type": "json_schema",
                                       "json_schema": {"name": "city", "schema": schema, "strict": True}}
    assert sent["max_tokens"] == 100


def test_previous_response_id_is_a_400_saying_llmcore_keeps_no_state(d: Deployment) -> None:
    with d.client() as client, pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=GROK, input="and then?", previous_response_id="resp_123")
    assert caught.value.code == "invalid_request" and "no conversation state" in caught.value.message
    assert caught.value.param == "previous_response_id" and d.xai.requests == []


# --- errors ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, param", [
    (b'{"model": "grok-code-fast-1", "input": [', None),
    (b"[]", None),
    ({"input": "hi"}, "model"),
    ({"model": GROK}, "input"),
    ({"model": GROK, "input": 42}, "input"),
    ({"model": GROK, "input": [{"type": "web_search_call", "id": "ws_1"}]}, "input[0]"),
    ({"model": GROK, "input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
    ({"model": GROK, "input": [{"role": "tool", "content": "x"}]}, "input[0].role"),
    ({"model": GROK, "input": "hi", "tool_choice": {"type": "nope"}}, "tool_choice"),
    ({"model": GROK, "input": "hi", "text": {"format": {"type": "xml"}}}, "text.format"),
    ({"model": GROK, "input": "hi", "background": True}, "background"),
    ({"model": GROK, "input": "hi", "conversation": "conv_1"}, "conversation"),
    ({"model": GROK, "input": "hi", "stream": "yes"}, "stream"),
])
def test_bad_bodies_are_400_in_openais_shape(d: Deployment, body: Any, param: str | None) -> None:
    raw = d.post(body)
    assert raw.status_code == 400, raw.text
    validate(raw.json(), "ErrorResponse")
    assert raw.json()["error"]["type"] == "invalid_request_error" and raw.json()["error"]["param"] == param
    assert d.xai.requests == []


def test_the_master_key_is_enforced(d: Deployment) -> None:
    with d.client(api_key="sk-wrong") as client, pytest.raises(openai.AuthenticationError) as caught:
        client.responses.create(model=GROK, input="hi")
    assert caught.value.code == "invalid_api_key"
    assert d.post({"model": GROK, "input": "hi"}, headers={}).status_code == 401
    assert d.post({"model": GROK, "input": "hi"}, headers={"x-api-key": d.master}).status_code == 401
    assert d.xai.requests == []


def test_an_unknown_model_is_404(d: Deployment) -> None:
    with d.client() as client, pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="gpt-unconfigured-9", input="hi")
    assert "gpt-unconfigured-9" in caught.value.message


def test_the_route_answers_without_v1_too(d: Deployment) -> None:
    assert d.post({"model": GROK, "input": "hi"}, path="/responses").json()["object"] == "response"


# Faults of the fake xAI server that fail before the first byte: /v1/responses answers exactly what
# /v1/chat/completions answers (status, type, code, Retry-After), streamed or not.
BEFORE_FIRST_BYTE = ("rate_limit", "credits_exhausted", "bad_key", "forbidden", "bad_request", "server_error",
                     "bad_gateway_html", "unavailable", "gateway_timeout", "drop_connection", "zero_events")
FAULTS = {
    "rate_limit": Fault.rate_limit(retry_after=2.2), "credits_exhausted": Fault.credits_exhausted(),
    "bad_key": Fault.bad_key(), "forbidden": Fault.forbidden(), "bad_request": Fault.bad_request(),
    "server_error": Fault.server_error(), "bad_gateway_html": Fault.bad_gateway_html(),
    "unavailable": Fault.unavailable(), "gateway_timeout": Fault.gateway_timeout(),
    "drop_connection": Fault.drop_connection(), "zero_events": Fault.zero_events(),
}


@pytest.mark.parametrize("fault, stream", [
    (fault, stream) for fault in BEFORE_FIRST_BYTE for stream in (False, True)
    if stream or fault != "zero_events"  # a stream fault: a JSON request gets the recorded answer
])
def test_a_fault_before_the_first_byte_is_answered_as_chat_completions_answers_it(
    d: Deployment, fault: str, stream: bool,
) -> None:
    d.xai.script(FAULTS[fault], FAULTS[fault])
    chat = d.post({"model": GROK, "messages": [{"role": "user", "content": "hi"}], "stream": stream},
                  path="/v1/chat/completions")
    reply = d.post({"model": GROK, "input": "hi", "stream": stream})
    assert reply.status_code == chat.status_code and reply.status_code >= 400, reply.text
    assert reply.headers["content-type"] == "application/json"
    validate(reply.json(), "ErrorResponse")
    assert {k: reply.json()["error"][k] for k in ("type", "code")} == \
        {k: chat.json()["error"][k] for k in ("type", "code")}
    assert reply.headers.get("Retry-After") == chat.headers.get("Retry-After")


@pytest.mark.parametrize("fault", [Fault.cut_mid_stream(after_events=3), Fault.eof_without_finish(after_events=3)],
                         ids=["cut", "eof without finish"])
def test_a_stream_that_breaks_after_its_first_event_ends_with_response_failed(d: Deployment, fault: Fault) -> None:
    d.xai.script(fault)
    reply = d.post({"model": GROK, "input": "Say hi in Portuguese.", "stream": True})
    assert reply.status_code == 200
    events = sse_events(reply.text)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.failed"
    assert "response.completed" not in kinds
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"
    assert "retry the request" in failed["error"]["message"]
    assert d.keys[0] not in reply.text and d.master not in reply.text


def test_the_sdk_surfaces_response_failed_as_an_event(d: Deployment) -> None:
    d.xai.script(Fault.cut_mid_stream(after_events=3))
    with d.client() as client, client.responses.stream(model=GROK, input="Say hi in Portuguese.") as stream:
        events = list(stream)
        with pytest.raises(RuntimeError, match="response.completed"):
            stream.get_final_response()
    assert events[-1].type == "response.failed"


def test_empty_deltas_do_not_break_the_stream(d: Deployment) -> None:
    d.xai.script(Fault.empty_deltas())
    events = sse_events(d.post({"model": GROK, "input": "Say hi in Portuguese.", "stream": True}).text)
    assert events[-1]["type"] == "response.completed"


def test_a_client_that_leaves_mid_stream_closes_the_upstream_stream(d: Deployment) -> None:
    d.xai.script(Fault.slow_chunks(0.05))
    with httpx.Client(trust_env=False, timeout=30) as http, http.stream(
            "POST", d.proxy.url + "/v1/responses", json={"model": GROK, "input": "hi", "stream": True},
            headers={"Authorization": f"Bearer {d.master}"}) as reply:
        first = next(reply.iter_lines())
    assert first == "event: response.created"
    assert d.xai.wait_for_disconnect(timeout=5)


def test_a_codex_shaped_request_streams_to_completion_with_only_the_hosted_tool_dropped(d: Deployment) -> None:
    """The fields Codex CLI sends (issue 13), streamed; the client hangs up as soon as it has response.completed."""
    body = {"model": GROK, "instructions": "You are Codex.", "stream": True, "store": False,
            "input": [{"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
                      {"type": "message", "role": "user", "content": [{"type": "input_text", "text": ASK}]}],
            "tools": [{"type": "web_search"}, {"type": "namespace", "name": "mcp__geo", "description": "Geo",
                                               "tools": [WEATHER_TOOL]}],
            "tool_choice": "auto", "parallel_tool_calls": False, "reasoning": {"effort": "medium", "summary": "auto"},
            "include": ["reasoning.encrypted_content"], "prompt_cache_key": "thread-1", "text": {"verbosity": "low"}}
    before = d.metrics()
    with httpx.Client(trust_env=False, timeout=30) as http, http.stream(
            "POST", d.proxy.url + "/v1/responses", json=body, headers={"Authorization": f"Bearer {d.master}"}) as reply:
        kinds = []
        for line in reply.iter_lines():
            if line.startswith("event: "):
                kinds.append(line[len("event: "):])
                if kinds[-1] == "response.completed":
                    break  # Codex closes the connection here
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    sent = d.xai.requests[-1].body
    assert [m["role"] for m in sent["messages"]] == ["system", "system", "user"]
    assert [t["function"]["name"] for t in sent["tools"]] == ["weather"] and sent["parallel_tool_calls"] is False
    assert not {"include", "prompt_cache_key", "store", "text", "reasoning", "reasoning_effort"} & set(sent)
    added = [line for line in d.metrics().splitlines() if "llmcore_param_adjustments_total{" in line
             and line not in before.splitlines()]
    assert added, "nothing was counted: the check below would pass vacuously"
    assert all("tools[web_search]" in line or "reasoning_effort" in line for line in added), added


def test_made_up_field_and_tool_names_add_no_param_series(d: Deployment) -> None:
    """Finding 5: each unknown field and hosted tool name a client sent was a new metric series."""
    def series(text: str) -> set[str]:
        return {line.split("{", 1)[1].rsplit("}", 1)[0] for line in text.splitlines()
                if line.startswith("llmcore_param_adjustments_total{")}

    for round_ in range(2):
        fields = {f"x_made_up_{round_}_{n}": n for n in range(40)}
        tools = [{"type": "web_search", "name": f"s{round_}_{n}"} for n in range(10)]
        tools += [{"type": f"vendor_tool_{round_}_{n}"} for n in range(10)]
        reply = d.post({"model": GROK, "input": ASK, "tools": tools, **fields})
        assert reply.status_code == 200, reply.text
        if round_ == 0:
            first = series(d.metrics())
    after = series(d.metrics())
    assert after == first, after - first  # 60 more made-up names, not one more series
    assert "x_made_up" not in d.metrics() and "vendor_tool" not in d.metrics()
    assert {'action="dropped",model="grok-code-fast-1",param="unknown_field"',
            'action="dropped",model="grok-code-fast-1",param="tools[other]"'} <= after


def test_the_log_line_keeps_a_made_up_name_cut_to_a_sane_length(d: Deployment) -> None:
    long_name = "y" * 5000
    lines: list[str] = []
    sink = logger.add(lines.append, level="INFO", format="{extra[event]} {message}", filter="llmcore")
    logger.enable("llmcore")
    try:
        reply = d.post({"model": GROK, "input": ASK, "x_short_name": 1, long_name: 1})
    finally:
        logger.remove(sink)
        logger.disable("llmcore")
    assert reply.status_code == 200, reply.text
    dropped = [line for line in lines if line.startswith("param_dropped")]
    assert any("'x_short_name'" in line for line in dropped), dropped
    assert any(f"'{'y' * 200}…'" in line for line in dropped) and not any("y" * 201 in line for line in dropped)
