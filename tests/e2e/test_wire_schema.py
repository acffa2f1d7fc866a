"""Every body the proxy returns, validated against OpenAI's published schema (tests/schema_oracle.py).

Non-stream completions (plain with reasoning, tool calls, ``n`` = 2, logprobs),
every SSE chunk of every stream shape (the same, plus the usage chunk and a
stream that breaks after its first chunk), ``/v1/models`` and ``/models``, and
every error body of the status table. Through the recorded-traffic fake xAI
server and a generic OpenAI-compatible fake, with real LiteLLM in between.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from llmcore.testing.fake_xai import Fault
from tests.e2e.wire_deployment import GENERIC, GROK, HELLO, UNAVAILABLE, WEATHER_TOOL, WireDeployment, wire_deployment
from tests.schema_oracle import validate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

COMPLETION = "CreateChatCompletionResponse"
CHUNK = "CreateChatCompletionStreamResponse"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WireDeployment]:
    with wire_deployment(tmp_path_factory.mktemp("wire-schema")) as running:
        yield running


@pytest.fixture
def wire(deployment: WireDeployment) -> Iterator[WireDeployment]:
    deployment.clear()
    yield deployment
    deployment.clear()


# name -> the request body (without "stream"); each is sent as JSON and as SSE.
REQUESTS: dict[str, dict[str, Any]] = {
    "grok plain with reasoning": {"model": GROK, "messages": HELLO},
    "grok tool call": {"model": GROK, "messages": HELLO, "tools": [WEATHER_TOOL]},
    "grok n=2": {"model": GROK, "messages": HELLO, "n": 2},
    "grok logprobs": {"model": GROK, "messages": HELLO, "logprobs": True, "top_logprobs": 2},
    "generic plain": {"model": GENERIC, "messages": HELLO},
    "generic n=2 with logprobs": {"model": GENERIC, "messages": HELLO, "n": 2, "logprobs": True, "top_logprobs": 1},
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_non_stream_completion_matches_the_schema(wire: WireDeployment, name: str) -> None:
    body = REQUESTS[name]
    response = wire.post(body)
    assert response.status_code == 200, response.text
    document = response.json()
    validate(document, COMPLETION)
    assert [c["index"] for c in document["choices"]] == list(range(body.get("n", 1)))
    for choice in document["choices"]:
        assert "refusal" in choice["message"] and "logprobs" in choice  # required, null when empty
        assert (choice["logprobs"] is not None) == bool(body.get("logprobs"))


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_every_stream_chunk_matches_the_schema(wire: WireDeployment, name: str) -> None:
    body = {**REQUESTS[name], "stream_options": {"include_usage": True}}
    chunks = wire.sse(body)
    for chunk in chunks:
        validate(chunk, CHUNK)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    finished = {c["index"]: c["finish_reason"] for chunk in chunks for c in chunk["choices"] if c["finish_reason"]}
    assert sorted(finished) == list(range(body.get("n", 1)))


def test_a_stream_that_breaks_after_its_first_chunk_ends_with_a_schema_valid_error(wire: WireDeployment) -> None:
    wire.xai.script(Fault.cut_mid_stream(after_events=2))
    chunks = wire.sse({"model": GROK, "messages": HELLO})
    *deltas, error = chunks
    assert deltas
    for chunk in deltas:
        validate(chunk, CHUNK)
    validate(error, "ErrorResponse")
    assert error["error"]["code"] == "stream_incomplete"


@pytest.mark.parametrize("path", ["/v1/models", "/models"])
def test_models_list_matches_the_schema(wire: WireDeployment, path: str) -> None:
    response = wire.http.get(wire.proxy.url + path, headers=wire.auth)
    assert response.status_code == 200
    validate(response.json(), "ListModelsResponse")
    assert {m["id"] for m in response.json()["data"]} == {GROK, GENERIC}


def _raw(wire: WireDeployment, content: bytes, headers: dict[str, str] | None = None) -> Any:
    return wire.http.post(wire.proxy.url + "/v1/chat/completions", content=content,
                          headers={**wire.auth, "Content-Type": "application/json", **(headers or {})})


HELLO_BODY = {"model": GROK, "messages": HELLO}
# name -> (fault scripted on the xAI fake, how to send, expected status)
ERRORS: dict[str, tuple[Fault | None, Any, int]] = {
    "malformed JSON": (None, lambda w: _raw(w, b"{not json"), 400),
    "missing messages": (None, lambda w: w.post({"model": GROK}), 400),
    "unknown model": (None, lambda w: w.post({"model": "nope", "messages": HELLO}), 404),
    "unknown route": (None, lambda w: w.http.get(w.proxy.url + "/v1/nothing", headers=w.auth), 404),
    "no master key": (None, lambda w: w.http.post(w.proxy.url + "/v1/chat/completions", json=HELLO_BODY), 401),
    "too large": (None, lambda w: _raw(w, b'{"x":"' + b"a" * 2_000_000 + b'"}'), 413),
    "unavailable model": (None, lambda w: w.post({"model": UNAVAILABLE, "messages": HELLO}), 503),
    "rate limited": (Fault.rate_limit(retry_after=1), lambda w: w.post(HELLO_BODY), 429),
    "credits spent": (Fault.credits_exhausted(), lambda w: w.post(HELLO_BODY), 429),
    "upstream rejected": (Fault.bad_request("Invalid request"), lambda w: w.post(HELLO_BODY), 400),
    "upstream key refused": (Fault.forbidden(), lambda w: w.post(HELLO_BODY), 502),
    "upstream 500": (Fault.server_error(), lambda w: w.post(HELLO_BODY), 502),
    "upstream 504": (Fault.gateway_timeout(), lambda w: w.post(HELLO_BODY), 504),
    "stream with no events": (Fault.zero_events(), lambda w: w.post({**HELLO_BODY, "stream": True}), 502),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_error_body_matches_the_schema(wire: WireDeployment, name: str) -> None:
    fault, send, status = ERRORS[name]
    if fault is not None:
        wire.xai.script(fault)
    response = send(wire)
    assert response.status_code == status, response.text
    validate(response.json(), "ErrorResponse")


@pytest.mark.parametrize("path", ["/health", "/v1/health", "/health/readiness", "/v1/health/readiness"])
def test_health_answers_with_and_without_v1(wire: WireDeployment, path: str) -> None:
    response = wire.http.get(wire.proxy.url + path)
    # readiness is 200 while any model serves; no-key-model is unavailable, the other two serve.
    assert response.status_code == 200, response.text
