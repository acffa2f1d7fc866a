"""How the proxy writes a chat-completions stream: chunks read together go out together, the bytes unchanged.

``stream_response`` over a scripted Core, into a recording aiohttp stream writer (every ``write`` and
``write_eof`` call kept), so the number of socket writes is counted exactly: the native adapter marks
chunks it read together with ``StreamChunk.more_in_hand``, and the proxy holds those back and writes
them with the next one. A chunk without the hint (every LiteLLM chunk) is written at once.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp.abc import AbstractStreamWriter
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from llmcore.adapters.scripted_completion import StreamThenFail
from llmcore.domain.chat import StreamChunk
from llmcore.domain.errors import StreamIncompleteError
from llmcore.domain.usage import Usage
from llmcore.entrypoints.proxy_streaming import OverheadTimer, first_chunk, stream_response
from tests.unit.fakes import scripted_core

GROK = "grok-code-fast-1"
HI = [{"role": "user", "content": "hi"}]
USAGE = Usage(prompt_tokens=3, completion_tokens=3, reasoning_tokens=1)


class RecordingWriter(AbstractStreamWriter):
    """aiohttp's payload writer, recording each body write (one socket send each in the real one)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.eof: bytes | None = None

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(chunk))

    async def write_eof(self, chunk: bytes = b"") -> None:
        self.eof = bytes(chunk)

    async def drain(self) -> None:
        return None

    def enable_compression(self, encoding: str = "deflate", strategy: Any = None) -> None:
        raise AssertionError("the SSE response is never compressed")

    def enable_chunking(self) -> None:
        return None

    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        return None

    def send_headers(self) -> None:
        return None

    def body(self) -> bytes:
        return b"".join(self.writes) + (self.eof or b"")


def relay(stream: Any) -> RecordingWriter:
    """Run one scripted stream through the proxy's SSE writer; the writer holds what went out."""
    harness = scripted_core(script=[stream])
    writer = RecordingWriter()

    async def run() -> None:
        request = make_mocked_request("POST", "/v1/chat/completions", writer=writer)
        async with harness.core.astream(GROK, HI) as session:
            first = await first_chunk(session, OverheadTimer(time.perf_counter()))
            await stream_response(request, session, first, alias=GROK, request_id="req-1", include_usage=True,
                                  headers={}, secrets=[])

    asyncio.run(run())
    return writer


def events(payload: bytes) -> list[Any]:
    """The ``data:`` documents of an SSE body (``[DONE]`` as the string), ``created`` left out."""
    out: list[Any] = []
    for block in payload.decode().split("\n\n"):
        if not block:
            continue
        assert block.startswith("data: "), block
        data = block[len("data: "):]
        document = data if data == "[DONE]" else json.loads(data)
        if isinstance(document, dict):
            document.pop("created", None)
        out.append(document)
    return out


def stream(*, hinted: bool) -> tuple[StreamChunk, ...]:
    """Three deltas, a finish and usage; with ``hinted`` the first two say a later one was read with them."""
    return (
        StreamChunk(role="assistant", content="a", id="c1", model=GROK, more_in_hand=hinted),
        StreamChunk(content="b", id="c1", model=GROK, more_in_hand=hinted),
        StreamChunk(content="c", id="c1", model=GROK),
        StreamChunk(finish_reason="stop", id="c1", model=GROK),
        StreamChunk(usage=USAGE, id="c1", model=GROK),
    )


def test_chunks_read_together_are_written_in_one_write_with_the_same_events() -> None:
    hinted, plain = relay(stream(hinted=True)), relay(stream(hinted=False))
    # a, b and c in one write, then the finish; usage and [DONE] go with the body's terminator.
    assert [len(events(write)) for write in hinted.writes] == [3, 1]
    assert [len(events(write)) for write in plain.writes] == [1, 1, 1, 1]
    assert events(hinted.eof or b"") == events(plain.eof or b"") and len(events(hinted.eof or b"")) == 2
    assert events(hinted.body()) == events(plain.body())
    assert [e["choices"][0]["delta"].get("content") for e in events(hinted.body())[:3]] == ["a", "b", "c"]


def test_held_chunks_still_reach_the_client_before_the_error_event_of_a_broken_stream() -> None:
    broken = StreamIncompleteError("the upstream connection broke", reason="connection_lost")
    hinted = stream(hinted=True)
    writer = relay(StreamThenFail(hinted[:2], broken))
    sent = events(writer.body())
    assert [e["choices"][0]["delta"]["content"] for e in sent[:2]] == ["a", "b"]
    assert "error" in sent[2] and sent[3] == "[DONE]" and len(sent) == 4
    assert writer.writes == []  # both held chunks had the hint: they go out with the error, in the last write


def test_a_chunk_without_the_hint_is_written_at_once() -> None:
    writer = relay((StreamChunk(content="only", id="c1", model=GROK), StreamChunk(finish_reason="stop", id="c1")))
    assert [events(write)[0]["choices"][0] for write in writer.writes] == [
        {"index": 0, "delta": {"content": "only"}, "finish_reason": None},
        {"index": 0, "delta": {}, "finish_reason": "stop"},
    ]
    assert events(writer.eof or b"") == ["[DONE]"]


def test_the_hint_is_not_part_of_the_chunk_value() -> None:
    assert StreamChunk(content="a", more_in_hand=True) == StreamChunk(content="a")
    assert hash(StreamChunk(content="a", more_in_hand=True)) == hash(StreamChunk(content="a"))
    assert "more_in_hand" not in repr(StreamChunk(content="a", more_in_hand=True))
