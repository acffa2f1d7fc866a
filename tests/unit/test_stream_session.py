"""StreamSession over the scripted fake: every ending, sync and async, with one parity check."""
import asyncio

import pytest

from llmcore.adapters.scripted_completion import StreamThenFail
from llmcore.domain.chat import StreamChunk
from llmcore.domain.errors import (
    QuotaExceededError,
    StreamIncompleteError,
    UpstreamUnavailableError,
)
from llmcore.domain.usage import Usage
from tests.unit.fakes import scripted_core

HI = [{"role": "user", "content": "hi"}]
GROK = "grok-code-fast-1"
BROKEN = StreamIncompleteError("cut", reason="connection_lost")

ENDINGS = {
    "complete": ((StreamChunk(role="assistant", reasoning_content="r"), StreamChunk(content="a"),
                  StreamChunk(content="b"), StreamChunk(finish_reason="stop"),
                  StreamChunk(usage=Usage(prompt_tokens=3, completion_tokens=2, reasoning_tokens=1))),
                 True, None),
    "connection_lost": (StreamThenFail((StreamChunk(content="a"), StreamChunk(content="b")), BROKEN),
                        False, "connection_lost"),
    "no_finish_reason": ((StreamChunk(content="a"), StreamChunk(content="b")), False, "no_finish_reason"),
    "no_events": ((StreamChunk(finish_reason="stop"),), False, "no_events"),
}


def collect_sync(h):
    with h.core.stream(GROK, HI) as session:
        chunks = list(session)
    return chunks, session


def collect_async(h):
    async def run():
        async with h.core.astream(GROK, HI) as session:
            chunks = [c async for c in session]
        return chunks, session
    return asyncio.run(run())


@pytest.mark.parametrize("collect", [collect_sync, collect_async], ids=["sync", "async"])
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_every_ending_is_clean_and_judged(collect, ending):
    script, complete, reason = ENDINGS[ending]
    h = scripted_core()
    h.scripted.enqueue(script)
    chunks, session = collect(h)
    assert session.complete is complete
    assert session.incomplete_reason == reason
    assert session.text == "".join(c.content or "" for c in chunks)
    if reason:
        assert session.warnings and session.warnings[0].startswith("stream incomplete:")
        (event,) = h.telemetry.named("stream_incomplete")
        assert event.details["reason"] == reason
        assert h.telemetry.named("request_finished")[-1].details["outcome"] == "incomplete"
    else:
        assert session.warnings == ()
        assert session.finish_reason == "stop"
        assert session.reasoning_text == "r"
        assert session.usage.total_tokens == 6
        assert session.usage.cost_source == "prices"
    assert h.scripted.closed_streams == 1


def test_sync_and_async_sessions_agree_on_the_same_script():
    results = []
    for collect in (collect_sync, collect_async):
        h = scripted_core()
        chunks, session = collect(h)
        results.append((chunks, session.text, session.reasoning_text, session.usage, session.finish_reason,
                        session.complete, session.warnings, [e.name for e in h.telemetry.events]))
    assert results[0] == results[1]


def test_empty_deltas_are_skipped():
    h = scripted_core()
    h.scripted.enqueue((StreamChunk(role="assistant"), StreamChunk(), StreamChunk(content="x"), StreamChunk(),
                        StreamChunk(finish_reason="stop")))
    chunks, session = collect_sync(h)
    assert [(c.content, c.finish_reason) for c in chunks] == [("x", None), (None, "stop")]
    assert session.complete


def test_raise_on_incomplete_raises_after_the_partial_output():
    h = scripted_core()
    h.scripted.enqueue(StreamThenFail((StreamChunk(content="part"),), BROKEN))
    session = h.core.stream(GROK, HI, raise_on_incomplete=True)
    seen = []
    with pytest.raises(StreamIncompleteError) as info:
        for chunk in session:
            seen.append(chunk.content)
    assert seen == ["part"] and info.value.reason == "connection_lost"


def test_errors_before_the_first_chunk_are_retried_then_raised():
    h = scripted_core()
    h.scripted.enqueue(UpstreamUnavailableError("503", status_code=503), BROKEN)
    chunks, session = collect_sync(h)
    assert session.complete and session.text == "scripted reply"
    assert len(h.scripted.requests) == 3
    assert len(h.waits.seconds) == 2


def test_a_permanent_error_before_the_first_chunk_propagates_from_iteration():
    h = scripted_core()
    h.scripted.enqueue(QuotaExceededError("spent", status_code=429))
    session = h.core.stream(GROK, HI)
    with pytest.raises(QuotaExceededError):
        next(session)
    assert list(session) == []
    assert h.telemetry.named("request_finished")[-1].details["outcome"] == "QuotaExceededError"


def test_async_error_before_first_chunk_propagates():
    h = scripted_core()
    h.scripted.enqueue(QuotaExceededError("spent", status_code=429))

    async def run():
        async with h.core.astream(GROK, HI) as session:
            async for _ in session:
                pass
    with pytest.raises(QuotaExceededError):
        asyncio.run(run())


def test_errors_after_the_first_chunk_are_never_retried():
    h = scripted_core()
    h.scripted.enqueue(StreamThenFail((StreamChunk(content="a"),), BROKEN))
    collect_sync(h)
    assert len(h.scripted.requests) == 1
    assert h.waits.seconds == []


def test_leaving_early_closes_the_upstream_stream():
    h = scripted_core()
    with h.core.stream(GROK, HI) as session:
        for _ in session:
            break
    assert h.scripted.closed_streams == 1
    assert not session.complete
    assert session.warnings == ("stream closed by the caller before it finished",)
    assert h.telemetry.named("request_finished")[-1].details["outcome"] == "cancelled"


def test_async_leaving_early_closes_the_upstream_stream():
    h = scripted_core()

    async def run():
        async with h.core.astream(GROK, HI) as session:
            async for _ in session:
                break
        return session
    session = asyncio.run(run())
    assert h.scripted.closed_streams == 1
    assert not session.complete


def test_model_and_param_errors_raise_when_the_stream_is_asked_for():
    from llmcore.domain.errors import UnknownModelError

    h = scripted_core()
    with pytest.raises(UnknownModelError):
        h.core.stream("nope", HI)
    with pytest.raises(UnknownModelError):
        h.core.astream("nope", HI)


def test_session_exposes_adjustments_model_tool_calls_and_request_id():
    h = scripted_core()
    h.scripted.enqueue((StreamChunk(role="assistant", model="grok-code-fast-1", id="c1",
                                    tool_calls=({"index": 0, "id": "t"},)),
                        StreamChunk(finish_reason="tool_calls")))
    session = h.core.stream(GROK, HI, stop=["x"], request_id="r1")
    list(session)
    assert [a.param for a in session.adjustments] == ["stop"]
    assert session.model == "grok-code-fast-1"
    assert session.tool_calls == ({"id": "t", "type": "function", "function": {"name": None, "arguments": ""}},)
    assert session.request_id == "r1" and session.spec.alias == GROK
    assert session.finish_reason == "tool_calls" and session.complete


def test_a_made_up_finish_chunk_alone_is_held_back_so_nothing_is_yielded():
    h = scripted_core()
    h.scripted.enqueue((StreamChunk(finish_reason="stop"),))
    chunks, session = collect_sync(h)
    assert chunks == []
    assert session.incomplete_reason == "no_events"
    assert session.finish_reason == "stop"
