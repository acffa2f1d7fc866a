"""Every request ends with exactly one ``request_finished`` and one ``llmcore_requests_total`` count
(domain/outcomes.py): cancelled, failed for a reason that is no LLMCoreError, abandoned, or served by a fallback.
Through the public API, over the scripted fake, with the recording and the Prometheus adapters side by side."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

import llmcore
from llmcore.adapters.prometheus_telemetry import PrometheusTelemetry
from llmcore.adapters.recording_telemetry import FanoutTelemetry, RecordingTelemetry
from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.adapters.yaml_config import LoadedConfig
from llmcore.domain.chat import StreamChunk
from llmcore.domain.errors import RateLimitError, UpstreamUnavailableError
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.routing import RoutingSettings
from llmcore.testing.harnesses import Waits
from tests.unit.test_fallbacks import spec

HI = [{"role": "user", "content": "hi"}]
GROK = "grok-code-fast-1"


class Observed:
    """A Core over the scripted fake whose events land in a recorder and in Prometheus metrics."""

    def __init__(self, scripted: ScriptedCompletion, *specs: ModelSpec,
                 fallbacks: dict[str, list[str]] | None = None) -> None:
        self.scripted = scripted
        self.recorded = RecordingTelemetry()
        self.metrics = PrometheusTelemetry()
        waits = Waits()
        config = None
        if specs:
            config = LoadedConfig(source="test", specs=specs, routing=RoutingSettings(fallbacks=fallbacks or {}))
        self.core = llmcore.load(env={"GROK_API_KEY": "xai-unit-" + "k" * 20}, config=config, completion=scripted,
                                 telemetry=FanoutTelemetry(self.recorded, self.metrics), sleep=waits,
                                 async_sleep=waits.async_sleep)

    def finished(self) -> list[tuple[str, str, bool]]:
        """(alias, outcome, stream) of every request_finished, in order."""
        return [(e.model, e.details["outcome"], e.details["stream"]) for e in self.recorded.named("request_finished")]

    def counted(self, model: str, outcome: str, stream: bool) -> float:
        labels = {"model": model, "outcome": outcome, "stream": "true" if stream else "false",
                  "api": "chat_completions"}
        return self.metrics.registry.get_sample_value("llmcore_requests_total", labels) or 0.0

    def total_counted(self) -> float:
        return sum(s.value for m in self.metrics.registry.collect() if m.name == "llmcore_requests"
                   for s in m.samples if s.name == "llmcore_requests_total")


async def cancel_soon(awaitable: Any) -> None:
    task = asyncio.ensure_future(awaitable)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_cancelled_acomplete_is_counted_once_as_cancelled() -> None:
    seen = Observed(ScriptedCompletion(delay=5.0))

    asyncio.run(cancel_soon(seen.core.acomplete(GROK, HI)))

    assert seen.finished() == [(GROK, "cancelled", False)]
    assert seen.counted(GROK, "cancelled", stream=False) == 1
    assert seen.total_counted() == 1


def test_an_astream_cancelled_before_its_first_chunk_without_async_with_is_counted_once() -> None:
    seen = Observed(ScriptedCompletion(delay=5.0))

    async def read() -> None:
        session = seen.core.astream(GROK, HI)
        async for _ in session:
            pass

    asyncio.run(cancel_soon(read()))

    assert seen.finished() == [(GROK, "cancelled", True)]
    assert seen.counted(GROK, "cancelled", stream=True) == 1
    assert seen.total_counted() == 1


@pytest.mark.parametrize("bug", [KeyError("choices"), TypeError("unexpected shape")], ids=["KeyError", "TypeError"])
def test_a_failure_that_is_no_llmcore_error_is_counted_under_its_class(bug: Exception) -> None:
    seen = Observed(ScriptedCompletion([bug, bug]))
    name = type(bug).__name__

    with pytest.raises(type(bug)):
        seen.core.complete(GROK, HI)
    with pytest.raises(type(bug)):
        asyncio.run(seen.core.acomplete(GROK, HI))

    assert seen.finished() == [(GROK, name, False), (GROK, name, False)]
    assert seen.counted(GROK, name, stream=False) == 2
    assert seen.total_counted() == 2


def test_a_stream_failing_with_no_llmcore_error_is_counted_under_its_class_sync_and_async() -> None:
    bug = RuntimeError("adapter bug")
    seen = Observed(ScriptedCompletion([bug, bug]))

    with pytest.raises(RuntimeError), seen.core.stream(GROK, HI) as session:
        list(session)

    async def read() -> None:
        async with seen.core.astream(GROK, HI) as session:
            async for _ in session:
                pass

    with pytest.raises(RuntimeError):
        asyncio.run(read())

    assert seen.finished() == [(GROK, "RuntimeError", True), (GROK, "RuntimeError", True)]
    assert seen.counted(GROK, "RuntimeError", stream=True) == 2


def test_an_abandoned_sync_stream_is_counted_once_as_abandoned_and_closes_its_upstream() -> None:
    seen = Observed(ScriptedCompletion())
    session = seen.core.stream(GROK, HI)
    next(session)

    del session  # the last reference: CPython finalises it here (no gc.collect(), which would also
    # collect other tests' garbage into this one's warnings)

    assert seen.finished() == [(GROK, "abandoned", True)]
    assert seen.counted(GROK, "abandoned", stream=True) == 1
    assert seen.scripted.closed_streams == 1


def test_an_abandoned_async_stream_is_counted_once_as_abandoned() -> None:
    seen = Observed(ScriptedCompletion())

    async def read_one_and_drop() -> None:
        session = seen.core.astream(GROK, HI)
        await session.__anext__()
        del session  # the last reference: finalised here
        await asyncio.sleep(0)  # the loop's async-generator hook closes the upstream stream

    asyncio.run(read_one_and_drop())

    assert seen.finished() == [(GROK, "abandoned", True)]
    assert seen.counted(GROK, "abandoned", stream=True) == 1
    assert seen.scripted.closed_streams == 1


def test_a_finished_or_closed_stream_is_not_counted_again_when_collected() -> None:
    seen = Observed(ScriptedCompletion())
    with seen.core.stream(GROK, HI) as session:
        list(session)
    early = seen.core.stream(GROK, HI)
    next(early)
    early.close()

    del session, early

    assert seen.finished() == [(GROK, "ok", True), (GROK, "cancelled", True)]


def test_a_request_served_by_a_fallback_is_counted_once_under_the_alias_that_served() -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(RateLimitError("429", status_code=429), model="primary")
    scripted.enqueue(RateLimitError("429", status_code=429), model="primary")
    seen = Observed(scripted, spec("primary", retries=0), spec("backup"), fallbacks={"primary": ["backup"]})

    assert seen.core.complete("primary", HI).served_alias == "backup"
    with seen.core.stream("primary", HI) as session:
        list(session)

    assert seen.finished() == [("backup", "ok", False), ("backup", "ok", True)]
    assert seen.total_counted() == 2
    assert [e.model for e in seen.recorded.named("upstream_failed")] == ["primary", "primary"]
    assert [e.model for e in seen.recorded.named("fallback_used")] == ["primary", "primary"]


def test_a_request_whose_fallbacks_cannot_serve_is_counted_once_with_its_error() -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(UpstreamUnavailableError("down", status_code=503), model="primary")
    scripted.enqueue(UpstreamUnavailableError("down", status_code=503), model="primary")
    keyless = ModelSpec(alias="broken", upstream_model="x", credentials=Credentials(base_url="http://127.0.0.1:9"))
    seen = Observed(scripted, spec("primary", retries=0), keyless, fallbacks={"primary": ["broken"]})

    with pytest.raises(UpstreamUnavailableError):
        seen.core.complete("primary", HI)
    with pytest.raises(UpstreamUnavailableError):
        list(seen.core.stream("primary", HI))

    failed = ("primary", "UpstreamUnavailableError")
    assert seen.finished() == [(*failed, False), (*failed, True)]
    assert len(seen.recorded.named("upstream_failed")) == 2  # one per request, never one per report site


def test_a_stream_served_in_full_is_counted_once_as_ok() -> None:
    seen = Observed(ScriptedCompletion([(StreamChunk(content="a"), StreamChunk(finish_reason="stop"))]))

    assert "".join(c.content or "" for c in seen.core.stream(GROK, HI)) == "a"

    assert seen.finished() == [(GROK, "ok", True)]
