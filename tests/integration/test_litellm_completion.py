"""The Grok adapter through real LiteLLM and real HTTP to the fake xAI server, which replays recorded xAI bytes."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from attrs import define

import llmcore
from llmcore.adapters.litellm_completion import LiteLLMCompletion
from llmcore.adapters.litellm_convert import call_kwargs, to_response
from llmcore.adapters.litellm_runtime import litellm_module
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.domain.chat import ChatRequest, Message
from llmcore.errors import (
    QuotaExceededError,
    RateLimitError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from llmcore.testing.fake_xai import FakeXAIServer, Fault
from llmcore.testing.harnesses import Waits

GROK = "grok-code-fast-1"
SIMPLE = [
    {"role": "system", "content": "You are a helpful assistant"},
    {"role": "user", "content": "Say hi in Portuguese"},
]
# The recorded streamed exchange's usage (simple_streaming.yaml): reasoning counted apart from completion.
STREAM_PROMPT, STREAM_COMPLETION, STREAM_REASONING, STREAM_CACHED = 213, 2, 198, 192
LITELLM_STREAM_TOTAL = STREAM_PROMPT + STREAM_COMPLETION  # what LiteLLM recomputes, reasoning lost


@define
class Grok:
    core: llmcore.Core
    telemetry: RecordingTelemetry
    waits: Waits
    server: FakeXAIServer

    def request(self, messages: list[dict[str, Any]] = SIMPLE, **params: Any) -> ChatRequest:
        spec = self.core.registry.resolve(GROK)
        return ChatRequest(spec=spec, messages=[Message.from_dict(m) for m in messages], params=params)


@pytest.fixture(scope="module")
def server(grok_key: str) -> Iterator[FakeXAIServer]:
    with FakeXAIServer(api_key=grok_key) as running:
        yield running


@pytest.fixture
def make_grok(server: FakeXAIServer, grok_key: str, tmp_path: Path) -> Callable[..., Grok]:
    server.clear()

    def make(litellm_params: str = "", base_url: str | None = None) -> Grok:
        env = {"GROK_API_KEY": grok_key, "GROK_BASE_URL": base_url or server.base_url}
        path = None
        if litellm_params:
            path = tmp_path / "llmcore.yaml"
            path.write_text(textwrap.dedent("""\
                model_list:
                  - model_name: grok-code-fast-1
                    litellm_params:
                      model: openai/grok-code-fast-1
                      api_key: os.environ/GROK_API_KEY
                      api_base: os.environ/GROK_BASE_URL
                """) + textwrap.indent(textwrap.dedent(litellm_params), " " * 6), encoding="utf-8")
        telemetry, waits = RecordingTelemetry(), Waits()
        core = llmcore.load(path, env=env, telemetry=telemetry, sleep=waits, async_sleep=waits.async_sleep)
        return Grok(core, telemetry, waits, server)

    return make


@pytest.fixture
def grok(make_grok: Callable[..., Grok]) -> Grok:
    return make_grok()


def collect(grok: Grok, **params: Any) -> tuple[list[Any], llmcore.StreamSession]:
    with grok.core.stream(GROK, SIMPLE, **params) as session:
        chunks = list(session)
    return chunks, session


def acollect(run_async: Callable[..., Any], grok: Grok) -> tuple[list[Any], llmcore.AsyncStreamSession]:
    async def go() -> tuple[list[Any], llmcore.AsyncStreamSession]:
        async with grok.core.astream(GROK, SIMPLE) as session:
            chunks = [chunk async for chunk in session]
        return chunks, session

    return run_async(go, grok.core)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Replayed answers --------------------------------------------------------------------------

def test_complete_replays_xai_answer_with_reasoning_usage_and_upstream_cost(grok: Grok) -> None:
    response = grok.core.complete(GROK, SIMPLE)

    assert response.content == "Olá!"
    assert response.reasoning_content.startswith("## Considering the Request")
    assert response.finish_reason == "stop"
    assert response.model == GROK
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens, usage.cached_tokens) == (
        213, 2, 256, 192)
    assert usage.total_tokens == 471
    assert usage.cost_usd == pytest.approx(0.00039504)  # 3950400 ticks
    assert usage.cost_source == "upstream"


def test_stream_joins_deltas_and_rebuilds_the_total_litellm_loses(grok: Grok) -> None:
    chunks, session = collect(grok)

    assert session.complete and session.finish_reason == "stop"
    assert session.text == "".join(c.content for c in chunks if c.content) == "Olá!"
    assert session.reasoning_text.startswith("First")
    assert not any(c.content and c.reasoning_content for c in chunks)  # reasoning deltas stay apart
    usage = session.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens, usage.cached_tokens) == (
        STREAM_PROMPT, STREAM_COMPLETION, STREAM_REASONING, STREAM_CACHED)
    assert usage.total_tokens == STREAM_PROMPT + STREAM_COMPLETION + STREAM_REASONING != LITELLM_STREAM_TOTAL
    assert usage.cost_source == "prices"  # LiteLLM drops cost_in_usd_ticks on streams
    assert usage.cost_usd == pytest.approx(213 * 1.25e-6 + (2 + 198) * 2.5e-6)


def test_stream_asks_for_usage_and_reports_the_serving_model(
    make_grok: Callable[..., Grok], grok_key: str,
) -> None:
    with FakeXAIServer(api_key=grok_key, served_model="grok-4.3") as redirected:
        grok = make_grok(base_url=redirected.base_url)
        _, session = collect(grok)
        sent = redirected.requests[0].body

    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    # LiteLLM overwrites chunk.model with the requested name; the adapter reads what xAI said.
    assert session.model == "grok-4.3"


# --- What reaches the wire ---------------------------------------------------------------------

def test_params_xai_rejects_never_reach_it_and_each_drop_is_recorded_once(grok: Grok) -> None:
    response = grok.core.complete(GROK, SIMPLE, temperature=0.2, stop=["\n"], presence_penalty=0,
                                  frequency_penalty=0.5, reasoning_effort="low", request_id="req-42")

    assert response.content == "Olá!"
    sent = grok.server.requests[0]
    assert set(sent.body_keys) == {"model", "messages", "temperature"}
    assert sent.model == GROK
    assert "x-request-id" in sent.headers_lower_keys
    dropped = [e.details["adjustment"].param for e in grok.telemetry.named("param_adjusted")]
    assert sorted(dropped) == ["frequency_penalty", "presence_penalty", "reasoning_effort", "stop"]


def test_name_is_stripped_from_a_system_message(grok: Grok) -> None:
    messages = [{**SIMPLE[0], "name": "setup"}, {**SIMPLE[1], "name": "ana"}]

    response = grok.core.complete(GROK, messages)

    assert response.content == "Olá!"  # the fake answers 400 to a named system message
    sent = grok.server.requests[0].body["messages"]
    assert "name" not in sent[0] and sent[1]["name"] == "ana"


def test_grok_key_and_base_url_are_sent_even_with_openai_variables_set(
    grok: Grok, grok_key: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-" + os.urandom(10).hex())
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")

    grok.core.complete(GROK, SIMPLE)
    with grok.core.stream(GROK, SIMPLE) as session:
        list(session)

    assert [r.key_tail for r in grok.server.requests] == [grok_key[-4:]] * 2


def test_stream_is_lazy_and_a_refusal_surfaces_from_the_first_next(grok: Grok) -> None:
    grok.server.script(Fault.rate_limit(retry_after=1))
    upstream = LiteLLMCompletion().stream(grok.request())

    assert grok.server.requests == []
    with pytest.raises(RateLimitError) as raised:
        next(upstream)
    assert raised.value.retry_after == 1.0


def test_known_prices_passed_per_call_leave_the_answer_unchanged(grok: Grok) -> None:
    kwargs = call_kwargs(grok.request(), stream=False)
    assert kwargs["input_cost_per_token"] == 1.25e-6
    bare = {k: v for k, v in kwargs.items() if not k.endswith("_cost_per_token")}

    litellm = litellm_module()
    assert to_response(litellm.completion(**kwargs)) == to_response(litellm.completion(**bare))


# --- Faults ------------------------------------------------------------------------------------

def test_rate_limit_is_retried_once_after_the_wait_xai_asked_for(grok: Grok) -> None:
    grok.server.script(Fault.rate_limit(retry_after=1), Fault.ok())

    response = grok.core.complete(GROK, SIMPLE)

    assert response.content == "Olá!"
    assert grok.waits.seconds == [1.0]
    assert len(grok.server.requests) == 2
    assert len(grok.telemetry.named("retrying")) == 1


def test_spent_credits_are_not_retried(grok: Grok) -> None:
    grok.server.script(Fault.credits_exhausted())

    with pytest.raises(QuotaExceededError) as raised:
        grok.core.complete(GROK, SIMPLE)

    assert len(grok.server.requests) == 1 and grok.waits.seconds == []
    assert raised.value.status_code == 429
    assert "used all available credits" in raised.value.upstream_text


@pytest.mark.parametrize("fault", [Fault.bad_key(), Fault.forbidden()], ids=["400-wrong-key", "403"])
def test_refused_credentials_are_an_auth_error_and_not_retried(grok: Grok, fault: Fault) -> None:
    grok.server.script(fault)

    with pytest.raises(UpstreamAuthError):
        grok.core.complete(GROK, SIMPLE)

    assert len(grok.server.requests) == 1


@pytest.mark.parametrize("fault", [Fault.server_error(), Fault.unavailable()], ids=["500", "503"])
def test_server_errors_are_retried_max_retries_times(grok: Grok, fault: Fault) -> None:
    grok.server.script(fault, fault, fault)

    with pytest.raises(UpstreamUnavailableError):
        grok.core.complete(GROK, SIMPLE)

    assert len(grok.server.requests) == 3  # the first try and max_retries (2) retries
    assert len(grok.waits.seconds) == 2


def test_html_bad_gateway_keeps_an_excerpt_and_never_the_key(grok: Grok, grok_key: str) -> None:
    grok.server.script(*[Fault.bad_gateway_html()] * 3)

    with pytest.raises(UpstreamUnavailableError) as raised:
        grok.core.complete(GROK, SIMPLE)

    error = raised.value
    assert error.status_code == 502
    assert "<title>api.x.ai | 502: Bad gateway</title>" in error.upstream_text
    assert "more characters]" in error.upstream_text  # truncated, not the whole page
    for text in (str(error), repr(error), str(error.__cause__), repr(error.__cause__)):
        assert grok_key not in text


def test_gateway_timeout_is_a_timeout(grok: Grok) -> None:
    grok.server.script(*[Fault.gateway_timeout()] * 3)

    with pytest.raises(UpstreamTimeoutError) as raised:
        grok.core.complete(GROK, SIMPLE)

    assert raised.value.status_code == 504


def test_a_slow_upstream_times_out_at_the_configured_timeout(make_grok: Callable[..., Grok]) -> None:
    grok = make_grok("timeout: 0.5\nmax_retries: 0\n")
    grok.server.script(Fault.slow(3))

    started = time.perf_counter()
    with pytest.raises(UpstreamTimeoutError) as raised:
        grok.core.complete(GROK, SIMPLE)

    assert time.perf_counter() - started < 2
    assert raised.value.status_code is None  # the upstream never answered
    assert "within 0.5 s" in str(raised.value)


def test_a_dropped_connection_is_unavailable(grok: Grok) -> None:
    grok.server.script(*[Fault.drop_connection()] * 3)

    with pytest.raises(UpstreamUnavailableError) as raised:
        grok.core.complete(GROK, SIMPLE)

    assert raised.value.status_code is None


def test_a_refused_connection_is_unavailable_and_names_where(make_grok: Callable[..., Grok]) -> None:
    port = free_port()
    grok = make_grok(base_url=f"http://127.0.0.1:{port}/v1")

    with pytest.raises(UpstreamUnavailableError) as raised:
        grok.core.complete(GROK, SIMPLE)

    assert f"127.0.0.1:{port}" in str(raised.value)
    assert raised.value.status_code is None


def test_a_stream_refused_before_its_first_chunk_raises_the_translated_error(grok: Grok) -> None:
    grok.server.script(Fault.credits_exhausted())

    with pytest.raises(QuotaExceededError):
        collect(grok)

    assert len(grok.server.requests) == 1


def test_a_stream_rate_limited_before_its_first_chunk_is_retried(grok: Grok) -> None:
    grok.server.script(Fault.rate_limit(retry_after=1), Fault.ok())

    _, session = collect(grok)

    assert session.complete and session.text == "Olá!"
    assert grok.waits.seconds == [1.0]


# --- Streams that end badly --------------------------------------------------------------------

ENDINGS = [
    (Fault.cut_mid_stream(), "connection_lost"),
    (Fault.eof_without_finish(), "no_finish_reason"),
    (Fault.zero_events(), "no_events"),
]
ENDING_IDS = ["cut", "eof-without-finish", "zero-events"]


@pytest.mark.parametrize(("fault", "reason"), ENDINGS, ids=ENDING_IDS)
def test_a_broken_stream_ends_incomplete_without_raising(grok: Grok, fault: Fault, reason: str) -> None:
    grok.server.script(fault)

    _, session = collect(grok)

    assert (session.complete, session.incomplete_reason) == (False, reason)
    assert session.warnings
    assert [e.details["reason"] for e in grok.telemetry.named("stream_incomplete")] == [reason]
    assert len(grok.server.requests) == 1  # after the first chunk nothing is retried


@pytest.mark.parametrize(("fault", "reason"), ENDINGS, ids=ENDING_IDS)
def test_a_broken_async_stream_ends_incomplete_without_raising(
    grok: Grok, fault: Fault, reason: str, run_async: Callable[..., Any],
) -> None:
    grok.server.script(fault)

    _, session = acollect(run_async, grok)

    assert (session.complete, session.incomplete_reason) == (False, reason)


def test_empty_deltas_are_skipped_and_the_stream_is_complete(grok: Grok) -> None:
    grok.server.script(Fault.empty_deltas(count=20))

    chunks, session = collect(grok)

    assert session.complete and session.text == "Olá!"
    assert all(not chunk.is_empty for chunk in chunks)


def test_breaking_out_of_a_stream_closes_the_upstream_connection(grok: Grok) -> None:
    grok.server.script(Fault.slow_chunks(delay=0.05))

    with grok.core.stream(GROK, SIMPLE) as session:
        for _ in session:
            break

    assert grok.server.wait_for_disconnect(timeout=2.0)


def test_breaking_out_of_an_async_stream_closes_the_upstream_connection(
    grok: Grok, run_async: Callable[..., Any],
) -> None:
    import asyncio

    grok.server.script(Fault.slow_chunks(delay=0.05))

    async def go() -> bool:
        async with grok.core.astream(GROK, SIMPLE) as session:
            async for _ in session:
                break
        # Observed while this loop still runs: closing an aiohttp response needs the loop.
        return await asyncio.to_thread(grok.server.wait_for_disconnect, 2.0)

    assert run_async(go, grok.core)


# --- Async parity ------------------------------------------------------------------------------

def test_async_complete_matches_sync(grok: Grok, run_async: Callable[..., Any]) -> None:
    sync = grok.core.complete(GROK, SIMPLE)

    async def go() -> Any:
        return await grok.core.acomplete(GROK, SIMPLE)

    assert run_async(go, grok.core) == sync


def test_async_stream_matches_sync(grok: Grok, run_async: Callable[..., Any]) -> None:
    chunks, session = collect(grok)

    achunks, asession = acollect(run_async, grok)

    assert achunks == chunks
    assert (asession.text, asession.reasoning_text, asession.usage, asession.complete) == (
        session.text, session.reasoning_text, session.usage, session.complete)


def test_async_errors_match_sync(grok: Grok, run_async: Callable[..., Any]) -> None:
    grok.server.script(Fault.bad_key(), Fault.bad_key())

    async def go() -> UpstreamError:
        with pytest.raises(UpstreamError) as raised:
            await grok.core.acomplete(GROK, SIMPLE)
        return raised.value

    with pytest.raises(UpstreamError) as sync:
        grok.core.complete(GROK, SIMPLE)
    error = run_async(go, grok.core)
    assert (type(error), error.status_code, error.upstream_text) == (
        type(sync.value), sync.value.status_code, sync.value.upstream_text)


# --- LiteLLM, loaded late and kept quiet -------------------------------------------------------

def test_importing_and_loading_llmcore_does_not_import_litellm() -> None:
    code = (
        "import sys, llmcore; llmcore.load(env={'GROK_API_KEY': 'x' * 20}); "
        "assert 'litellm' not in sys.modules, 'litellm imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_litellm_prints_no_banner_on_the_hosts_stdout(grok: Grok, capfd: pytest.CaptureFixture[str]) -> None:
    # Offline switches, loggers and the other globals per mode: tests/integration/test_host_globals.py.
    litellm = litellm_module()
    grok.server.script(Fault.bad_key())

    with pytest.raises(UpstreamAuthError):
        grok.core.complete(GROK, SIMPLE)

    assert capfd.readouterr().out == ""  # no "Give Feedback / Get Help" banner
    assert litellm.suppress_debug_info is True


def test_fake_server_log_shows_no_retry_or_key_fields_in_the_body(grok: Grok) -> None:
    grok.core.complete(GROK, SIMPLE)

    body = json.dumps(grok.server.requests[0].body)
    for leaked in ("api_key", "max_retries", "timeout", "cost_per_token", "extra_headers"):
        assert leaked not in body


def test_warm_up_sends_nothing_anywhere(monkeypatch) -> None:
    # OPENAI_* set: the warm-up must not fall back to them either.
    with FakeXAIServer() as trap:
        monkeypatch.setenv("OPENAI_BASE_URL", trap.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-" + "0" * 20)
        LiteLLMCompletion().warm_up()
        assert trap.requests == []
