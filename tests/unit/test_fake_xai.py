"""Tests of the fake xAI server itself, spoken to with plain httpx (never LiteLLM)."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from llmcore.testing import fake_xai
from llmcore.testing.fake_xai import FakeXAIServer, Fault, RecordedRequest

API_KEY = "xai-test-0123456789-SECRET-WXYZ"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CASSETTES = Path(fake_xai.__file__).with_name("cassettes")
SIMPLE = {
    "model": "grok-code-fast-1",
    "messages": [{"role": "system", "content": "You are a helpful assistant"},
                 {"role": "user", "content": "Say hi in Portuguese"}],
}
STREAM = {**SIMPLE, "stream": True}
STREAM_WITH_USAGE = {**STREAM, "stream_options": {"include_usage": True}}
WEATHER_TOOL = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}


@pytest.fixture
def server() -> Iterator[FakeXAIServer]:
    with FakeXAIServer(api_key=API_KEY) as running:
        yield running


@pytest.fixture
def client(server: FakeXAIServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=5.0) as http:
        yield http


def recorded_body(cassette: str, index: int = 0) -> str:
    with open(CASSETTES / cassette, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["interactions"][index]["response"]["body"]


def sse_payloads(text: str) -> list[str]:
    return [block.removeprefix("data: ") for block in text.split("\n\n") if block]


def sse_documents(text: str) -> list[dict[str, Any]]:
    return [json.loads(payload) for payload in sse_payloads(text) if payload != "[DONE]"]


def streamed_content(documents: list[dict[str, Any]], field: str = "content") -> str:
    return "".join(doc["choices"][0]["delta"].get(field) or "" for doc in documents if doc["choices"])


# --- replayed answers ---------------------------------------------------------------------------

def test_non_stream_replays_the_recorded_answer_with_xai_usage(client: httpx.Client) -> None:
    response = client.post("/chat/completions", json=SIMPLE)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == recorded_body("simple.yaml").encode()
    answer = response.json()
    usage = answer["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (213, 2, 471)
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 256
    assert usage["prompt_tokens_details"]["cached_tokens"] == 192
    assert usage["cost_in_usd_ticks"] == 3950400
    message = answer["choices"][0]["message"]
    assert message["content"] == "Olá!"
    assert message["reasoning_content"].startswith("## Considering the Request")


def test_answer_echoes_the_requested_model(client: httpx.Client) -> None:
    answer = client.post("/chat/completions", json={**SIMPLE, "model": "grok-other"}).json()
    assert answer["model"] == "grok-other"


def test_served_model_replaces_the_model_everywhere() -> None:
    with FakeXAIServer(served_model="grok-4.3") as server, httpx.Client(base_url=server.base_url) as http:
        assert http.post("/chat/completions", json=SIMPLE).json()["model"] == "grok-4.3"
        documents = sse_documents(http.post("/chat/completions", json=STREAM_WITH_USAGE).text)
        assert {doc["model"] for doc in documents} == {"grok-4.3"}
        models = [model["id"] for model in http.get("/models").json()["data"]]
        assert "grok-code-fast-1" in models


@pytest.mark.parametrize(("extra", "tool_name"), [
    ({"tools": [WEATHER_TOOL]}, "weather"),
    ({"response_format": {"type": "json_object"}}, "Person"),
    ({"tools": [WEATHER_TOOL], "tool_choice": {"type": "function", "function": {"name": "Person"}}},
     "Person"),
])
def test_request_shape_picks_the_recording(
    client: httpx.Client, extra: dict[str, Any], tool_name: str
) -> None:
    choice = client.post("/chat/completions", json={**SIMPLE, **extra}).json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"]["name"] == tool_name


def test_tool_result_turn_answers_with_text(client: httpx.Client) -> None:
    messages = SIMPLE["messages"] + [{"role": "tool", "tool_call_id": "call_1", "content": "40 C"}]
    body = {**SIMPLE, "messages": messages, "tools": [WEATHER_TOOL]}
    message = client.post("/chat/completions", json=body).json()["choices"][0]["message"]
    assert "40°C" in message["content"]


def test_stream_without_include_usage_has_no_usage_event(client: httpx.Client) -> None:
    response = client.post("/chat/completions", json=STREAM)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.text.endswith("data: [DONE]\n\n")
    documents = sse_documents(response.text)
    assert all(doc["choices"] for doc in documents)
    assert documents[0]["choices"][0]["delta"] == {"reasoning_content": "First", "role": "assistant"}
    assert streamed_content(documents) == "Olá!"
    assert documents[-1]["choices"][0]["finish_reason"] == "stop"


def test_stream_with_include_usage_replays_the_recording_byte_for_byte(client: httpx.Client) -> None:
    response = client.post("/chat/completions", json=STREAM_WITH_USAGE)

    assert response.text == recorded_body("simple_streaming.yaml")
    usage_event = sse_documents(response.text)[-1]
    assert usage_event["choices"] == []
    assert usage_event["usage"]["total_tokens"] == 413


def test_tool_stream_replays_the_tool_recording(client: httpx.Client) -> None:
    response = client.post("/chat/completions", json={**STREAM, "tools": [WEATHER_TOOL]})
    documents = sse_documents(response.text)
    deltas = [doc["choices"][0]["delta"] for doc in documents]
    calls = [delta["tool_calls"] for delta in deltas if "tool_calls" in delta]
    assert len(calls) == 1 and calls[0][0]["function"]["name"] == "weather"
    assert documents[-1]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("include_usage", [False, True])
def test_synthetic_stream_sends_exactly_n_content_deltas(include_usage: bool) -> None:
    body = STREAM_WITH_USAGE if include_usage else STREAM
    with FakeXAIServer(stream_chunks=5) as server, httpx.Client(base_url=server.base_url) as http:
        response = http.post("/chat/completions", json=body)
        non_stream = http.post("/chat/completions", json=SIMPLE).json()
    payloads = sse_payloads(response.text)
    documents = sse_documents(response.text)
    assert payloads[-1] == "[DONE]"
    assert documents[0]["choices"][0]["delta"]["role"] == "assistant"
    assert streamed_content(documents, "reasoning_content")
    assert streamed_content(documents) == "tok " * 5
    assert documents[5]["choices"][0]["finish_reason"] == "stop"
    assert len(documents) == (7 if include_usage else 6)
    if include_usage:
        assert documents[-1]["choices"] == [] and documents[-1]["usage"]["completion_tokens"] == 5
    assert non_stream["usage"]["total_tokens"] == 471


# --- auth and validation ------------------------------------------------------------------------

def test_wrong_key_gets_xais_400_with_a_masked_key(server: FakeXAIServer) -> None:
    headers = {"Authorization": "Bearer xai-wrong-key-YZ"}
    response = httpx.post(f"{server.base_url}/chat/completions", json=SIMPLE, headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "code": "Client specified an invalid argument",
        "error": "Incorrect API key provided: xa***YZ. You can obtain an API key from https://console.x.ai.",
    }


def test_missing_authorization_gets_401_flat_body(server: FakeXAIServer) -> None:
    response = httpx.post(f"{server.base_url}/chat/completions", json=SIMPLE)
    assert response.status_code == 401
    assert set(response.json()) == {"code", "error"}
    assert server.requests[0].key_tail is None


def test_models_lists_grok_code_fast_and_needs_the_key(server: FakeXAIServer, client: httpx.Client) -> None:
    listing = client.get("/models").json()
    assert listing["object"] == "list"
    assert [model["id"] for model in listing["data"]] == ["grok-code-fast-1"]
    assert httpx.get(f"{server.base_url}/models").status_code == 401


@pytest.mark.parametrize(("param", "camel"), [
    ("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty"), ("stop", "stop"),
    ("reasoning_effort", "reasoningEffort"), ("reasoning", "reasoning"),
])
def test_reasoning_model_rejects_unsupported_params(client: httpx.Client, param: str, camel: str) -> None:
    response = client.post("/chat/completions", json={**SIMPLE, "model": "grok-x", param: 0})
    assert response.status_code == 400
    assert response.json() == {
        "code": "Client specified an invalid argument",
        "error": f"Model grok-x does not support parameter {camel}.",
    }


@pytest.mark.parametrize("body", [
    {"model": "grok-code-fast-1", "messages": [{"role": "system", "content": "x", "name": "boss"}]},
    {"model": "grok-code-fast-1"},
    {"messages": SIMPLE["messages"]},
])
def test_invalid_requests_get_400(client: httpx.Client, body: dict[str, Any]) -> None:
    assert client.post("/chat/completions", json=body).status_code == 400


def test_name_on_non_user_message_has_xais_message(client: httpx.Client) -> None:
    body = {**SIMPLE, "messages": [{"role": "assistant", "content": "x", "name": "bot"}]}
    assert client.post("/chat/completions", json=body).json()["error"] == (
        "Only messages of role 'user' can have a name."
    )
    user_named = {**SIMPLE, "messages": [{"role": "user", "content": "x", "name": "ana"}]}
    assert client.post("/chat/completions", json=user_named).status_code == 200


def test_body_that_is_not_json_gets_400(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    response = client.post("/chat/completions", content=b"{not json", headers=headers)
    assert response.status_code == 400


# --- faults ------------------------------------------------------------------------------------

HTTP_DATE = "Wed, 21 Oct 2026 07:28:00 GMT"


@pytest.mark.parametrize(("fault", "status", "retry_after", "error_part"), [
    (Fault.rate_limit(), 429, "1", "Rate limit exceeded. Please retry after a short wait."),
    (Fault.rate_limit(retry_after=2.5), 429, "2.5", "Rate limit exceeded"),
    (Fault.rate_limit(retry_after=HTTP_DATE), 429, HTTP_DATE, "Rate limit exceeded"),
    (Fault.rate_limit(retry_after=None), 429, None, "Rate limit exceeded"),
    (Fault.credits_exhausted(), 429, None, "Your team 00000000-fake has either used all available credits"),
    (Fault.bad_key(), 400, None, "Incorrect API key provided: xa***YZ."),
    (Fault.forbidden(), 403, None, "Your newly created team doesn't have any credits or licenses yet."),
    (Fault.bad_request("This model's maximum prompt length is 256000"), 400, None, "maximum prompt length"),
    (Fault.server_error(), 500, None, ""),
    (Fault.unavailable(), 503, None, ""),
    (Fault.gateway_timeout(), 504, None, ""),
])
def test_error_faults_answer_with_xais_flat_body(
    server: FakeXAIServer, fault: Fault, status: int, retry_after: str | None, error_part: str
) -> None:
    server.script(fault)
    headers = {"Authorization": "Bearer xai-YZ"} if fault.kind == "bad_key" else AUTH
    response = httpx.post(f"{server.base_url}/chat/completions", json=SIMPLE, headers=headers)
    assert response.status_code == status
    assert response.headers.get("retry-after") == retry_after
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "error"} and isinstance(body["error"], str)
    assert error_part in body["error"]


def test_rate_limit_code_and_forbidden_code(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.rate_limit(), Fault.forbidden())
    assert client.post("/chat/completions", json=SIMPLE).json()["code"] == "Too Many Requests"
    assert client.post("/chat/completions", json=SIMPLE).json()["code"] == (
        "The caller does not have permission to execute the specified operation"
    )


def test_bad_gateway_is_a_long_html_page(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.bad_gateway_html())
    response = client.post("/chat/completions", json=SIMPLE)
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert len(response.content) > 600 and "<html" in response.text


def test_generic_status_fault(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.status(422, "unprocessable", "text/plain; charset=utf-8"))
    response = client.post("/chat/completions", json=SIMPLE)
    assert (response.status_code, response.text) == (422, "unprocessable")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_drop_connection_sends_no_response(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.drop_connection())
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/chat/completions", json=SIMPLE)
    assert client.post("/chat/completions", json=SIMPLE).status_code == 200


def test_slow_delays_the_answer(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.slow(0.2), Fault.slow(0.2))
    started = time.monotonic()
    assert client.post("/chat/completions", json=SIMPLE).status_code == 200
    assert client.post("/chat/completions", json=STREAM).text.endswith("data: [DONE]\n\n")
    assert time.monotonic() - started >= 0.4


def test_cut_mid_stream_breaks_the_connection(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.cut_mid_stream(after_events=3))
    lines: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("POST", "/chat/completions", json=STREAM_WITH_USAGE) as response:
            lines.extend(line for line in response.iter_lines() if line)
    assert len(lines) == 3
    assert not server.requests[0].disconnected


def test_eof_without_finish_ends_cleanly_without_finish_or_done(
    server: FakeXAIServer, client: httpx.Client
) -> None:
    server.script(Fault.eof_without_finish(after_events=3))
    response = client.post("/chat/completions", json=STREAM_WITH_USAGE)
    assert response.status_code == 200
    documents = sse_documents(response.text)
    assert len(documents) == 3 and "[DONE]" not in response.text
    assert all(not doc["choices"][0].get("finish_reason") for doc in documents)


def test_empty_deltas_pads_the_recording(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.empty_deltas(count=7))
    documents = sse_documents(client.post("/chat/completions", json=STREAM).text)
    empties = [doc for doc in documents if doc["choices"] == [{"index": 0, "delta": {}}]]
    assert len(empties) == 7
    assert streamed_content(documents) == "Olá!"


def test_zero_events_is_an_empty_event_stream(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.zero_events())
    response = client.post("/chat/completions", json=STREAM_WITH_USAGE)
    assert (response.status_code, response.headers["content-type"], response.content) == (
        200, "text/event-stream", b""
    )


def test_slow_chunks_paces_every_event(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.slow_chunks(0.02))
    started = time.monotonic()
    documents = sse_documents(client.post("/chat/completions", json=STREAM).text)
    assert time.monotonic() - started >= 0.02 * len(documents)


@pytest.mark.parametrize("fault", [Fault.cut_mid_stream(), Fault.zero_events(), Fault.slow_chunks(0.01)])
def test_stream_only_faults_leave_non_stream_requests_alone(
    server: FakeXAIServer, client: httpx.Client, fault: Fault
) -> None:
    server.script(fault)
    assert client.post("/chat/completions", json=SIMPLE).json()["usage"]["total_tokens"] == 471


# --- scripting, records, control API -----------------------------------------------------------

def test_faults_are_consumed_in_order_then_answers_are_normal(
    server: FakeXAIServer, client: httpx.Client
) -> None:
    server.script(Fault.rate_limit(), Fault.server_error(), Fault.ok(), Fault.unavailable())
    statuses = [client.post("/chat/completions", json=SIMPLE).status_code for _ in range(5)]
    assert statuses == [429, 500, 200, 503, 200]


def test_model_queue_is_checked_before_the_global_queue(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.server_error(), model="other-model")
    server.script(Fault.unavailable())
    other = {**SIMPLE, "model": "other-model"}
    assert client.post("/chat/completions", json=other).status_code == 500
    assert client.post("/chat/completions", json=other).status_code == 503
    assert client.post("/chat/completions", json=SIMPLE).status_code == 200


def test_records_keep_only_the_key_tail(server: FakeXAIServer, client: httpx.Client) -> None:
    client.post("/chat/completions", json={**STREAM, "temperature": 0}, headers={"X-Trace": "1"})
    [record] = server.requests
    assert isinstance(record, RecordedRequest)
    assert record.key_tail == "WXYZ" and len(record.key_tail) == 4
    assert API_KEY not in repr(record)
    assert (record.path, record.model, record.stream) == ("/v1/chat/completions", "grok-code-fast-1", True)
    assert record.body_keys == ("messages", "model", "stream", "temperature")
    assert {"authorization", "x-trace", "content-type"} <= set(record.headers_lower_keys)
    assert not record.disconnected
    server.requests.clear()  # a copy: the server's own list is untouched
    assert len(server.requests) == 1


def test_clear_forgets_requests_and_faults(server: FakeXAIServer, client: httpx.Client) -> None:
    server.script(Fault.server_error())
    server.script(Fault.server_error(), model="grok-code-fast-1")
    client.get("/models")
    client.post("/chat/completions", json={**SIMPLE, "model": "m"})
    server.clear()
    assert server.requests == []
    assert client.post("/chat/completions", json=SIMPLE).status_code == 200


@pytest.fixture
def control(server: FakeXAIServer) -> Iterator[httpx.Client]:
    """A client on the server root, where the /_fake control API lives."""
    with httpx.Client(base_url=server.base_url.removesuffix("/v1"), timeout=5.0) as http:
        yield http


def test_control_api_scripts_and_reports(client: httpx.Client, control: httpx.Client) -> None:
    faults = [Fault.rate_limit(retry_after=3).to_dict(), {"kind": "server_error"}]
    assert control.post("/_fake/script", json={"faults": faults, "model": None}).json() == {"queued": 2}
    assert control.post("/_fake/script", json={"faults": [{"kind": "ok"}], "model": "m2"}).status_code == 200
    first = client.post("/chat/completions", json=SIMPLE)
    assert (first.status_code, first.headers["retry-after"]) == (429, "3")
    assert client.post("/chat/completions", json={**SIMPLE, "model": "m2"}).status_code == 200
    assert client.post("/chat/completions", json=SIMPLE).status_code == 500
    records = control.get("/_fake/requests").json()
    assert [record["model"] for record in records] == ["grok-code-fast-1", "m2", "grok-code-fast-1"]
    assert records[0]["key_tail"] == "WXYZ" and API_KEY not in json.dumps(records)
    assert control.post("/_fake/clear").status_code == 200
    assert control.get("/_fake/requests").json() == []


@pytest.mark.parametrize("payload", [{"faults": [{"kind": "explode"}]}, {"faults": "x"}, {"faults": [{}]},
                                     {"faults": [{"kind": "slow", "bogus": 1}]}, {"faults": [3]}])
def test_control_api_rejects_bad_scripts(control: httpx.Client, payload: dict[str, Any]) -> None:
    assert control.post("/_fake/script", json=payload).status_code == 400


def test_fault_round_trips_through_json() -> None:
    for fault in (Fault.rate_limit(retry_after=HTTP_DATE), Fault.status(418, b"tea", "text/plain"),
                  Fault.cut_mid_stream(5), Fault.slow_chunks(0.5), Fault.ok()):
        assert Fault.from_dict(json.loads(json.dumps(fault.to_dict()))) == fault


def test_script_rejects_non_faults(server: FakeXAIServer) -> None:
    with pytest.raises(TypeError):
        server.script("rate_limit")  # type: ignore[arg-type]


def test_client_that_leaves_mid_stream_is_marked_disconnected(
    server: FakeXAIServer, client: httpx.Client
) -> None:
    assert not server.wait_for_disconnect(timeout=0.01)
    with client.stream("POST", "/chat/completions", json=STREAM) as response:
        first_line = next(response.iter_lines())
    assert first_line.startswith("data: {")
    assert server.wait_for_disconnect()
    assert server.requests[0].disconnected


def test_stream_client_that_gives_up_during_a_slow_start_is_marked_disconnected(
    server: FakeXAIServer
) -> None:
    server.script(Fault.slow(5))
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=0.1) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post("/chat/completions", json=STREAM)
    assert server.wait_for_disconnect()


# --- lifecycle --------------------------------------------------------------------------------

def test_lifecycle_start_stop_and_base_url() -> None:
    server = FakeXAIServer(stream_chunks=1)
    with pytest.raises(RuntimeError):
        _ = server.base_url
    server.start()
    try:
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
        with pytest.raises(RuntimeError):
            server.start()
    finally:
        server.stop()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.base_url


def test_stop_does_not_wait_for_a_hung_request() -> None:
    with FakeXAIServer() as server:
        server.script(Fault.slow(30))
        with httpx.Client(base_url=server.base_url, timeout=0.1) as http, pytest.raises(httpx.ReadTimeout):
            http.post("/chat/completions", json=SIMPLE)
        started = time.monotonic()
    assert time.monotonic() - started < 3


def test_works_from_inside_a_running_event_loop() -> None:
    async def scenario() -> int:
        with FakeXAIServer() as server:
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                response = await http.post("/chat/completions", json=STREAM_WITH_USAGE)
                return len(sse_documents(response.text))

    assert asyncio.run(scenario()) == 16


def test_module_main_serves_until_sigterm() -> None:
    # The child must import this same llmcore, whether or not it is installed.
    src_dir = str(Path(fake_xai.__file__).parents[2])
    python_path = os.pathsep.join(filter(None, [src_dir, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": python_path, "FAKE_KEY": API_KEY}
    command = [sys.executable, "-m", "llmcore.testing.fake_xai", "--port", "0", "--api-key-env", "FAKE_KEY",
               "--served-model", "grok-4.3"]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    with subprocess.Popen(command, env=env, **pipes) as process:  # type: ignore[call-overload]
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            assert line.startswith("FAKE_XAI_URL=http://127.0.0.1:")
            base_url = line.removeprefix("FAKE_XAI_URL=")
            assert httpx.get(f"{base_url}/models", headers=AUTH).json()["data"][0]["id"] == "grok-code-fast-1"
            answer = httpx.post(f"{base_url}/chat/completions", json=SIMPLE, headers=AUTH).json()
            assert answer["model"] == "grok-4.3"
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=5)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, stderr
