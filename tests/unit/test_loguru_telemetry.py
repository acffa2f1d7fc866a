"""LoguruTelemetry: levels and fields per event, masking before any sink, silence until enabled, never raising."""
from __future__ import annotations

import secrets
import threading
from typing import Any

import pytest
from loguru import logger

from llmcore.adapters.loguru_telemetry import EVENTS, LoguruTelemetry
from llmcore.adapters.request_api import MESSAGES, request_api
from llmcore.domain.chat import ParamAdjustment
from llmcore.domain.errors import (
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    StreamIncompleteError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamUnavailableError,
)
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Usage


@pytest.fixture(autouse=True)
def restore_loguru():
    yield
    logger.remove()
    logger.disable("llmcore")


@pytest.fixture
def records() -> list[dict[str, Any]]:
    """A host application's own sink: the library logger enabled, no llmcore set-up at all."""
    captured: list[dict[str, Any]] = []
    logger.remove()
    logger.enable("llmcore")
    logger.add(lambda message: captured.append(message.record), level="TRACE", format="{message}")
    return captured


def spec_with(key: str, alias: str = "grok-code-fast-1") -> ModelSpec:
    return ModelSpec(alias=alias, upstream_model="grok-code-fast-1", credentials=Credentials(api_key=Secret(key)))


def emitted_text(records: list[dict[str, Any]]) -> str:
    return "\n".join(f"{r['message']} {r['extra']!r}" for r in records)


def drop(param: str = "stop") -> ParamAdjustment:
    return ParamAdjustment(param=param, action="dropped", reason="xAI answers 400 to it")


def test_the_library_logger_is_silent_until_an_application_enables_it(canary):
    captured: list[str] = []
    logger.remove()
    logger.add(captured.append, level="TRACE")
    telemetry = LoguruTelemetry(secrets=[Secret(canary)])

    telemetry.param_adjusted(spec_with(canary), drop(), "req-1")
    telemetry.config_warning("rpm is not used")
    assert captured == []

    logger.enable("llmcore")
    telemetry.param_adjusted(spec_with(canary), drop(), "req-1")
    assert len(captured) == 1


def test_a_param_drop_is_info_with_model_param_action_and_reason(records, canary):
    LoguruTelemetry(secrets=[Secret(canary)]).param_adjusted(spec_with(canary), drop("stop"), "req-7")

    [record] = records
    assert record["level"].name == "INFO"
    assert record["extra"]["event"] == "param_dropped"
    assert record["extra"]["model"] == "grok-code-fast-1"
    assert record["extra"]["request_id"] == "req-7"
    assert (record["extra"]["param"], record["extra"]["action"]) == ("stop", "dropped")
    assert record["extra"]["reason"] == "xAI answers 400 to it"
    assert record["name"].startswith("llmcore.")


def test_a_retry_is_info_and_says_which_attempt_follows_after_what_wait(records, canary):
    error = RateLimitError("rate limited", status_code=429, retry_after=1.0)
    LoguruTelemetry().retrying(spec_with(canary), 1, 1.0, error, "req-1")

    [record] = records
    assert record["level"].name == "INFO"
    assert record["extra"]["event"] == "retrying"
    assert record["extra"]["attempt"] == 1
    assert record["extra"]["wait_s"] == 1.0
    assert record["extra"]["status"] == 429
    assert "attempt 2 after 1.00 s" in record["message"]


@pytest.mark.parametrize(
    ("error", "event", "level"),
    [
        (UpstreamAuthError("refused", status_code=401), "upstream_auth_failed", "ERROR"),
        (QuotaExceededError("no credits", status_code=429), "quota_exceeded", "ERROR"),
        (InvalidRequestError("bad request", status_code=400), "upstream_rejected", "INFO"),
        (UpstreamUnavailableError("bad gateway", status_code=502), "retries_exhausted", "WARNING"),
        (StreamIncompleteError("no events", reason="no_events"), "retries_exhausted", "WARNING"),
        (UpstreamError("odd"), "upstream_failed", "WARNING"),
    ],
)
def test_a_final_upstream_failure_is_logged_at_the_level_an_operator_needs(records, canary, error, event, level):
    LoguruTelemetry().upstream_failed(spec_with(canary), error, "req-1")

    [record] = records
    assert (record["extra"]["event"], record["level"].name) == (event, level)
    assert record["extra"]["error"] == type(error).__name__
    assert record["extra"]["status"] == error.status_code


