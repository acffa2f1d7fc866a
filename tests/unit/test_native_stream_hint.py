"""The native adapter's ``more_in_hand`` hint: set on chunks read together with a later chunk a caller will see.

The proxy holds a hinted chunk back and writes it with the next one (proxy_streaming), so a hint on a
chunk whose successor the stream session skips (an empty delta, the usage chunk) would delay that
chunk until the network brings more. The reader sets it only when a later event of the same read
surely shows output: text, tool calls or a finish reason.
"""
from __future__ import annotations

import json
from typing import Any

from llmcore.adapters.native_convert import shows_output
from llmcore.adapters.native_stream import StreamReader
from llmcore.domain.chat import StreamChunk
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret

SPEC = ModelSpec(alias="grok", upstream_model="grok-code-fast-1", provider="xai",
                 credentials=Credentials(api_key=Secret("xai-unit-key-0123456789"), base_url="http://127.0.0.1:9/v1"))


def event(delta: dict[str, Any] | None = None, finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    document: dict[str, Any] = {"id": "c1", "object": "chat.completion.chunk", "model": "grok-4.3", "choices": choices}
    if usage is not None:
        document["usage"] = usage
    return b"data: " + json.dumps(document).encode() + b"\n\n"


def reader() -> StreamReader:
    def failed(exc: Exception) -> Exception:
        raise AssertionError(f"conversion failed: {exc!r}")
    return StreamReader(SPEC, failed)


def shape(chunks: list[StreamChunk]) -> list[tuple[str, bool]]:
    return [(chunk.content or chunk.finish_reason or ("usage" if chunk.usage else "empty"), chunk.more_in_hand)
            for chunk in chunks]


USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 9}


def test_chunks_read_before_a_later_visible_chunk_carry_the_hint_and_the_last_visible_one_does_not() -> None:
    body = (event({"role": "assistant", "content": "a"}) + event({"content": "b"}) + event({}) + event({"content": "c"})
            + event({}, finish="stop") + event(usage=USAGE) + b"data: [DONE]\n\n")
    assert shape(reader().feed(body)) == [
        ("a", True), ("b", True), ("empty", True), ("c", True), ("stop", False), ("usage", False)]


def test_a_chunk_followed_only_by_what_the_session_skips_is_not_hinted() -> None:
    # The empty delta after "a" is skipped by the stream session: holding "a" back for it would stall "a".
    assert shape(reader().feed(event({"content": "a"}) + event({}) + event({"role": "assistant"}))) == [
        ("a", False), ("empty", False), ("empty", False)]


def test_chunks_of_separate_reads_are_never_hinted() -> None:
    stream = reader()
    assert [shape(stream.feed(raw)) for raw in (event({"content": "a"}), event({"content": "b"}))] == [
        [("a", False)], [("b", False)]]


def test_an_event_split_across_reads_is_hinted_by_the_read_that_completes_it() -> None:
    stream = reader()
    second = event({"content": "b"})
    assert shape(stream.feed(event({"content": "a"}) + second[:10])) == [("a", False)]
    assert shape(stream.feed(second[10:] + event({}, finish="stop"))) == [("b", True), ("stop", False)]


def test_shows_output_says_yes_only_for_what_the_session_surely_yields() -> None:
    assert shows_output({"choices": [{"delta": {"reasoning_content": "r"}}]})
    assert shows_output({"choices": [{"delta": {"tool_calls": [{"index": 0}]}}]})
    assert shows_output({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    assert not shows_output({"choices": [{"delta": {"role": "assistant", "content": ""}}]})
    assert not shows_output({"choices": [], "usage": USAGE})
    assert not shows_output({"choices": "not a list"})
    assert not shows_output({"choices": [None, {"delta": "x"}]})
