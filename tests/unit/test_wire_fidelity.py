"""Wire fidelity in memory: stream state per choice, tool-call assembly, served-by, conversion and rendering."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llmcore.adapters import litellm_stream
from llmcore.adapters.litellm_convert import to_response, wire_chunks
from llmcore.adapters.litellm_stream import spec_sse_decoder, stream_chunks
from llmcore.domain.chat import ChatResponse, Choice, StreamChunk
from llmcore.domain.errors import StreamIncompleteError, UpstreamUnavailableError
from llmcore.entrypoints.openai_wire import chat_completion, completion_chunk, wire_error, wire_message
from tests.unit.fakes import scripted_core


def _NOT_OURS(exc: Exception) -> Exception:
    raise AssertionError(f"llmcore's conversion failed: {exc!r}")  # these streams convert cleanly


HI = [{"role": "user", "content": "hi"}]
GROK = "grok-code-fast-1"


def call(index: int, **fields: Any) -> dict[str, Any]:
    return {"index": index, **fields}


def sync_session(chunks: tuple[StreamChunk, ...]) -> Any:
    h = scripted_core()
    h.scripted.enqueue(chunks)
    with h.core.stream(GROK, HI) as session:
        list(session)
    return session, h


def async_session(chunks: tuple[StreamChunk, ...]) -> Any:
    h = scripted_core()
    h.scripted.enqueue(chunks)

    async def run() -> Any:
        async with h.core.astream(GROK, HI) as session:
            async for _ in session:
                pass
        return session
    return asyncio.run(run()), h


SESSIONS = pytest.mark.parametrize("read", [sync_session, async_session], ids=["sync", "async"])
WEATHER = {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}
TIME = {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":\"CET\"}"}}
TOOL_STREAMS = {
    "one call in pieces": ((
        StreamChunk(tool_calls=(call(0, id="call_a", type="function",
                                     function={"name": "get_weather", "arguments": ""}),)),
        StreamChunk(tool_calls=(call(0, function={"arguments": "{\"city\":"}),)),
        StreamChunk(tool_calls=(call(0, function={"arguments": "\"Oslo\"}"}),)),
    ), (WEATHER,)),
    "two calls in one delta": ((
        StreamChunk(tool_calls=(call(0, **WEATHER), call(1, **TIME))),
    ), (WEATHER, TIME)),
    "interleaved parallel calls": ((
        StreamChunk(tool_calls=(call(0, id="call_a", type="function", function={"name": "get_weather"}),)),
        StreamChunk(tool_calls=(call(1, id="call_b", type="function", function={"name": "get_time"}),)),
        StreamChunk(tool_calls=(call(0, function={"arguments": "{\"city\":\"Oslo\"}"}),)),
        StreamChunk(tool_calls=(call(1, function={"arguments": "{\"tz\":"}),)),
        StreamChunk(tool_calls=(call(1, function={"arguments": "\"CET\"}"}),)),
    ), (WEATHER, TIME)),
}


@SESSIONS
@pytest.mark.parametrize("name", sorted(TOOL_STREAMS))
def test_tool_calls_are_assembled_by_index(read: Any, name: str) -> None:
    deltas, expected = TOOL_STREAMS[name]
    session, _ = read((*deltas, StreamChunk(finish_reason="tool_calls")))
    assert session.tool_calls == expected and session.complete


@SESSIONS
def test_every_choice_is_tracked_and_each_must_finish(read: Any) -> None:
    lp = {"content": [{"token": "a", "logprob": -0.1, "bytes": [97], "top_logprobs": []}], "refusal": None}
    session, _ = read((
        StreamChunk(index=0, role="assistant", content="answer 0", logprobs=lp),
        StreamChunk(index=1, role="assistant", content="answer 1"),
        StreamChunk(index=1, refusal="I can't"),
        StreamChunk(index=0, finish_reason="stop"),
        StreamChunk(index=1, finish_reason="length"),
    ))
    assert [(c.index, c.content, c.refusal, c.finish_reason) for c in session.choices] == [
        (0, "answer 0", None, "stop"), (1, "answer 1", "I can't", "length")]
    assert session.text == "answer 0" and session.logprobs == {"content": lp["content"], "refusal": None}
    assert session.refusal is None and session.complete
    unfinished, _ = read((StreamChunk(index=0, content="a"), StreamChunk(index=1, content="b"),
                          StreamChunk(index=0, finish_reason="stop")))
    assert not unfinished.complete and unfinished.incomplete_reason == "no_finish_reason"


@SESSIONS
def test_a_stream_served_by_another_model_warns_once(read: Any) -> None:
    session, h = read(tuple(StreamChunk(content=part, model="grok-4.3") for part in "abc")
                      + (StreamChunk(finish_reason="stop", model="grok-4.3"),))
    assert [w for w in session.warnings if "grok-4.3" in w] == [
        "grok-code-fast-1: asked for grok-code-fast-1, the upstream answered as grok-4.3 (as its lifecycle says); "
        "behaviour and price follow the serving model"]
    assert [e.details["served_by"] for e in h.telemetry.named("model_mismatch")] == ["grok-4.3"]


def test_the_served_model_is_not_a_warning() -> None:
    session, h = sync_session((StreamChunk(content="a", model=GROK), StreamChunk(finish_reason="stop")))
    assert session.warnings == () and h.telemetry.named("model_mismatch") == []


def test_wire_chunks_keep_exactly_the_fields_sent_one_chunk_per_choice() -> None:
    chunks = wire_chunks({
        "id": "c1", "model": "gpt-x", "system_fingerprint": "fp_1", "service_tier": "default",
        "choices": [
            {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]}},
            {"index": 1, "delta": {"reasoning": "hmm", "refusal": "no"}, "logprobs": {"content": None},
             "finish_reason": "stop"},
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    })
    assert [c.index for c in chunks] == [0, 1]
    assert chunks[0].tool_calls == ({"index": 0, "function": {"arguments": "{"}},) and chunks[0].usage is None
    assert (chunks[1].reasoning_content, chunks[1].refusal, chunks[1].finish_reason) == ("hmm", "no", "stop")
    assert chunks[1].logprobs == {"content": None} and chunks[1].usage.completion_tokens == 2
    assert {(c.system_fingerprint, c.service_tier, c.model) for c in chunks} == {("fp_1", "default", "gpt-x")}
    only_usage = wire_chunks({"id": "c1", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}})
    assert len(only_usage) == 1 and only_usage[0].is_usage_only
    assert wire_chunks({"id": "c1", "choices": []}) == []


class _Plain:
    """An attribute bag shaped like LiteLLM's answer objects."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def test_to_response_keeps_every_choice_and_its_logprobs() -> None:
    lp = _Plain(model_dump=lambda: {"content": [{"token": "x", "logprob": -1.0, "bytes": None, "top_logprobs": []}]})
    response = to_response(_Plain(
        id="r1", model="gpt-x", system_fingerprint="fp_1", service_tier="default", usage=None,
        choices=[_Plain(index=i, finish_reason="stop", logprobs=lp if i else None,
                        message=_Plain(content=f"answer {i}", refusal=None, tool_calls=None)) for i in (0, 1)],
    ))
    assert [(c.index, c.content) for c in response.choices] == [(0, "answer 0"), (1, "answer 1")]
    assert response.content == "answer 0" and response.logprobs is None
    assert response.choices[1].logprobs["content"][0]["token"] == "x"
    assert (response.system_fingerprint, response.service_tier) == ("fp_1", "default")