def test_an_incomplete_stream_is_a_warning_and_an_unavailable_model_an_error(records, canary):
    telemetry = LoguruTelemetry()
    telemetry.stream_incomplete(spec_with(canary), "connection_lost", "the connection dropped", None)
    telemetry.model_unavailable("grok-code-fast-1", "GROK_API_KEY is not set")

    assert [(r["extra"]["event"], r["level"].name) for r in records] == [
        ("stream_incomplete", "WARNING"), ("model_unavailable", "ERROR"),
    ]
    assert records[0]["extra"]["reason"] == "connection_lost"
    assert records[1]["extra"]["model"] == "grok-code-fast-1"


def test_a_finished_request_is_debug_with_duration_tokens_and_cost(records, canary):
    usage = Usage(prompt_tokens=12, completion_tokens=5, reasoning_tokens=30, cached_tokens=4, cost_usd=0.0001,
                  cost_source="prices")
    LoguruTelemetry().request_finished(spec_with(canary), outcome="ok", seconds=0.25, usage=usage, stream=True,
                                       request_id="req-1")

    [record] = records
    extra = record["extra"]
    assert record["level"].name == "DEBUG"
    assert extra["event"] == "request_finished"
    assert (extra["outcome"], extra["stream"], extra["duration_ms"]) == ("ok", True, 250.0)
    assert (extra["prompt_tokens"], extra["completion_tokens"], extra["reasoning_tokens"]) == (12, 5, 30)
    assert (extra["cached_tokens"], extra["total_tokens"]) == (4, 47)
    assert (extra["cost_usd"], extra["cost_source"]) == (0.0001, "prices")
    assert extra["api"] == "chat_completions"  # a library call: the shape core.complete takes


def test_the_request_line_names_the_wire_api_the_entrypoint_set(records):
    with request_api(MESSAGES):
        LoguruTelemetry().request_finished(spec_with("k"), outcome="ok", seconds=0.1, usage=None, stream=False,
                                           request_id="req-2")

    assert records[0]["extra"]["api"] == "messages"


