"""One CLIENT span per upstream attempt (adapters/otel_completion.py), through a Core as a library host uses it.

The scripted fake stands in for the upstream; the spans go to a provider of the
test's own (tests/unit/otel_fakes.py) and the host's span is made current as a
host does. The proxy's SERVER spans and real HTTP are in tests/e2e/test_proxy_traces.py.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

import llmcore
from llmcore.adapters.otel_completion import OtelTracedCompletion
from llmcore.adapters.otel_telemetry import OtelTelemetry
from llmcore.adapters.recording_telemetry import FanoutTelemetry, RecordingTelemetry
from llmcore.adapters.scripted_completion import ScriptedCompletion, StreamThenFail
from llmcore.domain.chat import ChatResponse, StreamChunk
from llmcore.domain.errors import RateLimitError, UpstreamAuthError, UpstreamUnavailableError
from llmcore.domain.usage import Usage
from llmcore.testing.harnesses import Waits
from tests.unit.otel_fakes import LocalTracer, event_names, events

GROK = "grok-code-fast-1"
HELLO = [{"role": "user", "content": "hi"}]


class Traced:
    """A Core over the scripted fake, traced by a LocalTracer, with recorded waits."""

    def __init__(self, script: tuple[Any, ...] = (), env: dict[str, str] | None = None) -> None:
        self.tracer = LocalTracer()
        self.scripted = ScriptedCompletion(script)
        self.recorded = RecordingTelemetry()
        self.core = llmcore.load(
            env=env or {"GROK_API_KEY": "xai-unit-" + "k" * 20},
            completion=OtelTracedCompletion(self.scripted, tracer=self.tracer),
            telemetry=FanoutTelemetry(self.recorded, OtelTelemetry()), sleep=Waits(),
            async_sleep=Waits().async_sleep,
        )
        self.host = self.tracer.tracer.start_span("host operation")

    def __enter__(self) -> Traced:
        self._use = trace.use_span(self.host, end_on_exit=True)
        self._use.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._use.__exit__(*exc_info)

    def host_span(self) -> Any:
        return next(s for s in self.tracer.spans() if s.name == "host operation")


def test_an_attempt_is_a_client_span_named_chat_model_with_the_genai_attributes() -> None:
    with Traced() as t:
        answer = t.core.complete(GROK, HELLO, temperature=0.2, max_tokens=64, request_id="req-1")

    [client] = t.tracer.clients()
    assert client.name == "chat grok-code-fast-1"
    attributes = dict(client.attributes or {})
    assert attributes == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "x_ai", "gen_ai.request.model": GROK,
        "gen_ai.request.stream": False, "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 64,
        "gen_ai.response.model": answer.model, "gen_ai.response.id": "scripted-1",
        "gen_ai.response.finish_reasons": ("stop",),
        # xAI counts reasoning apart from completion: output = 3 completion + 5 reasoning, as billed.
        "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 8,
        "gen_ai.usage.reasoning.output_tokens": 5,
        "server.address": "api.x.ai", "server.port": 443,
        "llmcore.alias": GROK, "llmcore.deployment_id": answer_deployment(t), "llmcore.api": "chat_completions",
        "llmcore.request_id": "req-1",
    }
    assert client.parent is not None and client.parent.span_id == t.host_span().context.span_id
    assert client.status.status_code == StatusCode.UNSET


def answer_deployment(t: Traced) -> str:
    return t.scripted.requests[0].spec.deployment.id


def test_retries_are_sibling_attempt_spans_and_the_failed_one_has_error_type() -> None:
    with Traced((RateLimitError("slow down", status_code=429, retry_after=0.0),
                 UpstreamUnavailableError("down", status_code=503))) as t:
        t.core.complete(GROK, HELLO)

    attempts = t.tracer.clients()
    assert [s.attributes.get("error.type") for s in attempts] == ["RateLimitError", "UpstreamUnavailableError", None]
    assert [s.attributes.get("http.response.status_code") for s in attempts] == [429, 503, None]
    assert {s.parent.span_id for s in attempts} == {t.host_span().context.span_id}
    assert [s.status.status_code for s in attempts] == [StatusCode.ERROR, StatusCode.ERROR, StatusCode.UNSET]
    # The status says the class only: an upstream's text may quote the prompt.
    assert attempts[0].status.description == "RateLimitError"
    assert [e["llmcore.attempt"] for e in events(t.host_span(), "llmcore.retry")] == [1, 2]


def test_a_permanent_failure_is_one_error_attempt_and_the_request_end_names_it() -> None:
    with Traced((UpstreamAuthError("bad key", status_code=401),)) as t, pytest.raises(UpstreamAuthError):
        t.core.complete(GROK, HELLO)

    [client] = t.tracer.clients()
    assert client.attributes["error.type"] == "UpstreamAuthError"
    [end] = events(t.host_span(), "llmcore.request.end")
    assert (end["llmcore.outcome"], end["llmcore.stream"]) == ("UpstreamAuthError", False)


def test_the_attempt_carries_its_traceparent_upstream_and_the_request_is_otherwise_unchanged() -> None:
    with Traced() as t:
        t.core.complete(GROK, HELLO)

    [client] = t.tracer.clients()
    [sent] = t.scripted.requests
    context = client.context
    assert sent.spec.extra_headers["traceparent"] == (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}")
    assert "baggage" not in sent.spec.extra_headers
    assert sent.request_id is None and [m.to_dict() for m in sent.messages] == HELLO


def test_a_stream_attempt_spans_to_its_end_with_finish_reasons_usage_and_a_complete_ending() -> None:
    with Traced() as t:
        with t.core.stream(GROK, HELLO) as session:
            text = "".join(c.content or "" for c in session)

    assert text == "scripted reply"
    [client] = t.tracer.clients()
    assert client.attributes["gen_ai.request.stream"] is True
    assert client.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert client.attributes["gen_ai.usage.output_tokens"] == 8
    span_seconds = (client.end_time - client.start_time) / 1e9
    assert 0 < client.attributes["gen_ai.response.time_to_first_chunk"] < span_seconds
    assert events(client, "llmcore.stream.end") == [{"llmcore.outcome": "complete"}]
    [end] = events(t.host_span(), "llmcore.request.end")
    assert (end["llmcore.outcome"], end["llmcore.stream"]) == ("ok", True)


def test_an_async_stream_cut_after_its_first_chunk_ends_with_upstream_error() -> None:
    cut = StreamThenFail([StreamChunk(role="assistant", content="par", id="c1", model=GROK)],
                         UpstreamUnavailableError("connection reset", status_code=None))

    async def read(t: Traced) -> str:
        async with t.core.astream(GROK, HELLO) as session:
            return "".join([c.content or "" async for c in session])

    with Traced((cut,)) as t:
        assert asyncio.run(read(t)) == "par"

    [client] = t.tracer.clients()
    assert events(client, "llmcore.stream.end") == [{"llmcore.outcome": "upstream_error"}]
    assert client.attributes["error.type"] == "UpstreamUnavailableError"
    assert client.attributes["gen_ai.response.id"] == "c1"
    host = t.host_span()
    assert events(host, "llmcore.stream.incomplete")[0]["llmcore.reason"] == "connection_lost"
    assert events(host, "llmcore.request.end")[0]["llmcore.outcome"] == "incomplete"


def test_a_stream_without_any_answer_is_incomplete_even_with_an_invented_finish_reason() -> None:
    with Traced(([StreamChunk(finish_reason="stop")],)) as t:
        with t.core.stream(GROK, HELLO) as session:
            list(session)

    assert events(t.tracer.clients()[0], "llmcore.stream.end") == [{"llmcore.outcome": "incomplete"}]


def test_a_stream_the_caller_closes_early_ends_closed_and_the_request_cancelled() -> None:
    with Traced() as t:
        with t.core.stream(GROK, HELLO) as session:
            next(iter(session))

    [client] = t.tracer.clients()
    assert events(client, "llmcore.stream.end") == [{"llmcore.outcome": "closed"}]
    assert client.status.status_code == StatusCode.UNSET
    assert t.scripted.closed_streams == 1  # the upstream stream was closed through the tracing layer
    assert events(t.host_span(), "llmcore.request.end")[0]["llmcore.outcome"] == "cancelled"


def test_async_completion_and_async_stream_are_traced_alike() -> None:
    async def both(t: Traced) -> None:
        await t.core.acomplete(GROK, HELLO)
        async with t.core.astream(GROK, HELLO) as session:
            async for _ in session:
                pass

    with Traced() as t:
        asyncio.run(both(t))

    first, second = t.tracer.clients()
    assert (first.attributes["gen_ai.request.stream"], second.attributes["gen_ai.request.stream"]) == (False, True)
    assert {first.parent.span_id, second.parent.span_id} == {t.host_span().context.span_id}
    assert first.attributes["gen_ai.response.finish_reasons"] == second.attributes["gen_ai.response.finish_reasons"]


def test_param_drops_are_events_on_the_callers_span() -> None:
    with Traced() as t:
        t.core.complete(GROK, HELLO, stop=["x"], presence_penalty=0.1)

    drops = events(t.host_span(), "llmcore.param_adjusted")
    assert {(d["llmcore.param"], d["llmcore.action"]) for d in drops} == {
        ("stop", "dropped"), ("presence_penalty", "dropped")}
    assert all(d["llmcore.alias"] == GROK and d["llmcore.reason"] for d in drops)


def test_no_prompt_or_answer_in_any_span_unless_content_logging_is_on() -> None:
    secret_prompt = "the launch code is 0000-canary-prompt"
    reply = ChatResponse(content="canary-answer", finish_reason="stop", model=GROK, id="r", usage=Usage())
    for log_content in (False, True):
        env = {"GROK_API_KEY": "xai-unit-" + "k" * 20, "LLMCORE_LOG_CONTENT": "1" if log_content else "0"}
        with Traced((reply,), env=env) as t:
            t.core.complete(GROK, [{"role": "user", "content": secret_prompt}])
        dumped = " ".join(s.to_json() for s in t.tracer.spans())
        assert (secret_prompt in dumped, "canary-answer" in dumped) == (log_content, log_content)
        assert ("llmcore.content" in event_names(t.host_span())) == log_content


def test_the_content_event_masks_the_configured_keys() -> None:
    key = "xai-unit-" + "q" * 20
    env = {"GROK_API_KEY": key, "LLMCORE_LOG_CONTENT": "1"}
    tracer = LocalTracer()
    core = llmcore.load(env=env, completion=OtelTracedCompletion(ScriptedCompletion(), tracer=tracer),
                        telemetry=OtelTelemetry(secrets=[key]))
    with trace.use_span(tracer.tracer.start_span("host"), end_on_exit=True):
        core.complete(GROK, [{"role": "user", "content": f"my key is {key}"}])

    dumped = " ".join(s.to_json() for s in tracer.spans())
    assert "my key is" in dumped and key not in dumped


def test_without_a_tracer_provider_the_port_is_called_directly_and_nothing_is_sent_upstream() -> None:
    scripted = ScriptedCompletion()
    traced = OtelTracedCompletion(scripted)  # the global provider: none is set in this process
    core = llmcore.load(env={"GROK_API_KEY": "xai-unit-" + "k" * 20}, completion=traced)
    core.complete(GROK, HELLO)
    with core.stream(GROK, HELLO) as session:
        list(session)

    assert trace.get_tracer_provider().__class__.__name__ == "ProxyTracerProvider"
    assert all("traceparent" not in r.spec.extra_headers for r in scripted.requests)
    assert traced.inner is scripted


class BrokenTracer(LocalTracer):
    """A tracer whose spans cannot start: a bug in tracing must never fail the request."""

    def get(self) -> Any:
        class Refusing:
            def start_span(self, *args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("tracing is broken")
        return Refusing()


def test_a_broken_tracer_never_fails_a_request() -> None:
    scripted = ScriptedCompletion()
    core = llmcore.load(env={"GROK_API_KEY": "xai-unit-" + "k" * 20},
                        completion=OtelTracedCompletion(scripted, tracer=BrokenTracer()))
    assert core.complete(GROK, HELLO).content == "scripted reply"
    with core.stream(GROK, HELLO) as session:
        assert "".join(c.content or "" for c in session) == "scripted reply"

    async def stream() -> str:
        async with core.astream(GROK, HELLO) as session:
            return "".join([c.content or "" async for c in session])
    assert asyncio.run(stream()) == "scripted reply"


def test_span_kinds_are_client_for_attempts_only() -> None:
    with Traced() as t:
        t.core.complete(GROK, HELLO)
    assert {s.name: s.kind for s in t.tracer.spans()} == {
        "chat grok-code-fast-1": SpanKind.CLIENT, "host operation": SpanKind.INTERNAL}


HOST_SCRIPT = """
import llmcore
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from llmcore.adapters.scripted_completion import ScriptedCompletion