def test_the_stream_of_a_route_without_sdk_chunks_is_read_from_litellm_chunks() -> None:
    delta = _Plain(content="hi", role="assistant")
    choice = _Plain(index=0, finish_reason=None, logprobs=None, delta=delta)
    litellm_like = [_Plain(id="c1", model="m", choices=[choice])]
    assert [(c.content, c.role) for c in stream_chunks(litellm_like, _NOT_OURS)] == [("hi", "assistant")]


def test_the_spec_decoder_dispatches_no_event_for_a_block_without_data() -> None:
    decoder = spec_sse_decoder()()
    body = b"retry: 3000\n\nid: 1\nevent: ping\n\n: keep-alive\n\ndata: {}\n\ndata:\n\n"
    assert [(e.data, e.id) for e in decoder.iter_bytes(iter([body]))] == [("{}", "1")]


def test_json_answers_carry_every_choice_and_the_required_nulls() -> None:
    response = ChatResponse(content="a", choices=(Choice(index=0, content="a", finish_reason="stop"),
                                                  Choice(index=1, content="b", finish_reason="length",
                                                         logprobs={"content": [], "refusal": None})),
                            system_fingerprint="fp_1")
    document = chat_completion(response, GROK, "req")
    assert [(c["index"], c["message"]["content"], c["message"]["refusal"], c["logprobs"], c["finish_reason"])
            for c in document["choices"]] == [(0, "a", None, None, "stop"),
                                              (1, "b", None, {"content": [], "refusal": None}, "length")]
    assert document["system_fingerprint"] == "fp_1" and "service_tier" not in document


def test_chunks_relay_the_choice_index_logprobs_and_tool_call_deltas_as_sent() -> None:
    chunk = StreamChunk(index=1, tool_calls=({"index": 3, "function": {"arguments": "{"}},),
                        logprobs={"content": []}, service_tier="default")
    document = completion_chunk(chunk, GROK, "s1", 1)
    assert document["choices"] == [{"index": 1, "delta": {"tool_calls": [{"index": 3, "function": {"arguments": "{"}}]},
                                    "logprobs": {"content": []}, "finish_reason": None}]
    assert document["service_tier"] == "default"


