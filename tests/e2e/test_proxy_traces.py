"""Traces from a running ``llmcore proxy``: OTLP over HTTP to a test receiver, decoded with the OpenTelemetry protobuf
package (tests/otlp_receiver.py).

The proxy runs as a subprocess with ``OTEL_TRACES_EXPORTER=otlp`` and the standard
``OTEL_*`` variables, in front of the fake xAI server (real LiteLLM, real HTTP), and is
driven by the official ``openai`` client, each request with a ``traceparent`` of its own
(one trace id per request, so each test finds its spans). The requests run once per
module; after SIGTERM the proxy flushes its spans, and every test reads what arrived.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from attrs import frozen

from llmcore.testing.fake_xai import FakeXAIServer, Fault, RecordedRequest
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan

pytestmark = pytest.mark.slow

GROK = "grok-code-fast-1"
HELLO = [{"role": "user", "content": "Say hi in Portuguese"}]
START_TIMEOUT = 60
LANES = ("retry", "fail", "cut")  # aliases grok-<lane>, each with an upstream model of its own to script faults on
FAST_RETRY = ("      max_retries: 1\n    model_info:\n      provider: xai\n"
              "      retry: {backoff_base: 0.01, backoff_max: 0.02, retry_after_max: 0.01}\n")


def entry(alias: str) -> str:
    return (f"  - model_name: {alias}\n    litellm_params:\n      model: openai/{alias}\n"
            "      api_key: os.environ/GROK_API_KEY\n      api_base: os.environ/GROK_BASE_URL\n" + FAST_RETRY)


@frozen
class Sent:
    """One client request: the trace and parent span it claimed, and what it got back."""

    trace_id: str
    parent_id: str
    outcome: str


@frozen
class Run:
    spans: list[ReceivedSpan]
    sent: dict[str, Sent]
    upstream: list[RecordedRequest]
    stderr: str

    def trace(self, name: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.trace_id == self.sent[name].trace_id]

    def server(self, name: str) -> ReceivedSpan:
        [server] = [s for s in self.trace(name) if s.kind == "server"]
        return server

    def clients(self, name: str) -> list[ReceivedSpan]:
        return [s for s in self.trace(name) if s.kind == "client"]


def traceparent() -> tuple[str, str, str]:
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, parent_id, f"00-{trace_id}-{parent_id}-01"


def listening_port(server: subprocess.Popen[bytes], stderr: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and server.poll() is None:
        found = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", stderr.read_bytes())
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    raise AssertionError(f"llmcore proxy did not start: {stderr.read_text()[-3000:]}")


def drive(client: openai.OpenAI, base: str) -> dict[str, Sent]:
    """The requests every test reads: each under a trace of its own."""
    sent: dict[str, Sent] = {}

    def call(name: str, model: str, *, stream: bool = False, **params: object) -> None:
        trace_id, parent_id, header = traceparent()
        try:
            if stream:
                with client.chat.completions.create(model=model, messages=HELLO, stream=True,
                                                    extra_headers={"traceparent": header}, **params) as chunks:
                    for _ in chunks:
                        pass
            else:
                client.chat.completions.create(model=model, messages=HELLO, extra_headers={"traceparent": header},
                                               **params)
            outcome = "ok"
        except openai.APIError as exc:
            outcome = type(exc).__name__
        sent[name] = Sent(trace_id, parent_id, outcome)

    call("ok", GROK, temperature=0.2, max_tokens=50, stop=["x"])
    call("retry", "grok-retry")
    call("fail", "grok-fail")
    call("stream", GROK, stream=True)
    call("cut", "grok-cut", stream=True)
    with httpx.Client(trust_env=False) as http:
        assert http.get(f"{base}/health").status_code == 200  # probes are not traced
        trace_id, parent_id, header = traceparent()
        anthropic = http.post(f"{base}/v1/messages", headers={"traceparent": header}, json={
            "model": GROK, "max_tokens": 64, "messages": HELLO})
        sent["messages"] = Sent(trace_id, parent_id, "ok" if anthropic.status_code == 200 else anthropic.text)
        untraced = http.post(f"{base}/v1/chat/completions", json={"model": GROK, "messages": HELLO})
    assert untraced.status_code == 200
    sent["untraced"] = Sent(trace_id="", parent_id="", outcome=untraced.headers["x-request-id"])
    return sent


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    home = tmp_path_factory.mktemp("traces")
    config = home / "llmcore.yaml"
    config.write_text("model_list:\n" + entry(GROK) + "".join(entry(f"grok-{lane}") for lane in LANES), "utf-8")
    key = "xai-canary-" + secrets.token_hex(12)
    with FakeXAIServer(api_key=key) as upstream, OtlpReceiver() as receiver:
        upstream.script(Fault.rate_limit(retry_after=0), model="grok-retry")
        upstream.script(Fault.server_error(), Fault.server_error(), model="grok-fail")
        upstream.script(Fault.cut_mid_stream(), model="grok-cut")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GROK", "LLMCORE", "OPENAI"))}
        env.update(GROK_API_KEY=key, GROK_BASE_URL=upstream.base_url, OTEL_TRACES_EXPORTER="otlp",
                   OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_SERVICE_NAME="llmcore-under-test",
                   OTEL_BSP_SCHEDULE_DELAY="100")
        stderr = home / "proxy.err"
        with stderr.open("wb") as err:
            server = subprocess.Popen(
                [sys.executable, "-m", "llmcore.entrypoints.cli", "--config", str(config), "proxy", "--port", "0"],
                env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        try:
            base = f"http://127.0.0.1:{listening_port(server, stderr)}"
            with openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0,
                               http_client=openai.DefaultHttpxClient(trust_env=False)) as client:
                sent = drive(client, base)
            server.send_signal(signal.SIGTERM)
            assert server.wait(30) == 0, stderr.read_text()[-3000:]
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        spans = receiver.wait_for(lambda got: sum(s.kind == "server" for s in got) >= len(sent))
        yield Run(spans, sent, upstream.requests, stderr.read_text())


def test_each_request_is_one_server_span_that_continues_the_clients_trace(run: Run) -> None:
    server = run.server("ok")
    assert server.name == "POST /v1/chat/completions"
    assert server.parent_span_id == run.sent["ok"].parent_id
    assert server.attributes == {
        "http.request.method": "POST", "http.route": "/v1/chat/completions", "url.path": "/v1/chat/completions",
        "http.response.status_code": 200, "llmcore.request_id": server.attributes["llmcore.request_id"],
    }
    assert re.fullmatch(r"[0-9a-f]{32}", server.attributes["llmcore.request_id"])
    assert server.resource["service.name"] == "llmcore-under-test"
    assert server.scope == "llmcore"


def test_the_upstream_attempt_is_a_client_span_with_the_genai_attributes(run: Run) -> None:
    [client] = run.clients("ok")
    assert client.name == "chat grok-code-fast-1"
    assert client.parent_span_id == run.server("ok").span_id
    attributes = client.attributes
    assert {k: attributes[k] for k in (
        "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.request.max_tokens",
        "gen_ai.request.temperature", "llmcore.alias", "llmcore.api", "server.address")} == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "x_ai", "gen_ai.request.model": GROK,
        "gen_ai.request.max_tokens": 50, "gen_ai.request.temperature": 0.2, "llmcore.alias": GROK,
        "llmcore.api": "chat_completions", "server.address": "127.0.0.1"}
    # The fake replays xAI's recorded answer: its id, model and usage (reasoning apart, counted as output).
    assert attributes["gen_ai.response.id"] and attributes["gen_ai.response.model"]
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.usage.input_tokens"] > 0
    assert attributes["gen_ai.usage.output_tokens"] > attributes["gen_ai.usage.reasoning.output_tokens"] > 0
    assert attributes["llmcore.request_id"] == run.server("ok").attributes["llmcore.request_id"]
    assert attributes["llmcore.deployment_id"]
    assert client.status == "unset"


def test_the_traceparent_reaches_the_upstream_with_the_same_trace_and_the_attempt_as_parent(run: Run) -> None:
    [client] = run.clients("ok")
    arrived = [r.traceparent for r in run.upstream if r.traceparent and run.sent["ok"].trace_id in r.traceparent]
    assert arrived == [f"00-{client.trace_id}-{client.span_id}-01"]


def test_a_retried_fault_shows_sibling_attempt_spans_the_first_with_error_type(run: Run) -> None:
    attempts = run.clients("retry")
    assert [a.attributes.get("error.type") for a in attempts] == ["RateLimitError", None]
    assert [a.status for a in attempts] == ["error", "unset"]
    assert {a.parent_span_id for a in attempts} == {run.server("retry").span_id}
    assert [e["llmcore.attempt"] for e in run.server("retry").events_named("llmcore.retry")] == [1]
    upstream = [r.traceparent for r in run.upstream if r.model == "grok-retry"]
    assert upstream == [f"00-{a.trace_id}-{a.span_id}-01" for a in attempts]  # one context per attempt


def test_a_failure_has_error_type_on_the_attempts_and_the_server_span(run: Run) -> None:
    assert run.sent["fail"].outcome == "InternalServerError"  # the client saw the proxy's 502
    attempts = run.clients("fail")
    assert [a.attributes["error.type"] for a in attempts] == ["UpstreamUnavailableError"] * 2
    assert [a.attributes["http.response.status_code"] for a in attempts] == [500, 500]
    server = run.server("fail")
    assert (server.attributes["http.response.status_code"], server.attributes["error.type"]) == (502, "502")
    assert server.status == "error"
    [end] = server.events_named("llmcore.request.end")
    assert end["llmcore.outcome"] == "UpstreamUnavailableError"


def test_a_stream_that_completes_ends_complete_and_ok(run: Run) -> None:
    [client] = run.clients("stream")
    assert client.attributes["gen_ai.request.stream"] is True
    assert client.events_named("llmcore.stream.end") == [{"llmcore.outcome": "complete"}]
    assert client.attributes["gen_ai.usage.output_tokens"] > 0
    assert 0 < client.attributes["gen_ai.response.time_to_first_chunk"] < 10
    [end] = run.server("stream").events_named("llmcore.request.end")
    assert (end["llmcore.outcome"], end["llmcore.stream"]) == ("ok", True)


def test_a_stream_cut_mid_way_ends_with_an_upstream_error_and_an_incomplete_request(run: Run) -> None:
    [client] = run.clients("cut")
    assert client.events_named("llmcore.stream.end") == [{"llmcore.outcome": "upstream_error"}]
    assert client.status == "error" and client.attributes["error.type"]
    server = run.server("cut")
    assert server.attributes["http.response.status_code"] == 200  # the SSE error event went on the open stream
    assert [e["llmcore.reason"] for e in server.events_named("llmcore.stream.incomplete")] == ["connection_lost"]
    assert server.events_named("llmcore.request.end")[0]["llmcore.outcome"] == "incomplete"


def test_param_drops_are_events_on_the_server_span(run: Run) -> None:
    drops = run.server("ok").events_named("llmcore.param_adjusted")
    assert [(d["llmcore.param"], d["llmcore.action"]) for d in drops] == [("stop", "dropped")]


def test_the_anthropic_messages_route_is_traced_with_its_api(run: Run) -> None:
    assert run.sent["messages"].outcome == "ok"
    assert run.server("messages").name == "POST /v1/messages"
    [client] = run.clients("messages")
    assert (client.attributes["llmcore.api"], client.attributes["gen_ai.request.max_tokens"]) == ("messages", 64)
    assert client.parent_span_id == run.server("messages").span_id


def test_a_request_without_traceparent_starts_a_trace_and_probes_are_not_traced(run: Run) -> None:
    request_id = run.sent["untraced"].outcome
    [server] = [s for s in run.spans if s.kind == "server" and s.attributes.get("llmcore.request_id") == request_id]
    assert server.parent_span_id == ""
    assert not [s for s in run.spans if "health" in s.name]
    assert sum(s.kind == "server" for s in run.spans) == len(run.sent)