def test_the_mismatch_warning_appears_once_per_alias_and_served_model_and_every_time_at_debug(records, canary):
    telemetry = LoguruTelemetry()
    spec = spec_with(canary)
    threads = [threading.Thread(target=telemetry.model_mismatch, args=(spec, "grok-4.3", None)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    telemetry.model_mismatch(spec, "grok-5", None)
    telemetry.model_mismatch(spec_with(canary, alias="other"), "grok-4.3", None)

    levels = [(r["extra"]["served_by"], r["extra"]["model"], r["level"].name) for r in records]
    assert levels.count(("grok-4.3", "grok-code-fast-1", "WARNING")) == 1
    assert levels.count(("grok-4.3", "grok-code-fast-1", "DEBUG")) == 19
    assert ("grok-5", "grok-code-fast-1", "WARNING") in levels
    assert ("grok-4.3", "other", "WARNING") in levels


def test_another_telemetry_instance_warns_about_the_mismatch_again(records, canary):
    LoguruTelemetry().model_mismatch(spec_with(canary), "grok-4.3", None)
    LoguruTelemetry().model_mismatch(spec_with(canary), "grok-4.3", None)

    assert [r["level"].name for r in records] == ["WARNING", "WARNING"]


def test_known_secrets_and_key_shaped_words_are_masked_before_a_host_sink_sees_them(records, canary):
    plain = "plain" + secrets.token_hex(12)  # not key-shaped: only the secrets list can catch it
    openai_key = "sk-" + secrets.token_hex(16)
    bearer = secrets.token_hex(16)
    telemetry = LoguruTelemetry(secrets=[Secret(canary)])
    telemetry.add_secrets([plain])
    spec = spec_with(canary)

    telemetry.param_adjusted(spec, ParamAdjustment(param=f"p-{plain}", action="dropped", reason=canary), plain)
    telemetry.upstream_failed(spec, UpstreamAuthError(f"key {canary} and {plain}", status_code=401), None)
    telemetry.stream_incomplete(spec, f"reason {plain}", f"Authorization: Bearer {bearer} and {openai_key}", None)
    telemetry.model_mismatch(spec, f"served-{plain}", None)
    telemetry.model_unavailable("grok-code-fast-1", f"api_key={canary} is rejected")
    telemetry.config_warning(f"bad entry {openai_key} {plain}")

    text = emitted_text(records)
    assert len(records) == 6
    for leaked in (canary, plain, openai_key, bearer):
        assert leaked not in text
    assert canary[-4:] in text


def test_every_event_it_emits_is_documented_with_its_level(records, canary):
    telemetry = LoguruTelemetry()
    spec = spec_with(canary)
    telemetry.param_adjusted(spec, drop(), None)
    telemetry.param_adjusted(spec, ParamAdjustment(param="name", action="transformed", reason="x"), None)
    telemetry.param_adjusted(spec, ParamAdjustment(param="a", action="renamed", reason="x", new_name="b"), None)
    telemetry.retrying(spec, 1, 0.5, UpstreamUnavailableError("down", status_code=503), None)
    for error in (UpstreamAuthError("a"), QuotaExceededError("q"), InvalidRequestError("i"),
                  UpstreamUnavailableError("u"), UpstreamError("e")):
        telemetry.upstream_failed(spec, error, None)
    telemetry.stream_incomplete(spec, "no_finish_reason", "ended", None)
    telemetry.model_mismatch(spec, "grok-4.3", None)
    telemetry.fallback_used(spec, "grok-build", RateLimitError("429", status_code=429), None)
    telemetry.deployment_cooled_down(spec, 5.0, UpstreamUnavailableError("u", status_code=500), None)
    telemetry.request_finished(spec, outcome="ok", seconds=1.0, usage=None, stream=False, request_id=None)
    telemetry.model_unavailable("m", "why")
    telemetry.config_warning("warned")
    telemetry.content_exchanged(spec, [{"role": "user", "content": "q"}], "a", None, None)
    telemetry.request_finished(None, outcome="ok", seconds=1.0, usage=None, stream=False,  # type: ignore[arg-type]
                               request_id=None)

    for record in records:
        doc = EVENTS[record["extra"]["event"]]
        assert record["level"].name == doc.level
        assert doc.meaning and doc.action
    assert {r["extra"]["event"] for r in records} == set(EVENTS)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.param_adjusted(None, None, None),
        lambda t: t.param_adjusted(spec_with("x" * 20), "not an adjustment", 42),
        lambda t: t.retrying(None, "one", "soon", "not an error", None),
        lambda t: t.upstream_failed(object(), object(), object()),
        lambda t: t.stream_incomplete(None, None, None, None),
        lambda t: t.model_mismatch(None, None, None),
        lambda t: t.request_finished(spec_with("x" * 20), outcome=None, seconds="slow", usage=object(),
                                     stream=None, request_id=None),
        lambda t: t.model_unavailable(None, None),
        lambda t: t.config_warning(object()),
        lambda t: t.param_adjusted(spec_with("x" * 20), drop("{unbalanced"), "{0}"),
    ],
)
def test_telemetry_methods_never_raise_even_given_odd_input(records, call):
    call(LoguruTelemetry(secrets=[None, ""]))


def test_content_is_a_masked_debug_line(records, canary):
    LoguruTelemetry(secrets=[canary]).content_exchanged(
        spec_with(canary), [{"role": "user", "content": f"my key is {canary}"}], "answer", "why", "r1")
    [record] = records
    assert (record["extra"]["event"], record["level"].name) == ("content", "DEBUG")
    assert canary not in record["extra"]["messages"] and "my key is" in record["extra"]["messages"]
