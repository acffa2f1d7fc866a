"""The canary suite for ``POST /v1/responses``: success, every fault, both log formats; no canary anywhere.

The same deployment and scan as ``test_canaries_proxy`` (its module fixture, shared here): the proxy with the
canary master key in front of the Grok and partner fakes, a second proxy whose adapter crashes with the key in
its message, logs at TRACE in text and JSON. Each call's status line, headers, body, log lines, stdout and
stderr are scanned, and what the upstreams received.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmcore.adapters.log_setup import configure_logging
from tests.security.canary_kit import BROKEN, ECHO_MARKER, GROK, HELLO, IMPATIENT, PARTNER, STANDARD_FAULTS, Canaries
from tests.security.canary_kit import Evidence
from tests.security.test_canaries_proxy import (  # noqa: F401 - deployment: the module fixture, shared
    LOG_MODES, POST, Call, Deployment, bearer, deployment, faults, grok_echo, grok_fault, master, partner_echo, send,
)

pytestmark = pytest.mark.slow

RESPONSES = "/v1/responses"


def responses(model: str, stream: bool = False, **extra: Any) -> Callable[[Canaries], Any]:
    def body(c: Canaries) -> Any:
        return {"model": model, "input": HELLO, "stream": stream, **extra}
    return body


STREAM = responses(GROK, stream=True)
# The same faults as the chat route, with the chat route's statuses (the one OpenAI error table).
CALLS: dict[str, Call] = {
    "responses json": Call(POST, RESPONSES, 200, responses(GROK, instructions="Be brief.")),
    "responses sse": Call(POST, RESPONSES, 200, STREAM),
    "responses partner": Call(POST, RESPONSES, 200, responses(PARTNER)),
    "responses without /v1": Call(POST, "/responses", 200, responses(GROK)),
    "responses hosted tools dropped": Call(POST, RESPONSES, 200, responses(GROK, tools=[{"type": "web_search"}])),
    "responses master key as the request id": Call(POST, RESPONSES, 200, responses(GROK),
                                                   headers=lambda c: {**master(c), "x-request-id": c.master}),
    "responses 400 malformed with a key in it": Call(
        POST, RESPONSES, 400, lambda c: f'{{"model": "x", "api_key": "{c.grok}", "master": "{c.master}", "input": ['),
    "responses 400 a key as an item type": Call(
        POST, RESPONSES, 400, lambda c: {"model": GROK, "input": [{"type": c.grok}]}),
    "responses 400 a key as previous_response_id": Call(
        POST, RESPONSES, 400, lambda c: {"model": GROK, "input": "hi", "previous_response_id": c.master}),
    "responses 401 no key": Call(POST, RESPONSES, 401, responses(GROK), headers=lambda c: {}),
    "responses 401 master key one char off": Call(
        POST, RESPONSES, 401, responses(GROK), headers=bearer(lambda c: c.one_char_off(c.master))),
    "responses 401 Grok key instead of master": Call(POST, RESPONSES, 401, responses(GROK),
                                                     headers=bearer(lambda c: c.grok)),
    "responses 404 a key as the model": Call(POST, RESPONSES, 404, lambda c: {"model": c.partner, "input": "hi"}),
    "responses 429 rate limit": Call(POST, RESPONSES, 429, responses(GROK), script=grok_fault("rate_limit")),
    "responses 429 credits": Call(POST, RESPONSES, 429, responses(GROK), script=grok_fault("credits_exhausted", 1)),
    "responses 429 echoing text": Call(POST, RESPONSES, 429, responses(GROK), script=grok_echo("echo_text_429")),
    "responses 502 bad key": Call(POST, RESPONSES, 502, responses(GROK), script=grok_fault("bad_key", 1)),
    "responses 502 forbidden": Call(POST, RESPONSES, 502, responses(GROK), script=grok_fault("forbidden", 1)),
    "responses 400 bad request": Call(POST, RESPONSES, 400, responses(GROK), script=grok_fault("bad_request", 1)),
    "responses 502 server error": Call(POST, RESPONSES, 502, responses(GROK), script=grok_fault("server_error")),
    "responses 502 html gateway": Call(POST, RESPONSES, 502, responses(GROK), script=grok_fault("bad_gateway_html")),
    "responses 502 echoing html": Call(POST, RESPONSES, 502, responses(GROK), script=grok_echo("echo_html_502")),
    "responses 502 echoing xai": Call(POST, RESPONSES, 502, responses(GROK), script=grok_echo("echo_xai_400")),
    "responses 400 echoing openai": Call(POST, RESPONSES, 400, responses(GROK), script=grok_echo("echo_openai_400")),
    "responses 502 echoing 401": Call(POST, RESPONSES, 502, responses(GROK), script=grok_echo("echo_openai_401")),
    "responses 502 echoing 500, streamed": Call(POST, RESPONSES, 502, STREAM, script=grok_echo("echo_openai_500")),
    "responses 400 partner echoing": Call(POST, RESPONSES, 400, responses(PARTNER),
                                          script=partner_echo("echo_openai_400")),
    "responses 502 partner echoing 503, streamed": Call(
        POST, RESPONSES, 502, responses(PARTNER, stream=True), script=partner_echo("echo_openai_503")),
    "responses 502 dropped connection": Call(POST, RESPONSES, 502, responses(GROK),
                                             script=grok_fault("drop_connection")),
    "responses 502 unavailable upstream": Call(POST, RESPONSES, 502, responses(GROK), script=grok_fault("unavailable")),
    "responses 503 unavailable model": Call(POST, RESPONSES, 503, responses(BROKEN)),
    "responses 504 gateway timeout": Call(POST, RESPONSES, 504, responses(GROK), script=grok_fault("gateway_timeout")),
    "responses 504 slow upstream": Call(POST, RESPONSES, 504, responses(IMPATIENT), script=faults(
        "grok", IMPATIENT, lambda c: STANDARD_FAULTS["slow"], 1)),
    "responses failed mid-stream": Call(POST, RESPONSES, 200, STREAM, script=grok_fault("cut_mid_stream", 1)),
    "responses failed without finish": Call(POST, RESPONSES, 200, STREAM, script=grok_fault("eof_without_finish", 1)),
    "responses sse empty deltas": Call(POST, RESPONSES, 200, STREAM, script=grok_fault("empty_deltas", 1)),
    "responses 502 zero events": Call(POST, RESPONSES, 502, STREAM, script=grok_fault("zero_events")),
    "responses 500 adapter crash": Call(POST, RESPONSES, 500, responses(GROK), crashing=True),
    "responses 500 adapter crash, streamed": Call(POST, RESPONSES, 500, STREAM, crashing=True),
}


@pytest.mark.parametrize("log_mode", LOG_MODES)
@pytest.mark.parametrize("name", list(CALLS))
def test_no_canary_leaves_the_responses_route(
    deployment: Deployment, capfd: pytest.CaptureFixture[str], name: str, log_mode: str,  # noqa: F811
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
    if name.startswith("responses failed"):
        assert reply.text.rstrip().splitlines()[-2] == "event: response.failed", reply.text
    if "echoing" in name:
        assert ECHO_MARKER in reply.text, "the echoing body never reached the client's error: nothing was tested"
    if "request id" in name:
        assert reply.headers["x-request-id"] != c.master
    if call.crashing:
        assert "internal error" in reply.text
        assert "adapter bug" in evidence.text() and "Traceback" in evidence.text()


def test_metrics_after_every_responses_call(deployment: Deployment) -> None:  # noqa: F811
    """Run last in the module: /metrics counted the calls above under api="responses", with no canary."""
    reply = deployment.http.get(deployment.proxy.url + "/metrics", headers=master(deployment.canaries))
    evidence = Evidence(deployment.canaries)
    evidence.add_http("metrics", reply.status_code, reply.headers.multi_items(), reply.content)
    evidence.assert_clean()
    assert 'api="responses"' in reply.text and 'param="tools[web_search]"' in reply.text
