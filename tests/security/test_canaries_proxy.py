"""The canary suite, proxy half: every endpoint and every error of the proxy, and no canary in anything it returns.

The proxy runs as a real server (``BackgroundProxy``) in front of the fakes,
with the canary master key. Logging is set up at TRACE *without* telling the
sink any secret: the proxy must register its own keys (``serve`` does).
Each call is made with JSON logs off and on; the status line, every response
header and every body byte, the log lines, the process's stdout and stderr are
captured and scanned. The module ends by scanning ``/metrics`` and what the
upstreams received. A second proxy wraps an adapter that crashes with the key
in its message: the client gets a bare 500, the log a masked traceback.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from attrs import field, frozen

from llmcore.adapters.log_setup import configure_logging, reset_logging
from llmcore.bootstrap import build_runtime
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing.fake_xai import FakeXAIServer, Fault
from tests.security.canary_kit import (
    BROKEN, ECHO_MARKER, GROK, HELLO, IMPATIENT, PARTNER, STANDARD_FAULTS, Canaries, CrashingCompletion, Evidence,
    ADAPTERS, Upstreams, echo_faults, write_config,
)

pytestmark = pytest.mark.slow  # LiteLLM and two servers; each call then takes milliseconds

LOG_MODES = ("text", "json")


class Sink:
    """The one log sink of the module; each test reads and empties it."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    def take(self) -> str:
        taken, self.lines = "".join(self.lines), []
        return taken


@frozen
class Deployment:
    canaries: Canaries
    upstreams: Upstreams
    proxy: BackgroundProxy
    crashing: BackgroundProxy
    sink: Sink
    http: httpx.Client


@pytest.fixture(scope="module", params=ADAPTERS)
def deployment(
    canaries: Canaries, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
) -> Iterator[Deployment]:
    sink = Sink()
    configure_logging("TRACE", sink=sink)  # no secrets: the proxy must add its own
    config = write_config(tmp_path_factory.mktemp("proxy"), adapter=request.param)
    try:
        with Upstreams(canaries) as upstreams:
            env = canaries.env(upstreams)
            runtime = build_runtime(config, env)
            runtime.warm_up()
            crash_runtime = build_runtime(config, env, completion=CrashingCompletion())
            with BackgroundProxy(runtime) as proxy, BackgroundProxy(crash_runtime) as crashing, \
                    httpx.Client(trust_env=False, timeout=30) as http:
                yield Deployment(canaries, upstreams, proxy, crashing, sink, http)
    finally:
        reset_logging()


# --- the calls ------------------------------------------------------------------------------------------

Script = Callable[[Upstreams, Canaries], None]


@frozen
class Call:
    """One HTTP call to the proxy, the faults scripted upstream first, and the status it must get."""

    method: str
    path: str
    status: int
    body: Callable[[Canaries], Any] = field(default=None)
    headers: Callable[[Canaries], dict[str, str]] = field(default=lambda c: {"Authorization": f"Bearer {c.master}"})
    script: Script | None = None
    crashing: bool = False


def chat(model: str, stream: bool = False) -> Callable[[Canaries], Any]:
    def body(c: Canaries) -> Any:
        document: dict[str, Any] = {"model": model, "messages": HELLO}
        if stream:
            document.update(stream=True, stream_options={"include_usage": True})
        return document
    return body


def faults(server: str, model: str, make: Callable[[Canaries], Fault], times: int = 2) -> Script:
    """Script ``times`` faults (the try and the one retry) on the Grok or the partner fake."""
    def script(upstreams: Upstreams, c: Canaries) -> None:
        getattr(upstreams, server).script(*[make(c)] * times, model=model)
    return script


def grok_fault(name: str, times: int = 2) -> Script:
    return faults("grok", GROK, lambda c: STANDARD_FAULTS[name], times)


def grok_echo(name: str) -> Script:
    return faults("grok", GROK, lambda c: echo_faults(c.grok)[name])


def partner_echo(name: str) -> Script:
    return faults("partner", "partner-upstream", lambda c: echo_faults(c.partner)[name])


def message_with_model(pick: Callable[[Canaries], str]) -> Callable[[Canaries], Any]:
    return lambda c: {"model": pick(c), "max_tokens": 64, "messages": HELLO}


def master(c: Canaries) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.master}"}


def bearer(pick: Callable[[Canaries], str], scheme: str = "Bearer") -> Callable[[Canaries], dict[str, str]]:
    return lambda c: {"Authorization": f"{scheme} {pick(c)}"}