def test_proxy_messages_swap_the_library_hint_for_the_wires() -> None:
    broken = StreamIncompleteError("the stream broke", reason="connection_lost")
    assert "session.text" in str(broken)
    assert wire_message(broken).endswith("- retry the request") and "session." not in wire_message(broken)
    assert "session." not in wire_error(broken).body["error"]["message"]
    other = UpstreamUnavailableError("down", hint="try again later")
    assert wire_message(other) == str(other)


# --- The tap over a real OpenAI SDK stream, inside a wrapper shaped like LiteLLM's -------------------------

SSE_BODY = (b"retry: 3000\n\n"
            b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
            b'"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\n'
            b": ping\n\n"
            b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
            b'"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":null}]}\n\n'
            b"data: [DONE]\n\n")


class _Wrapper:
    """Pulls from ``completion_stream`` as LiteLLM's CustomStreamWrapper does, gives up after ``fail_after``."""

    def __init__(self, stream: Any, fail_after: int) -> None:
        self.completion_stream = stream
        self.fail_after = fail_after

    def __iter__(self) -> Any:
        for count, item in enumerate(self.completion_stream, 1):
            if count > self.fail_after:
                raise ConnectionError("cut")
            yield item

    async def __aiter__(self) -> Any:
        count = 0
        async for item in self.completion_stream:
            count += 1
            if count > self.fail_after:
                raise ConnectionError("cut")
            yield item


def _sdk_stream(asynchronous: bool) -> Any:
    import httpx
    import openai
    from openai.types.chat import ChatCompletionChunk

    response = httpx.Response(200, content=SSE_BODY, request=httpx.Request("POST", "http://127.0.0.1:9/v1/x"))
    if asynchronous:
        return openai.AsyncStream(cast_to=ChatCompletionChunk, response=response,
                                  client=openai.AsyncOpenAI(api_key="unit", base_url="http://127.0.0.1:9/v1"))
    return openai.Stream(cast_to=ChatCompletionChunk, response=response,
                         client=openai.OpenAI(api_key="unit", base_url="http://127.0.0.1:9/v1"))


def test_chunks_pulled_before_a_failure_are_yielded_before_the_error_sync() -> None:
    seen: list[str | None] = []
    with pytest.raises(ConnectionError):
        for converted in stream_chunks(_Wrapper(_sdk_stream(False), fail_after=1), _NOT_OURS):
            seen.append(converted.content)
    assert seen == ["a", "b"]  # "b" was pulled, then the wrapper gave up: it was sent all the same


def test_chunks_pulled_before_a_failure_are_yielded_before_the_error_async() -> None:
    from llmcore.adapters.litellm_stream import astream_chunks

    async def read() -> list[str | None]:
        seen: list[str | None] = []
        with pytest.raises(ConnectionError):
            async for converted in astream_chunks(_Wrapper(_sdk_stream(True), fail_after=1), _NOT_OURS):
                seen.append(converted.content)
        return seen

    assert asyncio.run(read()) == ["a", "b"]


def test_an_async_route_without_sdk_chunks_is_read_from_litellm_chunks() -> None:
    from llmcore.adapters.litellm_stream import astream_chunks

    class _Chunks:
        def __init__(self) -> None:
            choice = _Plain(index=0, finish_reason=None, logprobs=None, delta=_Plain(content="hi", role="assistant"))
            self.items = [_Plain(id="c1", model="m", choices=[choice])]

        async def __aiter__(self) -> Any:
            for item in self.items:
                yield item

    async def read() -> list[str | None]:
        return [c.content async for c in astream_chunks(_Chunks(), _NOT_OURS)]

    assert asyncio.run(read()) == ["hi"]


def test_a_conversion_bug_on_a_route_without_sdk_chunks_is_handed_to_the_adapter(monkeypatch):
    # LiteLLM's own chunks (anthropic/, bedrock/...) are converted by to_chunk: a bug there is llmcore's,
    # so the reader hands it to the adapter's ``failed`` (an InternalError there), never as a stream error.
    class Ours(Exception):
        pass

    class LiteLLMChunksOnly:
        completion_stream = None  # no SDK stream to tap

        def __iter__(self):
            yield object()

    def broken(chunk: Any, served: str) -> Any:
        raise KeyError("choices")

    monkeypatch.setattr(litellm_stream, "to_chunk", broken)
    with pytest.raises(Ours, match="KeyError"):
        list(stream_chunks(LiteLLMChunksOnly(), lambda exc: Ours(repr(exc))))
