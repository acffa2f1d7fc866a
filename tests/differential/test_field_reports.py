"""Every input of FIELD-REPORTS.md (F1-F7), byte for byte, through both adapters: the same outcome.

F8 is the proxy's wording of an incomplete stream, the same code over either adapter (the fault
cases compare the library's side: class, reason, telemetry).
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from llmcore.testing.fake_xai import Fault
from tests.differential.known_differences import assert_same
from tests.differential.pair import GENERIC, GROK, Case, Pair
from tests.sse_forms import SSE_FORMS

HI = ({"role": "user", "content": "hi"},)


def chunk(model: str, choices: list[dict[str, Any]], **extra: Any) -> str:
    return json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": model,
                       "choices": choices, **extra}, separators=(",", ":"))


def sse(*documents: str) -> str:
    return "".join(f"data: {d}\n\n" for d in documents) + "data: [DONE]\n\n"


def stream_of(body: str) -> tuple[Fault, ...]:
    return (Fault.status(200, body, "text/event-stream"),)


def json_of(document: dict[str, Any]) -> tuple[Fault, ...]:
    return (Fault.status(200, json.dumps(document)),)


F2_JSON = {"id": "c2", "object": "chat.completion", "created": 1, "model": GENERIC,
           "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 100, "completion_tokens": 300, "total_tokens": 400,
                     "completion_tokens_details": {"reasoning_tokens": 200}}}
F2_STREAM = sse(
    chunk(GENERIC, [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "thinking"},
                     "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]),
    chunk(GENERIC, [], usage={"prompt_tokens": 65, "completion_tokens": 251, "total_tokens": 316}))
F3_STREAM = sse(
    chunk(GENERIC, [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]},
        "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]},
                     "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"Oslo\"}"}}]},
                     "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]))
F4_DELTAS = (
    [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}],
    [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}}],
    [{"index": 0, "function": {"arguments": "{\"city\":\"Oslo\"}"}}],
    [{"index": 1, "function": {"arguments": "{\"tz\":"}}],
    [{"index": 1, "function": {"arguments": "\"CET\"}"}}],
)
F4_STREAM = sse(
    *(chunk(GENERIC, [{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": None}]) for calls in F4_DELTAS),
    chunk(GENERIC, [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]))
F5_JSON = {"id": "c5", "object": "chat.completion", "created": 1, "model": GROK,
           "choices": [{"index": i, "message": {"role": "assistant", "content": f"answer {i}"}, "finish_reason": "stop"}
                       for i in (0, 1)],
           "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}}
F5_STREAM = sse(
    *(chunk(GROK, [{"index": i, "delta": {"role": "assistant", "content": f"answer {i}"}, "finish_reason": None}])
      for i in (0, 1)),
    *(chunk(GROK, [{"index": i, "delta": {}, "finish_reason": "stop"}]) for i in (0, 1)))
TOKEN = {"token": "Hi", "logprob": -0.31, "bytes": [72, 105],
         "top_logprobs": [{"token": "Hi", "logprob": -0.31, "bytes": [72, 105]},
                          {"token": "Hello", "logprob": -1.5, "bytes": [72, 101, 108, 108, 111]}]}
F6_JSON = {"id": "c6", "object": "chat.completion", "created": 1, "model": GENERIC,
           "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "refusal": None},
                        "logprobs": {"content": [TOKEN], "refusal": None}, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}
F6_STREAM = sse(
    chunk(GENERIC, [{"index": 0, "delta": {"role": "assistant", "content": "Hi"},
                     "logprobs": {"content": [TOKEN], "refusal": None}, "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]))
CONFLICT = json.dumps({"error": {"message": "conflict, try again"}})

STREAMS = [
    *(Case(f"F1 {form}", stream_of(body), alias=GENERIC, messages=HI) for form, body in sorted(SSE_FORMS.items())),
    Case("F2 stream usage without a reasoning count", stream_of(F2_STREAM), alias=GENERIC, messages=HI),
    Case("F3 tool-call continuation deltas", stream_of(F3_STREAM), alias=GENERIC, messages=HI),
    Case("F4 interleaved parallel tool calls", stream_of(F4_STREAM), alias=GENERIC, messages=HI),
    Case("F5 n=2 stream", stream_of(F5_STREAM), alias=GROK, messages=HI, params={"n": 2}),
    Case("F6 logprobs stream", stream_of(F6_STREAM), alias=GENERIC, messages=HI,
         params={"logprobs": True, "top_logprobs": 2}),
]
ANSWERS = [
    Case("F2 reasoning inside completion", json_of(F2_JSON), alias=GENERIC, messages=HI),
    Case("F5 n=2", json_of(F5_JSON), alias=GROK, messages=HI, params={"n": 2}),
    Case("F6 logprobs", json_of(F6_JSON), alias=GENERIC, messages=HI, params={"logprobs": True, "top_logprobs": 2}),
    Case("F7 409 is transient", (Fault.status(409, CONFLICT),) * 2, alias=GENERIC, messages=HI),
    Case("F7 409 then an answer", (Fault.status(409, CONFLICT), Fault.ok()), alias=GENERIC, messages=HI),
]


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("case", STREAMS, ids=[c.name for c in STREAMS])
def test_each_streamed_field_report_reads_the_same_through_both_adapters(pair: Pair, case: Case, mode: str) -> None:
    litellm, native = (pair.run(case, mode, adapter) for adapter in ("litellm", "native"))
    assert native.error is None and native.state["complete"], f"{case.name}: {native.error} {native.state}"
    assert_same(litellm, native, case)


@pytest.mark.parametrize("mode", ["complete", "acomplete", "stream", "astream"])
@pytest.mark.parametrize("case", ANSWERS, ids=[c.name for c in ANSWERS])
def test_each_answered_field_report_reads_the_same_through_both_adapters(pair: Pair, case: Case, mode: str) -> None:
    litellm, native = (pair.run(case, mode, adapter) for adapter in ("litellm", "native"))
    assert_same(litellm, native, case)


def test_the_right_values_come_out_of_the_native_adapter(pair: Pair) -> None:
    f2 = pair.run(ANSWERS[0], "complete", "native").answer.usage
    assert (f2.completion_tokens, f2.reasoning_tokens, f2.total_tokens) == (300, 200, 400)
    f4 = pair.run(STREAMS[-3], "stream", "native").state["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in f4] == [
        ("call_a", "get_weather", "{\"city\":\"Oslo\"}"), ("call_b", "get_time", "{\"tz\":\"CET\"}")]
    f5 = pair.run(ANSWERS[1], "complete", "native").answer
    assert [(c.index, c.content) for c in f5.choices] == [(0, "answer 0"), (1, "answer 1")]
