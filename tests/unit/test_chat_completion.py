import asyncio

import pytest

from llmcore.domain.chat import ChatResponse
from llmcore.domain.errors import (
    ModelUnavailableError,
    QuotaExceededError,
    RateLimitError,
    UnknownModelError,
    UpstreamUnavailableError,
)
from llmcore.domain.usage import Usage
from tests.unit.fakes import scripted_core

HI = [{"role": "user", "content": "hi"}]
GROK = "grok-code-fast-1"


def test_complete_drops_stop_for_grok_reports_it_once_and_returns_it():
    h = scripted_core()
    response = h.core.complete(GROK, HI, stop=["x"], temperature=0.2)
    (sent,) = h.scripted.requests
    assert dict(sent.params) == {"temperature": 0.2}
    assert [a.param for a in response.adjustments] == ["stop"]
    assert [e.details["adjustment"].param for e in h.telemetry.named("param_adjusted")] == ["stop"]


def test_unavailable_model_is_refused_with_its_reason_before_anything_is_sent():
    h = scripted_core(env={})
    with pytest.raises(ModelUnavailableError) as info:
        h.core.complete(GROK, HI)
    assert "set GROK_API_KEY or LLMCORE_API_KEY" in info.value.reason
    assert h.scripted.requests == []


def test_unknown_model_lists_the_configured_ones():
    h = scripted_core()
    with pytest.raises(UnknownModelError, match="configured models are grok-code-fast-1"):
        h.core.complete("gpt-9", HI)


def test_empty_messages_are_refused():
    from llmcore.errors import InvalidMessageError

    with pytest.raises(InvalidMessageError, match="at least one message"):
        scripted_core().core.complete(GROK, [])


def test_cost_comes_from_upstream_ticks_when_present():
    h = scripted_core()
    h.scripted.enqueue(ChatResponse(content="Olá!", model=GROK, cost_in_usd_ticks=3950400,
                                    usage=Usage(prompt_tokens=213, completion_tokens=2, reasoning_tokens=256)))
    usage = h.core.complete(GROK, HI).usage
    assert usage.total_tokens == 471
    assert usage.cost_usd == pytest.approx(0.00039504)
    assert usage.cost_source == "upstream"


def test_cost_falls_back_to_configured_prices():
    usage = scripted_core().core.complete(GROK, HI).usage
    assert usage.cost_source == "prices"
    assert usage.cost_usd == pytest.approx(12 * 1.25e-6 + 8 * 2.5e-6)


def test_warns_when_the_upstream_serves_another_model():
    h = scripted_core()
    h.scripted.enqueue(ChatResponse(content="x", model="grok-4.3"))
    response = h.core.complete(GROK, HI)
    assert response.warnings == (
        "grok-code-fast-1: asked for grok-code-fast-1, the upstream answered as grok-4.3 (as its lifecycle says); "
        "behaviour and price follow the serving model",
    )
    assert h.telemetry.named("model_mismatch")[0].details["served_by"] == "grok-4.3"


def test_no_warning_when_the_upstream_echoes_the_route_prefixed_model():
    h = scripted_core()
    h.scripted.enqueue(ChatResponse(content="x", model="openai/grok-code-fast-1"))
    assert h.core.complete(GROK, HI).warnings == ()


def test_rate_limit_with_retry_after_is_retried_once_after_that_wait():
    h = scripted_core()
    h.scripted.enqueue(RateLimitError("429", retry_after=1.0, status_code=429))
    assert h.core.complete(GROK, HI).content == "scripted reply"
    assert h.waits.seconds == [1.0]
    assert len(h.scripted.requests) == 2
    (retry,) = h.telemetry.named("retrying")
    assert retry.details["attempt"] == 1 and retry.details["wait"] == 1.0


def test_retry_after_is_capped_by_the_policy(tmp_path):
    from tests.unit.config_helpers import grok_config

    path = grok_config(tmp_path, "api_key: os.environ/K")
    path.write_text(path.read_text() + "    model_info: {retry: {retry_after_max: 3}}\n")
    h = scripted_core(env={"K": "xai-unit-" + "k" * 20}, path=path)
    h.scripted.enqueue(RateLimitError("429", retry_after=120))
    h.core.complete(GROK, HI)
    assert h.waits.seconds == [3]


def test_spent_credits_are_never_retried():
    h = scripted_core()
    h.scripted.enqueue(QuotaExceededError("credits", status_code=429))
    with pytest.raises(QuotaExceededError):
        h.core.complete(GROK, HI)
    assert len(h.scripted.requests) == 1
    assert h.waits.seconds == []
    assert h.telemetry.named("upstream_failed")[0].details["error"].status_code == 429


def test_transient_errors_are_retried_max_retries_times_with_growing_backoff():
    h = scripted_core()
    h.scripted.enqueue(*[UpstreamUnavailableError("boom", status_code=503) for _ in range(3)])
    with pytest.raises(UpstreamUnavailableError):
        h.core.complete(GROK, HI)
    assert len(h.scripted.requests) == 3  # the first try and max_retries=2 retries
    first, second = h.waits.seconds
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 1.5  # base 0.5 * 2**n plus up to 0.5 of jitter
    finished = h.telemetry.named("request_finished")[-1]
    assert finished.details["outcome"] == "UpstreamUnavailableError"


def test_async_complete_matches_sync():
    h = scripted_core()
    h.scripted.enqueue(RateLimitError("429", retry_after=2.0))
    response = asyncio.run(h.core.acomplete(GROK, HI, stop=["x"]))
    assert response.content == "scripted reply"
    assert h.waits.seconds == [2.0]
    assert [a.param for a in response.adjustments] == ["stop"]


def test_request_id_travels_to_the_port_and_back():
    h = scripted_core()
    response = h.core.complete(GROK, HI, request_id="req-1")
    assert h.scripted.requests[0].request_id == "req-1"
    assert response.request_id == "req-1"


def test_core_owned_params_are_not_forwarded():
    h = scripted_core()
    h.core.complete(GROK, HI, stream=True, stream_options={"include_usage": False})
    assert dict(h.scripted.requests[0].params) == {}


def test_concurrent_requests_share_no_state():
    from concurrent.futures import ThreadPoolExecutor

    h = scripted_core()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: h.core.complete(GROK, HI, request_id=f"r{i}"), range(64)))
    assert sorted(r.request_id for r in results) == sorted(f"r{i}" for i in range(64))
    assert len(h.scripted.requests) == 64


def test_a_port_that_is_missing_is_reported_clearly():
    from llmcore.domain.chat_completion import ChatCompletion
    from llmcore.domain.errors import LLMCoreError

    h = scripted_core()
    service = ChatCompletion(h.core.registry, h.telemetry)
    with pytest.raises(LLMCoreError, match="no completion adapter"):
        service.complete(GROK, HI, {})


def test_content_is_reported_only_when_logging_content_was_asked_for():
    quiet = scripted_core()
    quiet.core.complete(GROK, HI)
    list(quiet.core.stream(GROK, HI))
    assert quiet.telemetry.named("content_exchanged") == []

    loud = scripted_core(env={"GROK_API_KEY": "xai-unit-" + "k" * 20, "LLMCORE_LOG_CONTENT": "1"})
    loud.core.complete(GROK, HI)
    list(loud.core.stream(GROK, HI))
    complete, streamed = loud.telemetry.named("content_exchanged")
    assert complete.details["messages"] == HI and complete.details["content"] == "scripted reply"
    assert streamed.details["content"] == "scripted reply" and streamed.details["reasoning"] == "thinking"
    assert loud.core.settings.log_content
