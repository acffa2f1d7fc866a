"""Retries on another deployment and fallbacks to other aliases, through the library (scripted upstreams)."""
from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import llmcore
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.adapters.scripted_completion import ScriptedCompletion, StreamThenFail
from llmcore.adapters.yaml_config import LoadedConfig
from llmcore.domain.chat import ChatRequest, ChatResponse, StreamChunk
from llmcore.domain.errors import (
    InvalidRequestError, QuotaExceededError, RateLimitError, StreamIncompleteError, UpstreamUnavailableError,
)
from llmcore.domain.model_spec import Credentials, Deployment, ModelSpec, ParamRules, RetryPolicy
from llmcore.domain.routing import RoutingSettings
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Prices, Usage
from llmcore.testing.harnesses import Waits

HI = [{"role": "user", "content": "hi"}]


def spec(alias: str, retries: int = 2, **kwargs: Any) -> ModelSpec:
    deployment = kwargs.pop("deployment", Deployment())
    return ModelSpec(alias=alias, upstream_model=f"{alias}-upstream", retry=RetryPolicy(max_retries=retries),
                     credentials=Credentials(api_key=Secret("sk-unit-" + "k" * 20), base_url="http://127.0.0.1:9/v1"),
                     deployment=deployment, **kwargs)


def core(completion: Any, *specs: ModelSpec, fallbacks: dict[str, list[str]] | None = None,
         telemetry: RecordingTelemetry | None = None) -> llmcore.Core:
    config = LoadedConfig(source="test", specs=specs, routing=RoutingSettings(fallbacks=fallbacks or {}))
    waits = Waits()
    return llmcore.load(env={}, config=config, completion=completion, telemetry=telemetry or RecordingTelemetry(),
                        sleep=waits, async_sleep=waits.async_sleep, rng=random.Random(0))


class ByDeployment(ScriptedCompletion):
    """Fails every call to the deployments named in ``failing``; the others answer as the scripted fake does."""

    def __init__(self, failing: set[str], error: Exception | None = None) -> None:
        super().__init__()
        self.failing = failing
        self.error = error or UpstreamUnavailableError("down", status_code=503)

    def complete(self, request: ChatRequest) -> ChatResponse:
        if request.spec.deployment.id in self.failing:
            self.requests.append(request)
            raise self.error
        return super().complete(request)


def test_a_transient_failure_is_retried_on_another_deployment() -> None:
    fake = ByDeployment({"a"})
    c = core(fake, spec("m", deployment=Deployment(id="a", weight=1000)), spec("m", deployment=Deployment(id="b")))

    answers = [c.complete("m", HI) for _ in range(20)]

    assert all(a.content == "scripted reply" and a.served_alias == "m" for a in answers)
    tried = [r.spec.deployment.id for r in fake.requests]
    assert tried.count("b") == 20 and "a" in tried
    assert all(after == "b" for before, after in zip(tried, tried[1:]) if before == "a")


def test_a_retry_on_another_deployment_follows_that_deployments_param_rules() -> None:
    fake = ByDeployment({"a"})
    strict = ParamRules(drop=("stop",), reasons={"stop": "xAI answers 400"})
    c = core(fake, spec("m", deployment=Deployment(id="a", weight=1)),
             spec("m", deployment=Deployment(id="b", weight=0.000001), param_rules=strict))

    c.complete("m", HI, stop=["\n"])

    sent = {r.spec.deployment.id: dict(r.params) for r in fake.requests}
    assert sent == {"a": {"stop": ["\n"]}, "b": {}}


def test_a_permanent_failure_is_not_moved_to_another_deployment() -> None:
    fake = ByDeployment({"a"}, InvalidRequestError("bad tool schema", status_code=400))
    c = core(fake, spec("m", deployment=Deployment(id="a", weight=1)),
             spec("m", deployment=Deployment(id="b", weight=0.000001)))

    with pytest.raises(InvalidRequestError):
        c.complete("m", HI)
    assert [r.spec.deployment.id for r in fake.requests] == ["a"]