core = llmcore.load(env={'GROK_API_KEY': 'x' * 20}, completion=ScriptedCompletion())
core.complete('grok-code-fast-1', [{'role': 'user', 'content': 'hi'}])  # before the host set a provider
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
with trace.get_tracer('host').start_as_current_span('host operation'):
    core.complete('grok-code-fast-1', [{'role': 'user', 'content': 'hi'}], stop=['x'])
for span in exporter.get_finished_spans():
    print(span.name, '|', ','.join(e.name for e in span.events))
"""


def test_llmcore_load_traces_through_the_global_provider_once_a_host_configures_one() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GROK", "LLMCORE"))}
    result = subprocess.run([sys.executable, "-c", HOST_SCRIPT], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "chat grok-code-fast-1 | ",
        "host operation | llmcore.param_adjusted,llmcore.request.end",
    ]


def test_with_the_sdk_disabled_no_span_is_recorded_and_no_traceparent_goes_upstream(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    disabled = LocalTracer()  # its provider, built now, hands out no-op tracers
    scripted = ScriptedCompletion()
    core = llmcore.load(env={"GROK_API_KEY": "xai-unit-" + "k" * 20},
                        completion=OtelTracedCompletion(scripted, tracer=disabled))
    assert core.complete(GROK, HELLO).content == "scripted reply"
    assert disabled.spans() == []
    assert "traceparent" not in scripted.requests[0].spec.extra_headers