POST, GET = "POST", "GET"
CHAT = "/v1/chat/completions"
STREAM = chat(GROK, stream=True)
CALLS: dict[str, Call] = {
    # every endpoint
    "chat json": Call(POST, CHAT, 200, chat(GROK)),
    "chat sse": Call(POST, CHAT, 200, STREAM),
    "chat partner": Call(POST, CHAT, 200, chat(PARTNER)),
    "chat without /v1": Call(POST, "/chat/completions", 200, chat(GROK)),
    "models": Call(GET, "/v1/models", 200),
    "health": Call(GET, "/health", 200),
    "readiness": Call(GET, "/health/readiness", 200),
    "metrics": Call(GET, "/metrics", 200),
    "unknown route": Call(GET, "/v1/keys", 404),
    # refused before the Core
    "400 malformed": Call(POST, CHAT, 400, lambda c: b'{"model": "grok-code-fast-1", "messages": ['),
    "400 malformed with a key in it": Call(
        POST, CHAT, 400, lambda c: f'{{"model": "x", "api_key": "{c.grok}", "master": "{c.master}", "messages": ['),
    "400 key in a param name": Call(
        POST, CHAT, 400, lambda c: {"model": GROK, "messages": HELLO, "request_id": c.grok}),
    "401 no key": Call(POST, CHAT, 401, chat(GROK), headers=lambda c: {}),
    "401 master key one char off": Call(
        POST, CHAT, 401, chat(GROK), headers=bearer(lambda c: c.one_char_off(c.master))),
    "401 master key as Basic": Call(POST, CHAT, 401, chat(GROK), headers=bearer(lambda c: c.master, "Basic")),
    "401 Grok key instead of master": Call(GET, "/v1/models", 401, headers=bearer(lambda c: c.grok)),
    "401 OpenAI key on metrics": Call(GET, "/metrics", 401, headers=bearer(lambda c: c.openai)),
    "master key as the request id": Call(POST, CHAT, 200, chat(GROK),
                                         headers=lambda c: {**master(c), "x-request-id": c.master}),
    "404 a key as the model": Call(POST, CHAT, 404, lambda c: {"model": c.partner, "messages": HELLO}),
    "404 a key-shaped model": Call(POST, CHAT, 404, lambda c: {"model": c.openai, "messages": HELLO}),
    "413 oversize with a key in it": Call(
        POST, CHAT, 413, lambda c: {"model": GROK, "messages": [{"role": "user", "content": c.grok * 40000}]}),
    # upstream errors, by the error table
    "429 rate limit": Call(POST, CHAT, 429, chat(GROK), script=grok_fault("rate_limit")),
    "429 credits": Call(POST, CHAT, 429, chat(GROK), script=grok_fault("credits_exhausted", 1)),
    "429 echoing text": Call(POST, CHAT, 429, chat(GROK), script=grok_echo("echo_text_429")),
    "502 bad key": Call(POST, CHAT, 502, chat(GROK), script=grok_fault("bad_key", 1)),
    "502 forbidden": Call(POST, CHAT, 502, chat(GROK), script=grok_fault("forbidden", 1)),
    "400 bad request": Call(POST, CHAT, 400, chat(GROK), script=grok_fault("bad_request", 1)),
    "502 server error": Call(POST, CHAT, 502, chat(GROK), script=grok_fault("server_error")),
    "502 html gateway": Call(POST, CHAT, 502, chat(GROK), script=grok_fault("bad_gateway_html")),
    "502 echoing html": Call(POST, CHAT, 502, chat(GROK), script=grok_echo("echo_html_502")),
    "400 echoing xai": Call(POST, CHAT, 502, chat(GROK), script=grok_echo("echo_xai_400")),  # xAI's wrong key
    "400 echoing openai": Call(POST, CHAT, 400, chat(GROK), script=grok_echo("echo_openai_400")),
    "502 echoing 401": Call(POST, CHAT, 502, chat(GROK), script=grok_echo("echo_openai_401")),
    "502 echoing 500": Call(POST, CHAT, 502, chat(GROK), script=grok_echo("echo_openai_500")),
    "502 echoing 503": Call(POST, CHAT, 502, chat(GROK), script=grok_echo("echo_openai_503")),
    "400 partner echoing": Call(POST, CHAT, 400, chat(PARTNER), script=partner_echo("echo_openai_400")),
    "502 partner echoing html": Call(POST, CHAT, 502, chat(PARTNER), script=partner_echo("echo_html_502")),
    "502 partner echoing 500, streamed": Call(
        POST, CHAT, 502, chat(PARTNER, stream=True), script=partner_echo("echo_openai_500")),
    "502 dropped connection": Call(POST, CHAT, 502, chat(GROK), script=grok_fault("drop_connection")),
    "503 unavailable upstream": Call(POST, CHAT, 502, chat(GROK), script=grok_fault("unavailable")),
    "503 unavailable model": Call(POST, CHAT, 503, chat(BROKEN)),
    "504 gateway timeout": Call(POST, CHAT, 504, chat(GROK), script=grok_fault("gateway_timeout")),
    "504 slow upstream": Call(POST, CHAT, 504, chat(IMPATIENT), script=faults(
        "grok", IMPATIENT, lambda c: STANDARD_FAULTS["slow"], 1)),
    # streams
    "sse error event mid-stream": Call(POST, CHAT, 200, STREAM, script=grok_fault("cut_mid_stream", 1)),
    "sse without finish": Call(POST, CHAT, 200, STREAM, script=grok_fault("eof_without_finish", 1)),
    "sse empty deltas": Call(POST, CHAT, 200, STREAM, script=grok_fault("empty_deltas", 1)),
    "502 zero events": Call(POST, CHAT, 502, STREAM, script=grok_fault("zero_events")),
    "502 echoing before the first chunk": Call(POST, CHAT, 502, STREAM, script=grok_echo("echo_openai_500")),
    # a crash inside the adapter
    "500 adapter crash": Call(POST, CHAT, 500, chat(GROK), crashing=True),
    "500 adapter crash, partner": Call(POST, CHAT, 500, chat(PARTNER), crashing=True),
    "500 adapter crash, streamed": Call(POST, CHAT, 500, STREAM, crashing=True),
}