def test_fallback_serves_once_the_aliass_retries_are_spent_and_says_so() -> None:
    scripted, telemetry = ScriptedCompletion(), RecordingTelemetry()
    scripted.enqueue(*[RateLimitError("429", status_code=429)] * 3, model="primary")
    c = core(scripted, spec("primary"), spec("backup", prices=Prices(input_per_token=1e-6, output_per_token=2e-6)),
             fallbacks={"primary": ["backup"]}, telemetry=telemetry)

    answer = c.complete("primary", HI)

    assert [r.spec.alias for r in scripted.requests] == ["primary"] * 3 + ["backup"]
    assert answer.served_alias == "backup"
    assert answer.warnings == ("primary: served by fallback backup after RateLimitError on primary "
                               "(its retries were spent)",)
    assert answer.usage.cost_source == "prices"  # priced as the alias that served
    (event,) = telemetry.named("fallback_used")
    assert (event.model, event.details["fallback"]) == ("primary", "backup")


def test_fallbacks_are_tried_in_order_and_skip_an_unavailable_one() -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(UpstreamUnavailableError("down", status_code=503), model="primary")
    scripted.enqueue(UpstreamUnavailableError("down", status_code=503), model="second")
    keyless = ModelSpec(alias="broken", upstream_model="x", credentials=Credentials(base_url="http://127.0.0.1:9"))
    c = core(scripted, spec("primary", retries=0), keyless, spec("second", retries=0), spec("third"),
             fallbacks={"primary": ["broken", "second", "third"]})

    assert c.complete("primary", HI).served_alias == "third"
    assert [r.spec.alias for r in scripted.requests] == ["primary", "second", "third"]


@pytest.mark.parametrize("error", [
    QuotaExceededError("credits spent", status_code=429), InvalidRequestError("too long", status_code=400)])
def test_a_permanent_error_does_not_fall_back(error: Exception) -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(error, model="primary")
    c = core(scripted, spec("primary"), spec("backup"), fallbacks={"primary": ["backup"]})

    with pytest.raises(type(error)):
        c.complete("primary", HI)
    assert [r.spec.alias for r in scripted.requests] == ["primary"]


def test_when_every_fallback_fails_the_last_error_is_raised() -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(UpstreamUnavailableError("primary down", status_code=503), model="primary")
    scripted.enqueue(RateLimitError("backup limited", status_code=429), model="backup")
    c = core(scripted, spec("primary", retries=0), spec("backup", retries=0), fallbacks={"primary": ["backup"]})

    with pytest.raises(RateLimitError, match="backup limited"):
        c.complete("primary", HI)


def test_async_fallback_serves_too() -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(UpstreamUnavailableError("down", status_code=503), model="primary")
    c = core(scripted, spec("primary", retries=0), spec("backup"), fallbacks={"primary": ["backup"]})

    answer = asyncio.run(c.acomplete("primary", HI))

    assert answer.served_alias == "backup" and answer.warnings


def test_stream_falls_back_before_its_first_chunk_with_the_fallbacks_usage_convention() -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(RateLimitError("429", status_code=429), model="primary")
    chunks = (StreamChunk(role="assistant", content="from backup"), StreamChunk(finish_reason="stop"),
              StreamChunk(usage=Usage(prompt_tokens=10, completion_tokens=30, reasoning_tokens=20)))
    scripted.enqueue(chunks, model="backup")
    c = core(scripted, spec("primary", retries=0, usage_convention="reasoning_apart"), spec("backup"),
             fallbacks={"primary": ["backup"]})

    with c.stream("primary", HI) as session:
        text = "".join(chunk.content or "" for chunk in session)

    assert (text, session.spec.alias, session.complete) == ("from backup", "backup", True)
    assert session.warnings == ("primary: served by fallback backup after RateLimitError on primary "
                                "(its retries were spent)",)
    assert session.usage is not None and session.usage.total_tokens == 40  # backup counts reasoning inside


