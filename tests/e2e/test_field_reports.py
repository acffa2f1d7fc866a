"""The inputs of /work/shared/FIELD-REPORTS.md (F1, F3-F8), byte for byte, through the library and the proxy.

Each upstream answer is scripted on a fake on 127.0.0.1 and reaches llmcore
through real LiteLLM; the proxy is driven by the official ``openai`` client,
its stream helper (``client.chat.completions.stream(...)``,
``get_final_completion()``) included. The library's async side is in
tests/integration/test_wire_library.py: closing LiteLLM's async clients at the
end of a test's event loop closes them process-wide, the running proxy's too.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import llmcore
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.errors import StreamIncompleteError, UpstreamUnavailableError
from llmcore.testing.fake_xai import Fault
from tests.e2e.wire_deployment import GENERIC, GROK, WireDeployment, wire_deployment
from tests.schema_oracle import validate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WireDeployment]:
    with wire_deployment(tmp_path_factory.mktemp("field-reports")) as running:
        yield running


@pytest.fixture
def wire(deployment: WireDeployment) -> Iterator[WireDeployment]:
    deployment.clear()
    yield deployment
    deployment.clear()


def library(wire: WireDeployment, telemetry: RecordingTelemetry | None = None) -> llmcore.Core:
    return llmcore.load(wire.config, env=wire.env, telemetry=telemetry or RecordingTelemetry())


def chunk(model: str, choices: list[dict[str, Any]], **extra: Any) -> str:
    return json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": model,
                       "choices": choices, **extra}, separators=(",", ":"))


def sse(*documents: str, prefix: str = "") -> str:
    return prefix + "".join(f"data: {d}\n\n" for d in documents) + "data: [DONE]\n\n"


def script_stream(wire: WireDeployment, model: str, body: str) -> None:
    fake = wire.xai if model == GROK else wire.generic
    fake.script(Fault.status(200, body, "text/event-stream"))


def script_json(wire: WireDeployment, model: str, document: dict[str, Any]) -> None:
    fake = wire.xai if model == GROK else wire.generic
    fake.script(Fault.status(200, json.dumps(document)))


# --- F1: SSE control lines -----------------------------------------------------------------------

HELLO = chunk(GROK, [{"index": 0, "delta": {"role": "assistant", "content": "Hello"}, "finish_reason": None}])
WORLD = chunk(GROK, [{"index": 0, "delta": {"content": " world"}, "finish_reason": "stop"}])
F1_STREAMS = {
    "retry first": sse(HELLO, WORLD, prefix="retry: 3000\n\n"),
    "id lines and a ping comment": f"id: 1\ndata: {HELLO}\n\n: ping\n\nid: 2\ndata: {WORLD}\n\ndata: [DONE]\n\n",
}


@pytest.mark.parametrize("name", sorted(F1_STREAMS))
def test_f1_library_reads_a_stream_with_control_lines_to_its_end(wire: WireDeployment, name: str) -> None:
    script_stream(wire, GROK, F1_STREAMS[name])
    with library(wire).stream(GROK, HI, raise_on_incomplete=True) as session:
        assert "".join(c.content or "" for c in session) == "Hello world"
    assert session.finish_reason == "stop" and session.complete


@pytest.mark.parametrize("name", sorted(F1_STREAMS))
def test_f1_proxy_relays_a_stream_with_control_lines_to_the_openai_stream_helper(
        wire: WireDeployment, name: str) -> None:
    script_stream(wire, GROK, F1_STREAMS[name])
    with wire.client().chat.completions.stream(model=GROK, messages=HI) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Hello world"
    assert final.choices[0].finish_reason == "stop"


# --- F3: tool-call continuation deltas ----------------------------------------------------------

FIRST_CALL_DELTA = {"index": 0, "id": "call_a", "type": "function",
                    "function": {"name": "get_weather", "arguments": ""}}
CONTINUATION = {"index": 0, "function": {"arguments": "{\"city\":"}}
F3_STREAM = sse(
    chunk(GENERIC, [{"index": 0, "delta": {"role": "assistant", "tool_calls": [FIRST_CALL_DELTA]},
                     "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {"tool_calls": [CONTINUATION]}, "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"Oslo\"}"}}]},
                     "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]),
)


def test_f3_proxy_relays_tool_call_deltas_with_exactly_the_fields_sent(wire: WireDeployment) -> None:
    script_stream(wire, GENERIC, F3_STREAM)
    chunks = wire.sse({"model": GENERIC, "messages": HI})
    relayed = [c["choices"][0]["delta"]["tool_calls"] for c in chunks if c["choices"][0]["delta"].get("tool_calls")]
    assert relayed == [[FIRST_CALL_DELTA], [CONTINUATION],
                       [{"index": 0, "function": {"arguments": "\"Oslo\"}"}}]]
    for document in chunks:
        validate(document, "CreateChatCompletionStreamResponse")


def test_f3_library_chunks_carry_the_tool_call_deltas_as_sent(wire: WireDeployment) -> None:
    script_stream(wire, GENERIC, F3_STREAM)
    with library(wire).stream(GENERIC, HI) as session:
        deltas = [call for c in session for call in c.tool_calls]
    assert deltas[:2] == [FIRST_CALL_DELTA, CONTINUATION]
    assert session.tool_calls == ({"id": "call_a", "type": "function",
                                   "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}},)


# --- F4: interleaved parallel tool calls --------------------------------------------------------

F4_DELTAS = [
    [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}],
    [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}}],
    [{"index": 0, "function": {"arguments": "{\"city\":\"Oslo\"}"}}],
    [{"index": 1, "function": {"arguments": "{\"tz\":"}}],
    [{"index": 1, "function": {"arguments": "\"CET\"}"}}],
]
F4_STREAM = sse(
    *(chunk(GENERIC, [{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": None}]) for calls in F4_DELTAS),
    chunk(GENERIC, [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]),
)
F4_CALLS = (
    {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}},
    {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":\"CET\"}"}},
)


def test_f4_library_assembles_interleaved_parallel_calls_sync(wire: WireDeployment) -> None:
    script_stream(wire, GENERIC, F4_STREAM)
    with library(wire).stream(GENERIC, HI) as session:
        list(session)
    assert session.tool_calls == F4_CALLS and session.finish_reason == "tool_calls" and session.complete


def test_f4_proxy_gives_the_openai_stream_helper_two_whole_calls(wire: WireDeployment) -> None:
    script_stream(wire, GENERIC, F4_STREAM)
    with wire.client().chat.completions.stream(model=GENERIC, messages=HI) as stream:
        final = stream.get_final_completion()
    calls = [(c.id, c.function.name, c.function.arguments) for c in final.choices[0].message.tool_calls]
    assert calls == [("call_a", "get_weather", "{\"city\":\"Oslo\"}"), ("call_b", "get_time", "{\"tz\":\"CET\"}")]


# --- F5: n = 2 ------------------------------------------------------------------------------------

F5_JSON = {
    "id": "c1", "object": "chat.completion", "created": 1, "model": GROK,
    "choices": [{"index": i, "message": {"role": "assistant", "content": f"answer {i}"}, "finish_reason": "stop"}
                for i in (0, 1)],
    "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
}
F5_STREAM = sse(*(
    chunk(GROK, [{"index": i, "delta": {"role": "assistant", "content": f"answer {i}"}, "finish_reason": None}])
    for i in (0, 1)), *(chunk(GROK, [{"index": i, "delta": {}, "finish_reason": "stop"}]) for i in (0, 1)))


def test_f5_library_keeps_both_choices(wire: WireDeployment) -> None:
    core = library(wire)
    script_json(wire, GROK, F5_JSON)
    response = core.complete(GROK, HI, n=2)
    assert [(c.index, c.content) for c in response.choices] == [(0, "answer 0"), (1, "answer 1")]
    assert response.content == "answer 0"
    script_stream(wire, GROK, F5_STREAM)
    with core.stream(GROK, HI, n=2) as session:
        list(session)
    assert [(c.index, c.content, c.finish_reason) for c in session.choices] == [
        (0, "answer 0", "stop"), (1, "answer 1", "stop")]
    assert session.text == "answer 0" and session.complete


def test_f5_proxy_json_and_sse_keep_both_choices(wire: WireDeployment) -> None:
    script_json(wire, GROK, F5_JSON)
    document = wire.post({"model": GROK, "messages": HI, "n": 2}).json()
    assert [(c["index"], c["message"]["content"]) for c in document["choices"]] == [(0, "answer 0"), (1, "answer 1")]
    script_stream(wire, GROK, F5_STREAM)
    with wire.client().chat.completions.stream(model=GROK, messages=HI, n=2) as stream:
        final = stream.get_final_completion()
    assert [(c.index, c.message.content) for c in final.choices] == [(0, "answer 0"), (1, "answer 1")]


# --- F6: logprobs ---------------------------------------------------------------------------------

TOKEN = {"token": "Hi", "logprob": -0.31, "bytes": [72, 105],
         "top_logprobs": [{"token": "Hi", "logprob": -0.31, "bytes": [72, 105]},
                          {"token": "Hello", "logprob": -1.5, "bytes": [72, 101, 108, 108, 111]}]}
F6_JSON = {
    "id": "c1", "object": "chat.completion", "created": 1, "model": GENERIC,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "refusal": None},
                 "logprobs": {"content": [TOKEN], "refusal": None}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
}
F6_STREAM = sse(
    chunk(GENERIC, [{"index": 0, "delta": {"role": "assistant", "content": "Hi"},
                     "logprobs": {"content": [TOKEN], "refusal": None}, "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]),
)


def test_f6_library_exposes_logprobs(wire: WireDeployment) -> None:
    core = library(wire)
    script_json(wire, GENERIC, F6_JSON)
    assert core.complete(GENERIC, HI, logprobs=True, top_logprobs=2).logprobs["content"] == [TOKEN]
    script_stream(wire, GENERIC, F6_STREAM)
    with core.stream(GENERIC, HI, logprobs=True, top_logprobs=2) as session:
        list(session)
    assert session.logprobs == {"content": [TOKEN], "refusal": None}


def test_f6_proxy_json_and_sse_carry_logprobs_as_sent(wire: WireDeployment) -> None:
    script_json(wire, GENERIC, F6_JSON)
    document = wire.post({"model": GENERIC, "messages": HI, "logprobs": True, "top_logprobs": 2}).json()
    assert document["choices"][0]["logprobs"] == {"content": [TOKEN], "refusal": None}
    script_stream(wire, GENERIC, F6_STREAM)
    with wire.client().chat.completions.stream(model=GENERIC, messages=HI, logprobs=True, top_logprobs=2) as stream:
        final = stream.get_final_completion()
    assert [t.model_dump() for t in final.choices[0].logprobs.content] == [TOKEN]


# --- F7: transient statuses -------------------------------------------------------------------------

CONFLICT = json.dumps({"error": {"message": "conflict, try again"}})


def test_f7_library_treats_409_as_transient(wire: WireDeployment) -> None:
    wire.generic.script(Fault.status(409, CONFLICT))
    with pytest.raises(UpstreamUnavailableError) as caught:
        library(wire).complete(GENERIC, HI)
    assert caught.value.retryable and caught.value.status_code == 409


def test_f7_library_retries_409_then_answers(wire: WireDeployment, tmp_path: Any) -> None:
    config = tmp_path / "retry.yaml"
    config.write_text(wire.config.read_text("utf-8").replace("      max_retries: 0\n", "      max_retries: 1\n"))
    waits: list[float] = []
    wire.generic.script(Fault.status(409, CONFLICT), Fault.ok())
    response = llmcore.load(config, env=wire.env, sleep=waits.append).complete(GENERIC, HI)
    assert response.content == "answer" and len(waits) == 1
    assert len(wire.generic.requests) == 2


def test_f7_proxy_answers_an_upstream_409_as_an_upstream_failure_not_a_bad_request(wire: WireDeployment) -> None:
    wire.generic.script(Fault.status(409, CONFLICT))
    response = wire.post({"model": GENERIC, "messages": HI})
    assert response.status_code == 502 and response.json()["error"]["type"] == "upstream_error"


# --- F8: library hints stay in the library ---------------------------------------------------------------

def test_f8_proxy_error_texts_carry_no_library_hint(wire: WireDeployment) -> None:
    wire.xai.script(Fault.zero_events())
    response = wire.post({"model": GROK, "messages": HI, "stream": True})
    assert response.status_code == 502 and response.json()["error"]["code"] == "stream_incomplete"
    assert "session." not in response.json()["error"]["message"]
    assert response.json()["error"]["message"].endswith("retry the request")
    wire.xai.script(Fault.cut_mid_stream(after_events=2))
    error = wire.sse({"model": GROK, "messages": HI})[-1]
    assert error["error"]["code"] == "stream_incomplete" and "session." not in error["error"]["message"]


def test_f8_library_users_keep_the_session_hint(wire: WireDeployment) -> None:
    wire.xai.script(Fault.cut_mid_stream(after_events=2))
    with pytest.raises(StreamIncompleteError, match=r"session\.text"):
        with library(wire).stream(GROK, HI, raise_on_incomplete=True) as session:
            list(session)


# --- Served-by for streams ------------------------------------------------------------------------------------

def test_a_stream_served_by_another_model_warns_and_counts_once(wire: WireDeployment) -> None:
    other = [chunk("grok-4.3", [{"index": 0, "delta": {"content": part}, "finish_reason": None}])
             for part in ("a", "b", "c")]
    script_stream(wire, GROK, sse(*other, chunk("grok-4.3", [{"index": 0, "delta": {}, "finish_reason": "stop"}])))
    telemetry = RecordingTelemetry()
    with library(wire, telemetry).stream(GROK, HI) as session:
        list(session)
    mismatches = [w for w in session.warnings if "answered as grok-4.3" in w]
    assert len(mismatches) == 1 and session.complete
    assert [e.details["served_by"] for e in telemetry.named("model_mismatch")] == ["grok-4.3"]


# --- refusal, refusal logprobs, system_fingerprint, service_tier (Decision 16) ------------------------------

REFUSAL_TOKEN = {"token": "I", "logprob": -0.1, "bytes": [73], "top_logprobs": []}
REFUSAL_JSON = {
    "id": "c1", "object": "chat.completion", "created": 1, "model": GENERIC, "system_fingerprint": "fp_9",
    "service_tier": "flex",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "refusal": "I can't help with that"},
                 "logprobs": {"content": None, "refusal": [REFUSAL_TOKEN]}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11},
}
REFUSAL_STREAM = sse(
    chunk(GENERIC, [{"index": 0, "delta": {"role": "assistant", "refusal": "I can't"},
                     "logprobs": {"content": None, "refusal": [REFUSAL_TOKEN]}, "finish_reason": None}],
          system_fingerprint="fp_9", service_tier="flex"),
    chunk(GENERIC, [{"index": 0, "delta": {"refusal": " help with that"}, "finish_reason": "stop"}],
          system_fingerprint="fp_9", service_tier="flex"),
)


def test_refusal_and_the_upstreams_fingerprint_and_tier_pass_through_json(wire: WireDeployment) -> None:
    script_json(wire, GENERIC, REFUSAL_JSON)
    document = wire.post({"model": GENERIC, "messages": HI, "logprobs": True}).json()
    validate(document, "CreateChatCompletionResponse")
    choice = document["choices"][0]
    assert choice["message"]["refusal"] == "I can't help with that" and choice["message"]["content"] is None
    assert choice["logprobs"] == {"content": None, "refusal": [REFUSAL_TOKEN]}
    assert (document["system_fingerprint"], document["service_tier"]) == ("fp_9", "flex")


def test_refusal_and_the_upstreams_fingerprint_and_tier_pass_through_sse(wire: WireDeployment) -> None:
    script_stream(wire, GENERIC, REFUSAL_STREAM)
    with wire.client().chat.completions.stream(model=GENERIC, messages=HI, logprobs=True) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.refusal == "I can't help with that"
    assert (final.system_fingerprint, final.service_tier) == ("fp_9", "flex")
    script_stream(wire, GENERIC, REFUSAL_STREAM)
    with library(wire).stream(GENERIC, HI, logprobs=True) as session:
        list(session)
    assert (session.refusal, session.system_fingerprint, session.service_tier) == (
        "I can't help with that", "fp_9", "flex")
    assert session.logprobs == {"content": None, "refusal": [REFUSAL_TOKEN]}