def message(model: str, stream: bool = False) -> Callable[[Canaries], Any]:
    def body(c: Canaries) -> Any:
        return {"model": model, "max_tokens": 64, "messages": HELLO, "stream": stream}
    return body


def api_key(pick: Callable[[Canaries], str]) -> Callable[[Canaries], dict[str, str]]:
    return lambda c: {"x-api-key": pick(c), "anthropic-version": "2023-06-01"}


MESSAGES = "/v1/messages"
MESSAGE_STREAM = message(GROK, stream=True)
# The Anthropic Messages API: the same faults, Anthropic's statuses (anthropic_wire.ERROR_TABLE).
MESSAGE_CALLS: dict[str, Call] = {
    "messages json": Call(POST, MESSAGES, 200, message(GROK), headers=api_key(lambda c: c.master)),
    "messages sse": Call(POST, MESSAGES, 200, MESSAGE_STREAM),
    "messages partner": Call(POST, MESSAGES + "?beta=true", 200, message(PARTNER)),
    "messages count_tokens": Call(POST, MESSAGES + "/count_tokens", 200, lambda c: {"model": GROK, "messages": HELLO}),
    "messages 400 malformed with a key in it": Call(
        POST, MESSAGES, 400, lambda c: f'{{"model": "x", "api_key": "{c.grok}", "master": "{c.master}", "messages": ['),
    "messages 400 a key in a field": Call(
        POST, MESSAGES, 400, lambda c: {"model": GROK, "max_tokens": 1, "messages": [{"role": c.grok}]}),
    "messages 401 no key": Call(POST, MESSAGES, 401, message(GROK), headers=lambda c: {}),
    "messages 401 x-api-key one char off": Call(
        POST, MESSAGES, 401, message(GROK), headers=api_key(lambda c: c.one_char_off(c.master))),
    "messages 401 Grok key as x-api-key": Call(POST, MESSAGES, 401, message(GROK), headers=api_key(lambda c: c.grok)),
    "messages 404 a key as the model": Call(POST, MESSAGES, 404, message_with_model(lambda c: c.partner)),
    "messages 429 rate limit": Call(POST, MESSAGES, 429, message(GROK), script=grok_fault("rate_limit")),
    "messages 402 credits": Call(POST, MESSAGES, 402, message(GROK), script=grok_fault("credits_exhausted", 1)),
    "messages 429 echoing text": Call(POST, MESSAGES, 429, message(GROK), script=grok_echo("echo_text_429")),
    "messages 502 bad key": Call(POST, MESSAGES, 502, message(GROK), script=grok_fault("bad_key", 1)),
    "messages 502 echoing xai": Call(POST, MESSAGES, 502, message(GROK), script=grok_echo("echo_xai_400")),
    "messages 400 echoing openai": Call(POST, MESSAGES, 400, message(GROK), script=grok_echo("echo_openai_400")),
    "messages 529 echoing 500": Call(POST, MESSAGES, 529, message(GROK), script=grok_echo("echo_openai_500")),
    "messages 529 echoing 503, partner": Call(
        POST, MESSAGES, 529, message(PARTNER), script=partner_echo("echo_openai_503")),
    "messages 529 echoing html, streamed": Call(
        POST, MESSAGES, 529, MESSAGE_STREAM, script=grok_echo("echo_html_502")),
    "messages 529 unavailable upstream": Call(POST, MESSAGES, 529, message(GROK), script=grok_fault("unavailable")),
    "messages 503 unavailable model": Call(POST, MESSAGES, 503, message(BROKEN)),
    "messages 504 gateway timeout": Call(POST, MESSAGES, 504, message(GROK), script=grok_fault("gateway_timeout")),
    "messages error event mid-stream": Call(POST, MESSAGES, 200, MESSAGE_STREAM,
                                            script=grok_fault("cut_mid_stream", 1)),
    "messages error event without finish": Call(POST, MESSAGES, 200, MESSAGE_STREAM,
                                                script=grok_fault("eof_without_finish", 1)),
    "messages 502 zero events": Call(POST, MESSAGES, 502, MESSAGE_STREAM, script=grok_fault("zero_events")),
    "messages 500 adapter crash": Call(POST, MESSAGES, 500, message(GROK), crashing=True),
    "messages 500 adapter crash, streamed": Call(POST, MESSAGES, 500, MESSAGE_STREAM, crashing=True),
}
CALLS.update(MESSAGE_CALLS)