def test_stream_never_falls_back_after_its_first_chunk() -> None:
    scripted = ScriptedCompletion()
    cut = StreamThenFail((StreamChunk(role="assistant", content="partial"),),
                         StreamIncompleteError("cut", reason="connection_lost"))
    scripted.enqueue(cut, model="primary")
    c = core(scripted, spec("primary"), spec("backup"), fallbacks={"primary": ["backup"]})

    with c.stream("primary", HI) as session:
        text = "".join(chunk.content or "" for chunk in session)

    assert (text, session.complete, session.spec.alias) == ("partial", False, "primary")
    assert [r.spec.alias for r in scripted.requests] == ["primary"]


def test_async_stream_falls_back_before_its_first_chunk() -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(UpstreamUnavailableError("down", status_code=503), model="primary")

    async def run() -> tuple[str, str]:
        c = core(scripted, spec("primary", retries=0), spec("backup"), fallbacks={"primary": ["backup"]})
        async with c.astream("primary", HI) as session:
            text = "".join([chunk.content or "" async for chunk in session])
        return text, session.spec.alias

    assert asyncio.run(run()) == ("scripted reply", "backup")


def test_stream_raises_the_last_error_when_no_fallback_serves() -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(UpstreamUnavailableError("down", status_code=503), model="primary")
    scripted.enqueue(UpstreamUnavailableError("also down", status_code=503), model="backup")
    c = core(scripted, spec("primary", retries=0), spec("backup", retries=0), fallbacks={"primary": ["backup"]})

    with pytest.raises(UpstreamUnavailableError, match="also down"):
        list(c.stream("primary", HI))


class FailingStreams:
    """A port whose streams fail before their first chunk for the deployments named (sync and async)."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.opened: list[str] = []

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        self.opened.append(request.spec.deployment.id)
        if request.spec.deployment.id in self.failing:
            raise UpstreamUnavailableError("down", status_code=503)
        return iter((StreamChunk(role="assistant", content="ok"), StreamChunk(finish_reason="stop")))

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        async def chunks() -> AsyncIterator[StreamChunk]:
            for chunk in self.stream(request):
                yield chunk
        return chunks()


def test_stream_retries_move_to_another_deployment_before_the_first_chunk() -> None:
    port = FailingStreams({"a"})
    c = core(port, spec("m", deployment=Deployment(id="a", weight=1)),
             spec("m", deployment=Deployment(id="b", weight=0.000001)))

    assert "".join(chunk.content or "" for chunk in c.stream("m", HI)) == "ok"

    async def run() -> str:
        async with c.astream("m", HI) as session:
            return "".join([chunk.content or "" async for chunk in session])
    assert asyncio.run(run()) == "ok"
    assert port.opened == ["a", "b", "a", "b"]


def test_a_fallback_refusing_a_param_is_skipped_and_an_unservable_chain_raises_the_aliass_error() -> None:
    scripted = ScriptedCompletion()
    scripted.enqueue(UpstreamUnavailableError("primary down", status_code=503), model="primary")
    scripted.enqueue(UpstreamUnavailableError("primary down again", status_code=503), model="primary")
    refuses_stop = ParamRules(drop=("stop",), reasons={"stop": "rejected upstream"}, drop_params=False)
    c = core(scripted, spec("primary", retries=0), spec("strict", param_rules=refuses_stop),
             fallbacks={"primary": ["strict"]})

    with pytest.raises(UpstreamUnavailableError, match="primary down"):
        c.complete("primary", HI, stop=["\n"])
    with pytest.raises(UpstreamUnavailableError, match="primary down again"):
        list(c.stream("primary", HI, stop=["\n"]))
    assert [r.spec.alias for r in scripted.requests] == ["primary", "primary"]