def send(deployment: Deployment, call: Call) -> httpx.Response:
    c = deployment.canaries
    proxy = deployment.crashing if call.crashing else deployment.proxy
    body = call.body(c) if call.body is not None else None
    content = body if isinstance(body, (bytes, str)) else (json.dumps(body).encode() if body is not None else None)
    with deployment.http.stream(call.method, proxy.url + call.path, headers=call.headers(c), content=content) as reply:
        reply.read()
    return reply


@pytest.mark.parametrize("log_mode", LOG_MODES)
@pytest.mark.parametrize("name", list(CALLS))
def test_no_canary_leaves_the_proxy(
    deployment: Deployment, capfd: pytest.CaptureFixture[str], name: str, log_mode: str,
) -> None:
    call, c = CALLS[name], deployment.canaries
    deployment.upstreams.clear()
    if call.script is not None:
        call.script(deployment.upstreams, c)
    configure_logging("TRACE", json=log_mode == "json", sink=deployment.sink)

    reply = send(deployment, call)

    evidence = Evidence(c)
    evidence.add_http(name, reply.status_code, reply.headers.multi_items(), reply.content)
    evidence.add("log sink", deployment.sink.take())
    out, err = capfd.readouterr()
    evidence.add("stdout", out)
    evidence.add("stderr", err)
    evidence.assert_clean()
    deployment.upstreams.assert_clean()
    assert reply.status_code == call.status, reply.text
    assert reply.headers["x-request-id"]
    if name.startswith("sse error") or name.startswith("sse without"):
        assert '"error"' in reply.text and reply.text.rstrip().endswith("data: [DONE]")
    if name.startswith("messages error event"):
        assert reply.text.rstrip().splitlines()[-2] == "event: error", reply.text
    if "echoing" in name:
        assert ECHO_MARKER in reply.text, "the echoing body never reached the client's error: nothing was tested"
    if name == "master key as the request id":
        assert reply.headers["x-request-id"] != c.master  # replaced, so it never went upstream either
    if call.crashing:
        assert "internal error" in reply.text
        logs = evidence.text()
        assert "adapter bug" in logs and "Traceback" in logs  # logged with its traceback, masked


def test_metrics_and_upstreams_after_every_call(deployment: Deployment) -> None:
    """Run last in the module: /metrics has counted every call above, with no canary in a label."""
    reply = deployment.http.get(deployment.proxy.url + "/metrics", headers=master(deployment.canaries))
    evidence = Evidence(deployment.canaries)
    evidence.add_http("metrics", reply.status_code, reply.headers.multi_items(), reply.content)
    evidence.assert_clean()
    assert "llmcore_requests_total" in reply.text and "llmcore_upstream_errors_total" in reply.text


def test_the_upstream_fakes_are_what_the_suite_thinks(deployment: Deployment) -> None:
    """The checks above mean something only if a wrong key is refused and recorded by its tail."""
    c = deployment.canaries
    deployment.upstreams.clear()
    grok: FakeXAIServer = deployment.upstreams.grok
    refused = deployment.http.post(grok.base_url + "/chat/completions", json={"model": GROK, "messages": HELLO},
                                   headers={"Authorization": f"Bearer {c.openai}"})
    assert refused.status_code == 400
    [record] = grok.requests
    assert record.key_tail == c.openai[-4:]
    with pytest.raises(AssertionError):
        deployment.upstreams.assert_clean()
    deployment.upstreams.clear()
